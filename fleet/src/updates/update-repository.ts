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
  /** Where the locks reach the fleet for this rollout's downloads (set when it starts). */
  downloadBase: string | null;
  /** A widening of the ring waiting for its second officer. */
  widening: RingWidening | null;
}

/** A wider ring for a running rollout: a higher percentage, more branches, or every branch. */
export interface RingWidening {
  percentage: number;
  /** Branches added to the ring. */
  branchIds: string[];
  allBranches: boolean;
  proposedBy: string;
  proposedAt: string;
}

export interface KeySetRow {
  orgId: string;
  version: number;
  payload: string;
  signatures: Array<{ keyId: string; signature: string }>;
  keyIds: string[];
  revoked: string[];
  expiresAt: string;
  addedBy: string;
  addedAt: string;
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
  approved_at AS approvedAt, changed_by AS changedBy, changed_at AS changedAt,
  download_base AS downloadBase, widening, widening_by AS wideningBy, widening_at AS wideningAt`;

type StoredRollout = Omit<RolloutRow, "widening"> & {
  widening: string | null;
  wideningBy: string | null;
  wideningAt: string | null;
};
const rollout = (row: StoredRollout | undefined): RolloutRow | undefined => {
  if (row === undefined) return undefined;
  const { widening, wideningBy, wideningAt, ...rest } = row;
  return {
    ...rest,
    widening:
      widening === null
        ? null
        : {
            ...(JSON.parse(widening) as Omit<RingWidening, "proposedBy" | "proposedAt">),
            proposedBy: wideningBy ?? "",
            proposedAt: wideningAt ?? "",
          },
  };
};

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
    return rollout(
      this.db.prepare(`SELECT ${ROLLOUT_COLUMNS} FROM rollouts WHERE id = ?`).get(id) as
        | StoredRollout
        | undefined,
    );
  }

  rollouts(orgId: string): RolloutRow[] {
    return (
      this.db
        .prepare(
          `SELECT ${ROLLOUT_COLUMNS} FROM rollouts WHERE org_id = ? ORDER BY proposed_at DESC`,
        )
        .all(orgId) as StoredRollout[]
    ).map((row) => rollout(row) as RolloutRow);
  }

  runningRollouts(): RolloutRow[] {
    return (
      this.db
        .prepare(`SELECT ${ROLLOUT_COLUMNS} FROM rollouts WHERE status = 'running'`)
        .all() as StoredRollout[]
    ).map((row) => rollout(row) as RolloutRow);
  }

  setDownloadBase(id: string, downloadBase: string): void {
    this.db.prepare("UPDATE rollouts SET download_base = ? WHERE id = ?").run(downloadBase, id);
  }

  /** Branches a widening added to the ring (beyond `branch_id`). */
  extraBranches(rolloutId: string): string[] {
    return (
      this.db
        .prepare(
          "SELECT branch_id AS branchId FROM rollout_branches WHERE rollout_id = ? ORDER BY branch_id",
        )
        .all(rolloutId) as Array<{ branchId: string }>
    ).map((row) => row.branchId);
  }

  proposeWidening(id: string, widening: RingWidening): boolean {
    const { proposedBy, proposedAt, ...ring } = widening;
    return (
      this.db
        .prepare(
          `UPDATE rollouts SET widening = ?, widening_by = ?, widening_at = ?
           WHERE id = ? AND status IN ('running', 'paused') AND widening IS NULL`,
        )
        .run(JSON.stringify(ring), proposedBy, proposedAt, id).changes === 1
    );
  }

  /** Applies (or, with `apply` false, drops) the waiting widening; false if none was waiting. */
  settleWidening(id: string, apply: boolean): boolean {
    const row = this.rollout(id);
    if (row?.widening === null || row === undefined) return false;
    if (apply) {
      const { percentage, branchIds, allBranches } = row.widening;
      if (allBranches) {
        this.db.prepare("UPDATE rollouts SET branch_id = NULL WHERE id = ?").run(id);
        this.db.prepare("DELETE FROM rollout_branches WHERE rollout_id = ?").run(id);
      } else if (row.branchId !== null) {
        const insert = this.db.prepare(
          "INSERT OR IGNORE INTO rollout_branches (rollout_id, branch_id) VALUES (?, ?)",
        );
        for (const branchId of branchIds) if (branchId !== row.branchId) insert.run(id, branchId);
      }
      this.db.prepare("UPDATE rollouts SET percentage = ? WHERE id = ?").run(percentage, id);
    }
    this.db
      .prepare(
        "UPDATE rollouts SET widening = NULL, widening_by = NULL, widening_at = NULL WHERE id = ?",
      )
      .run(id);
    return true;
  }

  // --- release key sets ---

  insertKeySet(row: KeySetRow): void {
    this.db
      .prepare(
        `INSERT INTO release_key_sets (org_id, version, payload, signatures, key_ids, revoked,
           expires_at, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        row.orgId,
        row.version,
        row.payload,
        JSON.stringify(row.signatures),
        JSON.stringify(row.keyIds),
        JSON.stringify(row.revoked),
        row.expiresAt,
        row.addedBy,
        row.addedAt,
      );
  }

  /** The bank's key sets, oldest first. */
  keySets(orgId: string): KeySetRow[] {
    return (
      this.db
        .prepare(
          `SELECT org_id AS orgId, version, payload, signatures, key_ids AS keyIds, revoked,
             expires_at AS expiresAt, added_by AS addedBy, added_at AS addedAt
           FROM release_key_sets WHERE org_id = ? ORDER BY version`,
        )
        .all(orgId) as Array<
        Omit<KeySetRow, "signatures" | "keyIds" | "revoked"> & {
          signatures: string;
          keyIds: string;
          revoked: string;
        }
      >
    ).map((row) => ({
      ...row,
      signatures: JSON.parse(row.signatures) as KeySetRow["signatures"],
      keyIds: JSON.parse(row.keyIds) as string[],
      revoked: JSON.parse(row.revoked) as string[],
    }));
  }

  /**
   * Offers of a running rollout to go again: the lock is online now (the presence the device
   * part keeps), left no update record for the rollout, and its offer either never left, was
   * recorded but not sent long ago, or expired unanswered (or answered only as expired).
   */
  offersToRenew(rolloutId: string, now: string, unsentBefore: string): string[] {
    return (
      this.db
        .prepare(
          `SELECT l.device_id AS deviceId FROM rollout_locks l
           JOIN devices d ON d.device_id = l.device_id
           LEFT JOIN device_commands c ON c.id = l.command_id
           WHERE l.rollout_id = ? AND d.status = 'active' AND d.availability = 'online'
             AND (l.refused_code IS NULL OR l.refused_code = 'E_EXPIRED')
             AND (
               l.command_id = 'unsent'
               OR (l.command_id IS NULL AND l.offered_at <= ?)
               OR (c.expires_at <= ? AND (c.status = 'sent'
                   OR json_extract(c.result, '$.error.code') = 'E_EXPIRED'))
             )
             AND NOT EXISTS (
               SELECT 1 FROM device_audit a WHERE a.device_id = l.device_id
                 AND a.kind LIKE 'update.%' AND a.kind NOT LIKE 'update.keys%'
                 AND json_extract(a.record, '$.data.rolloutId') = l.rollout_id
             )
           ORDER BY l.device_id`,
        )
        .all(rolloutId, unsentBefore, now) as Array<{ deviceId: string }>
    ).map((row) => row.deviceId);
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

  /** Active locks of the bank, in the given branches or (null) all. */
  ringCandidates(orgId: string, branchIds: readonly string[] | null): string[] {
    return (
      this.db
        .prepare(
          `SELECT d.device_id AS deviceId FROM devices d JOIN containers c ON c.id = d.container_id
           WHERE d.org_id = ? AND d.status = 'active'
             AND (? IS NULL OR c.branch_id IN (SELECT value FROM json_each(?)))`,
        )
        .all(orgId, branchIds === null ? null : 1, JSON.stringify(branchIds ?? [])) as Array<{
        deviceId: string;
      }>
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
         WHERE a.kind LIKE 'update.%' AND a.kind NOT LIKE 'update.keys%' AND json_extract(a.record, '$.data.rolloutId') = ?
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
