/**
 * Which changes weaken a lock (SPEC §3: shorter delay, fewer eyes, removing a time lock, and
 * the like). One definition for both sides: the fleet asks for two distinct approvers before it
 * sends a weakening change, and the lock refuses a weakening command that does not name them.
 * Each function lists what makes `to` weaker than `from`, in words; empty when nothing does.
 */
import { canonicalJson } from "./canonical-json.js";
import {
  type Holiday,
  type LockPolicy,
  POLICY_LIMITS,
  type TimeLockSchedule,
} from "./schemas/lock.js";

/** Distinct approvers a weakening change must name; a strengthening change needs one. */
export const WEAKENING_APPROVERS_REQUIRED = 2;

const EYES = { single: 1, dual: 2, triple: 3 } as const;

export function policyWeakenings(from: LockPolicy, to: LockPolicy): string[] {
  const weaker: string[] = [];
  if (EYES[to.dualControl] < EYES[from.dualControl]) {
    weaker.push(`dual control ${from.dualControl} → ${to.dualControl}`);
  }
  if (from.mixedParties && !to.mixedParties) weaker.push("mixed parties no longer required");
  if (to.timeDelayMin < from.timeDelayMin) {
    weaker.push(`time delay ${from.timeDelayMin} → ${to.timeDelayMin} min`);
  }
  // Unset, a duress opening runs on the normal delay: as if it were 0.
  if ((to.duressDelayMin ?? 0) < (from.duressDelayMin ?? 0)) weaker.push("shorter duress delay");
  if (to.confirmationWindowMin > from.confirmationWindowMin) {
    weaker.push("longer confirmation window");
  }
  if (to.codeLength < from.codeLength) weaker.push("shorter codes");
  if (to.wrongCodeLimit > from.wrongCodeLimit) weaker.push("more wrong codes before a penalty");
  if (to.penaltyMin < from.penaltyMin || to.penaltyMaxMin < from.penaltyMaxMin) {
    weaker.push("shorter penalty");
  }
  if (to.maxOpenSec > from.maxOpenSec) weaker.push("longer maximum open period");
  if (to.autoRelockSec > from.autoRelockSec || to.relockAfterCloseSec > from.relockAfterCloseSec) {
    weaker.push("later relock");
  }
  if (to.secondCodeTimeoutSec > from.secondCodeTimeoutSec) {
    weaker.push("longer second-code timeout");
  }
  if (!from.masterMayOpen && to.masterMayOpen) weaker.push("master may open");
  const backward = (policy: LockPolicy) =>
    policy.timeBackwardSecPerDay ?? POLICY_LIMITS.timeBackwardSecPerDay.default;
  if (backward(to) > backward(from)) {
    weaker.push(`clock may go back ${backward(from)} → ${backward(to)} s per day`);
  }
  if (from.duressMode !== "off" && to.duressMode === "off") {
    weaker.push("duress alarm switched off");
  }
  return weaker;
}

/** The items of `inner` that `outer` does not hold exactly (compared as canonical JSON). */
function missing<T>(outer: readonly T[], inner: readonly T[]): T[] {
  const present = new Set(outer.map((item) => canonicalJson(item)));
  return inner.filter((item) => !present.has(canonicalJson(item)));
}

/** Removing or changing any lock period or holiday, or moving the zone, weakens a schedule. */
export function scheduleWeakenings(from: TimeLockSchedule, to: TimeLockSchedule): string[] {
  const weaker: string[] = [];
  if (from.timeZone !== to.timeZone) weaker.push(`time zone ${from.timeZone} → ${to.timeZone}`);
  const periods = missing(to.weekly, from.weekly);
  if (periods.length > 0) weaker.push(`${periods.length} weekly lock period(s) removed or changed`);
  weaker.push(...holidayWeakenings(from.holidays, to.holidays));
  return weaker;
}

/** Removing or changing a holiday (a shorter range is a change) weakens; adding one does not. */
export function holidayWeakenings(from: readonly Holiday[], to: readonly Holiday[]): string[] {
  const removed = missing(to, from);
  return removed.length > 0 ? [`${removed.length} holiday(s) removed or changed`] : [];
}
