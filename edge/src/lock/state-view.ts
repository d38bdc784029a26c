/**
 * The retained `state` message the lock publishes (protocol LockState): bolt, door, cycle,
 * time lock, alarms, audit head. Deadlines on the monotonic clock are stated in lock time.
 * It never reveals a duress alarm (forcedUser is never an active alarm).
 */
import { type AlarmKind, formatInstant, type LockState } from "@lockfleet/protocol";
import type { LockContext } from "./lock-context.js";

export const FIRMWARE_VERSION = "lockfleet-edge/0.1.0";

export function lockStateView(
  ctx: LockContext,
  org: string,
  activeAlarms: readonly AlarmKind[],
): LockState {
  const now = ctx.lockTime();
  const mono = ctx.mono();
  const toLockTime = (deadline: number | undefined) =>
    deadline === undefined ? undefined : formatInstant(now + (deadline - mono));
  const cycle = ctx.s.cycle;
  const head = ctx.store.auditHead();
  const penaltyUntil = toLockTime(ctx.deadlines.penaltyUntil);
  const delayEndsAt = toLockTime(ctx.deadlines.delayEnds);
  const windowEndsAt = toLockTime(ctx.deadlines.windowEnds);
  const relockAt = toLockTime(ctx.deadlines.relock);
  const timeLocked = ctx.isTimeLocked();
  const until = timeLocked
    ? ctx.evaluator.lockedUntil(now, ctx.s.timeLock.immediateUntil)
    : undefined;
  return {
    deviceId: ctx.deviceId,
    org,
    at: formatInstant(now),
    bolt: ctx.bolt,
    door: ctx.doorForced
      ? "forced"
      : ctx.activeAlarms.has("doorAjar")
        ? "ajar"
        : ctx.doorOpen
          ? "open"
          : "closed",
    cycle: {
      phase: cycle ? cycle.phase : "idle",
      ...(delayEndsAt === undefined ? {} : { delayEndsAt }),
      ...(windowEndsAt === undefined ? {} : { windowEndsAt }),
      ...(relockAt === undefined ? {} : { relockAt }),
      codesRequired: cycle ? ctx.codesRequired(cycle.authorisations) : ctx.codesRequired([]),
      codesGiven: cycle ? Math.min(3, cycle.authorisations.length) : 0,
    },
    timeLocked,
    ...(until === undefined || !Number.isFinite(until) || !ctx.trustedTime
      ? {}
      : { timeLockedUntil: formatInstant(until) }),
    blocked: ctx.s.remote.blocked,
    ...(penaltyUntil === undefined ? {} : { penaltyUntil }),
    activeAlarms: [...activeAlarms],
    trustedTime: ctx.trustedTime,
    auditHead: { seq: head.seq, hash: head.hash },
    firmware: FIRMWARE_VERSION,
  };
}
