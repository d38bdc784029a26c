/**
 * Which changes weaken a lock (SPEC §3): they come only as a fleet command naming two distinct
 * approvers. Strengthening changes need one.
 */
import type { Holiday, LockPolicy, TimeLockSchedule } from "@lockfleet/protocol";
import { canonicalJson } from "@lockfleet/protocol";

const EYES = { single: 1, dual: 2, triple: 3 } as const;

export function policyWeakenings(from: LockPolicy, to: LockPolicy): string[] {
  const weaker: string[] = [];
  if (EYES[to.dualControl] < EYES[from.dualControl])
    weaker.push(`dual control ${from.dualControl} → ${to.dualControl}`);
  if (from.mixedParties && !to.mixedParties) weaker.push("mixed parties no longer required");
  if (to.timeDelayMin < from.timeDelayMin)
    weaker.push(`time delay ${from.timeDelayMin} → ${to.timeDelayMin} min`);
  if (to.duressDelayMin < from.duressDelayMin) weaker.push("shorter duress delay");
  if (to.confirmationWindowMin > from.confirmationWindowMin)
    weaker.push("longer confirmation window");
  if (to.codeLength < from.codeLength) weaker.push("shorter codes");
  if (to.wrongCodeLimit > from.wrongCodeLimit) weaker.push("more wrong codes before a penalty");
  if (to.penaltyMin < from.penaltyMin || to.penaltyMaxMin < from.penaltyMaxMin)
    weaker.push("shorter penalty");
  if (to.maxOpenSec > from.maxOpenSec) weaker.push("longer maximum open period");
  if (to.autoRelockSec > from.autoRelockSec || to.relockAfterCloseSec > from.relockAfterCloseSec) {
    weaker.push("later relock");
  }
  if (to.secondCodeTimeoutSec > from.secondCodeTimeoutSec)
    weaker.push("longer second-code timeout");
  if (!from.masterMayOpen && to.masterMayOpen) weaker.push("master may open");
  if (from.duressMode !== "off" && to.duressMode === "off")
    weaker.push("duress alarm switched off");
  return weaker;
}

function contains<T>(outer: readonly T[], inner: readonly T[]): boolean {
  const present = new Set(outer.map((item) => canonicalJson(item)));
  return inner.every((item) => present.has(canonicalJson(item)));
}

/** Removing or changing any lock period or holiday, or moving the zone, weakens the schedule. */
export function scheduleWeakens(from: TimeLockSchedule, to: TimeLockSchedule): boolean {
  return (
    from.timeZone !== to.timeZone ||
    !contains(to.weekly, from.weekly) ||
    !contains(to.holidays, from.holidays)
  );
}

export function holidaysWeaken(from: readonly Holiday[], to: readonly Holiday[]): boolean {
  return !contains(to, from);
}

export function distinctApprovers(approvedBy: readonly string[]): number {
  return new Set(approvedBy).size;
}
