/**
 * The approval workflow of access windows: a dispatcher's request (approved at once inside a
 * standing route window), bank officers' approvals and rejections under maker–checker,
 * revocation and expiry; reading windows, their usage and the CIT company's notifications.
 */
import { formatInstant, parseInstant } from "@lockfleet/protocol";
import { inBranchScope, type Principal } from "../auth/principal.js";
import { FleetError, notFound, outOfScope } from "../errors.js";
import { newId } from "../ids.js";
import type { PageRequest } from "../storage/pagination.js";
import { approvalRefusal, approvalsRequired, distinctApprovers } from "./approval.js";
import type { GrantDelivery } from "./grant-delivery.js";
import { insideStandingWindow, normaliseStandingWindows } from "./standing-windows.js";
import type { Actor, WindowContext } from "./window-context.js";
import { SYSTEM } from "./window-context.js";
import { type AccessWindow, OPEN_STATUSES, type WindowStatus } from "./window-repository.js";
import type { WindowRequest } from "./window-service.js";

/** Longest access window a dispatcher may ask for. */
export const MAX_WINDOW_MS = 7 * 24 * 60 * 60_000;
export const MAX_CREW = 8;

export class ApprovalWorkflow {
  readonly #ctx: WindowContext;
  readonly #delivery: GrantDelivery;

  constructor(ctx: WindowContext, delivery: GrantDelivery) {
    this.#ctx = ctx;
    this.#delivery = delivery;
  }

  list(
    principal: Pick<Principal, "orgId" | "orgKind">,
    filter: { status?: WindowStatus | undefined; containerId?: string | undefined },
    page: PageRequest,
  ) {
    return this.#ctx.o.windows.list(
      principal.orgKind === "bank"
        ? { bankOrgId: principal.orgId, ...filter }
        : { citOrgId: principal.orgId, ...filter },
      page,
    );
  }

  /** What happened under a window: openings (grant or one-time code), codes used, refused seals. */
  usage(principal: Pick<Principal, "orgId" | "role">, id: string) {
    const window = this.#ctx.get(principal, id);
    return {
      windowId: window.id,
      openings: this.#ctx.o.windows
        .openingsOf(id)
        .map(({ id: _row, windowId: _window, ...opening }) => opening),
      codes: this.#ctx.o.windows.codes(id).map((code) => ({
        deviceId: code.deviceId,
        personId: code.personId,
        issuedAt: code.issuedAt,
        usedAt: code.usedAt,
      })),
      sealRefusals: this.#ctx.o.windows.sealRefusals(id),
    };
  }

  notifications(principal: Pick<Principal, "orgId">, page: PageRequest) {
    return this.#ctx.o.windows.notifications(principal.orgId, page);
  }

  // ------------------------------------------------------------------ request

  async request(principal: Actor, input: WindowRequest): Promise<AccessWindow> {
    const now = this.#ctx.now();
    if (principal.orgKind !== "cit" || principal.role !== "citDispatcher") {
      throw new FleetError("E_FORBIDDEN", "only a CIT dispatcher requests access windows", 403);
    }
    const contract = this.#ctx.o.contracts.inForceFor(principal.orgId, input.containerId, now);
    const container = this.#ctx.o.orgs.getContainer(input.containerId);
    if (
      contract === undefined ||
      container === undefined ||
      container.orgId !== contract.bankOrgId
    ) {
      // A container that exists but is not under this company's contract is another tenant's.
      throw container === undefined
        ? notFound("container", input.containerId)
        : outOfScope("container", input.containerId, container.orgId);
    }
    const branch = this.#ctx.o.orgs.getBranch(container.branchId);
    if (branch === undefined) throw notFound("branch", container.branchId);
    const notBefore = parseInstant(input.notBefore);
    const notAfter = parseInstant(input.notAfter);
    if (!(notBefore < notAfter)) {
      throw new FleetError("E_WINDOW_RANGE", "notAfter must be later than notBefore");
    }
    if (notAfter <= now) {
      throw new FleetError("E_WINDOW_RANGE", `the window ends at ${input.notAfter}, in the past`);
    }
    if (notAfter - notBefore > MAX_WINDOW_MS) {
      throw new FleetError("E_WINDOW_RANGE", "an access window lasts at most 7 days");
    }
    const crew = [...new Set(input.crew)];
    if (crew.length === 0 || crew.length > MAX_CREW) {
      throw new FleetError("E_CREW", `a crew has 1 to ${MAX_CREW} distinct people`);
    }
    for (const personId of crew) {
      const person = this.#ctx.o.people.get(personId, now);
      if (person === undefined || person.orgId !== principal.orgId) {
        throw new FleetError("E_CREW", `person ${personId} is not a member of your company`);
      }
      if (person.status !== "enabled") {
        throw new FleetError(
          "E_CREW",
          `person ${personId} is ${person.status}; only enabled people join a crew`,
        );
      }
    }
    const { id, requested } = this.#ctx.o.transaction(() => {
      const id = this.#ctx.o.windows.insert({
        bankOrgId: contract.bankOrgId,
        citOrgId: principal.orgId,
        contractId: contract.id,
        containerId: container.id,
        crew,
        notBefore: formatInstant(notBefore),
        notAfter: formatInstant(notAfter),
        purpose: input.purpose,
        maxOpenings: input.maxOpenings ?? 1,
        approvalsRequired: approvalsRequired(container.policy),
        requestedBy: principal.personId,
        requestedAt: formatInstant(now),
      });
      const requested = this.#ctx.must(id);
      this.#ctx.log(principal.personId, "window.request", requested, {
        containerId: container.id,
        crew,
        notBefore: requested.notBefore,
        notAfter: requested.notAfter,
        purpose: input.purpose,
      });
      return { id, requested };
    });
    this.#ctx.emit("window.requested", requested);

    const standing = normaliseStandingWindows(contract.standingWindows);
    if (
      insideStandingWindow(
        { containerId: container.id, notBefore, notAfter },
        standing,
        branch.timeZone,
      )
    ) {
      const approved = this.#ctx.o.transaction(() => {
        this.#ctx.o.windows.transition(id, ["requested"], "approved", {
          auto_approved: 1,
          decided_at: formatInstant(now),
          decided_by: SYSTEM,
          grant_id: newId("grt"),
        });
        const approved = this.#ctx.must(id);
        this.#ctx.log(SYSTEM, "window.autoApprove", approved, {
          contractId: contract.id,
          timeZone: branch.timeZone,
        });
        return approved;
      });
      this.#ctx.emit("window.approved", approved);
      await this.#delivery.deliver(approved);
    }
    return this.#ctx.must(id);
  }

  // ------------------------------------------------------------------ decisions

  /** Refuses (and records) a decision by someone who may not make it. */
  #checkDecider(principal: Actor, window: AccessWindow, action: string, approvals: string[]): void {
    const refusal = approvalRefusal(principal, window, approvals);
    if (refusal === undefined) return;
    this.#ctx.log(principal.personId, `${action}.refused`, window, {
      code: refusal.code,
      role: principal.role,
      orgId: principal.orgId,
    });
    throw new FleetError(refusal.code, refusal.message, refusal.statusCode);
  }

  #visibleForDecision(principal: Actor, id: string): AccessWindow {
    // A CIT principal sees its own windows; it gets here to be refused (and audited), not to learn.
    const window = this.#ctx.get(principal, id);
    const container = this.#ctx.o.orgs.getContainer(window.containerId);
    if (
      principal.orgKind === "bank" &&
      container !== undefined &&
      !inBranchScope(principal, container.branchId)
    ) {
      throw outOfScope("access window", id, window.bankOrgId);
    }
    return window;
  }

  async approve(principal: Actor, id: string): Promise<AccessWindow> {
    const window = this.#visibleForDecision(principal, id);
    this.#checkDecider(principal, window, "window.approve", window.approvedBy);
    const puppet =
      this.#ctx.o.independence?.refusal(principal.personId, window.approvedBy) ??
      (window.approvedBy.length > 0
        ? this.#ctx.o.independence?.notYetActive?.(principal.userId, window.requestedAt)
        : undefined);
    if (puppet !== undefined) {
      this.#ctx.log(principal.personId, "window.approve.refused", window, {
        code: puppet.code,
        role: principal.role,
      });
      throw puppet;
    }
    if (window.status !== "requested") {
      throw new FleetError(
        "E_WINDOW_STATE",
        `window ${id} is ${window.status}; only a requested window is approved`,
        409,
      );
    }
    if (parseInstant(window.notAfter) <= this.#ctx.now()) {
      throw new FleetError("E_WINDOW_EXPIRED", `window ${id} ended at ${window.notAfter}`, 409);
    }
    if (
      this.#ctx.o.contracts.inForceFor(window.citOrgId, window.containerId, this.#ctx.now()) ===
      undefined
    ) {
      throw new FleetError(
        "E_NO_CONTRACT",
        `no contract in force lets ${window.citOrgId} at container ${window.containerId} any more`,
        409,
      );
    }
    // the approval, its entry and (with enough approvers) the decision commit together
    const approved = this.#ctx.o.transaction(() => {
      const added = this.#ctx.o.windows.addApproval({
        windowId: id,
        personId: principal.personId,
        userId: principal.userId,
        role: principal.role,
        at: this.#ctx.iso(),
      });
      if (!added) {
        throw new FleetError(
          "E_SAME_APPROVER",
          "this person has already approved this window",
          409,
        );
      }
      const approvals = this.#ctx.o.windows.approvals(id);
      this.#ctx.log(principal.personId, "window.approve", window, {
        approvals: distinctApprovers(approvals),
        required: window.approvalsRequired,
      });
      if (distinctApprovers(approvals) < window.approvalsRequired) return undefined;
      const moved = this.#ctx.o.windows.transition(id, ["requested"], "approved", {
        decided_at: this.#ctx.iso(),
        decided_by: principal.personId,
        grant_id: newId("grt"),
      });
      if (!moved) return undefined;
      const approved = this.#ctx.must(id);
      this.#ctx.log(principal.personId, "window.approved", approved, { approvedBy: approvals });
      return approved;
    });
    if (approved === undefined) return this.#ctx.must(id);
    this.#ctx.emit("window.approved", approved);
    await this.#delivery.deliver(approved);
    return this.#ctx.must(id);
  }

  reject(principal: Actor, id: string, reason: string | undefined): AccessWindow {
    const window = this.#visibleForDecision(principal, id);
    this.#checkDecider(principal, window, "window.reject", []);
    const rejected = this.#ctx.o.transaction(() => {
      const moved = this.#ctx.o.windows.transition(id, ["requested"], "rejected", {
        decided_at: this.#ctx.iso(),
        decided_by: principal.personId,
        decision_reason: reason ?? null,
      });
      if (!moved) {
        throw new FleetError(
          "E_WINDOW_STATE",
          `window ${id} is ${window.status}; only a requested window is rejected`,
          409,
        );
      }
      const rejected = this.#ctx.must(id);
      this.#ctx.log(principal.personId, "window.reject", rejected, { reason: reason ?? null });
      this.#ctx.notify(
        rejected,
        "window.rejected",
        `access window ${id} was rejected by the bank`,
        {
          reason: reason ?? null,
        },
      );
      return rejected;
    });
    this.#ctx.emit("window.rejected", rejected);
    return rejected;
  }

  // ------------------------------------------------------------------ revoke, expire

  async revoke(principal: Actor, id: string, reason: string | undefined): Promise<AccessWindow> {
    const window = this.#visibleForDecision(principal, id);
    const refusal = approvalRefusal(principal, window, []);
    if (refusal !== undefined) {
      this.#ctx.log(principal.personId, "window.revoke.refused", window, {
        code: refusal.code,
        role: principal.role,
      });
      throw new FleetError(refusal.code, refusal.message, refusal.statusCode);
    }
    const revoked = this.#ctx.o.transaction(() => {
      const moved = this.#ctx.o.windows.transition(id, OPEN_STATUSES, "revoked", {
        revoked_at: this.#ctx.iso(),
        revoked_by: principal.personId,
        revoke_reason: reason ?? null,
      });
      if (!moved) {
        throw new FleetError(
          "E_WINDOW_STATE",
          `window ${id} is ${window.status} and cannot be revoked`,
          409,
        );
      }
      const revoked = this.#ctx.must(id);
      this.#ctx.log(principal.personId, "window.revoke", revoked, { reason: reason ?? null });
      this.#ctx.notify(revoked, "window.revoked", `access window ${id} was revoked by the bank`, {
        reason: reason ?? null,
        containerId: window.containerId,
      });
      return revoked;
    });
    this.#ctx.emit("window.revoked", revoked);
    if (window.grantId !== null) await this.#delivery.revokeAtLocks(revoked, window.grantId);
    return this.#ctx.must(id);
  }

  /** Open windows whose end has passed become expired. Returns how many. */
  expireDue(): number {
    let expired = 0;
    for (const id of this.#ctx.o.windows.dueForExpiry(this.#ctx.iso())) {
      const window = this.#ctx.o.transaction(() => {
        const moved = this.#ctx.o.windows.transition(id, OPEN_STATUSES, "expired", {
          expired_at: this.#ctx.iso(),
        });
        if (!moved) return undefined;
        const window = this.#ctx.must(id);
        this.#ctx.log(SYSTEM, "window.expire", window);
        return window;
      });
      if (window !== undefined) {
        this.#ctx.emit("window.expired", window);
        expired += 1;
      }
    }
    return expired;
  }
}
