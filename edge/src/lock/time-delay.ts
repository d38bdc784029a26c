/**
 * Time delay and confirmation window (SPEC §3): delay 0–99 min, window 1–19 min; a separate,
 * longer duress delay may be configured, but a duress opening never waits less than a normal
 * one (the display must look the same, and a shorter delay would both shorten and betray it).
 */
import type { LockPolicy } from "@lockfleet/protocol";

export function delayMinutes(
  policy: Pick<LockPolicy, "timeDelayMin" | "duressDelayMin">,
  duress: boolean,
): number {
  return duress ? Math.max(policy.duressDelayMin, policy.timeDelayMin) : policy.timeDelayMin;
}
