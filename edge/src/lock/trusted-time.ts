/**
 * Trusted time (SPEC §3): the fleet's signed time messages set the lock's time, as an offset on
 * its real-time clock. Their validity is checked against the lock's own clock like any
 * envelope's (a delayed sync is expired, whatever time it carries). A sync may move the clock
 * back by at most the policy's `timeBackwardSecPerDay` within any 24 h — a withheld message can
 * only be older than the truth, so backward is the direction an attacker pushes — and a larger
 * correction needs a `time.set` that two approvers confirmed. Every change and every refusal is
 * on record. Without trusted time since boot, time-locked containers stay locked (see
 * LockCore.isTimeLocked).
 */
import { type LockPolicy, POLICY_LIMITS, TIME_SET_CONFIRM_TOLERANCE_MS } from "@lockfleet/protocol";

const DAY_MS = 24 * 3600_000;

/** Backward moves kept for the rolling 24 h budget; older ones are merged, never dropped. */
export const BACKWARD_MOVES_KEPT = 32;

/**
 * One backward move of the clock and how far back it went. `at` is the lock time it was made
 * at, kept in the lock's current clock: every later change of the clock shifts it by the same
 * jump, so `now - at` is the real time since the move whatever the clock did since.
 */
export interface BackwardMove {
  at: number;
  ms: number;
}

/** The persisted `time` section. */
export interface TimeSection {
  offsetMs: number;
  /** Backward moves by time sync within the last 24 h (lock time). */
  backward?: BackwardMove[];
}

/** How far time syncs may move the clock back within any 24 h under `policy`. */
export function backwardBudgetMs(policy: Pick<LockPolicy, "timeBackwardSecPerDay">): number {
  return (policy.timeBackwardSecPerDay ?? POLICY_LIMITS.timeBackwardSecPerDay.default) * 1000;
}

/** The backward moves still counting at lock time `now` (made within the last 24 h). */
export function movesWithinDay(moves: readonly BackwardMove[] | undefined, now: number) {
  return (moves ?? []).filter((move) => move.at > now - DAY_MS);
}

/** The moves after the clock jumped by `jumpMs`, in the new clock. */
export function shiftMoves(moves: readonly BackwardMove[], jumpMs: number): BackwardMove[] {
  return moves.map((move) => ({ at: move.at + jumpMs, ms: move.ms }));
}

export type TimeSyncDecision =
  | { accepted: true; offsetMs: number; jumpMs: number; backward: BackwardMove[] }
  | { accepted: false; jumpMs: number; usedMs: number; budgetMs: number };

/**
 * `lockTime` is the lock's current time (real-time clock + `section.offsetMs`), `trusted` the
 * signed time. Forward moves of any size are accepted; backward ones while the moves of the
 * last 24 h, this one included, stay within `budgetMs`.
 */
export function decideTimeSync(
  lockTime: number,
  trusted: number,
  section: TimeSection,
  budgetMs: number,
): TimeSyncDecision {
  const jumpMs = trusted - lockTime;
  const recent = movesWithinDay(section.backward, lockTime);
  const shifted = shiftMoves(recent, jumpMs);
  if (jumpMs >= 0) {
    return { accepted: true, offsetMs: section.offsetMs + jumpMs, jumpMs, backward: shifted };
  }
  const usedMs = recent.reduce((sum, move) => sum + move.ms, 0);
  if (usedMs - jumpMs > budgetMs) return { accepted: false, jumpMs, usedMs, budgetMs };
  return {
    accepted: true,
    offsetMs: section.offsetMs + jumpMs,
    jumpMs,
    backward: keepMoves([...shifted, { at: trusted, ms: -jumpMs }]),
  };
}

/** At most BACKWARD_MOVES_KEPT moves: the two oldest are merged into one at the later time. */
function keepMoves(moves: BackwardMove[]): BackwardMove[] {
  const kept = [...moves];
  while (kept.length > BACKWARD_MOVES_KEPT) {
    const [first, second, ...rest] = kept as [BackwardMove, BackwardMove, ...BackwardMove[]];
    kept.splice(0, kept.length, { at: second.at, ms: first.ms + second.ms }, ...rest);
  }
  return kept;
}

export type TimeSetDecision =
  | { accepted: true; offsetMs: number; jumpMs: number }
  | { accepted: false; jumpMs: number };

/**
 * A confirmed correction: accepted when the jump it makes on this lock's clock is the one its
 * approvers confirmed, within TIME_SET_CONFIRM_TOLERANCE_MS.
 */
export function decideTimeSet(
  lockTime: number,
  trusted: number,
  offsetMs: number,
  confirmJumpMs: number,
): TimeSetDecision {
  const jumpMs = trusted - lockTime;
  if (Math.abs(jumpMs - confirmJumpMs) > TIME_SET_CONFIRM_TOLERANCE_MS)
    return { accepted: false, jumpMs };
  return { accepted: true, offsetMs: offsetMs + jumpMs, jumpMs };
}
