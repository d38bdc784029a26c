/**
 * Storage of policy changes, their approvals, each lock's answer, and the time-lock schedule
 * last applied per container (migration 202). Only SQL here.
 */
import type { TimeLockSchedule } from "@lockfleet/protocol";
import type { Database } from "better-sqlite3";
import { newId } from "../ids.js";
import { parseJsonColumn } from "../storage/pagination.js";

export const POLICY_CHANGE_KINDS = ["policy", "timeLockSchedule", "holidays"] as const;
export type PolicyChangeKind = (typeof POLICY_CHANGE_KINDS)[number];
export const POLICY_CHANGE_STATUSES = ["pending", "sent", "applied", "failed", "rejected"] as const;
export type PolicyChangeStatus = (typeof POLICY_CHANGE_STATUSES)[number];

export interface PolicyChange {
  id: string;
  bankOrgId: string;
  containerId: string;
  kind: PolicyChangeKind;
  proposed: unknown;
  weakening: boolean;
  weakened: string[];
  approvalsRequired: number;
  approvedBy: string[];
  status: PolicyChangeStatus;
  reason: string | null;
  requestedBy: string;
  requestedAt: string;
  decidedAt: string | null;
  sentAt: string | null;
  locks: Array<{
    deviceId: string;
    status: "sent" | "ok" | "error";
    result: unknown;
    updatedAt: string;
  }>;
}

interface ChangeRow {
  id: string;
  bank_org_id: string;
  container_id: string;
  kind: PolicyChangeKind;
  proposed: string;
  weakening: number;
  weakened: string;
  approvals_required: number;
  status: PolicyChangeStatus;
  reason: string | null;
  requested_by: string;
  requested_at: string;
  decided_at: string | null;
  sent_at: string | null;
}

export class PolicyRepository {
  constructor(readonly db: Database) {}

  insert(input: {
    bankOrgId: string;
    containerId: string;
    kind: PolicyChangeKind;
    proposed: unknown;
    weakened: string[];
    approvalsRequired: number;
    reason: string | null;
    requestedBy: string;
    requestedAt: string;
  }): string {
    const id = newId("pch");
    this.db
      .prepare(
        `INSERT INTO policy_changes (id, bank_org_id, container_id, kind, proposed, weakening, weakened,
           approvals_required, status, reason, requested_by, requested_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
      )
      .run(
        id,
        input.bankOrgId,
        input.containerId,
        input.kind,
        JSON.stringify(input.proposed),
        input.weakened.length > 0 ? 1 : 0,
        JSON.stringify(input.weakened),
        input.approvalsRequired,
        input.reason,
        input.requestedBy,
        input.requestedAt,
      );
    return id;
  }

  get(id: string): PolicyChange | undefined {
    const row = this.db.prepare("SELECT * FROM policy_changes WHERE id = ?").get(id) as
      | ChangeRow
      | undefined;
    return row === undefined ? undefined : this.toChange(row);
  }

  list(bankOrgId: string, containerId: string | undefined): PolicyChange[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM policy_changes WHERE bank_org_id = ? AND (? IS NULL OR container_id = ?)
         ORDER BY requested_at, rowid LIMIT 500`,
      )
      .all(bankOrgId, containerId ?? null, containerId ?? null) as ChangeRow[];
    return rows.map((row) => this.toChange(row));
  }

  addApproval(changeId: string, personId: string, userId: string, at: string): boolean {
    return (
      this.db
        .prepare(
          "INSERT OR IGNORE INTO policy_change_approvals (change_id, person_id, user_id, at) VALUES (?, ?, ?, ?)",
        )
        .run(changeId, personId, userId, at).changes === 1
    );
  }

  approvals(changeId: string): string[] {
    return this.db
      .prepare(
        "SELECT person_id FROM policy_change_approvals WHERE change_id = ? ORDER BY at, rowid",
      )
      .pluck()
      .all(changeId) as string[];
  }

  transition(
    id: string,
    from: readonly PolicyChangeStatus[],
    to: PolicyChangeStatus,
    fields: { decided_at?: string; sent_at?: string } = {},
  ): boolean {
    const placeholders = from.map(() => "?").join(", ");
    return (
      this.db
        .prepare(
          `UPDATE policy_changes SET status = ?, decided_at = COALESCE(?, decided_at), sent_at = COALESCE(?, sent_at)
           WHERE id = ? AND status IN (${placeholders})`,
        )
        .run(to, fields.decided_at ?? null, fields.sent_at ?? null, id, ...from).changes === 1
    );
  }

  setLock(
    changeId: string,
    deviceId: string,
    status: "sent" | "ok" | "error",
    result: unknown,
    at: string,
  ): void {
    this.db
      .prepare(
        `INSERT INTO policy_change_locks (change_id, device_id, status, result, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (change_id, device_id) DO UPDATE SET status = excluded.status,
           result = COALESCE(excluded.result, result), updated_at = excluded.updated_at`,
      )
      .run(changeId, deviceId, status, result === undefined ? null : JSON.stringify(result), at);
  }

  schedule(containerId: string): TimeLockSchedule | undefined {
    const text = this.db
      .prepare("SELECT schedule FROM container_time_locks WHERE container_id = ?")
      .pluck()
      .get(containerId) as string | null | undefined;
    return parseJsonColumn<TimeLockSchedule | undefined>(text, undefined);
  }

  setSchedule(containerId: string, schedule: TimeLockSchedule, at: string): void {
    this.db
      .prepare(
        `INSERT INTO container_time_locks (container_id, schedule, holidays, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (container_id) DO UPDATE SET schedule = excluded.schedule, holidays = excluded.holidays,
           updated_at = excluded.updated_at`,
      )
      .run(containerId, JSON.stringify(schedule), JSON.stringify(schedule.holidays), at);
  }

  private toChange(row: ChangeRow): PolicyChange {
    const locks = this.db
      .prepare(
        "SELECT device_id, status, result, updated_at FROM policy_change_locks WHERE change_id = ? ORDER BY device_id",
      )
      .all(row.id) as Array<{
      device_id: string;
      status: "sent" | "ok" | "error";
      result: string | null;
      updated_at: string;
    }>;
    return {
      id: row.id,
      bankOrgId: row.bank_org_id,
      containerId: row.container_id,
      kind: row.kind,
      proposed: parseJsonColumn<unknown>(row.proposed, null),
      weakening: row.weakening === 1,
      weakened: parseJsonColumn<string[]>(row.weakened, []),
      approvalsRequired: row.approvals_required,
      approvedBy: this.approvals(row.id),
      status: row.status,
      reason: row.reason,
      requestedBy: row.requested_by,
      requestedAt: row.requested_at,
      decidedAt: row.decided_at,
      sentAt: row.sent_at,
      locks: locks.map((lock) => ({
        deviceId: lock.device_id,
        status: lock.status,
        result: parseJsonColumn<unknown>(lock.result, null),
        updatedAt: lock.updated_at,
      })),
    };
  }
}
