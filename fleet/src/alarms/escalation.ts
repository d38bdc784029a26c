/**
 * When an unacknowledged alarm climbs a level: after `afterMs[priority]` for the first level,
 * then every `repeatMs` until `maxLevel`. Each level is recorded and forwarded again.
 */
import { CodedError } from "@lockfleet/protocol";
import type { AlarmPriority } from "./alarm.js";

export interface EscalationPolicy {
  afterMs: Readonly<Record<AlarmPriority, number>>;
  repeatMs: number;
  maxLevel: number;
}

const MINUTE = 60_000;

export const DEFAULT_ESCALATION: EscalationPolicy = {
  afterMs: { critical: 2 * MINUTE, high: 10 * MINUTE, medium: 30 * MINUTE, low: 4 * 60 * MINUTE },
  repeatMs: 15 * MINUTE,
  maxLevel: 3,
};

/** The instant the next level is due, or null when the top level has been reached. */
export function nextEscalationAt(
  policy: EscalationPolicy,
  priority: AlarmPriority,
  level: number,
  from: number,
): string | null {
  if (level >= policy.maxLevel) return null;
  const wait = level === 0 ? policy.afterMs[priority] : policy.repeatMs;
  return new Date(from + wait).toISOString();
}

export function validateEscalationPolicy(policy: EscalationPolicy): void {
  for (const [priority, ms] of Object.entries(policy.afterMs)) {
    if (!Number.isFinite(ms) || ms <= 0) {
      throw new CodedError("E_ESCALATION_POLICY", `afterMs.${priority} must be a positive number`);
    }
  }
  if (!Number.isFinite(policy.repeatMs) || policy.repeatMs <= 0) {
    throw new CodedError("E_ESCALATION_POLICY", "repeatMs must be a positive number");
  }
  if (!Number.isInteger(policy.maxLevel) || policy.maxLevel < 0) {
    throw new CodedError("E_ESCALATION_POLICY", "maxLevel must be a whole number, 0 or more");
  }
}
