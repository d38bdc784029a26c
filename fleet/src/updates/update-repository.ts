/**
 * SQL of software updates: releases, rollouts and the locks each rollout offered its release
 * to (migration 600-software-updates.sql). Per-lock progress is not stored here: it is read
 * from the locks' own signed audit records (`update.*` in device_audit).
 */
import type { Database } from "better-sqlite3";

export const ROLLOUT_STATUSES = ["proposed", "running", "paused", "rejected"] as const;
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];

export interface ReleaseRow {
  releaseId: string;
  orgId: string;
  version: string;
  keyId: string;
  payload: string;
  signature: string;
  targetName: string;
  targetSha256: string;
  targetLength: number;
  hardwareProfiles: string[];
  expiresAt: string;
  targetStoredAt: string | null;
  addedBy: string;
  addedAt: string;
}

export interface RolloutRow {
  id: string;
  orgId: string;
  releaseId: string;
  branchId: string | null;
  percentage: number;
  status: RolloutStatus;
  proposedBy: string;
  proposedAt: string;
  approvedBy: string | null;
  approvedAt: string | null;
  changedBy: string | null;
  changedAt: string | null;
}

export interface RolloutLockRow {
  rolloutId: string;
  deviceId: string;
  offeredAt: string;
  commandId: string | null;
  refusedCode: string | null;
}

/** A lock's latest `update.*` audit record for one rollout. */
export interface UpdateProgressRow {
  deviceId: string;
  kind: string;
  at: string;
  data: Record<string, unknown>;
}

const RELEASE_COLUMNS = `release_id AS releaseId, org_id AS orgId, version, key_id AS keyId, payload,
  signature, target_name AS targetName, target_sha256 AS targetSha256, target_length AS targetLength,
  hardware_profiles AS hardwareProfiles, expires_at AS expiresAt, target_stored_at AS targetStoredAt,
  added_by AS addedBy, added_at AS addedAt`;
const ROLLOUT_COLUMNS = `id, org_id AS orgId, release_id AS releaseId, branch_id AS branchId, percentage,
  status, proposed_by AS proposedBy, proposed_at AS proposedAt, approved_by AS approvedBy,
  approved_at AS approvedAt, changed_by AS changedBy, changed_at AS changedAt`;

type StoredRelease = Omit<ReleaseRow, "hardwareProfiles"> & { hardwareProfiles: string };
const release = (row: StoredRelease | undefined): ReleaseRow | undefined =>
  row === undefined
    ? undefined
    : { ...row, hardwareProfiles: JSON.parse(row.hardwareProfiles) as string[] };

export class UpdateRepository {
  constructor(readonly db: Database) {}

  transaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  insertRelease(row: Omit<ReleaseRow, "targetStoredAt">): void {
    this.db
      .prepare(
        `INSERT INTO releases (release_id, org_id, version, key_id, payload, signature, target_name,
           target_sha256, target_length, hardware_profiles, expires_at, added_by, added_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        row.releaseId,
        row.orgId,
        row.version,
        row.keyId,
        row.payload,
        row.signature,
        row.targetName,
        row.targetSha256,
        row.targetLength,
        JSON.stringify(row.hardwareProfiles),
        row.expiresAt,
        row.addedBy,
        row.addedAt,
      );
  }

  release(orgId: string, releaseId: string): ReleaseRow | undefined {
    return release(
      this.db
        .prepare(`SELECT ${RELEASE_COLUMNS} FROM releases WHERE org_id = ? AND release_id = ?`)
        .get(orgId, releaseId) as StoredRelease | undefined,
    );
  }

  releases(orgId: string): ReleaseRow[] {
    return (
      this.db
        .prepare(`SELECT ${RELEASE_COLUMNS} FROM releases WHERE org_id = ? ORDER BY added_at DESC`)
        .all(orgId) as StoredRelease[]
    ).map((row) => release(row) as ReleaseRow);
  }

  markTargetStored(orgId: string, releaseId: string, at: string): void {
    this.db
      .prepare("UPDATE releases SET target_stored_at = ? WHERE org_id = ? AND release_id = ?")
      .run(at, orgId, releaseId);
  }

  insertRollout(row: RolloutRow): void {
    this.db
      .prepare(
        `INSERT INTO rollouts (id, org_id, release_id, branch_id, percentage, status, proposed_by, proposed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        row.id,
        row.orgId,
        row.releaseId,
        row.branchId,
        row.percentage,
        row.status,
        row.proposedBy,
        row.proposedAt,
      );
  }

  rollout(id: string): RolloutRow | undefined {
    return this.db.prepare(`SELECT ${ROLLOUT_COLUMNS} FROM rollouts WHERE id = ?`).get(id) as
      | RolloutRow
      | undefined;
  }

  rollouts(orgId: string): RolloutRow[] {
    return this.db
      .prepare(`SELECT ${ROLLOUT_COLUMNS} FROM rollouts WHERE org_id = ? ORDER BY proposed_at DESC`)
      .all(orgId) as RolloutRow[];
  }

  runningRollouts(): RolloutRow[] {
    return this.db
      .prepare(`SELECT ${ROLLOUT_COLUMNS} FROM rollouts WHERE status = 'running'`)
      .all() as RolloutRow[];
  }

  /** Moves a rollout from one status to another; false when it was not in `from` any more. */
  setStatus(
    id: string,
    from: RolloutStatus,
    to: RolloutStatus,
    by: string,
    at: string,
    approval = false,
  ): boolean {
    const sql = approval
      ? "UPDATE rollouts SET status = ?, approved_by = ?, approved_at = ? WHERE id = ? AND status = ?"
      : "UPDATE rollouts SET status = ?, changed_by = ?, changed_at = ? WHERE id = ? AND status = ?";
    return this.db.prepare(sql).run(to, by, at, id, from).changes === 1;
  }

  /** Active locks of the bank, in one branch or all. */
  ringCandidates(orgId: string, branchId: string | null): string[] {
    return (
      this.db
        .prepare(
          `SELECT d.device_id AS deviceId FROM devices d JOIN containers c ON c.id = d.container_id
           WHERE d.org_id = ? AND d.status = 'active' AND (? IS NULL OR c.branch_id = ?)`,
        )
        .all(orgId, branchId, branchId) as Array<{ deviceId: string }>
    ).map((row) => row.deviceId);
  }

  offered(rolloutId: string): RolloutLockRow[] {
    return this.db
      .prepare(
        `SELECT rollout_id AS rolloutId, device_id AS deviceId, offered_at AS offeredAt,
           command_id AS commandId, refused_code AS refusedCode
         FROM rollout_locks WHERE rollout_id = ? ORDER BY device_id`,
      )
      .all(rolloutId) as RolloutLockRow[];
  }

  insertOffer(rolloutId: string, deviceId: string, tokenHash: string, at: string): void {
    this.db
      .prepare(
        "INSERT OR REPLACE INTO rollout_locks (rollout_id, device_id, token_hash, offered_at) VALUES (?, ?, ?, ?)",
      )
      .run(rolloutId, deviceId, tokenHash, at);
  }

  offerAnswered(
    rolloutId: string,
    deviceId: string,
    commandId: string,
    refusedCode: string | null,
  ): void {
    this.db
      .prepare(
        "UPDATE rollout_locks SET command_id = ?, refused_code = ? WHERE rollout_id = ? AND device_id = ?",
      )
      .run(commandId, refusedCode, rolloutId, deviceId);
  }

  offerByToken(tokenHash: string): { rolloutId: string; deviceId: string } | undefined {
    return this.db
      .prepare(
        "SELECT rollout_id AS rolloutId, device_id AS deviceId FROM rollout_locks WHERE token_hash = ?",
      )
      .get(tokenHash) as { rolloutId: string; deviceId: string } | undefined;
  }

  /** Each offered lock's latest `update.*` record naming this rollout (its own signed word). */
  progress(rolloutId: string): UpdateProgressRow[] {
    const rows = this.db
      .prepare(
        `SELECT a.device_id AS deviceId, a.kind, a.at, a.record FROM device_audit a
         JOIN rollout_locks l ON l.device_id = a.device_id AND l.rollout_id = ?
         WHERE a.kind LIKE 'update.%' AND json_extract(a.record, '$.data.rolloutId') = ?
         ORDER BY a.device_id, a.seq`,
      )
      .all(rolloutId, rolloutId) as Array<{
      deviceId: string;
      kind: string;
      at: string;
      record: string;
    }>;
    const latest = new Map<string, UpdateProgressRow>();
    for (const row of rows) {
      const data = (JSON.parse(row.record) as { data?: Record<string, unknown> }).data ?? {};
      latest.set(row.deviceId, { deviceId: row.deviceId, kind: row.kind, at: row.at, data });
    }
    return [...latest.values()];
  }
}
