/** Storage of central releases (migration 250); the rules are in central-release.ts. */
import type { CommandResult } from "@lockfleet/protocol";
import type { Database } from "better-sqlite3";

export const CENTRAL_RELEASE_STATUSES = [
  "pending",
  "sent",
  "confirmed",
  "failed",
  "rejected",
  "expired",
] as const;
export type CentralReleaseStatus = (typeof CENTRAL_RELEASE_STATUSES)[number];

export interface CentralRelease {
  id: string;
  orgId: string;
  containerId: string;
  deviceId: string;
  reason: string;
  /** How long the signed release stays valid on the lock once sent. */
  validMinutes: number;
  status: CentralReleaseStatus;
  requestedBy: string;
  requestedAt: string;
  approvedBy: string | null;
  decidedAt: string | null;
  commandId: string | null;
  validUntil: string | null;
  result: CommandResult | null;
}

interface Row {
  id: string;
  org_id: string;
  container_id: string;
  device_id: string;
  reason: string;
  valid_minutes: number;
  status: CentralReleaseStatus;
  requested_by: string;
  requested_at: string;
  approved_by: string | null;
  decided_at: string | null;
  command_id: string | null;
  valid_until: string | null;
  result: string | null;
}

function fromRow(row: Row): CentralRelease {
  return {
    id: row.id,
    orgId: row.org_id,
    containerId: row.container_id,
    deviceId: row.device_id,
    reason: row.reason,
    validMinutes: row.valid_minutes,
    status: row.status,
    requestedBy: row.requested_by,
    requestedAt: row.requested_at,
    approvedBy: row.approved_by,
    decidedAt: row.decided_at,
    commandId: row.command_id,
    validUntil: row.valid_until,
    result: row.result === null ? null : (JSON.parse(row.result) as CommandResult),
  };
}

export class CentralReleaseRepository {
  constructor(readonly db: Database) {}

  transaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  insert(
    input: Pick<
      CentralRelease,
      | "id"
      | "orgId"
      | "containerId"
      | "deviceId"
      | "reason"
      | "validMinutes"
      | "requestedBy"
      | "requestedAt"
    >,
  ): void {
    this.db
      .prepare(
        `INSERT INTO central_releases
           (id, org_id, container_id, device_id, reason, valid_minutes, status, requested_by, requested_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
      )
      .run(
        input.id,
        input.orgId,
        input.containerId,
        input.deviceId,
        input.reason,
        input.validMinutes,
        input.requestedBy,
        input.requestedAt,
      );
  }

  get(id: string): CentralRelease | undefined {
    const row = this.db.prepare("SELECT * FROM central_releases WHERE id = ?").get(id) as
      | Row
      | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  /** Newest first; all of the bank's, or one container's. */
  list(orgId: string, containerId: string | undefined, limit: number): CentralRelease[] {
    const rows = (
      containerId === undefined
        ? this.db
            .prepare(
              "SELECT * FROM central_releases WHERE org_id = ? ORDER BY requested_at DESC, id LIMIT ?",
            )
            .all(orgId, limit)
        : this.db
            .prepare(
              `SELECT * FROM central_releases WHERE org_id = ? AND container_id = ?
               ORDER BY requested_at DESC, id LIMIT ?`,
            )
            .all(orgId, containerId, limit)
    ) as Row[];
    return rows.map(fromRow);
  }

  /** Moves a pending release on; false when it is no longer pending (decided meanwhile). */
  decide(
    id: string,
    status: "sent" | "rejected" | "expired",
    approvedBy: string | null,
    at: string,
  ): boolean {
    const changed = this.db
      .prepare(
        `UPDATE central_releases SET status = ?, approved_by = ?, decided_at = ?
         WHERE id = ? AND status = 'pending'`,
      )
      .run(status, approvedBy, at, id);
    return changed.changes === 1;
  }

  /** Records what became of the sent command (only while it is still `sent`). */
  finish(
    id: string,
    status: "sent" | "confirmed" | "failed",
    sent: { commandId: string | null; validUntil: string | null },
    result: CommandResult | null,
  ): void {
    this.db
      .prepare(
        `UPDATE central_releases SET status = ?, command_id = COALESCE(?, command_id),
           valid_until = COALESCE(?, valid_until), result = ?
         WHERE id = ? AND status = 'sent'`,
      )
      .run(
        status,
        sent.commandId,
        sent.validUntil,
        result === null ? null : JSON.stringify(result),
        id,
      );
  }
}
