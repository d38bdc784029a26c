/**
 * Storage of people's rights on containers and of what each lock was told and confirmed
 * (migration 201). Only SQL here; the rules live in rights-service.ts.
 */
import type { UserRole, WeeklyPeriod } from "@lockfleet/protocol";
import type { Database } from "better-sqlite3";
import { newId } from "../ids.js";
import { parseJsonColumn } from "../storage/pagination.js";

export const REMOVAL_REASONS = [
  "deleted",
  "expired",
  "personDisabled",
  "personDeleted",
  "personExpired",
] as const;
export type RemovalReason = (typeof REMOVAL_REASONS)[number];

export interface LockRight {
  id: string;
  personId: string;
  personOrgId: string;
  bankOrgId: string;
  containerId: string;
  role: UserRole;
  tenantId: string | null;
  validFrom: string | null;
  validUntil: string | null;
  timeProfile: WeeklyPeriod[] | null;
  createdBy: string;
  createdAt: string;
  changedAt: string | null;
  removedAt: string | null;
  removedBy: string | null;
  removedReason: RemovalReason | null;
}

export const PUSH_STATUSES = [
  "adding",
  "present",
  "changing",
  "deleting",
  "deleted",
  "error",
] as const;
export type PushStatus = (typeof PUSH_STATUSES)[number];

export interface LockPush {
  rightId: string;
  deviceId: string;
  personId: string;
  slot: number;
  status: PushStatus;
  lastCommand: string;
  error: { code: string; message: string } | null;
  updatedAt: string;
  confirmedAt: string | null;
}

/** What may change on a right after it was granted; what is left out stays. */
export interface RightChange {
  role?: UserRole;
  validFrom?: string;
  validUntil?: string;
  timeProfile?: WeeklyPeriod[];
}

interface RightRow {
  id: string;
  person_id: string;
  person_org_id: string;
  bank_org_id: string;
  container_id: string;
  role: UserRole;
  tenant_id: string | null;
  valid_from: string | null;
  valid_until: string | null;
  time_profile: string | null;
  created_by: string;
  created_at: string;
  changed_at: string | null;
  removed_at: string | null;
  removed_by: string | null;
  removed_reason: RemovalReason | null;
}

interface PushRow {
  right_id: string;
  device_id: string;
  person_id: string;
  slot: number;
  status: PushStatus;
  last_command: string;
  error: string | null;
  updated_at: string;
  confirmed_at: string | null;
}

const toRight = (row: RightRow): LockRight => ({
  id: row.id,
  personId: row.person_id,
  personOrgId: row.person_org_id,
  bankOrgId: row.bank_org_id,
  containerId: row.container_id,
  role: row.role,
  tenantId: row.tenant_id,
  validFrom: row.valid_from,
  validUntil: row.valid_until,
  timeProfile: parseJsonColumn<WeeklyPeriod[] | null>(row.time_profile, null),
  createdBy: row.created_by,
  createdAt: row.created_at,
  changedAt: row.changed_at,
  removedAt: row.removed_at,
  removedBy: row.removed_by,
  removedReason: row.removed_reason,
});

const toPush = (row: PushRow): LockPush => ({
  rightId: row.right_id,
  deviceId: row.device_id,
  personId: row.person_id,
  slot: row.slot,
  status: row.status,
  lastCommand: row.last_command,
  error: parseJsonColumn<{ code: string; message: string } | null>(row.error, null),
  updatedAt: row.updated_at,
  confirmedAt: row.confirmed_at,
});

/** Slot 0 is the lock's master (set at the lock); the fleet hands out 01–99. */
export const FIRST_FLEET_SLOT = 1;
export const LAST_SLOT = 99;

export class RightsRepository {
  constructor(readonly db: Database) {}

  insert(
    input: Omit<LockRight, "id" | "changedAt" | "removedAt" | "removedBy" | "removedReason">,
  ): LockRight {
    const id = newId("rgt");
    this.db
      .prepare(
        `INSERT INTO lock_rights (id, person_id, person_org_id, bank_org_id, container_id, role, tenant_id,
           valid_from, valid_until, time_profile, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        input.personId,
        input.personOrgId,
        input.bankOrgId,
        input.containerId,
        input.role,
        input.tenantId,
        input.validFrom,
        input.validUntil,
        input.timeProfile === null ? null : JSON.stringify(input.timeProfile),
        input.createdBy,
        input.createdAt,
      );
    return this.get(id) as LockRight;
  }

  get(id: string): LockRight | undefined {
    const row = this.db.prepare("SELECT * FROM lock_rights WHERE id = ?").get(id) as
      | RightRow
      | undefined;
    return row === undefined ? undefined : toRight(row);
  }

  current(personId: string, containerId: string): LockRight | undefined {
    const row = this.db
      .prepare(
        "SELECT * FROM lock_rights WHERE person_id = ? AND container_id = ? AND removed_at IS NULL",
      )
      .get(personId, containerId) as RightRow | undefined;
    return row === undefined ? undefined : toRight(row);
  }

  ofPerson(personId: string, includeRemoved: boolean): LockRight[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM lock_rights WHERE person_id = ? AND (? = 1 OR removed_at IS NULL) ORDER BY created_at, rowid`,
      )
      .all(personId, includeRemoved ? 1 : 0) as RightRow[];
    return rows.map(toRight);
  }

  /** People holding at least one current right (for the person-status check of the sweep). */
  peopleWithCurrentRights(): string[] {
    return this.db
      .prepare("SELECT DISTINCT person_id FROM lock_rights WHERE removed_at IS NULL")
      .pluck()
      .all() as string[];
  }

  /** Current rights whose validity ended at or before `now`. */
  dueForExpiry(now: string): LockRight[] {
    const rows = this.db
      .prepare(
        "SELECT * FROM lock_rights WHERE removed_at IS NULL AND valid_until IS NOT NULL AND valid_until <= ? ORDER BY valid_until",
      )
      .all(now) as RightRow[];
    return rows.map(toRight);
  }

  change(id: string, change: RightChange, at: string): void {
    const current = this.get(id);
    if (current === undefined) return;
    this.db
      .prepare(
        "UPDATE lock_rights SET role = ?, valid_from = ?, valid_until = ?, time_profile = ?, changed_at = ? WHERE id = ?",
      )
      .run(
        change.role ?? current.role,
        change.validFrom ?? current.validFrom,
        change.validUntil ?? current.validUntil,
        change.timeProfile !== undefined
          ? JSON.stringify(change.timeProfile)
          : current.timeProfile === null
            ? null
            : JSON.stringify(current.timeProfile),
        at,
        id,
      );
  }

  /** Marks a right removed once; false when it was removed already. */
  remove(id: string, input: { at: string; by: string; reason: RemovalReason }): boolean {
    const result = this.db
      .prepare(
        "UPDATE lock_rights SET removed_at = ?, removed_by = ?, removed_reason = ? WHERE id = ? AND removed_at IS NULL",
      )
      .run(input.at, input.by, input.reason, id);
    return result.changes === 1;
  }

  // ---- per-lock pushes

  /** The lowest slot no current (not confirmed deleted) push holds on the lock. */
  freeSlot(deviceId: string): number | undefined {
    const used = new Set(
      this.db
        .prepare("SELECT slot FROM lock_right_pushes WHERE device_id = ? AND status <> 'deleted'")
        .pluck()
        .all(deviceId) as number[],
    );
    for (let slot = FIRST_FLEET_SLOT; slot <= LAST_SLOT; slot++) if (!used.has(slot)) return slot;
    return undefined;
  }

  insertPush(push: Omit<LockPush, "error" | "confirmedAt">): void {
    this.db
      .prepare(
        `INSERT INTO lock_right_pushes (right_id, device_id, person_id, slot, status, last_command, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        push.rightId,
        push.deviceId,
        push.personId,
        push.slot,
        push.status,
        push.lastCommand,
        push.updatedAt,
      );
  }

  setPush(
    rightId: string,
    deviceId: string,
    change: {
      status: PushStatus;
      lastCommand?: string;
      error?: { code: string; message: string } | null;
      confirmed?: boolean;
      at: string;
    },
  ): void {
    this.db
      .prepare(
        `UPDATE lock_right_pushes SET status = ?, last_command = COALESCE(?, last_command),
           error = ?, updated_at = ?, confirmed_at = CASE WHEN ? = 1 THEN ? ELSE confirmed_at END
         WHERE right_id = ? AND device_id = ?`,
      )
      .run(
        change.status,
        change.lastCommand ?? null,
        change.error === undefined || change.error === null ? null : JSON.stringify(change.error),
        change.at,
        change.confirmed ? 1 : 0,
        change.at,
        rightId,
        deviceId,
      );
  }

  pushesOf(rightId: string): LockPush[] {
    const rows = this.db
      .prepare("SELECT * FROM lock_right_pushes WHERE right_id = ? ORDER BY device_id")
      .all(rightId) as PushRow[];
    return rows.map(toPush);
  }

  /** The push of `personId` in `slot` on a lock that is not yet confirmed deleted. */
  livePush(deviceId: string, personId: string, slot: number): LockPush | undefined {
    const row = this.db
      .prepare(
        "SELECT * FROM lock_right_pushes WHERE device_id = ? AND person_id = ? AND slot = ? AND status <> 'deleted'",
      )
      .get(deviceId, personId, slot) as PushRow | undefined;
    return row === undefined ? undefined : toPush(row);
  }

  /** Deletions the locks have not confirmed yet, last touched before `before`. */
  unconfirmedDeletions(before: string): LockPush[] {
    const rows = this.db
      .prepare(
        "SELECT * FROM lock_right_pushes WHERE status = 'deleting' AND updated_at <= ? ORDER BY updated_at",
      )
      .all(before) as PushRow[];
    return rows.map(toPush);
  }
}
