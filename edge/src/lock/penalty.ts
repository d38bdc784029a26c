/**
 * Wrong-code penalty (SPEC §3): after `wrongCodeLimit` consecutive wrong codes a lockout of
 * `penaltyMin`; every further wrong code after a lockout starts another, each one `penaltyMin`
 * longer, up to `penaltyMaxMin`. A correct code ends the series. Key presses during a lockout
 * are not evaluated, so they cannot restart or extend it.
 */
import type { LockPolicy } from "@lockfleet/protocol";

export interface PenaltyState {
  consecutiveWrong: number;
  /** Lockouts since the last correct code; sets the length of the next one. */
  lockouts: number;
  /** Length of the running lockout; a restart runs it again in full (never shorter). */
  runningMs?: number;
}

export const NO_PENALTY: PenaltyState = { consecutiveWrong: 0, lockouts: 0 };

export function lockoutLengthMs(policy: LockPolicy, lockoutNumber: number): number {
  const minutes = Math.min(
    policy.penaltyMin * lockoutNumber,
    Math.max(policy.penaltyMaxMin, policy.penaltyMin),
  );
  return minutes * 60_000;
}

/** The state after one more wrong code, and the lockout it starts, if any. */
export function afterWrongCode(
  policy: LockPolicy,
  state: PenaltyState,
): { state: PenaltyState; lockoutMs?: number } {
  const consecutiveWrong = state.consecutiveWrong + 1;
  const due = state.lockouts === 0 ? consecutiveWrong >= policy.wrongCodeLimit : true;
  if (!due) return { state: { ...state, consecutiveWrong } };
  const lockouts = state.lockouts + 1;
  const lockoutMs = lockoutLengthMs(policy, lockouts);
  return { state: { consecutiveWrong, lockouts, runningMs: lockoutMs }, lockoutMs };
}
