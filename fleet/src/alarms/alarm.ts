/**
 * Alarms as the fleet keeps them (SPEC §5 "Alarms"): one record per condition on a lock,
 * counted while it repeats, acknowledged by a person with a comment, escalated while nobody
 * acknowledges it.
 */
import {
  ALARM_KINDS,
  ALARM_PRIORITY,
  type AlarmKind,
  type AlarmPriority,
} from "@lockfleet/protocol";

export { ALARM_KINDS, type AlarmKind, type AlarmPriority };

/** The silent duress alarm: the bank's alone, never shown to a CIT company. */
export const DURESS: AlarmKind = "forcedUser";

/** Alarms the fleet raises from its own checks rather than from a lock's report. */
export const FLEET_CHECK_KINDS = [
  "lockOffline",
  "clockDrift",
  "auditGap",
  "forgedMessage",
  "auditRegression",
  "fleetStorage",
] as const;

const PRIORITY_RANK: Readonly<Record<AlarmPriority, number>> = {
  critical: 1,
  high: 2,
  medium: 3,
  low: 4,
};

/** Sort rank, lowest first: duress above everything, then by priority. */
export function alarmRank(kind: AlarmKind): number {
  return kind === DURESS ? 0 : PRIORITY_RANK[ALARM_PRIORITY[kind]];
}

export function alarmPriority(kind: AlarmKind): AlarmPriority {
  return ALARM_PRIORITY[kind];
}

export function isAlarmKind(value: string): value is AlarmKind {
  return (ALARM_KINDS as readonly string[]).includes(value);
}

export type AlarmStatus = "open" | "acknowledged";
export type AlarmSource = "device" | "fleet";

export interface FleetAlarm {
  id: string;
  orgId: string;
  deviceId: string;
  containerId: string | null;
  kind: AlarmKind;
  priority: AlarmPriority;
  source: AlarmSource;
  status: AlarmStatus;
  raisedAt: string;
  lastSeenAt: string;
  occurrences: number;
  auditSeq: number | null;
  actor: string | null;
  data: Record<string, unknown>;
  clearedAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  ackComment: string | null;
  escalationLevel: number;
  escalatedAt: string | null;
  nextEscalationAt: string | null;
}

/** What changed on an alarm; every change is kept in its history and told to listeners. */
export type AlarmChange =
  | "raised"
  | "repeated"
  | "escalated"
  | "acknowledged"
  | "cleared"
  | "forwarded"
  | "forwardFailed";

export interface AlarmHistoryEntry {
  at: string;
  event: AlarmChange;
  actor: string | null;
  data: Record<string, unknown>;
}

/**
 * Who may see which alarms: a bank sees every alarm of its own locks; a CIT company sees the
 * alarms of the containers in its active contracts, never the duress alarm.
 */
export type AlarmScope =
  | {
      kind: "bank";
      orgId: string;
      /** Branch managers: only the containers of their branches (and alarms of no container). */
      containerIds?: readonly string[];
    }
  | { kind: "cit"; orgId: string; containerIds: readonly string[] };

export function alarmVisibleTo(alarm: FleetAlarm, scope: AlarmScope): boolean {
  if (scope.kind === "bank") {
    if (alarm.orgId !== scope.orgId) return false;
    return (
      scope.containerIds === undefined ||
      alarm.containerId === null ||
      scope.containerIds.includes(alarm.containerId)
    );
  }
  if (alarm.kind === DURESS) return false;
  return alarm.containerId !== null && scope.containerIds.includes(alarm.containerId);
}

export interface AlarmFilter {
  status?: AlarmStatus | undefined;
  kind?: AlarmKind | undefined;
  priority?: AlarmPriority | undefined;
  deviceId?: string | undefined;
  containerId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}
