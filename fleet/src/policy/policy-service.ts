/**
 * Policy changes as signed commands (SPEC §3, §5): delay, dual control, time locks and holidays.
 * A change that weakens the container (shorter delay, fewer eyes, a time lock or holiday
 * removed) waits until two distinct bank officers approved it — the one who asked counts as
 * the first — and then goes out naming both; a strengthening change goes out at once.
 */
import {
  type CommandResult,
  canonicalJson,
  formatInstant,
  type Holiday,
  holidayWeakenings,
  isValid,
  LockPolicy,
  policyWeakenings,
  scheduleWeakenings,
  TimeLockSchedule,
  WEAKENING_APPROVERS_REQUIRED,
} from "@lockfleet/protocol";
import { inBranchScope, type Principal } from "../auth/principal.js";
import { FleetError, notFound } from "../errors.js";
import type { OrgsRepository } from "../storage/orgs-repository.js";
import { type AdminLogPort, COMMAND_WAIT_MS, type LockHub } from "../windows/ports.js";
import { isTimeZone } from "../windows/time-zone.js";
import type { ApproverIndependence, LockLocator } from "../windows/window-service.js";
import type { PolicyChange, PolicyChangeKind, PolicyRepository } from "./policy-repository.js";

export const POLICY_APPROVER_ROLES = ["securityAdmin", "branchManager"];
/** The lock refuses a weakening command that names fewer (protocol/src/policy-weakening.ts). */
export const WEAKENING_APPROVALS = WEAKENING_APPROVERS_REQUIRED;

export type PolicyChangeInput =
  | { containerId: string; kind: "policy"; policy: LockPolicy; reason?: string | undefined }
  | {
      containerId: string;
      kind: "timeLockSchedule";
      schedule: TimeLockSchedule;
      reason?: string | undefined;
    }
  | { containerId: string; kind: "holidays"; holidays: Holiday[]; reason?: string | undefined };

export interface PolicyServiceOptions {
  changes: PolicyRepository;
  orgs: OrgsRepository;
  hub: LockHub;
  locks: LockLocator;
  adminLog: AdminLogPort;
  clock: () => number;
  commandWaitMs?: number;
  /** Maker–checker: refuses an approver who is not independent of an earlier one. */
  independence?: ApproverIndependence;
}

type Actor = Pick<Principal, "personId" | "userId" | "orgId" | "orgKind" | "role" | "branches">;

export class PolicyService {
  readonly #o: PolicyServiceOptions;
  readonly #waitMs: number;

  constructor(options: PolicyServiceOptions) {
    this.#o = options;
    this.#waitMs = options.commandWaitMs ?? COMMAND_WAIT_MS;
  }

  #iso(): string {
    return formatInstant(this.#o.clock());
  }

  #log(
    actor: string,
    action: string,
    change: PolicyChange,
    data: Record<string, unknown> = {},
  ): void {
    this.#o.adminLog.append({
      actor,
      action,
      target: change.id,
      orgId: change.bankOrgId,
      data: { containerId: change.containerId, kind: change.kind, ...data },
    });
  }

  #mustOfficer(principal: Actor): void {
    if (principal.orgKind !== "bank" || !POLICY_APPROVER_ROLES.includes(principal.role)) {
      throw new FleetError("E_FORBIDDEN", `role ${principal.role} may not change lock policy`, 403);
    }
  }

  #container(principal: Actor, containerId: string) {
    const container = this.#o.orgs.getContainer(containerId);
    if (
      container === undefined ||
      container.orgId !== principal.orgId ||
      !inBranchScope(principal, container.branchId)
    )
      throw notFound("container", containerId);
    return container;
  }

  /** The time-lock schedule last applied, or none (no lock periods, no holidays) in the branch's zone. */
  currentSchedule(containerId: string, branchTimeZone: string): TimeLockSchedule {
    return (
      this.#o.changes.schedule(containerId) ?? {
        timeZone: branchTimeZone,
        weekly: [],
        holidays: [],
      }
    );
  }

  /** The bank a change belongs to (for recording refused attempts where that bank reads them). */
  ownerOf(id: string): string | undefined {
    return this.#o.changes.get(id)?.bankOrgId;
  }

  get(principal: Actor, id: string): PolicyChange {
    const change = this.#o.changes.get(id);
    if (change === undefined || change.bankOrgId !== principal.orgId)
      throw notFound("policy change", id);
    const container = this.#o.orgs.getContainer(change.containerId);
    if (container !== undefined && !inBranchScope(principal, container.branchId)) {
      throw notFound("policy change", id);
    }
    return change;
  }

  list(principal: Actor, containerId: string | undefined): PolicyChange[] {
    return this.#o.changes.list(principal.orgId, containerId).filter((change) => {
      const container = this.#o.orgs.getContainer(change.containerId);
      return container === undefined || inBranchScope(principal, container.branchId);
    });
  }

  async propose(principal: Actor, input: PolicyChangeInput): Promise<PolicyChange> {
    this.#mustOfficer(principal);
    // The admin log says who changed a lock's policy and why; the dashboard form asks the same.
    const reason = input.reason?.trim() ?? "";
    if (reason === "") {
      throw new FleetError("E_REASON_REQUIRED", "a policy change needs a reason", 400);
    }
    const container = this.#container(principal, input.containerId);
    const branch = this.#o.orgs.getBranch(container.branchId);
    const schedule = this.currentSchedule(container.id, branch?.timeZone ?? "UTC");
    let weakened: string[];
    let proposed: unknown;
    switch (input.kind) {
      case "policy": {
        if (!isValid(LockPolicy, input.policy))
          throw new FleetError("E_SCHEMA", "policy is not a valid lock policy");
        const current = isValid(LockPolicy, container.policy) ? container.policy : undefined;
        // A change that changes nothing would still be signed, sent and logged as applied.
        if (current !== undefined && canonicalJson(current) === canonicalJson(input.policy)) {
          throw new FleetError(
            "E_POLICY_UNCHANGED",
            "this is the policy the container has now; nothing to change",
            409,
          );
        }
        // Without a known current policy every change counts as weakening: the safe side.
        weakened =
          current === undefined
            ? ["current policy unknown"]
            : policyWeakenings(current, input.policy);
        proposed = input.policy;
        break;
      }
      case "timeLockSchedule": {
        if (!isValid(TimeLockSchedule, input.schedule)) {
          throw new FleetError("E_SCHEMA", "schedule is not a valid time-lock schedule");
        }
        if (branch !== undefined && input.schedule.timeZone !== branch.timeZone) {
          // Time locks are evaluated in the container's own zone: its branch's.
          throw new FleetError(
            "E_TIME_ZONE",
            `the schedule's time zone must be the branch's (${branch.timeZone}), not ${input.schedule.timeZone}`,
          );
        }
        if (!isTimeZone(input.schedule.timeZone)) {
          throw new FleetError(
            "E_TIME_ZONE",
            `"${input.schedule.timeZone}" is not an IANA time zone known here`,
          );
        }
        weakened = scheduleWeakenings(schedule, input.schedule);
        proposed = input.schedule;
        break;
      }
      case "holidays": {
        for (const holiday of input.holidays) {
          if (holiday.to < holiday.from) {
            throw new FleetError(
              "E_HOLIDAY_RANGE",
              `holiday ${holiday.from}…${holiday.to} ends before it starts`,
            );
          }
        }
        weakened = holidayWeakenings(schedule.holidays, input.holidays);
        proposed = input.holidays;
        break;
      }
    }
    const id = this.#o.changes.insert({
      bankOrgId: principal.orgId,
      containerId: container.id,
      kind: input.kind,
      proposed,
      weakened,
      approvalsRequired: weakened.length > 0 ? WEAKENING_APPROVALS : 1,
      reason,
      requestedBy: principal.personId,
      requestedAt: this.#iso(),
    });
    // Asking is the requester's own approval; a weakening change needs someone else's too.
    this.#o.changes.addApproval(id, principal.personId, principal.userId, this.#iso());
    const change = this.#o.changes.get(id) as PolicyChange;
    this.#log(principal.personId, "policy.propose", change, {
      weakening: change.weakening,
      weakened,
      reason,
    });
    if (!change.weakening) return this.#send(change);
    return change;
  }

  async approve(principal: Actor, id: string): Promise<PolicyChange> {
    const change = this.get(principal, id);
    if (principal.orgKind !== "bank" || !POLICY_APPROVER_ROLES.includes(principal.role)) {
      this.#log(principal.personId, "policy.approve.refused", change, {
        code: "E_FORBIDDEN",
        role: principal.role,
      });
      throw new FleetError(
        "E_FORBIDDEN",
        `role ${principal.role} may not approve lock policy changes`,
        403,
      );
    }
    if (change.status !== "pending") {
      throw new FleetError("E_POLICY_STATE", `policy change ${id} is ${change.status}`, 409);
    }
    const puppet =
      this.#o.independence?.refusal(principal.personId, change.approvedBy) ??
      this.#o.independence?.notYetActive?.(principal.userId, change.requestedAt);
    if (puppet !== undefined && puppet.code !== "E_SAME_APPROVER") {
      this.#log(principal.personId, "policy.approve.refused", change, { code: puppet.code });
      throw puppet;
    }
    if (!this.#o.changes.addApproval(id, principal.personId, principal.userId, this.#iso())) {
      this.#log(principal.personId, "policy.approve.refused", change, { code: "E_SAME_APPROVER" });
      throw new FleetError(
        "E_SAME_APPROVER",
        "this person has already approved this change; the second approval must come from someone else",
        409,
      );
    }
    const approved = this.#o.changes.get(id) as PolicyChange;
    this.#log(principal.personId, "policy.approve", approved, {
      approvals: approved.approvedBy.length,
    });
    if (new Set(approved.approvedBy).size < approved.approvalsRequired) return approved;
    return this.#send(approved);
  }

  reject(principal: Actor, id: string): PolicyChange {
    const change = this.get(principal, id);
    this.#mustOfficer(principal);
    if (!this.#o.changes.transition(id, ["pending"], "rejected", { decided_at: this.#iso() })) {
      throw new FleetError("E_POLICY_STATE", `policy change ${id} is ${change.status}`, 409);
    }
    const rejected = this.#o.changes.get(id) as PolicyChange;
    this.#log(principal.personId, "policy.reject", rejected);
    return rejected;
  }

  /** Signs and sends the change to every lock of the container; applies it when all confirmed. */
  async #send(change: PolicyChange): Promise<PolicyChange> {
    if (
      !this.#o.changes.transition(change.id, ["pending"], "sent", {
        decided_at: this.#iso(),
        sent_at: this.#iso(),
      })
    ) {
      return this.#o.changes.get(change.id) as PolicyChange;
    }
    const container = this.#o.orgs.getContainer(change.containerId);
    if (container === undefined) throw notFound("container", change.containerId);
    const approvedBy = [...new Set(change.approvedBy)];
    const branch = this.#o.orgs.getBranch(container.branchId);
    const schedule = this.currentSchedule(container.id, branch?.timeZone ?? "UTC");
    const locks = this.#o.locks.locksOf(container);
    const results = await Promise.all(
      locks.map(async (lock) => {
        this.#o.changes.setLock(change.id, lock.deviceId, "sent", undefined, this.#iso());
        let result: CommandResult | undefined;
        try {
          switch (change.kind) {
            case "policy":
              result = await this.#o.hub.sendCommand(
                lock.deviceId,
                "policy.change",
                { policy: change.proposed as LockPolicy, approvedBy },
                { waitMs: this.#o.locks.online(lock.deviceId) ? this.#waitMs : 0 },
              );
              break;
            case "timeLockSchedule":
              result = await this.#o.hub.sendCommand(
                lock.deviceId,
                "timeLock.schedule",
                { schedule: change.proposed as TimeLockSchedule, approvedBy },
                { waitMs: this.#o.locks.online(lock.deviceId) ? this.#waitMs : 0 },
              );
              break;
            case "holidays":
              result = await this.#o.hub.sendCommand(
                lock.deviceId,
                "timeLock.holidays",
                { holidays: change.proposed as Holiday[], approvedBy },
                { waitMs: this.#o.locks.online(lock.deviceId) ? this.#waitMs : 0 },
              );
              break;
          }
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          this.#o.changes.setLock(
            change.id,
            lock.deviceId,
            "error",
            { error: message },
            this.#iso(),
          );
          return "error";
        }
        if (result === undefined) return "sent";
        this.#o.changes.setLock(
          change.id,
          lock.deviceId,
          result.status === "ok" ? "ok" : "error",
          result,
          this.#iso(),
        );
        return result.status;
      }),
    );
    const failed = results.some((status) => status === "error");
    const allOk = results.every((status) => status === "ok");
    // The fleet's record follows what was sent, unless a lock refused it (then nothing changed there).
    const at = this.#iso();
    if (!failed) this.#record(change, container.id, schedule, at);
    if (failed) this.#o.changes.transition(change.id, ["sent"], "failed");
    else if (allOk) this.#o.changes.transition(change.id, ["sent"], "applied");
    const sent = this.#o.changes.get(change.id) as PolicyChange;
    this.#log("system", "policy.send", sent, {
      approvedBy,
      devices: locks.map((lock) => lock.deviceId),
      results,
    });
    return sent;
  }

  #record(change: PolicyChange, containerId: string, schedule: TimeLockSchedule, at: string): void {
    const container = { id: containerId };
    switch (change.kind as PolicyChangeKind) {
      case "policy":
        this.#o.orgs.setContainerPolicy(container.id, change.proposed as LockPolicy);
        break;
      case "timeLockSchedule":
        this.#o.changes.setSchedule(container.id, change.proposed as TimeLockSchedule, at);
        break;
      case "holidays":
        this.#o.changes.setSchedule(
          container.id,
          { ...schedule, holidays: change.proposed as Holiday[] },
          at,
        );
        break;
    }
  }
}
