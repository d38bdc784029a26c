/**
 * Read-only SQL behind the reports: the verified lock audit (`device_audit`, stored only after
 * chain and checkpoint checks), the admin log, alarms, access windows and the names of
 * containers, branches and people. Every query is bounded by the organisation.
 */
import type { Database } from "better-sqlite3";
import type { AdminLogEntry } from "../admin-log.js";
import { parseJsonColumn } from "../storage/pagination.js";

export interface AuditRow {
  deviceId: string;
  containerId: string;
  seq: number;
  at: string;
  kind: string;
  actor: string | null;
  data: Record<string, unknown>;
}

/** An admin-log entry as a report shows it: the chain hashes stay with the log. */
export type AdminRow = Omit<AdminLogEntry, "prevHash" | "hash">;

export interface WindowInterval {
  windowId: string;
  containerId: string;
  citOrgId: string;
  start: string;
  end: string;
}

export interface ContainerName {
  id: string;
  name: string;
  branchName: string;
}

/** At most this many rows per report; a longer period is split by the caller. */
export const REPORT_ROW_LIMIT = 50_000;

export class ReportRepository {
  /** Set when a query hit REPORT_ROW_LIMIT since the last reset. */
  truncated = false;

  constructor(private readonly db: Database) {}

  #bounded<T>(rows: T[]): T[] {
    if (rows.length >= REPORT_ROW_LIMIT) this.truncated = true;
    return rows;
  }

  orgName(orgId: string): string | undefined {
    return this.db.prepare("SELECT name FROM orgs WHERE id = ?").pluck().get(orgId) as
      | string
      | undefined;
  }

  containerNames(orgId: string): Map<string, ContainerName> {
    const rows = this.db
      .prepare(
        `SELECT c.id, c.name, b.name AS branch_name FROM containers c
         JOIN branches b ON b.id = c.branch_id WHERE c.org_id = ?`,
      )
      .all(orgId) as Array<{ id: string; name: string; branch_name: string }>;
    return new Map(
      rows.map((row) => [row.id, { id: row.id, name: row.name, branchName: row.branch_name }]),
    );
  }

  personNames(ids: Iterable<string>): Map<string, string> {
    const list = [...new Set(ids)];
    if (list.length === 0) return new Map();
    const rows = this.db
      .prepare("SELECT id, name FROM people WHERE id IN (SELECT value FROM json_each(?))")
      .all(JSON.stringify(list)) as Array<{ id: string; name: string }>;
    return new Map(rows.map((row) => [row.id, row.name]));
  }

  /** Verified audit records of the organisation's locks of the given kinds, oldest first. */
  audit(
    query: { orgId: string; from: string; to: string; containerId?: string | undefined },
    kinds: readonly string[],
  ): AuditRow[] {
    const rows = this.db
      .prepare(
        `SELECT a.device_id, d.container_id, a.seq, a.at, a.kind, a.actor, a.record
         FROM device_audit a JOIN devices d ON d.device_id = a.device_id
         WHERE d.org_id = @orgId AND a.at >= @from AND a.at < @to
           AND a.kind IN (SELECT value FROM json_each(@kinds))
           AND (@containerId IS NULL OR d.container_id = @containerId)
         ORDER BY a.at, a.device_id, a.seq LIMIT @limit`,
      )
      .all({
        orgId: query.orgId,
        from: query.from,
        to: query.to,
        kinds: JSON.stringify(kinds),
        containerId: query.containerId ?? null,
        limit: REPORT_ROW_LIMIT,
      }) as Array<{
      device_id: string;
      container_id: string;
      seq: number;
      at: string;
      kind: string;
      actor: string | null;
      record: string;
    }>;
    return this.#bounded(rows).map((row) => ({
      deviceId: row.device_id,
      containerId: row.container_id,
      seq: row.seq,
      at: row.at,
      kind: row.kind,
      actor: row.actor,
      data: parseJsonColumn<{ data?: Record<string, unknown> }>(row.record, {}).data ?? {},
    }));
  }

  /**
   * Admin log entries of the organisation and of the CIT companies it registered, optionally
   * only actions starting with one of `prefixes`.
   */
  adminLog(
    query: { orgId: string; from: string; to: string },
    prefixes?: readonly string[],
  ): AdminRow[] {
    const rows = this.db
      .prepare(
        `SELECT seq, at, org_id, actor, action, target, data FROM admin_log
         WHERE (org_id = @orgId OR org_id IN (SELECT id FROM orgs WHERE sponsor_org_id = @orgId))
           AND at >= @from AND at < @to
           AND (@prefixes IS NULL OR EXISTS (
             SELECT 1 FROM json_each(@prefixes) p WHERE substr(action, 1, length(p.value)) = p.value))
         ORDER BY seq LIMIT @limit`,
      )
      .all({
        orgId: query.orgId,
        from: query.from,
        to: query.to,
        prefixes: prefixes === undefined ? null : JSON.stringify(prefixes),
        limit: REPORT_ROW_LIMIT,
      }) as Array<{
      seq: number;
      at: string;
      org_id: string | null;
      actor: string;
      action: string;
      target: string | null;
      data: string;
    }>;
    return this.#bounded(rows).map((row) => ({
      seq: row.seq,
      at: row.at,
      orgId: row.org_id,
      actor: row.actor,
      action: row.action,
      target: row.target,
      data: parseJsonColumn<Record<string, unknown>>(row.data, {}),
    }));
  }

  /**
   * Of `ids`, the people who open on behalf of a cash-in-transit company: members of a CIT
   * organisation, or holders of a courier right on one of the bank's containers.
   */
  citOrCourierPersons(orgId: string, ids: Iterable<string>): Set<string> {
    const list = JSON.stringify([...new Set(ids)]);
    const rows = this.db
      .prepare(
        `SELECT p.id FROM people p JOIN orgs o ON o.id = p.org_id
         WHERE o.kind = 'cit' AND p.id IN (SELECT value FROM json_each(?))
         UNION
         SELECT person_id FROM lock_rights
         WHERE bank_org_id = ? AND role = 'courier' AND person_id IN (SELECT value FROM json_each(?))`,
      )
      .pluck()
      .all(list, orgId, list) as string[];
    return new Set(rows);
  }

  /** Containers of the bank that a CIT contract ever listed (served by cash-in-transit crews). */
  contractedContainers(orgId: string): Set<string> {
    const rows = this.db
      .prepare("SELECT container_ids FROM contracts WHERE bank_org_id = ?")
      .pluck()
      .all(orgId) as string[];
    return new Set(rows.flatMap((text) => parseJsonColumn<string[]>(text, [])));
  }

  /**
   * Approved access windows of the bank as the interval they actually allowed: from their
   * start to their end, or to their revocation or close if earlier.
   */
  windowIntervals(orgId: string, from: string, to: string): WindowInterval[] {
    const rows = this.db
      .prepare(
        `SELECT id, container_id, cit_org_id, not_before, not_after, revoked_at, closed_at
         FROM access_windows
         WHERE bank_org_id = ? AND decided_at IS NOT NULL
           AND status IN ('approved', 'active', 'closed', 'revoked', 'expired')
           AND not_before < ? AND not_after >= ?`,
      )
      .all(orgId, to, from) as Array<{
      id: string;
      container_id: string;
      cit_org_id: string;
      not_before: string;
      not_after: string;
      revoked_at: string | null;
      closed_at: string | null;
    }>;
    return rows.map((row) => {
      const ends = [row.not_after, row.revoked_at, row.closed_at].filter(
        (value): value is string => value !== null,
      );
      return {
        windowId: row.id,
        containerId: row.container_id,
        citOrgId: row.cit_org_id,
        start: row.not_before,
        end: ends.sort()[0] ?? row.not_after,
      };
    });
  }

  /** Locks of the organisation with an unacknowledged audit gap: their figures may be short. */
  locksWithAuditGap(orgId: string): string[] {
    return this.db
      .prepare(
        "SELECT DISTINCT device_id FROM alarms WHERE org_id = ? AND kind = 'auditGap' AND status = 'open' ORDER BY device_id",
      )
      .pluck()
      .all(orgId) as string[];
  }
}
