/**
 * Storage of access windows, their approvals, per-lock delivery, one-time-code inputs, openings
 * and tenant notifications (migration 200). Only SQL here; the rules live in window-service.ts.
 */
import type { Database } from "better-sqlite3";
import { newId } from "../ids.js";
import { type Page, type PageRequest, pageOf, parseJsonColumn } from "../storage/pagination.js";

export const WINDOW_STATUSES = [
  "requested",
  "approved",
  "rejected",
  "active",
  "closed",
  "revoked",
  "expired",
] as const;
export type WindowStatus = (typeof WINDOW_STATUSES)[number];
/** States in which a window can still be used or decided. */
export const OPEN_STATUSES: readonly WindowStatus[] = ["requested", "approved", "active"];

export interface AccessWindow {
  id: string;
  bankOrgId: string;
  citOrgId: string;
  contractId: string;
  containerId: string;
  crew: string[];
  /** The crew's names, in the order of `crew` (a dispatcher and the approving bank see who comes). */
  crewNames: string[];
  notBefore: string;
  notAfter: string;
  purpose: string;
  maxOpenings: number;
  status: WindowStatus;
  autoApproved: boolean;
  approvalsRequired: number;
  approvedBy: string[];
  requestedBy: string;
  requestedAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  decisionReason: string | null;
  grantId: string | null;
  otpNotBefore: string | null;
  otpNotAfter: string | null;
  codesIssuedAt: string | null;
  openings: number;
  closedAt: string | null;
  closedByDevice: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  revokeReason: string | null;
  expiredAt: string | null;
  locks: WindowLock[];
}

export const GRANT_STATUSES = [
  "pending",
  "sent",
  "installed",
  "error",
  "notSent",
  "revoking",
  "revoked",
  "revokeFailed",
] as const;
export type GrantStatus = (typeof GRANT_STATUSES)[number];

export interface WindowLock {
  deviceId: string;
  grantStatus: GrantStatus;
  result: Record<string, unknown> | null;
  updatedAt: string;
}

export interface WindowCode {
  windowId: string;
  deviceId: string;
  personId: string;
  counter: number;
  issuedAt: string;
  usedAt: string | null;
}

export interface WindowOpening {
  id: number;
  windowId: string;
  deviceId: string;
  via: "grant" | "otp";
  auditSeq: number;
  personId: string | null;
  counter: number | null;
  at: string;
  sealStatus: "open" | "verified" | "refused";
}

export interface TenantNotification {
  id: string;
  orgId: string;
  kind: string;
  windowId: string | null;
  message: string;
  data: Record<string, unknown>;
  createdAt: string;
  readAt: string | null;
}

interface WindowRow {
  row_id: number;
  id: string;
  bank_org_id: string;
  cit_org_id: string;
  contract_id: string;
  container_id: string;
  crew: string;
  not_before: string;
  not_after: string;
  purpose: string;
  max_openings: number;
  status: WindowStatus;
  auto_approved: number;
  approvals_required: number;
  requested_by: string;
  requested_at: string;
  decided_at: string | null;
  decided_by: string | null;
  decision_reason: string | null;
  grant_id: string | null;
  otp_not_before: string | null;
  otp_not_after: string | null;
  codes_issued_at: string | null;
  openings: number;
  closed_at: string | null;
  closed_by_device: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
  revoke_reason: string | null;
  expired_at: string | null;
}

export interface NewWindow {
  bankOrgId: string;
  citOrgId: string;
  contractId: string;
  containerId: string;
  crew: string[];
  notBefore: string;
  notAfter: string;
  purpose: string;
  maxOpenings: number;
  approvalsRequired: number;
  requestedBy: string;
  requestedAt: string;
}

export class WindowRepository {
  constructor(readonly db: Database) {}

  insert(input: NewWindow): string {
    const id = newId("win");
    this.db
      .prepare(
        `INSERT INTO access_windows (id, bank_org_id, cit_org_id, contract_id, container_id, crew,
           not_before, not_after, purpose, max_openings, status, approvals_required, requested_by, requested_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'requested', ?, ?, ?)`,
      )
      .run(
        id,
        input.bankOrgId,
        input.citOrgId,
        input.contractId,
        input.containerId,
        JSON.stringify(input.crew),
        input.notBefore,
        input.notAfter,
        input.purpose,
        input.maxOpenings,
        input.approvalsRequired,
        input.requestedBy,
        input.requestedAt,
      );
    return id;
  }

  get(id: string): AccessWindow | undefined {
    const row = this.db
      .prepare("SELECT rowid AS row_id, * FROM access_windows WHERE id = ?")
      .get(id) as WindowRow | undefined;
    return row === undefined ? undefined : this.toWindow(row);
  }

  byGrantId(grantId: string): AccessWindow | undefined {
    const id = this.db
      .prepare("SELECT id FROM access_windows WHERE grant_id = ?")
      .pluck()
      .get(grantId) as string | undefined;
    return id === undefined ? undefined : this.get(id);
  }

  /** Windows of a bank or of a CIT company, newest last; optionally by status or container. */
  list(
    filter: {
      bankOrgId?: string | undefined;
      citOrgId?: string | undefined;
      status?: WindowStatus | undefined;
      containerId?: string | undefined;
    },
    page: PageRequest,
  ): Page<AccessWindow> {
    return pageOf(
      this.db.prepare(
        `SELECT rowid AS row_id, * FROM access_windows WHERE (? IS NULL OR bank_org_id = ?)
         AND (? IS NULL OR cit_org_id = ?) AND (? IS NULL OR status = ?) AND (? IS NULL OR container_id = ?)
         AND rowid > ? ORDER BY rowid LIMIT ?`,
      ),
      [
        filter.bankOrgId ?? null,
        filter.bankOrgId ?? null,
        filter.citOrgId ?? null,
        filter.citOrgId ?? null,
        filter.status ?? null,
        filter.status ?? null,
        filter.containerId ?? null,
        filter.containerId ?? null,
      ],
      page,
      (row: WindowRow) => this.toWindow(row),
    );
  }

  /** Open windows (requested, approved, active) whose end has passed. */
  dueForExpiry(now: string): string[] {
    return this.db
      .prepare(
        `SELECT id FROM access_windows WHERE status IN ('requested', 'approved', 'active')
         AND not_after <= ? ORDER BY not_after`,
      )
      .pluck()
      .all(now) as string[];
  }

  /** Changes the status only from one of `from`; false when the window was elsewhere already. */
  transition(
    id: string,
    from: readonly WindowStatus[],
    to: WindowStatus,
    fields: Partial<{
      auto_approved: number;
      decided_at: string;
      decided_by: string;
      decision_reason: string | null;
      grant_id: string;
      closed_at: string;
      closed_by_device: string;
      revoked_at: string;
      revoked_by: string;
      revoke_reason: string | null;
      expired_at: string;
    }> = {},
  ): boolean {
    const columns = Object.keys(fields);
    const sets = ["status = ?", ...columns.map((column) => `${column} = ?`)].join(", ");
    const placeholders = from.map(() => "?").join(", ");
    const result = this.db
      .prepare(`UPDATE access_windows SET ${sets} WHERE id = ? AND status IN (${placeholders})`)
      .run(
        to,
        ...columns.map((column) => fields[column as keyof typeof fields] ?? null),
        id,
        ...from,
      );
    return result.changes === 1;
  }

  addApproval(input: {
    windowId: string;
    personId: string;
    userId: string;
    role: string;
    at: string;
  }): boolean {
    const result = this.db
      .prepare(
        `INSERT OR IGNORE INTO access_window_approvals (window_id, person_id, user_id, role, at)
         VALUES (?, ?, ?, ?, ?)`,
      )
      .run(input.windowId, input.personId, input.userId, input.role, input.at);
    return result.changes === 1;
  }

  /**
   * Windows still "requested" that hold as many distinct approvers as they need, with the
   * approval that completed the count (the latest): the decision that should have followed it
   * was never written.
   */
  undecidedApprovals(): Array<{ windowId: string; bankOrgId: string; personId: string }> {
    return this.db
      .prepare(
        `SELECT w.id AS windowId, w.bank_org_id AS bankOrgId,
           (SELECT a.person_id FROM access_window_approvals a WHERE a.window_id = w.id
             ORDER BY a.at DESC, a.rowid DESC LIMIT 1) AS personId
         FROM access_windows w
         WHERE w.status = 'requested'
           AND (SELECT COUNT(DISTINCT a.person_id) FROM access_window_approvals a
                WHERE a.window_id = w.id) >= w.approvals_required`,
      )
      .all() as Array<{ windowId: string; bankOrgId: string; personId: string }>;
  }

  /**
   * Grants a stopped fleet left marked "sent" with no answer: nothing of this process is in
   * flight for them, so they count as not sent and go when their lock is next online.
   */
  grantsLeftInFlight(at: string): number {
    return this.db
      .prepare(
        `UPDATE access_window_locks SET grant_status = 'notSent', updated_at = ?
           WHERE grant_status = 'sent' AND result IS NULL`,
      )
      .run(at).changes;
  }

  /** Takes one person's approval off a still-requested window; false when there was none. */
  withdrawApproval(windowId: string, personId: string): boolean {
    const result = this.db
      .prepare(
        `DELETE FROM access_window_approvals WHERE window_id = ? AND person_id = ?
           AND EXISTS (SELECT 1 FROM access_windows WHERE id = ? AND status = 'requested')`,
      )
      .run(windowId, personId, windowId);
    return result.changes === 1;
  }

  approvals(windowId: string): string[] {
    return this.db
      .prepare(
        "SELECT person_id FROM access_window_approvals WHERE window_id = ? ORDER BY at, rowid",
      )
      .pluck()
      .all(windowId) as string[];
  }

  setLock(
    windowId: string,
    deviceId: string,
    status: GrantStatus,
    result: Record<string, unknown> | null,
    at: string,
  ): void {
    this.db
      .prepare(
        `INSERT INTO access_window_locks (window_id, device_id, grant_status, result, updated_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (window_id, device_id) DO UPDATE SET grant_status = excluded.grant_status,
           result = COALESCE(excluded.result, result), updated_at = excluded.updated_at`,
      )
      .run(windowId, deviceId, status, result === null ? null : JSON.stringify(result), at);
  }

  locks(windowId: string): WindowLock[] {
    const rows = this.db
      .prepare(
        "SELECT device_id, grant_status, result, updated_at FROM access_window_locks WHERE window_id = ? ORDER BY device_id",
      )
      .all(windowId) as Array<{
      device_id: string;
      grant_status: GrantStatus;
      result: string | null;
      updated_at: string;
    }>;
    return rows.map((row) => ({
      deviceId: row.device_id,
      grantStatus: row.grant_status,
      result: parseJsonColumn<Record<string, unknown> | null>(row.result, null),
      updatedAt: row.updated_at,
    }));
  }

  /** Records that codes were issued (once) and the grid window they are valid in. */
  markCodesIssued(
    windowId: string,
    input: { at: string; to: string; otpNotBefore: string; otpNotAfter: string },
  ): boolean {
    const result = this.db
      .prepare(
        `UPDATE access_windows SET codes_issued_at = ?, codes_issued_to = ?, otp_not_before = ?, otp_not_after = ?
         WHERE id = ? AND codes_issued_at IS NULL`,
      )
      .run(input.at, input.to, input.otpNotBefore, input.otpNotAfter, windowId);
    return result.changes === 1;
  }

  insertCode(code: Omit<WindowCode, "usedAt">): void {
    this.db
      .prepare(
        `INSERT INTO access_window_codes (window_id, device_id, person_id, counter, issued_at)
         VALUES (?, ?, ?, ?, ?)`,
      )
      .run(code.windowId, code.deviceId, code.personId, code.counter, code.issuedAt);
  }

  codes(windowId: string): WindowCode[] {
    return this.codesWhere("window_id = ? ORDER BY device_id, counter", windowId);
  }

  codeByCounter(deviceId: string, counter: number): WindowCode | undefined {
    return this.codesWhere("device_id = ? AND counter = ?", deviceId, counter)[0];
  }

  markCodeUsed(deviceId: string, counter: number, at: string): void {
    this.db
      .prepare(
        "UPDATE access_window_codes SET used_at = COALESCE(used_at, ?) WHERE device_id = ? AND counter = ?",
      )
      .run(at, deviceId, counter);
  }

  /** Records an opening under a window once (by the lock's audit sequence number). */
  insertOpening(opening: Omit<WindowOpening, "id" | "sealStatus">): boolean {
    const result = this.db
      .prepare(
        `INSERT OR IGNORE INTO access_window_openings (window_id, device_id, via, audit_seq, person_id, counter, at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        opening.windowId,
        opening.deviceId,
        opening.via,
        opening.auditSeq,
        opening.personId,
        opening.counter,
        opening.at,
      );
    if (result.changes === 1) {
      this.db
        .prepare("UPDATE access_windows SET openings = openings + 1 WHERE id = ?")
        .run(opening.windowId);
    }
    return result.changes === 1;
  }

  /** Openings on a lock still waiting for their close seal. */
  openOpenings(deviceId: string): WindowOpening[] {
    return this.openingsWhere("device_id = ? AND seal_status = 'open'", deviceId);
  }

  /** Every opening made under a window, in the order the lock logged them. */
  openingsOf(windowId: string): WindowOpening[] {
    return this.openingsWhere("window_id = ?", windowId);
  }

  private openingsWhere(where: string, ...params: unknown[]): WindowOpening[] {
    const rows = this.db
      .prepare(`SELECT * FROM access_window_openings WHERE ${where} ORDER BY device_id, audit_seq`)
      .all(...params) as Array<{
      id: number;
      window_id: string;
      device_id: string;
      via: "grant" | "otp";
      audit_seq: number;
      person_id: string | null;
      counter: number | null;
      at: string;
      seal_status: "open" | "verified" | "refused";
    }>;
    return rows.map((row) => ({
      id: row.id,
      windowId: row.window_id,
      deviceId: row.device_id,
      via: row.via,
      auditSeq: row.audit_seq,
      personId: row.person_id,
      counter: row.counter,
      at: row.at,
      sealStatus: row.seal_status,
    }));
  }

  setOpeningSeal(
    ids: readonly number[],
    status: "verified" | "refused",
    at: string,
    openingNumber?: number,
  ): void {
    const update = this.db.prepare(
      "UPDATE access_window_openings SET seal_status = ?, sealed_at = ?, opening_number = COALESCE(?, opening_number) WHERE id = ?",
    );
    for (const id of ids) update.run(status, at, openingNumber ?? null, id);
  }

  insertSealRefusal(refusal: {
    windowId: string | null;
    deviceId: string | null;
    source: "audit" | "http";
    code: string;
    reason: string;
    at: string;
  }): void {
    this.db
      .prepare(
        `INSERT INTO access_window_seal_refusals (window_id, device_id, source, code, reason, at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(
        refusal.windowId,
        refusal.deviceId,
        refusal.source,
        refusal.code,
        refusal.reason,
        refusal.at,
      );
  }

  sealRefusals(windowId: string): Array<{ code: string; source: string; at: string }> {
    return this.db
      .prepare(
        "SELECT code, source, at FROM access_window_seal_refusals WHERE window_id = ? ORDER BY id",
      )
      .all(windowId) as Array<{ code: string; source: string; at: string }>;
  }

  /** Windows on a lock's container that may still see openings (for audit matching). */
  openWindowsOfContainer(containerId: string): AccessWindow[] {
    const rows = this.db
      .prepare(
        `SELECT rowid AS row_id, * FROM access_windows WHERE container_id = ?
         AND status IN ('approved', 'active') ORDER BY rowid`,
      )
      .all(containerId) as WindowRow[];
    return rows.map((row) => this.toWindow(row));
  }

  notify(input: Omit<TenantNotification, "id" | "readAt">): TenantNotification {
    const id = newId("ntf");
    this.db
      .prepare(
        `INSERT INTO tenant_notifications (id, org_id, kind, window_id, message, data, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        input.orgId,
        input.kind,
        input.windowId,
        input.message,
        JSON.stringify(input.data),
        input.createdAt,
      );
    return { ...input, id, readAt: null };
  }

  notifications(orgId: string, page: PageRequest): Page<TenantNotification> {
    return pageOf(
      this.db.prepare(
        "SELECT rowid AS row_id, * FROM tenant_notifications WHERE org_id = ? AND rowid > ? ORDER BY rowid LIMIT ?",
      ),
      [orgId],
      page,
      (row: {
        row_id: number;
        id: string;
        org_id: string;
        kind: string;
        window_id: string | null;
        message: string;
        data: string;
        created_at: string;
        read_at: string | null;
      }) => ({
        id: row.id,
        orgId: row.org_id,
        kind: row.kind,
        windowId: row.window_id,
        message: row.message,
        data: parseJsonColumn<Record<string, unknown>>(row.data, {}),
        createdAt: row.created_at,
        readAt: row.read_at,
      }),
    );
  }

  private codesWhere(where: string, ...params: unknown[]): WindowCode[] {
    const rows = this.db
      .prepare(`SELECT * FROM access_window_codes WHERE ${where}`)
      .all(...params) as Array<{
      window_id: string;
      device_id: string;
      person_id: string;
      counter: number;
      issued_at: string;
      used_at: string | null;
    }>;
    return rows.map((row) => ({
      windowId: row.window_id,
      deviceId: row.device_id,
      personId: row.person_id,
      counter: row.counter,
      issuedAt: row.issued_at,
      usedAt: row.used_at,
    }));
  }

  private crewNames(crew: readonly string[]): string[] {
    const rows = this.db
      .prepare("SELECT id, name FROM people WHERE id IN (SELECT value FROM json_each(?))")
      .all(JSON.stringify(crew)) as Array<{ id: string; name: string }>;
    const names = new Map(rows.map((row) => [row.id, row.name]));
    return crew.map((id) => names.get(id) ?? id);
  }

  private toWindow(row: WindowRow): AccessWindow {
    const crew = parseJsonColumn<string[]>(row.crew, []);
    return {
      id: row.id,
      bankOrgId: row.bank_org_id,
      citOrgId: row.cit_org_id,
      contractId: row.contract_id,
      containerId: row.container_id,
      crew,
      crewNames: this.crewNames(crew),
      notBefore: row.not_before,
      notAfter: row.not_after,
      purpose: row.purpose,
      maxOpenings: row.max_openings,
      status: row.status,
      autoApproved: row.auto_approved === 1,
      approvalsRequired: row.approvals_required,
      approvedBy: this.approvals(row.id),
      requestedBy: row.requested_by,
      requestedAt: row.requested_at,
      decidedAt: row.decided_at,
      decidedBy: row.decided_by,
      decisionReason: row.decision_reason,
      grantId: row.grant_id,
      otpNotBefore: row.otp_not_before,
      otpNotAfter: row.otp_not_after,
      codesIssuedAt: row.codes_issued_at,
      openings: row.openings,
      closedAt: row.closed_at,
      closedByDevice: row.closed_by_device,
      revokedAt: row.revoked_at,
      revokedBy: row.revoked_by,
      revokeReason: row.revoke_reason,
      expiredAt: row.expired_at,
      locks: this.locks(row.id),
    };
  }
}
