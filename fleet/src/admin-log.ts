/**
 * The fleet's own admin actions in a hash-chained log (SPEC §5): every entry's hash covers its
 * content and the previous entry's hash, so removing, reordering or editing an entry breaks
 * the chain from there on. `verify()` walks the chain and names the first broken entry.
 */
import { canonicalJson, sha256Hex } from "@lockfleet/protocol";
import type { Database } from "better-sqlite3";
import { type Page, type PageRequest, pageOf, parseJsonColumn } from "./storage/pagination.js";

export const GENESIS_HASH = "0".repeat(64);

export interface AdminLogInput {
  /** Person id (or `system`) of whoever acted. */
  actor: string;
  /** Dotted verb, e.g. `person.enable`, `window.approve`. */
  action: string;
  /** Id of the thing acted on. */
  target?: string | undefined;
  /** Organisation the action belongs to (decides who may read the entry). */
  orgId?: string | undefined;
  /** Details; never a code, password or secret. */
  data?: Record<string, unknown> | undefined;
}

export interface AdminLogEntry {
  seq: number;
  at: string;
  orgId: string | null;
  actor: string;
  action: string;
  target: string | null;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export type AdminLogVerification =
  | { ok: true; entries: number; headHash: string }
  | { ok: false; entries: number; brokenAt: number; reason: string };

interface AdminLogRow {
  seq: number;
  at: string;
  org_id: string | null;
  actor: string;
  action: string;
  target: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

/** The hash of an entry: SHA-256 over the canonical JSON of everything but the hash itself. */
export function adminLogEntryHash(entry: Omit<AdminLogEntry, "hash">): string {
  return sha256Hex(
    canonicalJson({
      seq: entry.seq,
      at: entry.at,
      orgId: entry.orgId,
      actor: entry.actor,
      action: entry.action,
      target: entry.target,
      data: entry.data,
      prevHash: entry.prevHash,
    }),
  );
}

const toEntry = (row: AdminLogRow): AdminLogEntry => ({
  seq: row.seq,
  at: row.at,
  orgId: row.org_id,
  actor: row.actor,
  action: row.action,
  target: row.target,
  data: parseJsonColumn<Record<string, unknown>>(row.data, {}),
  prevHash: row.prev_hash,
  hash: row.hash,
});

export class AdminLog {
  /** Called after each entry is committed (the signed checkpoints follow the head this way). */
  onAppend: ((entry: AdminLogEntry) => void) | undefined;

  constructor(
    private readonly db: Database,
    private readonly clock: () => number,
    /** Defers work until the surrounding transaction commits (FleetStore.afterCommit). */
    private readonly afterCommit?: (then: () => void) => void,
  ) {}

  append(input: AdminLogInput): AdminLogEntry {
    const write = this.db.transaction((): AdminLogEntry => {
      const head = this.db
        .prepare("SELECT seq, hash FROM admin_log ORDER BY seq DESC LIMIT 1")
        .get() as { seq: number; hash: string } | undefined;
      const unhashed: Omit<AdminLogEntry, "hash"> = {
        seq: (head?.seq ?? 0) + 1,
        at: new Date(this.clock()).toISOString(),
        orgId: input.orgId ?? null,
        actor: input.actor,
        action: input.action,
        target: input.target ?? null,
        // canonical JSON drops undefined members; store exactly what was hashed
        data: JSON.parse(canonicalJson(input.data ?? {})) as Record<string, unknown>,
        prevHash: head?.hash ?? GENESIS_HASH,
      };
      const entry: AdminLogEntry = { ...unhashed, hash: adminLogEntryHash(unhashed) };
      this.db
        .prepare(
          `INSERT INTO admin_log (seq, at, org_id, actor, action, target, data, prev_hash, hash)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          entry.seq,
          entry.at,
          entry.orgId,
          entry.actor,
          entry.action,
          entry.target,
          canonicalJson(entry.data),
          entry.prevHash,
          entry.hash,
        );
      return entry;
    });
    const entry = write.immediate();
    // inside an outer transaction the entry is not committed yet: the checkpoint follows the
    // commit (or, in a transaction the store does not know, the next periodic tick)
    if (!this.db.inTransaction) this.onAppend?.(entry);
    else this.afterCommit?.(() => this.onAppend?.(entry));
    return entry;
  }

  /** Entries of one organisation (or all when `orgId` is undefined), oldest first. */
  list(
    filter: { orgId?: string | undefined; action?: string | undefined },
    page: PageRequest,
  ): Page<AdminLogEntry> {
    return pageOf(
      this.db.prepare(
        `SELECT seq AS row_id, * FROM admin_log WHERE (? IS NULL OR org_id = ?)
         AND (? IS NULL OR action = ?) AND seq > ? ORDER BY seq LIMIT ?`,
      ),
      [filter.orgId ?? null, filter.orgId ?? null, filter.action ?? null, filter.action ?? null],
      page,
      (row: AdminLogRow & { row_id: number }) => toEntry(row),
    );
  }

  head(): { seq: number; hash: string } {
    const head = this.db
      .prepare("SELECT seq, hash FROM admin_log ORDER BY seq DESC LIMIT 1")
      .get() as { seq: number; hash: string } | undefined;
    return head ?? { seq: 0, hash: GENESIS_HASH };
  }

  /** Walks the whole chain: sequence without holes, each prevHash links, each hash recomputes. */
  verify(): AdminLogVerification {
    let expectedSeq = 1;
    let prevHash = GENESIS_HASH;
    let entries = 0;
    for (const row of this.db
      .prepare("SELECT * FROM admin_log ORDER BY seq")
      .iterate() as Iterable<AdminLogRow>) {
      const entry = toEntry(row);
      const broken = (reason: string): AdminLogVerification => ({
        ok: false,
        entries,
        brokenAt: entry.seq,
        reason,
      });
      if (entry.seq !== expectedSeq) {
        return broken(`E_ADMIN_LOG_GAP: expected entry ${expectedSeq}, found ${entry.seq}`);
      }
      if (entry.prevHash !== prevHash) {
        return broken(
          `E_ADMIN_LOG_LINK: entry ${entry.seq} does not link to entry ${entry.seq - 1}`,
        );
      }
      if (adminLogEntryHash(entry) !== entry.hash) {
        return broken(`E_ADMIN_LOG_HASH: entry ${entry.seq} was changed after it was written`);
      }
      prevHash = entry.hash;
      expectedSeq += 1;
      entries += 1;
    }
    return { ok: true, entries, headHash: prevHash };
  }
}
