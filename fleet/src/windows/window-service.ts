/**
 * Access windows (SPEC §5): a CIT dispatcher asks for a container, a crew and a time range;
 * inside one of the contract's standing route windows the fleet approves at once, otherwise
 * bank officers decide (two distinct people where the container asks for dual control). An
 * approved window becomes a signed grant pushed to the container's locks, or one-time codes for
 * locks the network does not reach. Openings and close seals come back in the locks' audit;
 * a verified close seal closes the window. The bank may revoke at any time and the CIT company
 * is told. Every step goes into the admin log.
 */
import { EventEmitter } from "node:events";
import {
  type AccessGrant,
  type AuditRecord,
  auditDataOf,
  CLOSE_SEAL_PATTERN,
  type CommandResult,
  formatInstant,
  matchOtpCloseSeal,
  type OneTimeCodeInput,
  oneTimeCode,
  parseInstant,
  verifyOpeningSeal,
} from "@lockfleet/protocol";
import { inBranchScope, type Principal } from "../auth/principal.js";
import { FleetError, notFound, outOfScope } from "../errors.js";
import { newId } from "../ids.js";
import type { ContractsRepository } from "../storage/contracts-repository.js";
import type { OrgsRepository } from "../storage/orgs-repository.js";
import type { PageRequest } from "../storage/pagination.js";
import type { PeopleRepository } from "../storage/people-repository.js";
import { approvalRefusal, approvalsRequired, distinctApprovers } from "./approval.js";
import { otpWindowInside } from "./otp-window.js";
import { type AdminLogPort, COMMAND_WAIT_MS, type LockHub } from "./ports.js";
import { insideStandingWindow, normaliseStandingWindows } from "./standing-windows.js";
import {
  type AccessWindow,
  OPEN_STATUSES,
  type TenantNotification,
  type WindowRepository,
  type WindowStatus,
} from "./window-repository.js";

/** Longest access window a dispatcher may ask for. */
export const MAX_WINDOW_MS = 7 * 24 * 60 * 60_000;
export const MAX_CREW = 8;

export interface WindowRequest {
  containerId: string;
  crew: string[];
  notBefore: string;
  notAfter: string;
  purpose: string;
  maxOpenings?: number | undefined;
}

/** A one-time code as shown to the dispatcher, once. */
export interface IssuedCode {
  deviceId: string;
  personId: string;
  code: string;
}

export interface WindowEvent {
  type:
    | "window.requested"
    | "window.approved"
    | "window.rejected"
    | "window.active"
    | "window.closed"
    | "window.revoked"
    | "window.expired";
  windowId: string;
  bankOrgId: string;
  citOrgId: string;
  containerId: string;
  status: WindowStatus;
  at: string;
}

/** Where the locks of a container are, and whether they are reachable now. */
export interface LockLocator {
  locksOf(container: { id: string; orgId: string }): Array<{ deviceId: string; online: boolean }>;
  containerOf(deviceId: string): { containerId: string; orgId: string } | undefined;
  /** Whether the lock is connected now (an offline lock's answer is not waited for). */
  online(deviceId: string): boolean;
}

export interface WindowServiceOptions {
  windows: WindowRepository;
  orgs: OrgsRepository;
  contracts: ContractsRepository;
  people: PeopleRepository;
  hub: LockHub;
  locks: LockLocator;
  adminLog: AdminLogPort;
  clock: () => number;
  /** How long to wait for a lock's answer to a grant or revocation. */
  commandWaitMs?: number;
  /** Maker–checker: refuses an approver who is not independent of an earlier one. */
  independence?: ApproverIndependence;
}

export interface ApproverIndependence {
  refusal(approver: string, others: readonly string[]): FleetError | undefined;
  /** Refuses an account opened after `since` (the second officer must already be active). */
  notYetActive?(approverUserId: string, since: string): FleetError | undefined;
}

type Actor = Pick<Principal, "personId" | "userId" | "role" | "orgId" | "orgKind" | "branches">;

const SYSTEM = "system";

export class WindowService extends EventEmitter {
  readonly #o: WindowServiceOptions;
  readonly #waitMs: number;

  constructor(options: WindowServiceOptions) {
    super();
    this.#o = options;
    this.#waitMs = options.commandWaitMs ?? COMMAND_WAIT_MS;
  }

  #now(): number {
    return this.#o.clock();
  }

  #iso(): string {
    return formatInstant(this.#now());
  }

  #log(
    actor: string,
    action: string,
    window: Pick<AccessWindow, "id" | "bankOrgId" | "citOrgId">,
    data: Record<string, unknown> = {},
  ): void {
    // Both tenants read their own part of the admin log: the bank's entry, and a copy for the CIT company.
    this.#o.adminLog.append({
      actor,
      action,
      target: window.id,
      orgId: window.bankOrgId,
      data: { citOrgId: window.citOrgId, ...data },
    });
  }

  #emit(type: WindowEvent["type"], window: AccessWindow): void {
    const event: WindowEvent = {
      type,
      windowId: window.id,
      bankOrgId: window.bankOrgId,
      citOrgId: window.citOrgId,
      containerId: window.containerId,
      status: window.status,
      at: this.#iso(),
    };
    this.emit("window", event);
  }

  #must(id: string): AccessWindow {
    const window = this.#o.windows.get(id);
    if (window === undefined) throw notFound("access window", id);
    return window;
  }

  /** The window, if the principal's organisation is one of its two parties. */
  get(principal: Pick<Principal, "orgId" | "role">, id: string): AccessWindow {
    const window = this.#o.windows.get(id);
    if (window === undefined) throw notFound("access window", id);
    if (
      principal.role !== "system" &&
      window.bankOrgId !== principal.orgId &&
      window.citOrgId !== principal.orgId
    ) {
      throw outOfScope("access window", id, window.bankOrgId);
    }
    return window;
  }

  list(
    principal: Pick<Principal, "orgId" | "orgKind">,
    filter: { status?: WindowStatus | undefined; containerId?: string | undefined },
    page: PageRequest,
  ) {
    return this.#o.windows.list(
      principal.orgKind === "bank"
        ? { bankOrgId: principal.orgId, ...filter }
        : { citOrgId: principal.orgId, ...filter },
      page,
    );
  }

  /** What happened under a window: openings (grant or one-time code), codes used, refused seals. */
  usage(principal: Pick<Principal, "orgId" | "role">, id: string) {
    const window = this.get(principal, id);
    return {
      windowId: window.id,
      openings: this.#o.windows
        .openingsOf(id)
        .map(({ id: _row, windowId: _window, ...opening }) => opening),
      codes: this.#o.windows.codes(id).map((code) => ({
        deviceId: code.deviceId,
        personId: code.personId,
        issuedAt: code.issuedAt,
        usedAt: code.usedAt,
      })),
      sealRefusals: this.#o.windows.sealRefusals(id),
    };
  }

  notifications(principal: Pick<Principal, "orgId">, page: PageRequest) {
    return this.#o.windows.notifications(principal.orgId, page);
  }

  // ------------------------------------------------------------------ request

  async request(principal: Actor, input: WindowRequest): Promise<AccessWindow> {
    const now = this.#now();
    if (principal.orgKind !== "cit" || principal.role !== "citDispatcher") {
      throw new FleetError("E_FORBIDDEN", "only a CIT dispatcher requests access windows", 403);
    }
    const contract = this.#o.contracts.inForceFor(principal.orgId, input.containerId, now);
    const container = this.#o.orgs.getContainer(input.containerId);
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
    const branch = this.#o.orgs.getBranch(container.branchId);
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
      const person = this.#o.people.get(personId, now);
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
    const id = this.#o.windows.insert({
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
    const requested = this.#must(id);
    this.#log(principal.personId, "window.request", requested, {
      containerId: container.id,
      crew,
      notBefore: requested.notBefore,
      notAfter: requested.notAfter,
      purpose: input.purpose,
    });
    this.#emit("window.requested", requested);

    const standing = normaliseStandingWindows(contract.standingWindows);
    if (
      insideStandingWindow(
        { containerId: container.id, notBefore, notAfter },
        standing,
        branch.timeZone,
      )
    ) {
      this.#o.windows.transition(id, ["requested"], "approved", {
        auto_approved: 1,
        decided_at: formatInstant(now),
        decided_by: SYSTEM,
        grant_id: newId("grt"),
      });
      const approved = this.#must(id);
      this.#log(SYSTEM, "window.autoApprove", approved, {
        contractId: contract.id,
        timeZone: branch.timeZone,
      });
      this.#emit("window.approved", approved);
      await this.#deliver(approved);
    }
    return this.#must(id);
  }

  // ------------------------------------------------------------------ decisions

  /** Refuses (and records) a decision by someone who may not make it. */
  #checkDecider(principal: Actor, window: AccessWindow, action: string, approvals: string[]): void {
    const refusal = approvalRefusal(principal, window, approvals);
    if (refusal === undefined) return;
    this.#log(principal.personId, `${action}.refused`, window, {
      code: refusal.code,
      role: principal.role,
      orgId: principal.orgId,
    });
    throw new FleetError(refusal.code, refusal.message, refusal.statusCode);
  }

  #visibleForDecision(principal: Actor, id: string): AccessWindow {
    // A CIT principal sees its own windows; it gets here to be refused (and audited), not to learn.
    const window = this.get(principal, id);
    const container = this.#o.orgs.getContainer(window.containerId);
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
      this.#o.independence?.refusal(principal.personId, window.approvedBy) ??
      (window.approvedBy.length > 0
        ? this.#o.independence?.notYetActive?.(principal.userId, window.requestedAt)
        : undefined);
    if (puppet !== undefined) {
      this.#log(principal.personId, "window.approve.refused", window, {
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
    if (parseInstant(window.notAfter) <= this.#now()) {
      throw new FleetError("E_WINDOW_EXPIRED", `window ${id} ended at ${window.notAfter}`, 409);
    }
    if (
      this.#o.contracts.inForceFor(window.citOrgId, window.containerId, this.#now()) === undefined
    ) {
      throw new FleetError(
        "E_NO_CONTRACT",
        `no contract in force lets ${window.citOrgId} at container ${window.containerId} any more`,
        409,
      );
    }
    const added = this.#o.windows.addApproval({
      windowId: id,
      personId: principal.personId,
      userId: principal.userId,
      role: principal.role,
      at: this.#iso(),
    });
    if (!added) {
      throw new FleetError("E_SAME_APPROVER", "this person has already approved this window", 409);
    }
    const approvals = this.#o.windows.approvals(id);
    this.#log(principal.personId, "window.approve", window, {
      approvals: distinctApprovers(approvals),
      required: window.approvalsRequired,
    });
    if (distinctApprovers(approvals) < window.approvalsRequired) return this.#must(id);
    const moved = this.#o.windows.transition(id, ["requested"], "approved", {
      decided_at: this.#iso(),
      decided_by: principal.personId,
      grant_id: newId("grt"),
    });
    if (!moved) return this.#must(id);
    const approved = this.#must(id);
    this.#log(principal.personId, "window.approved", approved, { approvedBy: approvals });
    this.#emit("window.approved", approved);
    await this.#deliver(approved);
    return this.#must(id);
  }

  reject(principal: Actor, id: string, reason: string | undefined): AccessWindow {
    const window = this.#visibleForDecision(principal, id);
    this.#checkDecider(principal, window, "window.reject", []);
    const moved = this.#o.windows.transition(id, ["requested"], "rejected", {
      decided_at: this.#iso(),
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
    const rejected = this.#must(id);
    this.#log(principal.personId, "window.reject", rejected, { reason: reason ?? null });
    this.#notify(rejected, "window.rejected", `access window ${id} was rejected by the bank`, {
      reason: reason ?? null,
    });
    this.#emit("window.rejected", rejected);
    return rejected;
  }

  // ------------------------------------------------------------------ delivery

  #grant(window: AccessWindow, deviceId: string): AccessGrant {
    if (window.grantId === null) {
      throw new FleetError("E_INTERNAL", `approved window ${window.id} has no grant id`, 500);
    }
    return {
      grantId: window.grantId,
      windowId: window.id,
      locks: [deviceId],
      persons: window.crew,
      notBefore: window.notBefore,
      notAfter: window.notAfter,
      maxOpenings: window.maxOpenings,
      // The lock's own dual control still applies inside a window; the grant adds, never replaces.
      dualControlRequired: true,
      purpose: window.purpose.slice(0, 200),
    };
  }

  #container(window: AccessWindow): { id: string; orgId: string } {
    return { id: window.containerId, orgId: window.bankOrgId };
  }

  /** Pushes the signed grant to every reachable lock of the container; records each answer. */
  async #deliver(window: AccessWindow): Promise<void> {
    const locks = this.#o.locks.locksOf(this.#container(window));
    await Promise.all(
      locks.map(async (lock) => {
        if (!lock.online) {
          this.#o.windows.setLock(window.id, lock.deviceId, "notSent", null, this.#iso());
          return;
        }
        this.#o.windows.setLock(window.id, lock.deviceId, "sent", null, this.#iso());
        let result: CommandResult | undefined;
        try {
          result = await this.#o.hub.sendCommand(
            lock.deviceId,
            "grant",
            this.#grant(window, lock.deviceId),
            {
              waitMs: this.#waitMs,
            },
          );
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          this.#o.windows.setLock(
            window.id,
            lock.deviceId,
            "error",
            { error: message },
            this.#iso(),
          );
          this.#log(SYSTEM, "window.grant.failed", window, {
            deviceId: lock.deviceId,
            error: message,
          });
          return;
        }
        this.#recordGrantResult(window, lock.deviceId, result);
      }),
    );
  }

  /**
   * A lock that was offline when its window was approved gets the grant when it comes back, as
   * long as the window is still open.
   */
  async onLockOnline(deviceId: string): Promise<void> {
    const container = this.#o.locks.containerOf(deviceId);
    if (container === undefined) return;
    const now = this.#now();
    for (const window of this.#o.windows.openWindowsOfContainer(container.containerId)) {
      if (window.grantId === null || parseInstant(window.notAfter) <= now) continue;
      const lock = window.locks.find((entry) => entry.deviceId === deviceId);
      if (lock !== undefined && lock.grantStatus !== "notSent") continue;
      this.#o.windows.setLock(window.id, deviceId, "sent", null, this.#iso());
      try {
        const result = await this.#o.hub.sendCommand(
          deviceId,
          "grant",
          this.#grant(window, deviceId),
          {
            waitMs: this.#waitMs,
          },
        );
        this.#recordGrantResult(window, deviceId, result);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.#o.windows.setLock(window.id, deviceId, "error", { error: message }, this.#iso());
      }
    }
  }

  #recordGrantResult(
    window: AccessWindow,
    deviceId: string,
    result: CommandResult | undefined,
  ): void {
    if (result === undefined) {
      this.#log(SYSTEM, "window.grant.sent", window, { deviceId, confirmed: false });
      return;
    }
    const status = result.status === "ok" ? "installed" : "error";
    this.#o.windows.setLock(
      window.id,
      deviceId,
      status,
      result as unknown as Record<string, unknown>,
      this.#iso(),
    );
    this.#log(SYSTEM, "window.grant.result", window, {
      deviceId,
      status: result.status,
      ...(result.error === undefined ? {} : { error: result.error.code }),
    });
    if (result.status === "ok") this.#activate(window.id);
  }

  #activate(id: string): void {
    if (this.#o.windows.transition(id, ["approved"], "active")) {
      const active = this.#must(id);
      this.#log(SYSTEM, "window.active", active);
      this.#emit("window.active", active);
    }
  }

  /**
   * One-time codes for each crew member at each lock of the container, derived from the lock's
   * secret and fresh counters. Shown once: only their inputs are kept, never the codes.
   */
  issueCodes(
    principal: Actor,
    id: string,
  ): { window: AccessWindow; notBefore: string; notAfter: string; codes: IssuedCode[] } {
    const window = this.get(principal, id);
    if (principal.orgId !== window.citOrgId || principal.role !== "citDispatcher") {
      this.#log(principal.personId, "window.codes.refused", window, {
        role: principal.role,
        orgId: principal.orgId,
      });
      throw new FleetError(
        "E_FORBIDDEN",
        "one-time codes are shown to the CIT company's dispatcher only",
        403,
      );
    }
    if (window.status !== "approved" && window.status !== "active") {
      throw new FleetError(
        "E_WINDOW_STATE",
        `window ${id} is ${window.status}; codes exist only for an approved window`,
        409,
      );
    }
    const grid = otpWindowInside(parseInstant(window.notBefore), parseInstant(window.notAfter));
    if (grid === undefined) {
      throw new FleetError(
        "E_OTP_WINDOW",
        "one-time codes need a window holding at least one hour starting on a quarter hour (UTC)",
      );
    }
    const locks = this.#o.locks.locksOf(this.#container(window));
    if (locks.length === 0) {
      throw new FleetError(
        "E_NO_LOCK",
        `container ${window.containerId} has no lock enrolled`,
        409,
      );
    }
    const at = this.#iso();
    const codes: IssuedCode[] = [];
    const issue = this.#o.windows.db.transaction(() => {
      const first = this.#o.windows.markCodesIssued(id, {
        at,
        to: principal.personId,
        otpNotBefore: formatInstant(grid.notBefore),
        otpNotAfter: formatInstant(grid.notAfter),
      });
      if (!first) {
        throw new FleetError(
          "E_CODES_ALREADY_SHOWN",
          `the one-time codes of window ${id} were shown once already`,
          409,
        );
      }
      for (const lock of locks) {
        const secret = this.#o.hub.otpSecret(lock.deviceId);
        try {
          const firstCounter = this.#o.hub.reserveOtpCounters(lock.deviceId, window.crew.length);
          window.crew.forEach((personId, index) => {
            const input: OneTimeCodeInput = {
              lockId: lock.deviceId,
              counter: firstCounter + index,
              personId,
              notBefore: grid.notBefore,
              notAfter: grid.notAfter,
            };
            codes.push({ deviceId: lock.deviceId, personId, code: oneTimeCode(secret, input) });
            this.#o.windows.insertCode({
              windowId: id,
              deviceId: lock.deviceId,
              personId,
              counter: input.counter,
              issuedAt: at,
            });
          });
        } finally {
          secret.fill(0);
        }
      }
    });
    issue.immediate();
    const issued = this.#must(id);
    this.#log(principal.personId, "window.codes.issued", issued, {
      devices: locks.map((lock) => lock.deviceId),
      people: window.crew,
      notBefore: formatInstant(grid.notBefore),
      notAfter: formatInstant(grid.notAfter),
    });
    this.#activate(id);
    return {
      window: this.#must(id),
      notBefore: formatInstant(grid.notBefore),
      notAfter: formatInstant(grid.notAfter),
      codes,
    };
  }

  // ------------------------------------------------------------------ revoke, expire

  async revoke(principal: Actor, id: string, reason: string | undefined): Promise<AccessWindow> {
    const window = this.#visibleForDecision(principal, id);
    const refusal = approvalRefusal(principal, window, []);
    if (refusal !== undefined) {
      this.#log(principal.personId, "window.revoke.refused", window, {
        code: refusal.code,
        role: principal.role,
      });
      throw new FleetError(refusal.code, refusal.message, refusal.statusCode);
    }
    const moved = this.#o.windows.transition(id, OPEN_STATUSES, "revoked", {
      revoked_at: this.#iso(),
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
    const revoked = this.#must(id);
    this.#log(principal.personId, "window.revoke", revoked, { reason: reason ?? null });
    this.#notify(revoked, "window.revoked", `access window ${id} was revoked by the bank`, {
      reason: reason ?? null,
      containerId: window.containerId,
    });
    this.#emit("window.revoked", revoked);
    if (window.grantId !== null) await this.#revokeAtLocks(revoked, window.grantId);
    return this.#must(id);
  }

  async #revokeAtLocks(window: AccessWindow, grantId: string): Promise<void> {
    const delivered = window.locks.filter((lock) =>
      ["sent", "installed", "error"].includes(lock.grantStatus),
    );
    await Promise.all(
      delivered.map(async (lock) => {
        this.#o.windows.setLock(window.id, lock.deviceId, "revoking", null, this.#iso());
        let result: CommandResult | undefined;
        try {
          result = await this.#o.hub.sendCommand(
            lock.deviceId,
            "grant.revoke",
            { grantId },
            { waitMs: this.#o.locks.online(lock.deviceId) ? this.#waitMs : 0 },
          );
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          this.#o.windows.setLock(
            window.id,
            lock.deviceId,
            "revokeFailed",
            { error: message },
            this.#iso(),
          );
          return;
        }
        if (result === undefined) return;
        const status = result.status === "ok" ? "revoked" : "revokeFailed";
        this.#o.windows.setLock(
          window.id,
          lock.deviceId,
          status,
          result as unknown as Record<string, unknown>,
          this.#iso(),
        );
        this.#log(SYSTEM, "window.revoke.result", window, {
          deviceId: lock.deviceId,
          status: result.status,
        });
      }),
    );
  }

  #notify(
    window: AccessWindow,
    kind: string,
    message: string,
    data: Record<string, unknown>,
  ): void {
    const notification: TenantNotification = this.#o.windows.notify({
      orgId: window.citOrgId,
      kind,
      windowId: window.id,
      message,
      data,
      createdAt: this.#iso(),
    });
    this.emit("notification", notification);
  }

  /** Open windows whose end has passed become expired. Returns how many. */
  expireDue(): number {
    let expired = 0;
    for (const id of this.#o.windows.dueForExpiry(this.#iso())) {
      if (this.#o.windows.transition(id, OPEN_STATUSES, "expired", { expired_at: this.#iso() })) {
        const window = this.#must(id);
        this.#log(SYSTEM, "window.expire", window);
        this.#emit("window.expired", window);
        expired += 1;
      }
    }
    return expired;
  }

  // ------------------------------------------------------------------ close seals

  #close(
    window: AccessWindow,
    deviceId: string,
    actor: string,
    data: Record<string, unknown>,
  ): AccessWindow {
    this.#o.windows.transition(window.id, ["approved", "active"], "closed", {
      closed_at: this.#iso(),
      closed_by_device: deviceId,
    });
    const closed = this.#must(window.id);
    this.#log(actor, "window.close", closed, { deviceId, ...data });
    this.#emit("window.closed", closed);
    return closed;
  }

  #refuseSeal(
    window: AccessWindow | undefined,
    deviceId: string | null,
    source: "audit" | "http",
    actor: string,
    reason: string,
  ): FleetError {
    const code = "E_SEAL_INVALID";
    this.#o.windows.insertSealRefusal({
      windowId: window?.id ?? null,
      deviceId,
      source,
      code,
      reason,
      at: this.#iso(),
    });
    if (window !== undefined)
      this.#log(actor, "window.closeSeal.refused", window, { deviceId, source, code, reason });
    return new FleetError(code, reason, 400);
  }

  /** The close seal as read off the lock's display and reported by the crew (offline locks). */
  closeWithSeal(principal: Actor, id: string, seal: string): AccessWindow {
    const window = this.get(principal, id);
    if (window.status !== "approved" && window.status !== "active") {
      throw new FleetError(
        "E_WINDOW_STATE",
        `window ${id} is ${window.status}; it cannot be closed`,
        409,
      );
    }
    if (!CLOSE_SEAL_PATTERN.test(seal)) {
      throw this.#refuseSeal(window, null, "http", principal.personId, "a close seal is 8 digits");
    }
    const otpNotBefore = window.otpNotBefore;
    const otpNotAfter = window.otpNotAfter;
    if (otpNotBefore !== null && otpNotAfter !== null) {
      for (const deviceId of new Set(this.#o.windows.codes(id).map((code) => code.deviceId))) {
        const candidates = this.#o.windows
          .codes(id)
          .filter((code) => code.deviceId === deviceId)
          .map((code) => ({
            lockId: deviceId,
            counter: code.counter,
            personId: code.personId,
            notBefore: parseInstant(otpNotBefore),
            notAfter: parseInstant(otpNotAfter),
          }));
        const secret = this.#o.hub.otpSecret(deviceId);
        try {
          const match = matchOtpCloseSeal(secret, candidates, seal);
          if (match !== undefined) {
            this.#o.windows.markCodeUsed(deviceId, match.counter, this.#iso());
            return this.#close(window, deviceId, principal.personId, {
              source: "http",
              counter: match.counter,
            });
          }
        } finally {
          secret.fill(0);
        }
      }
    }
    throw this.#refuseSeal(
      window,
      null,
      "http",
      principal.personId,
      `the seal does not belong to an opening under window ${id}`,
    );
  }

  /** Follows a lock's verified audit: grant installs and uses, one-time codes, relocks. */
  onAudit(deviceId: string, records: readonly AuditRecord[]): void {
    for (const record of records) {
      try {
        this.#onRecord(deviceId, record);
      } catch (error) {
        // One bad record must not stop the others; the failure is recorded for the bank.
        this.#o.adminLog.append({
          actor: SYSTEM,
          action: "window.audit.failed",
          target: deviceId,
          data: {
            seq: record.seq,
            kind: record.kind,
            error: error instanceof Error ? error.message : String(error),
          },
        });
      }
    }
  }

  #onRecord(deviceId: string, record: AuditRecord): void {
    switch (record.kind) {
      case "grant.installed":
      case "grant.revoked": {
        const grant = auditDataOf(record, record.kind);
        const window = grant.ok ? this.#o.windows.byGrantId(grant.value.grantId) : undefined;
        if (window === undefined) return;
        const status = record.kind === "grant.installed" ? "installed" : "revoked";
        this.#o.windows.setLock(
          window.id,
          deviceId,
          status,
          { auditSeq: record.seq, at: record.at },
          this.#iso(),
        );
        if (status === "installed" && window.status === "approved") this.#activate(window.id);
        return;
      }
      case "grant.used": {
        const grant = auditDataOf(record, "grant.used");
        const window = grant.ok ? this.#o.windows.byGrantId(grant.value.grantId) : undefined;
        if (window === undefined) return;
        if (
          this.#o.windows.insertOpening({
            windowId: window.id,
            deviceId,
            via: "grant",
            auditSeq: record.seq,
            personId: record.actor,
            counter: null,
            at: record.at,
          })
        ) {
          this.#log(SYSTEM, "window.used", window, {
            deviceId,
            via: "grant",
            auditSeq: record.seq,
          });
          this.#activate(window.id);
        }
        return;
      }
      case "otp.accepted": {
        const read = auditDataOf(record, "otp.accepted");
        if (!read.ok) return;
        const data = read.value;
        const code = this.#o.windows.codeByCounter(deviceId, data.counter);
        if (code === undefined) return;
        const window = this.#o.windows.get(code.windowId);
        if (window === undefined) return;
        this.#o.windows.markCodeUsed(deviceId, data.counter, record.at);
        if (
          this.#o.windows.insertOpening({
            windowId: window.id,
            deviceId,
            via: "otp",
            auditSeq: record.seq,
            personId: record.actor ?? code.personId,
            counter: data.counter,
            at: record.at,
          })
        ) {
          this.#log(SYSTEM, "window.used", window, {
            deviceId,
            via: "otp",
            counter: data.counter,
            auditSeq: record.seq,
          });
          this.#activate(window.id);
        }
        return;
      }
      case "otp.rejected": {
        // A code the lock took but whose cycle another rule then refused is spent: the
        // dispatcher sees it as used and issues a new one.
        const read = auditDataOf(record, "otp.rejected");
        if (!read.ok) return;
        const data = read.value;
        if (data.counterSpent !== true || data.counter === undefined) return;
        const code = this.#o.windows.codeByCounter(deviceId, data.counter);
        if (code === undefined) return;
        const window = this.#o.windows.get(code.windowId);
        if (window === undefined) return;
        this.#o.windows.markCodeUsed(deviceId, data.counter, record.at);
        this.#log(SYSTEM, "window.codeSpent", window, {
          deviceId,
          counter: data.counter,
          reason: data.reason,
          auditSeq: record.seq,
        });
        return;
      }
      case "lock.relocked": {
        this.#onRelock(deviceId, record);
        return;
      }
      default:
        return;
    }
  }

  #onRelock(deviceId: string, record: AuditRecord): void {
    const openings = this.#o.windows.openOpenings(deviceId);
    if (openings.length === 0) return; // an opening that no window was involved in
    const relock = auditDataOf(record, "lock.relocked");
    const seal = relock.ok ? relock.value.closeSeal : "";
    const openingNumber = relock.ok ? relock.value.openingNumber : undefined;
    const secret = this.#o.hub.otpSecret(deviceId);
    let verified = false;
    try {
      for (const opening of openings) {
        const window = this.#o.windows.get(opening.windowId);
        if (window === undefined) continue;
        if (
          opening.via === "otp" &&
          opening.counter !== null &&
          window.otpNotBefore !== null &&
          window.otpNotAfter !== null
        ) {
          const match = matchOtpCloseSeal(
            secret,
            [
              {
                lockId: deviceId,
                counter: opening.counter,
                personId: opening.personId ?? "",
                notBefore: parseInstant(window.otpNotBefore),
                notAfter: parseInstant(window.otpNotAfter),
              },
            ],
            seal,
          );
          if (match !== undefined) verified = true;
        } else if (opening.via === "grant" && openingNumber !== undefined) {
          if (verifyOpeningSeal(secret, deviceId, openingNumber, seal)) verified = true;
        }
      }
    } finally {
      secret.fill(0);
    }
    const ids = openings.map((opening) => opening.id);
    const windowIds = [...new Set(openings.map((opening) => opening.windowId))];
    if (!verified) {
      this.#o.windows.setOpeningSeal(ids, "refused", this.#iso(), openingNumber);
      for (const windowId of windowIds) {
        this.#refuseSeal(
          this.#o.windows.get(windowId),
          deviceId,
          "audit",
          SYSTEM,
          `close seal in audit record ${record.seq} of ${deviceId} does not verify`,
        );
      }
      return;
    }
    this.#o.windows.setOpeningSeal(ids, "verified", this.#iso(), openingNumber);
    for (const windowId of windowIds) {
      const window = this.#o.windows.get(windowId);
      if (window !== undefined && (window.status === "approved" || window.status === "active")) {
        this.#close(window, deviceId, SYSTEM, { source: "audit", auditSeq: record.seq });
      }
    }
  }
}
