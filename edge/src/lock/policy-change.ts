/**
 * Which changes weaken a lock (SPEC §3): they come only as a fleet command naming two distinct
 * approvers, or from a master at the open container. The rules themselves are protocol's
 * (protocol/src/policy-weakening.ts), the same the fleet applies before it asks for approvals.
 */
import {
  type Holiday,
  holidayWeakenings,
  scheduleWeakenings,
  type TimeLockSchedule,
} from "@lockfleet/protocol";

export { holidayWeakenings, policyWeakenings, scheduleWeakenings } from "@lockfleet/protocol";

/** Removing or changing any lock period or holiday, or moving the zone, weakens the schedule. */
export function scheduleWeakens(from: TimeLockSchedule, to: TimeLockSchedule): boolean {
  return scheduleWeakenings(from, to).length > 0;
}

export function holidaysWeaken(from: readonly Holiday[], to: readonly Holiday[]): boolean {
  return holidayWeakenings(from, to).length > 0;
}

export function distinctApprovers(approvedBy: readonly string[]): number {
  return new Set(approvedBy).size;
}
