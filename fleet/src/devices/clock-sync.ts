/**
 * Clock sync: the drift of each lock's clock measured from what it signs, the clockDrift
 * alarm, and signed time syncs stated in the lock's own clock.
 */
import {
  type CommandResult,
  type CommandType,
  formatInstant,
  parseInstant,
} from "@lockfleet/protocol";
import type { CommandDispatch } from "./command-dispatch.js";
import type { HubContext } from "./hub-context.js";
import type { LiveDevice } from "./live-device.js";

export const TIME_SYNC_TTL_MS = 60_000;
/** Commands that set the lock's clock: their validity is stated in that clock (#inLockClock). */
export const LOCK_CLOCK_COMMANDS: ReadonlySet<CommandType> = new Set(["time.sync", "time.set"]);
const TIME_SYNC_MIN_INTERVAL_MS = 60_000;

/**
 * The lock's time as a result shows it: `at` is the lock time when the command arrived, so an
 * accepted time command's jump is added (else the drift would stay the one it corrected).
 */
export function lockTimeAfter(result: CommandResult, clockCommand: boolean): number {
  const at = parseInstant(result.at);
  return clockCommand && result.status === "ok" ? at + (Number(result.data?.jumpMs) || 0) : at;
}

/**
 * The lock checks every envelope's validity against its own clock — the one a time message
 * corrects — so the validity is stated in that clock as last measured (fleet time + drift):
 * a lock running behind or ahead accepts it for `ttlMs` of real time, and a message delayed
 * longer has expired there. Never widened by the drift, which would let a withheld message
 * move the clock; a stale measurement makes the lock refuse it, never accept a late one.
 */
export function inLockClock(device: Pick<LiveDevice, "clockDriftMs">, now: number, ttlMs: number) {
  const drift = device.clockDriftMs ?? 0;
  return { issuedAt: now + drift, expiresAt: now + drift + ttlMs };
}

export class ClockSync {
  readonly #ctx: HubContext;
  readonly #dispatch: CommandDispatch;

  constructor(ctx: HubContext, dispatch: CommandDispatch) {
    this.#ctx = ctx;
    this.#dispatch = dispatch;
  }

  syncClock(device: LiveDevice, force = false): void {
    const now = this.#ctx.clock();
    if (this.#ctx.closed || (!force && now - device.lastTimeSyncAt < TIME_SYNC_MIN_INTERVAL_MS))
      return;
    device.lastTimeSyncAt = now;
    const validity = inLockClock(device, now, TIME_SYNC_TTL_MS);
    this.#dispatch
      .send(device.deviceId, "time.sync", { time: formatInstant(now) }, validity)
      .catch((error) => {
        if (!this.#ctx.closed)
          this.#ctx.log.warn({ err: error, deviceId: device.deviceId }, "time sync not sent");
      });
  }

  syncAllClocks(): void {
    for (const device of this.#ctx.devices.values()) {
      if (device.availability === "online" && device.status === "active")
        this.syncClock(device, true);
    }
  }

  /**
   * Compares a live lock timestamp with fleet time; beyond tolerance: alarm and time sync.
   * A lock without trusted time (after a restart) gets a sync, and so does one whose
   * on-connect sync waited for this measurement. Back within tolerance, the alarm is cleared.
   */
  checkDrift(device: LiveDevice, lockTime: number, trustedTime: boolean): void {
    if (Number.isNaN(lockTime)) return;
    const now = this.#ctx.clock();
    // Whole milliseconds: the API reports drift as an integer whatever the clock's resolution.
    const drift = Math.round(lockTime - now);
    const previous = device.clockDriftMs;
    device.clockDriftMs = drift;
    device.driftMeasuredAt = now;
    device.driftConnection = this.#ctx.broker?.deviceConnection(device.deviceId);
    // A new measurement far from the one the last sync was stated in: that sync was refused.
    const remeasured =
      previous === null || Math.abs(drift - previous) > this.#ctx.settings.clockDriftToleranceMs;
    const waiting = device.syncOnState;
    device.syncOnState = false;
    if (Math.abs(drift) <= this.#ctx.settings.clockDriftToleranceMs) {
      if (device.driftAlarmRaised || device.driftClearPending)
        this.#ctx.emit("alarmCleared", device.deviceId, "clockDrift");
      device.driftAlarmRaised = false;
      device.driftClearPending = false;
      if (waiting || !trustedTime) this.syncClock(device, waiting || remeasured);
      return;
    }
    if (!device.driftAlarmRaised) {
      device.driftAlarmRaised = true;
      this.#ctx.raiseFleetAlarm(device, "clockDrift", {
        driftMs: drift,
        toleranceMs: this.#ctx.settings.clockDriftToleranceMs,
      });
    }
    // A lock ahead that refused the backward correction (beyond its daily bound) waits for a
    // confirmed time.set or the next periodic sync rather than refusing one every minute.
    const refusedRecently =
      drift > 0 && now - device.backwardRefusedAt < this.#ctx.settings.timeSyncIntervalMs;
    if (!refusedRecently || waiting) this.syncClock(device, waiting || remeasured);
  }
}
