/**
 * Trusted time (SPEC §3): the fleet's signed time messages set the lock's time, as an offset on
 * its real-time clock. A backward jump beyond a bound is refused (it could reopen a running
 * time lock or revive an expired grant); every change and every refusal is logged. Without
 * trusted time since boot, time-locked containers stay locked (see LockCore.isTimeLocked).
 */

/** How far trusted time may move the lock's clock back [5 min]. */
export const DEFAULT_MAX_BACKWARD_TIME_JUMP_MS = 5 * 60_000;

export type TimeSyncDecision =
  | { accepted: true; offsetMs: number; jumpMs: number }
  | { accepted: false; jumpMs: number };

/** `lockTime` is the lock's current time (real-time clock + `offsetMs`); `trusted` the signed time. */
export function decideTimeSync(
  lockTime: number,
  trusted: number,
  offsetMs: number,
  maxBackwardJumpMs: number,
): TimeSyncDecision {
  const jumpMs = trusted - lockTime;
  if (jumpMs < -maxBackwardJumpMs) return { accepted: false, jumpMs };
  return { accepted: true, offsetMs: offsetMs + jumpMs, jumpMs };
}
