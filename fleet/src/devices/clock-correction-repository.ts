/** Storage of clock corrections (migration 245); the rules are in clock-corrections.ts. */
import type { CommandResult } from "@lockfleet/protocol";
import type { Database } from "better-sqlite3";

export const CLOCK_CORRECTION_STATUSES = [
  "pending",
  "sent",
  "applied",
  "failed",
  "rejected",
] as const;
export type ClockCorrectionStatus = (typeof CLOCK_CORRECTION_STATUSES)[number];

export interface ClockCorrection {
  id: string;
  orgId: string;
  deviceId: string;
  /** Lock time minus fleet time when proposed, as the fleet measured it. */
  driftMs: number;
  /** The jump the two officers confirm; the lock refuses a different one. */
  confirmJumpSec: number;
  reason: string;
  status: ClockCorrectionStatus;
  requestedBy: string;
  requestedAt: string;
  approvedBy: string | null;
  decidedAt: string | null;
  commandId: string | null;
  result: CommandResult | null;
}

interface Row {
  id: string;
  org_id: string;
  device_id: string;
  drift_ms: number;
  confirm_jump_sec: number;
  reason: string;
  status: ClockCorrectionStatus;
  requested_by: string;
  requested_at: string;
  approved_by: string | null;
  decided_at: string | null;
  command_id: string | null;
  result: string | null;
}

function fromRow(row: Row): ClockCorrection {
  return {
    id: row.id,
    orgId: row.org_id,
    deviceId: row.device_id,
    driftMs: row.drift_ms,
    confirmJumpSec: row.confirm_jump_sec,
    reason: row.reason,
    status: row.status,
    requestedBy: row.requested_by,
    requestedAt: row.requested_at,
    approvedBy: row.approved_by,
    decidedAt: row.decided_at,
    commandId: row.command_id,
    result: row.result === null ? null : (JSON.parse(row.result) as CommandResult),
  };
}

export class ClockCorrectionRepository {
  constructor(readonly db: Database) {}

  transaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  insert(
    input: Omit<ClockCorrection, "status" | "approvedBy" | "decidedAt" | "commandId" | "result">,
  ): void {
    this.db
      .prepare(
        `INSERT INTO clock_corrections
           (id, org_id, device_id, drift_ms, confirm_jump_sec, reason, status, requested_by, requested_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
      )
      .run(
        input.id,
        input.orgId,
        input.deviceId,
        input.driftMs,
        input.confirmJumpSec,
        input.reason,
        input.requestedBy,
        input.requestedAt,
      );
  }

  get(id: string): ClockCorrection | undefined {
    const row = this.db.prepare("SELECT * FROM clock_corrections WHERE id = ?").get(id) as
      | Row
      | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  listForDevice(deviceId: string): ClockCorrection[] {
    const rows = this.db
      .prepare("SELECT * FROM clock_corrections WHERE device_id = ? ORDER BY requested_at DESC, id")
      .all(deviceId) as Row[];
    return rows.map(fromRow);
  }

  /** Moves a pending correction on; false when it is no longer pending (decided meanwhile). */
  decide(id: string, status: "sent" | "rejected", approvedBy: string | null, at: string): boolean {
    const changed = this.db
      .prepare(
        `UPDATE clock_corrections SET status = ?, approved_by = ?, decided_at = ?
         WHERE id = ? AND status = 'pending'`,
      )
      .run(status, approvedBy, at, id);
    return changed.changes === 1;
  }

  finish(
    id: string,
    status: "sent" | "applied" | "failed",
    commandId: string | null,
    result: CommandResult | null,
  ): void {
    this.db
      .prepare(
        "UPDATE clock_corrections SET status = ?, command_id = ?, result = ? WHERE id = ? AND status = 'sent'",
      )
      .run(status, commandId, result === null ? null : JSON.stringify(result), id);
  }
}
