/**
 * Maker–checker for power (SPEC §5): opening an account that may approve, command locks or give
 * rights, changing an account's role or scope, enabling a bank person and giving lock rights are
 * proposals. They take effect only when a second, distinct, already-active security officer of
 * the same bank approves — never the person the proposal is about, never someone the proposer
 * made (directly or through a chain, see separation.ts). Each part registers how its kind is
 * carried out; the approval answer carries that part's usual answer.
 */
import type { AdminLog } from "../admin-log.js";
import { FleetError, notFound } from "../errors.js";
import type {
  Proposal,
  ProposalKind,
  ProposalStatus,
  ProposalsRepository,
} from "../storage/proposals-repository.js";
import type { UsersRepository } from "../storage/users-repository.js";
import type { Principal, Role } from "./principal.js";
import type { Lineage } from "./separation.js";

/** Carries out an approved proposal; returns the answer the part would have given directly. */
export type ProposalExecutor = (
  proposal: Proposal,
  approver: Principal,
) => Promise<{ answer: unknown; result: Record<string, unknown> }>;

/** Who may be the second officer, per kind (scope is checked by the executor's own checks). */
const CHECKER_ROLES: Record<ProposalKind, readonly Role[]> = {
  "user.create": ["securityAdmin"],
  "user.role": ["securityAdmin"],
  "user.passwordReset": ["securityAdmin"],
  "person.enable": ["securityAdmin"],
  "right.grant": ["securityAdmin", "branchManager"],
};

export class ProposalService {
  readonly #executors = new Map<ProposalKind, ProposalExecutor>();
  /** Per kind: a check the approver must pass besides the common ones (e.g. branch scope). */
  readonly #approverChecks = new Map<
    ProposalKind,
    (proposal: Proposal, approver: Principal) => void
  >();

  constructor(
    private readonly repository: ProposalsRepository,
    private readonly users: UsersRepository,
    private readonly lineage: Lineage,
    private readonly adminLog: AdminLog,
    private readonly clock: () => number,
    /** Runs a change and its admin-log entry in one storage transaction (FleetStore). */
    private readonly transaction: <T>(work: () => T) => T = (work) => work(),
  ) {}

  register(
    kind: ProposalKind,
    executor: ProposalExecutor,
    approverCheck?: (proposal: Proposal, approver: Principal) => void,
  ): void {
    this.#executors.set(kind, executor);
    if (approverCheck !== undefined) this.#approverChecks.set(kind, approverCheck);
  }

  /** Records the proposal; the proposer may never be the person it gives power to. */
  propose(
    proposer: Principal,
    input: {
      orgId: string;
      kind: ProposalKind;
      subjectPersonId: string;
      payload: Record<string, unknown>;
      summary: string;
    },
  ): Proposal {
    if (proposer.orgKind !== "bank" || proposer.orgId !== input.orgId) {
      throw new FleetError("E_FORBIDDEN", "only officers of the bank itself propose power", 403);
    }
    if (proposer.personId === input.subjectPersonId) {
      throw new FleetError(
        "E_SELF_SERVICE",
        "nobody gives themselves rights, roles or an enabling; another officer must propose it",
        403,
      );
    }
    return this.transaction(() => {
      const proposal = this.repository.insert({
        ...input,
        proposedBy: proposer.personId,
        proposedByUser: proposer.userId,
        proposedAt: new Date(this.clock()).toISOString(),
      });
      this.adminLog.append({
        actor: proposer.personId,
        action: "proposal.create",
        target: proposal.id,
        orgId: proposal.orgId,
        data: { kind: proposal.kind, subject: proposal.subjectPersonId, summary: proposal.summary },
      });
      return proposal;
    });
  }

  get(principal: Principal, id: string): Proposal {
    const proposal = this.repository.get(id);
    if (proposal === undefined || proposal.orgId !== principal.orgId) {
      throw notFound("proposal", id);
    }
    return proposal;
  }

  list(principal: Principal, status: ProposalStatus | undefined): Proposal[] {
    return this.repository.list(principal.orgId, status);
  }

  /** Why `approver` may not be the second officer of `proposal`, or undefined. */
  refusal(proposal: Proposal, approver: Principal): FleetError | undefined {
    if (approver.orgKind !== "bank" || approver.orgId !== proposal.orgId) {
      return new FleetError("E_FORBIDDEN", "only officers of the same bank approve", 403);
    }
    if (!CHECKER_ROLES[proposal.kind].includes(approver.role)) {
      return new FleetError(
        "E_FORBIDDEN",
        `role ${approver.role} may not approve a ${proposal.kind} proposal`,
        403,
      );
    }
    if (approver.personId === proposal.subjectPersonId) {
      return new FleetError(
        "E_SELF_APPROVAL",
        "nobody approves a proposal that gives power to themselves",
        403,
      );
    }
    const account = this.users.get(approver.userId);
    if (account === undefined || account.createdAt > proposal.proposedAt) {
      return new FleetError(
        "E_NOT_YET_ACTIVE",
        "the second officer must already have been an active officer when the proposal was made",
        403,
      );
    }
    return this.lineage.refusal(approver.personId, [proposal.proposedBy]);
  }

  async approve(approver: Principal, id: string): Promise<{ proposal: Proposal; answer: unknown }> {
    const proposal = this.get(approver, id);
    if (proposal.status !== "pending") {
      throw new FleetError("E_PROPOSAL_STATE", `proposal ${id} is ${proposal.status}`, 409);
    }
    const refusal = this.refusal(proposal, approver);
    if (refusal !== undefined) {
      this.adminLog.append({
        actor: approver.personId,
        action: "proposal.approve.refused",
        target: proposal.id,
        orgId: proposal.orgId,
        data: { code: refusal.code, kind: proposal.kind, proposedBy: proposal.proposedBy },
      });
      throw refusal;
    }
    this.#approverChecks.get(proposal.kind)?.(proposal, approver);
    const executor = this.#executors.get(proposal.kind);
    if (executor === undefined) {
      throw new FleetError("E_INTERNAL", `no part carries out ${proposal.kind} proposals`, 500);
    }
    const at = new Date(this.clock()).toISOString();
    if (!this.repository.decide(id, "approved", approver, at)) {
      throw new FleetError("E_PROPOSAL_STATE", `proposal ${id} was decided meanwhile`, 409);
    }
    let outcome: Awaited<ReturnType<ProposalExecutor>>;
    try {
      outcome = await executor(this.repository.get(id) as Proposal, approver);
    } catch (error) {
      this.repository.reopen(id);
      throw error;
    }
    this.transaction(() => {
      this.repository.setResult(id, outcome.result);
      this.adminLog.append({
        actor: approver.personId,
        action: "proposal.approve",
        target: proposal.id,
        orgId: proposal.orgId,
        data: { kind: proposal.kind, proposedBy: proposal.proposedBy, result: outcome.result },
      });
    });
    return { proposal: this.repository.get(id) as Proposal, answer: outcome.answer };
  }

  reject(principal: Principal, id: string, reason: string | undefined): Proposal {
    const proposal = this.get(principal, id);
    const own = proposal.proposedBy === principal.personId;
    if (!own && principal.role !== "securityAdmin") {
      throw new FleetError(
        "E_FORBIDDEN",
        "a security admin or the proposer rejects a proposal",
        403,
      );
    }
    this.transaction(() => {
      const at = new Date(this.clock()).toISOString();
      if (!this.repository.decide(id, "rejected", principal, at)) {
        throw new FleetError("E_PROPOSAL_STATE", `proposal ${id} is ${proposal.status}`, 409);
      }
      this.adminLog.append({
        actor: principal.personId,
        action: own ? "proposal.withdraw" : "proposal.reject",
        target: proposal.id,
        orgId: proposal.orgId,
        data: { kind: proposal.kind, ...(reason === undefined ? {} : { reason }) },
      });
    });
    return this.repository.get(id) as Proposal;
  }

  /** Whether the bank runs with dual control: at least two active, independent officers. */
  dualControl(orgId: string): { officers: number; dualControl: boolean } {
    const officers = this.users.activeOfficers(orgId, this.clock());
    for (let i = 0; i < officers.length; i++) {
      for (let j = i + 1; j < officers.length; j++) {
        const a = officers[i] as string;
        const b = officers[j] as string;
        if (this.lineage.refusal(a, [b]) === undefined) {
          return { officers: officers.length, dualControl: true };
        }
      }
    }
    return { officers: officers.length, dualControl: false };
  }
}
