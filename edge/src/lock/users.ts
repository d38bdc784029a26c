/**
 * Users (SPEC §3): each has an enabled flag, a validity from/until (substitutes) and an
 * optional weekly time profile in the container's zone; a master programmes the lock and may
 * open only where the policy allows it.
 */
import { type LockPolicy, type LockUser, parseInstant } from "@lockfleet/protocol";
import { TimeLockEvaluator } from "./time-lock.js";

export type UserRefusal =
  | "disabled"
  | "notYetValid"
  | "expired"
  | "masterMayNotOpen"
  | "outsideTimeProfile";

/** Why this user may not take part in an opening at lock time `now`, if they may not. */
export function userRefusal(
  user: LockUser,
  now: number,
  policy: Pick<LockPolicy, "masterMayOpen">,
  timeZone: string,
): UserRefusal | undefined {
  if (!user.enabled) return "disabled";
  if (user.validFrom !== undefined && now < parseInstant(user.validFrom)) return "notYetValid";
  if (user.validUntil !== undefined && now >= parseInstant(user.validUntil)) return "expired";
  if (user.role === "master" && !policy.masterMayOpen) return "masterMayNotOpen";
  if (user.timeProfile !== undefined && user.timeProfile.length > 0) {
    // A time profile lists when the user may open: inside one of its periods.
    const profile = timeProfileEvaluator(user.timeProfile, timeZone);
    if (profile === undefined || !profile.isLocked(now)) return "outsideTimeProfile";
  }
  return undefined;
}

/** Undefined for a profile the evaluator refuses: the user then may not open at all. */
function timeProfileEvaluator(
  weekly: NonNullable<LockUser["timeProfile"]>,
  timeZone: string,
): TimeLockEvaluator | undefined {
  try {
    return new TimeLockEvaluator({ timeZone, weekly, holidays: [] });
  } catch {
    return undefined;
  }
}
