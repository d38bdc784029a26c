/**
 * Clock corrections (SPEC §3 "Time"): a lock moves its clock back by at most its daily bound
 * on a time sync; a larger correction is a signed `time.set` that names two distinct bank
 * officers and the jump they confirmed. A security admin proposes it for the drift the fleet
 * measured; a second officer — another person, not one the proposer created or enabled —
 * approves, and only then does the command leave. The lock checks the jump against its own
 * clock and refuses it if the drift has changed since (then propose again).
 */
import { type CommandResult, formatInstant } from "@lockfleet/protocol";
import type { Principal } from "../auth/principal.js";
import type { FleetCode } from "../error-catalogue.js";
import { FleetError, notFound } from "../errors.js";
import { newId } from "../ids.js";
import type { PeopleRepository } from "../storage/people-repository.js";
import type { AdminLogPort } from "../windows/ports.js";
import type { ClockCorrection, ClockCorrectionRepository } from "./clock-correction-repository.js";
import type { DeviceSummary } from "./hub.js";

/** Who may approve a proposed correction (a person other than the proposer). */
export const CLOCK_APPROVER_ROLES = ["securityAdmin", "branchManager"] as const;
/** How long the signed time.set is valid, stated in the lock's clock. */
export const TIME_SET_TTL_MS = 60_000;

type Actor = Principal;

export interface ClockCorrectionHub {
  device(deviceId: string): DeviceSummary | undefined;
  issueCommand(
    deviceId: string,
    type: "time.set",
    body: { time: string; confirmJumpSec: number; approvedBy: string[]; reason: string },
    options: { ttlMs?: number; waitMs?: number },
  ): Promise<{ commandId: string; result: CommandResult | undefined }>;
}

export interface ClockCorrectionOptions {
  corrections: ClockCorrectionRepository;
  people: PeopleRepository;
  hub: ClockCorrectionHub;
  adminLog: AdminLogPort;
  /** Throws (404) when the principal may not see the lock's container. */
  checkScope: (principal: Actor, containerId: string) => void;
  /**
   * Why `approver` does not count as a second officer beside `proposer` (the same person, or one
   * made by the other through any chain of accounts and enablings), or undefined.
   */
  independence: (approver: string, proposer: string) => FleetError | undefined;
  clock: () => number;
  commandWaitMs?: number;
}

export class ClockCorrectionService {
  readonly #o: ClockCorrectionOptions;

  constructor(options: ClockCorrectionOptions) {
    this.#o = options;
  }

  #iso(): string {
    return formatInstant(this.#o.clock());
  }

  /** The lock, if the principal's bank owns it and may see its container. */
  #device(principal: Actor, deviceId: string): DeviceSummary {
    const device = this.#o.hub.device(deviceId);
    if (device === undefined || device.orgId !== principal.orgId) throw notFound("lock", deviceId);
    this.#o.checkScope(principal, device.containerId);
    return device;
  }

  get(principal: Actor, id: string): ClockCorrection {
    const correction = this.#o.corrections.get(id);
    if (correction === undefined || correction.orgId !== principal.orgId)
      throw notFound("clock correction", id);
    this.#device(principal, correction.deviceId);
    return correction;
  }

  list(principal: Actor, deviceId: string): ClockCorrection[] {
    this.#device(principal, deviceId);
    return this.#o.corrections.listForDevice(deviceId);
  }

  /** A security admin proposes setting the lock's clock by the drift the fleet measured. */
  propose(principal: Actor, deviceId: string, reason: string): ClockCorrection {
    if (principal.orgKind !== "bank" || principal.role !== "securityAdmin")
      throw new FleetError("E_FORBIDDEN", "only a security admin proposes a clock correction", 403);
    const device = this.#device(principal, deviceId);
    if (device.clockDriftMs === null) {
      throw new FleetError(
        "E_DRIFT_UNKNOWN",
        `the fleet has not measured the clock of lock ${deviceId} yet (it measures it from the lock's state)`,
        409,
      );
    }
    const confirmJumpSec = -Math.round(device.clockDriftMs / 1000);
    if (confirmJumpSec === 0) {
      throw new FleetError("E_NO_CORRECTION", `the clock of lock ${deviceId} is right`, 409);
    }
    const id = newId("clk");
    return this.#o.corrections.transaction(() => {
      this.#o.corrections.insert({
        id,
        orgId: device.orgId,
        deviceId,
        driftMs: device.clockDriftMs as number,
        confirmJumpSec,
        reason,
        requestedBy: principal.personId,
        requestedAt: this.#iso(),
      });
      this.#o.adminLog.append({
        actor: principal.personId,
        action: "device.clockCorrection.propose",
        target: id,
        orgId: device.orgId,
        data: { deviceId, driftMs: device.clockDriftMs, confirmJumpSec, reason },
      });
      return this.#o.corrections.get(id) as ClockCorrection;
    });
  }

  /** A second, independent officer approves; the signed time.set then goes out naming both. */
  async approve(principal: Actor, id: string): Promise<ClockCorrection> {
    const correction = this.get(principal, id);
    const refuse = (code: FleetCode, message: string, status: number): never => {
      this.#o.adminLog.append({
        actor: principal.personId,
        action: "device.clockCorrection.approve.refused",
        target: id,
        orgId: correction.orgId,
        data: { deviceId: correction.deviceId, code },
      });
      throw new FleetError(code, message, status);
    };
    if (
      principal.orgKind !== "bank" ||
      !(CLOCK_APPROVER_ROLES as readonly string[]).includes(principal.role)
    ) {
      refuse("E_FORBIDDEN", `role ${principal.role} may not approve a clock correction`, 403);
    }
    if (correction.status !== "pending") {
      throw new FleetError(
        "E_CORRECTION_STATE",
        `clock correction ${id} is ${correction.status}`,
        409,
      );
    }
    if (principal.personId === correction.requestedBy) {
      refuse("E_SAME_APPROVER", "the second approval must come from another person", 409);
    }
    const approver = this.#o.people.get(principal.personId, this.#o.clock());
    const dependent =
      approver === undefined
        ? new FleetError("E_PUPPET_APPROVER", "the approver is not a known person", 403)
        : this.#o.independence(principal.personId, correction.requestedBy);
    if (dependent !== undefined) refuse(dependent.code, dependent.message, dependent.statusCode);
    const approvedBy = [correction.requestedBy, principal.personId];
    const decided = this.#o.corrections.transaction(() => {
      if (!this.#o.corrections.decide(id, "sent", principal.personId, this.#iso())) return false;
      this.#o.adminLog.append({
        actor: principal.personId,
        action: "device.clockCorrection.approve",
        target: id,
        orgId: correction.orgId,
        data: {
          deviceId: correction.deviceId,
          approvedBy,
          confirmJumpSec: correction.confirmJumpSec,
        },
      });
      return true;
    });
    if (!decided) {
      throw new FleetError(
        "E_CORRECTION_STATE",
        `clock correction ${id} was decided meanwhile`,
        409,
      );
    }
    let commandId: string | null = null;
    let result: CommandResult | undefined;
    try {
      const issued = await this.#o.hub.issueCommand(
        correction.deviceId,
        "time.set",
        {
          time: this.#iso(),
          confirmJumpSec: correction.confirmJumpSec,
          approvedBy,
          reason: correction.reason,
        },
        { ttlMs: TIME_SET_TTL_MS, waitMs: this.#o.commandWaitMs ?? 5_000 },
      );
      commandId = issued.commandId;
      result = issued.result;
    } catch (error) {
      this.#o.corrections.finish(id, "failed", null, null);
      throw error;
    }
    const status = result === undefined ? "sent" : result.status === "ok" ? "applied" : "failed";
    this.#o.corrections.transaction(() => {
      this.#o.corrections.finish(id, status, commandId, result ?? null);
      this.#o.adminLog.append({
        actor: "system",
        action: "device.clockCorrection.send",
        target: id,
        orgId: correction.orgId,
        data: { deviceId: correction.deviceId, commandId, status, code: result?.error?.code },
      });
    });
    return this.#o.corrections.get(id) as ClockCorrection;
  }

  reject(principal: Actor, id: string): ClockCorrection {
    const correction = this.get(principal, id);
    if (principal.orgKind !== "bank" || principal.role !== "securityAdmin")
      throw new FleetError("E_FORBIDDEN", "only a security admin rejects a clock correction", 403);
    const done = this.#o.corrections.transaction(() => {
      if (!this.#o.corrections.decide(id, "rejected", null, this.#iso())) return false;
      this.#o.adminLog.append({
        actor: principal.personId,
        action: "device.clockCorrection.reject",
        target: id,
        orgId: correction.orgId,
        data: { deviceId: correction.deviceId },
      });
      return true;
    });
    if (!done)
      throw new FleetError(
        "E_CORRECTION_STATE",
        `clock correction ${id} is ${correction.status}`,
        409,
      );
    return this.#o.corrections.get(id) as ClockCorrection;
  }
}
