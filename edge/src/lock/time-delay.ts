/**
 * Time delay and confirmation window (SPEC §3): delay 0–99 min, window 1–19 min. A separate,
 * longer duress delay may be configured; unset (the default) a duress opening runs on the
 * normal delay and is indistinguishable in display, sound and timing. A duress opening never
 * waits less than a normal one (a shorter delay would both shorten and betray it).
 */
import type { LockPolicy } from "@lockfleet/protocol";

export function delayMinutes(
  policy: Pick<LockPolicy, "timeDelayMin" | "duressDelayMin">,
  duress: boolean,
): number {
  if (!duress || policy.duressDelayMin === undefined) return policy.timeDelayMin;
  return Math.max(policy.duressDelayMin, policy.timeDelayMin);
}
