/** SQL for alarms (migration 210). The rules live in alarm-service.ts. */
import { CodedError } from "@lockfleet/protocol";
import type { Database, Statement } from "better-sqlite3";
import { type Page, type PageRequest, pageOf, parseJsonColumn } from "../storage/pagination.js";
import {
  type AlarmChange,
  type AlarmFilter,
  type AlarmHistoryEntry,
  type AlarmKind,
  type AlarmPriority,
  type AlarmScope,
  type AlarmSource,
  type AlarmStatus,
  DURESS,
  type FleetAlarm,
} from "./alarm.js";

interface AlarmRow {
  row_id: number;
  id: string;
  org_id: string;
  device_id: string;
  container_id: string | null;
  kind: AlarmKind;
  priority: AlarmPriority;
  rank: number;
  source: AlarmSource;
  status: AlarmStatus;
  raised_at: string;
  last_seen_at: string;
  occurrences: number;
  audit_seq: number | null;
  actor: string | null;
  data: string;
  cleared_at: string | null;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  ack_comment: string | null;
  escalation_level: number;
  escalated_at: string | null;
  next_escalation_at: string | null;
}

const toAlarm = (row: AlarmRow): FleetAlarm => ({
  id: row.id,
  orgId: row.org_id,
  deviceId: row.device_id,
  containerId: row.container_id,
  kind: row.kind,
  priority: row.priority,
  source: row.source,
  status: row.status,
  raisedAt: row.raised_at,
  lastSeenAt: row.last_seen_at,
  occurrences: row.occurrences,
  auditSeq: row.audit_seq,
  actor: row.actor,
  data: parseJsonColumn<Record<string, unknown>>(row.data, {}),
  clearedAt: row.cleared_at,
  acknowledgedAt: row.acknowledged_at,
  acknowledgedBy: row.acknowledged_by,
  ackComment: row.ack_comment,
  escalationLevel: row.escalation_level,
  escalatedAt: row.escalated_at,
  nextEscalationAt: row.next_escalation_at,
});

export interface NewAlarmRow {
  id: string;
  orgId: string;
  deviceId: string;
  containerId: string | null;
  kind: AlarmKind;
  priority: AlarmPriority;
  rank: number;
  source: AlarmSource;
  at: string;
  auditSeq: number | null;
  actor: string | null;
  data: Record<string, unknown>;
  nextEscalationAt: string | null;
}

/** Turns a scope and filter into a WHERE clause with its parameters. */
function whereOf(scope: AlarmScope, filter: AlarmFilter): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (scope.kind === "bank") {
    clauses.push("org_id = ?");
    params.push(scope.orgId);
    if (scope.containerIds !== undefined) {
      clauses.push("(container_id IS NULL OR container_id IN (SELECT value FROM json_each(?)))");
      params.push(JSON.stringify(scope.containerIds));
    }
  } else {
    // the duress alarm is the bank's alone
    clauses.push(`kind != '${DURESS}'`);
    clauses.push("container_id IN (SELECT value FROM json_each(?))");
    params.push(JSON.stringify(scope.containerIds));
  }
  const equal: Array<[keyof AlarmFilter, string]> = [
    ["status", "status"],
    ["kind", "kind"],
    ["priority", "priority"],
    ["deviceId", "device_id"],
    ["containerId", "container_id"],
  ];
  for (const [key, column] of equal) {
    const value = filter[key];
    if (value !== undefined) {
      clauses.push(`${column} = ?`);
      params.push(value);
    }
  }
  if (filter.from !== undefined) {
    clauses.push("last_seen_at >= ?");
    params.push(filter.from);
  }
  if (filter.to !== undefined) {
    clauses.push("raised_at < ?");
    params.push(filter.to);
  }
  return { sql: clauses.join(" AND "), params };
}

export class AlarmRepository {
  readonly #statements = new Map<string, Statement>();

  constructor(private readonly db: Database) {}

  /** Prepared once per SQL text: alarm storms run the same few statements many times. */
  #prepare(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  insert(row: NewAlarmRow): FleetAlarm {
    this.#prepare(
      `INSERT INTO alarms (id, org_id, device_id, container_id, kind, priority, rank, source, status,
           raised_at, last_seen_at, audit_seq, actor, data, next_escalation_at)
         VALUES (@id, @orgId, @deviceId, @containerId, @kind, @priority, @rank, @source, 'open',
           @at, @at, @auditSeq, @actor, @data, @nextEscalationAt)`,
    ).run({ ...row, data: JSON.stringify(row.data) });
    return this.mustGet(row.id);
  }

  get(id: string): FleetAlarm | undefined {
    const row = this.#prepare("SELECT * FROM alarms WHERE id = ?").get(id) as AlarmRow | undefined;
    return row === undefined ? undefined : toAlarm(row);
  }

  mustGet(id: string): FleetAlarm {
    const alarm = this.get(id);
    if (alarm === undefined) throw new CodedError("E_ALARM_MISSING", `alarm ${id} vanished`);
    return alarm;
  }

  openOf(deviceId: string, kind: AlarmKind): FleetAlarm | undefined {
    const row = this.#prepare(
      "SELECT * FROM alarms WHERE device_id = ? AND kind = ? AND status = 'open'",
    ).get(deviceId, kind) as AlarmRow | undefined;
    return row === undefined ? undefined : toAlarm(row);
  }

  /** Records a lock report once; false when this (lock, kind, audit record) was seen before. */
  markReportSeen(deviceId: string, kind: AlarmKind, auditSeq: number, alarmId: string): boolean {
    const result = this.#prepare(
      "INSERT OR IGNORE INTO alarm_reports_seen (device_id, kind, audit_seq, alarm_id) VALUES (?, ?, ?, ?)",
    ).run(deviceId, kind, auditSeq, alarmId);
    return result.changes === 1;
  }

  reportSeen(deviceId: string, kind: AlarmKind, auditSeq: number): string | undefined {
    return this.#prepare(
      "SELECT alarm_id FROM alarm_reports_seen WHERE device_id = ? AND kind = ? AND audit_seq = ?",
    )
      .pluck()
      .get(deviceId, kind, auditSeq) as string | undefined;
  }

  repeat(id: string, at: string, data: Record<string, unknown>): void {
    this.#prepare(
      `UPDATE alarms SET occurrences = occurrences + 1, last_seen_at = max(last_seen_at, ?),
           data = ?, cleared_at = NULL WHERE id = ?`,
    ).run(at, JSON.stringify(data), id);
  }

  acknowledge(id: string, input: { at: string; by: string; comment: string }): boolean {
    const result = this.#prepare(
      `UPDATE alarms SET status = 'acknowledged', acknowledged_at = ?, acknowledged_by = ?,
           ack_comment = ?, next_escalation_at = NULL WHERE id = ? AND status = 'open'`,
    ).run(input.at, input.by, input.comment, id);
    return result.changes === 1;
  }

  clear(id: string, at: string): void {
    this.#prepare("UPDATE alarms SET cleared_at = ? WHERE id = ?").run(at, id);
  }

  escalate(id: string, input: { at: string; level: number; next: string | null }): void {
    this.#prepare(
      `UPDATE alarms SET escalation_level = ?, escalated_at = ?, next_escalation_at = ?
         WHERE id = ? AND status = 'open'`,
    ).run(input.level, input.at, input.next, id);
  }

  dueForEscalation(now: string): FleetAlarm[] {
    const rows = this.#prepare(
      `SELECT * FROM alarms WHERE status = 'open' AND next_escalation_at IS NOT NULL
           AND next_escalation_at <= ? ORDER BY rank, row_id`,
    ).all(now) as AlarmRow[];
    return rows.map(toAlarm);
  }

  list(scope: AlarmScope, filter: AlarmFilter, page: PageRequest): Page<FleetAlarm> {
    const where = whereOf(scope, filter);
    // newest first would break keyset paging over rowids; callers sort for display
    const statement = this.#prepare(
      `SELECT * FROM alarms WHERE ${where.sql} AND row_id > ? ORDER BY row_id LIMIT ?`,
    );
    return pageOf<AlarmRow, FleetAlarm>(statement, where.params, page, toAlarm);
  }

  /** Every alarm in scope and filter, oldest first (reports). */
  all(scope: AlarmScope, filter: AlarmFilter, limit = 100_000): FleetAlarm[] {
    const where = whereOf(scope, filter);
    const rows = this.#prepare(
      `SELECT * FROM alarms WHERE ${where.sql} ORDER BY raised_at, row_id LIMIT ?`,
    ).all(...where.params, limit) as AlarmRow[];
    return rows.map(toAlarm);
  }

  addHistory(
    alarmId: string,
    entry: { at: string; event: AlarmChange; actor: string | null; data?: Record<string, unknown> },
  ): void {
    this.#prepare(
      "INSERT INTO alarm_history (alarm_id, at, event, actor, data) VALUES (?, ?, ?, ?, ?)",
    ).run(alarmId, entry.at, entry.event, entry.actor, JSON.stringify(entry.data ?? {}));
  }

  history(alarmId: string): AlarmHistoryEntry[] {
    const rows = this.#prepare(
      "SELECT at, event, actor, data FROM alarm_history WHERE alarm_id = ? ORDER BY row_id",
    ).all(alarmId) as Array<{
      at: string;
      event: AlarmChange;
      actor: string | null;
      data: string;
    }>;
    return rows.map((row) => ({
      at: row.at,
      event: row.event,
      actor: row.actor,
      data: parseJsonColumn<Record<string, unknown>>(row.data, {}),
    }));
  }

  /** Where the lock sits; undefined for a lock the fleet does not know. */
  locateDevice(deviceId: string): { orgId: string; containerId: string | null } | undefined {
    const row = this.#prepare("SELECT org_id, container_id FROM devices WHERE device_id = ?").get(
      deviceId,
    ) as { org_id: string; container_id: string | null } | undefined;
    return row === undefined ? undefined : { orgId: row.org_id, containerId: row.container_id };
  }

  /** The device hub's alarm inbox after `afterId` (alarms that arrived while nobody listened). */
  inboxAfter(afterId: number): Array<{ id: number; alarm_json: string; source: string }> {
    return this.#prepare(
      "SELECT id, alarm_json, source FROM device_alarms WHERE id > ? ORDER BY id LIMIT 1000",
    ).all(afterId) as Array<{ id: number; alarm_json: string; source: string }>;
  }

  inboxPosition(): number {
    const value = this.#prepare(
      "SELECT last_device_alarm_id FROM alarm_inbox_position WHERE id = 1",
    )
      .pluck()
      .get() as number | undefined;
    return value ?? 0;
  }

  setInboxPosition(id: number): void {
    this.#prepare(
      `INSERT INTO alarm_inbox_position (id, last_device_alarm_id) VALUES (1, ?)
         ON CONFLICT (id) DO UPDATE SET last_device_alarm_id = excluded.last_device_alarm_id`,
    ).run(id);
  }

  transaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }
}
