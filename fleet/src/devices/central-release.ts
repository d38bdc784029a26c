/**
 * Central release (SPEC §3 "Remote functions", §5): the fleet supplies the second
 * authorisation for one opening cycle of a container's lock — after its own two-person
 * approval. A bank officer asks for it with a reason and a short validity; a second officer —
 * another person, already an active officer when it was asked for, and not one the requester
 * made or who was made together with them (separation.ts) — approves; only then does the signed
 * `remote.centralRelease` leave, naming both. The lock still applies its own rules (time delay,
 * time locks, block, penalty) and uses the release for one cycle at most, until it expires.
 */
import { type CommandResult, formatInstant } from "@lockfleet/protocol";
import type { Principal } from "../auth/principal.js";
import { FleetError, notFound } from "../errors.js";
import { newId } from "../ids.js";
import type { AdminLogPort } from "../windows/ports.js";
import type { CentralRelease, CentralReleaseRepository } from "./central-release-repository.js";
import type { DeviceSummary, StoredCommand } from "./hub.js";

/** Who may ask for and approve a central release (each in their branch scope). */
export const CENTRAL_RELEASE_ROLES = ["securityAdmin", "branchManager"] as const;
/** A release is short-lived: at most this long on the lock once sent. */
export const MAX_VALID_MINUTES = 30;
export const DEFAULT_VALID_MINUTES = 10;
/** A request nobody approved within this time lapses (ask again). */
export const REQUEST_TTL_MS = 60 * 60_000;

export interface CentralReleaseHub {
  devices(orgId: string): DeviceSummary[];
  command(commandId: string): StoredCommand | undefined;
  issueCommand(
    deviceId: string,
    type: "remote.centralRelease",
    body: { approvedBy: string[]; reason: string },
    options: { ttlMs?: number; waitMs?: number },
  ): Promise<{ commandId: string; result: CommandResult | undefined }>;
}

export interface CentralReleaseOptions {
  releases: CentralReleaseRepository;
  hub: CentralReleaseHub;
  adminLog: AdminLogPort;
  /** Throws (404) when the principal may not see the container (branch scope included). */
  checkScope: (principal: Principal, containerId: string) => void;
  /** When the approver's account was opened (undefined: no such account). */
  accountCreatedAt: (userId: string) => string | undefined;
  /** Why `approver` does not count beside `requester` (same person, puppet, one maker), or undefined. */
  independence: (approver: string, requester: string) => FleetError | undefined;
  clock: () => number;
  commandWaitMs?: number;
}

export interface CentralReleaseRequest {
  containerId: string;
  deviceId?: string | undefined;
  reason: string;
  validMinutes?: number | undefined;
}

export class CentralReleaseService {
  readonly #o: CentralReleaseOptions;

  constructor(options: CentralReleaseOptions) {
    this.#o = options;
  }

  #iso(): string {
    return formatInstant(this.#o.clock());
  }

  #assertBankOfficer(principal: Principal, what: string): void {
    if (
      principal.orgKind !== "bank" ||
      !(CENTRAL_RELEASE_ROLES as readonly string[]).includes(principal.role)
    ) {
      throw new FleetError("E_FORBIDDEN", `role ${principal.role} may not ${what}`, 403);
    }
  }

  /** The container's active lock, in the principal's bank and scope. */
  #lockOf(principal: Principal, containerId: string, deviceId: string | undefined): DeviceSummary {
    this.#o.checkScope(principal, containerId);
    const locks = this.#o.hub
      .devices(principal.orgId)
      .filter((device) => device.containerId === containerId && device.status === "active")
      .filter((device) => deviceId === undefined || device.deviceId === deviceId);
    const [lock, other] = locks;
    if (lock === undefined) {
      throw new FleetError(
        "E_NO_LOCK",
        deviceId === undefined
          ? `container ${containerId} has no enrolled lock to release`
          : `lock ${deviceId} is not an enrolled lock of container ${containerId}`,
        409,
      );
    }
    if (other !== undefined) {
      throw new FleetError(
        "E_LOCK_AMBIGUOUS",
        `container ${containerId} has several locks; name the one to release (deviceId)`,
        400,
      );
    }
    return lock;
  }

  /** A pending release whose time ran out is recorded as expired when someone looks. */
  #current(release: CentralRelease): CentralRelease {
    const now = this.#o.clock();
    if (release.status === "pending" && Date.parse(release.requestedAt) + REQUEST_TTL_MS <= now) {
      this.#o.releases.decide(release.id, "expired", null, this.#iso());
      return this.#o.releases.get(release.id) as CentralRelease;
    }
    if (release.status === "sent" && release.commandId !== null) {
      // the lock's answer may come after the approval answered: take it from the hub
      const command = this.#o.hub.command(release.commandId);
      if (command !== undefined && command.status !== "sent") {
        this.#o.releases.finish(
          release.id,
          command.status === "ok" ? "confirmed" : "failed",
          { commandId: null, validUntil: null },
          command.result,
        );
        return this.#o.releases.get(release.id) as CentralRelease;
      }
    }
    return release;
  }

  get(principal: Principal, id: string): CentralRelease {
    const release = this.#o.releases.get(id);
    if (release === undefined || release.orgId !== principal.orgId || principal.orgKind !== "bank")
      throw notFound("central release", id);
    this.#o.checkScope(principal, release.containerId);
    return this.#current(release);
  }

  list(principal: Principal, containerId: string | undefined): CentralRelease[] {
    if (principal.orgKind !== "bank") return [];
    if (containerId !== undefined) this.#o.checkScope(principal, containerId);
    return this.#o.releases
      .list(principal.orgId, containerId, 100)
      .filter((release) => {
        try {
          this.#o.checkScope(principal, release.containerId);
          return true;
        } catch {
          return false;
        }
      })
      .map((release) => this.#current(release));
  }

  /** The first officer asks; nothing reaches the lock yet. */
  request(principal: Principal, input: CentralReleaseRequest): CentralRelease {
    this.#assertBankOfficer(principal, "ask for a central release");
    const reason = input.reason.trim();
    if (reason === "") {
      throw new FleetError("E_REASON_REQUIRED", "a central release needs a reason", 400);
    }
    const validMinutes = input.validMinutes ?? DEFAULT_VALID_MINUTES;
    if (!Number.isInteger(validMinutes) || validMinutes < 1 || validMinutes > MAX_VALID_MINUTES) {
      throw new FleetError(
        "E_VALIDITY",
        `a central release is valid for 1 to ${MAX_VALID_MINUTES} minutes`,
        400,
      );
    }
    const lock = this.#lockOf(principal, input.containerId, input.deviceId);
    const open = this.list(principal, input.containerId).find(
      (release) => release.status === "pending",
    );
    if (open !== undefined) {
      throw new FleetError(
        "E_RELEASE_PENDING",
        `central release ${open.id} for this container is already waiting for a second officer`,
        409,
      );
    }
    const id = newId("crl");
    return this.#o.releases.transaction(() => {
      this.#o.releases.insert({
        id,
        orgId: principal.orgId,
        containerId: input.containerId,
        deviceId: lock.deviceId,
        reason,
        validMinutes,
        requestedBy: principal.personId,
        requestedAt: this.#iso(),
      });
      this.#o.adminLog.append({
        actor: principal.personId,
        action: "centralRelease.request",
        target: id,
        orgId: principal.orgId,
        data: { containerId: input.containerId, deviceId: lock.deviceId, reason, validMinutes },
      });
      return this.#o.releases.get(id) as CentralRelease;
    });
  }

  /** The second officer approves; the signed release then goes out naming both. */
  async approve(principal: Principal, id: string): Promise<CentralRelease> {
    const release = this.get(principal, id);
    const refuse = (error: FleetError): never => {
      this.#o.adminLog.append({
        actor: principal.personId,
        action: "centralRelease.approve.refused",
        target: id,
        orgId: release.orgId,
        data: { containerId: release.containerId, code: error.code },
      });
      throw error;
    };
    if (release.status !== "pending") {
      throw new FleetError("E_RELEASE_STATE", `central release ${id} is ${release.status}`, 409);
    }
    if (
      principal.orgKind !== "bank" ||
      !(CENTRAL_RELEASE_ROLES as readonly string[]).includes(principal.role)
    ) {
      refuse(
        new FleetError(
          "E_FORBIDDEN",
          `role ${principal.role} may not approve a central release`,
          403,
        ),
      );
    }
    if (principal.personId === release.requestedBy) {
      refuse(
        new FleetError(
          "E_SAME_APPROVER",
          "the officer who asked for a central release cannot approve it; a second officer must",
          409,
        ),
      );
    }
    const createdAt = this.#o.accountCreatedAt(principal.userId);
    if (createdAt === undefined || createdAt > release.requestedAt) {
      refuse(
        new FleetError(
          "E_NOT_YET_ACTIVE",
          "the second officer must already have been an active officer when the release was asked for",
          403,
        ),
      );
    }
    const dependent = this.#o.independence(principal.personId, release.requestedBy);
    if (dependent !== undefined) refuse(dependent);

    const approvedBy = [release.requestedBy, principal.personId];
    const decided = this.#o.releases.transaction(() => {
      if (!this.#o.releases.decide(id, "sent", principal.personId, this.#iso())) return false;
      this.#o.adminLog.append({
        actor: principal.personId,
        action: "centralRelease.approve",
        target: id,
        orgId: release.orgId,
        data: { containerId: release.containerId, deviceId: release.deviceId, approvedBy },
      });
      return true;
    });
    if (!decided) {
      throw new FleetError("E_RELEASE_STATE", `central release ${id} was decided meanwhile`, 409);
    }
    const ttlMs = release.validMinutes * 60_000;
    let issued: Awaited<ReturnType<CentralReleaseHub["issueCommand"]>>;
    try {
      issued = await this.#o.hub.issueCommand(
        release.deviceId,
        "remote.centralRelease",
        { approvedBy, reason: release.reason },
        { ttlMs, waitMs: this.#o.commandWaitMs ?? 5_000 },
      );
    } catch (error) {
      this.#o.releases.transaction(() => {
        this.#o.releases.finish(id, "failed", { commandId: null, validUntil: null }, null);
        this.#o.adminLog.append({
          actor: "system",
          action: "centralRelease.send",
          target: id,
          orgId: release.orgId,
          data: {
            deviceId: release.deviceId,
            status: "failed",
            code: error instanceof FleetError ? error.code : "E_INTERNAL",
          },
        });
      });
      throw error;
    }
    const result = issued.result;
    const status = result === undefined ? "sent" : result.status === "ok" ? "confirmed" : "failed";
    const stored = this.#o.hub.command(issued.commandId);
    this.#o.releases.transaction(() => {
      this.#o.releases.finish(
        id,
        status,
        { commandId: issued.commandId, validUntil: stored?.expiresAt ?? null },
        result ?? null,
      );
      this.#o.adminLog.append({
        actor: "system",
        action: "centralRelease.send",
        target: id,
        orgId: release.orgId,
        data: {
          deviceId: release.deviceId,
          commandId: issued.commandId,
          status,
          code: result?.error?.code,
        },
      });
    });
    return this.#o.releases.get(id) as CentralRelease;
  }

  /** The requester withdraws, or a security admin rejects, a release still waiting. */
  reject(principal: Principal, id: string, reason: string | undefined): CentralRelease {
    const release = this.get(principal, id);
    const own = release.requestedBy === principal.personId;
    if (!own && principal.role !== "securityAdmin") {
      throw new FleetError(
        "E_FORBIDDEN",
        "a security admin or the officer who asked rejects a central release",
        403,
      );
    }
    const done = this.#o.releases.transaction(() => {
      if (!this.#o.releases.decide(id, "rejected", null, this.#iso())) return false;
      this.#o.adminLog.append({
        actor: principal.personId,
        action: own ? "centralRelease.withdraw" : "centralRelease.reject",
        target: id,
        orgId: release.orgId,
        data: { containerId: release.containerId, ...(reason ? { reason } : {}) },
      });
      return true;
    });
    if (!done) {
      throw new FleetError("E_RELEASE_STATE", `central release ${id} is ${release.status}`, 409);
    }
    return this.#o.releases.get(id) as CentralRelease;
  }
}
