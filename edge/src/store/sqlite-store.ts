/**
 * The lock store on the device: one SQLite file (better-sqlite3, WAL, synchronous=FULL) with
 * the lock's state sections, its hash-chained audit log, signed checkpoints and a little meta.
 *
 * Each commit writes sections and audit records in one transaction, so a power cut at any
 * instant leaves either all of a unit of work or none of it. A "dirty" flag set at open and
 * cleared by close() tells the next start whether the previous run ended cleanly; after an
 * unclean end the chain is verified from the last checkpoint to the head and the store
 * refuses to open when it is broken (SPEC §3 "Fail-secure": reported, never ignored).
 */
import {
  type AuditEventKind,
  type AuditRecord,
  type Checkpoint,
  chainAuditRecord,
  formatInstant,
  GENESIS_HASH,
  verifyAuditChain,
  verifyCheckpoint,
} from "@lockfleet/protocol";
import Database from "better-sqlite3";
import {
  clearFailSecureMark,
  failSecureMarkPath,
  readFailSecureMark,
  reserveFailSecureMark,
  writeFailSecureMark,
} from "./fail-secure-mark.js";
import {
  type AuditHead,
  DEFAULT_AUDIT_RETENTION,
  type FailSecureMark,
  type LockStore,
  LockStoreError,
  type LockStoreOptions,
  type StoreCommit,
} from "./lock-store.js";
import { migrate } from "./migrations.js";
import { checkRetention, prunableUpTo } from "./retention.js";

interface AuditRow {
  seq: number;
  at: string;
  kind: string;
  actor: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

const META_DEVICE_ID = "device_id";
const META_CLEAN_SHUTDOWN = "clean_shutdown";
const META_ACKNOWLEDGED_SEQ = "acknowledged_seq";
const META_PRUNED_SEQ = "pruned_seq";
const META_PRUNED_HASH = "pruned_hash";

/** Records verified per query at an unclean open: bounded memory for a log of any length. */
const VERIFY_BATCH = 10_000;

/** SQLite's own verdict that the file is damaged or is no database at all. */
function isMalformed(error: unknown): boolean {
  return (
    error instanceof Database.SqliteError &&
    (error.code.startsWith("SQLITE_CORRUPT") || error.code === "SQLITE_NOTADB")
  );
}

function storageError(path: string, what: string, cause: unknown): LockStoreError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  if (isMalformed(cause)) {
    return new LockStoreError(
      "E_STORE_MALFORMED",
      `lock store ${path} ${what}: the SQLite file is damaged (${reason})`,
      { cause },
    );
  }
  return new LockStoreError("E_STORAGE", `lock store ${path} ${what}: ${reason}`, { cause });
}

/**
 * SQLite's page-level check (`PRAGMA quick_check`): the problems it finds, none when the file
 * is sound. A damaged page shows here, where the hash chain would only see records missing.
 */
export function sqliteProblems(db: Database.Database, max = 5): string[] {
  try {
    const rows = db.pragma(`quick_check(${max})`) as Array<{ quick_check: string }>;
    const problems = rows.map((row) => row.quick_check).filter((text) => text !== "ok");
    return problems;
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)];
  }
}

function isSqliteError(error: unknown): boolean {
  return error instanceof Database.SqliteError;
}

function prepareStatements(db: Database.Database) {
  return {
    readMeta: db.prepare<[string], { value: string }>("SELECT value FROM meta WHERE key = ?"),
    writeMeta: db.prepare<[string, string]>(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ),
    readSection: db.prepare<[string], { json: string }>("SELECT json FROM sections WHERE name = ?"),
    writeSection: db.prepare<[string, string]>(
      "INSERT INTO sections (name, json) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET json = excluded.json",
    ),
    deleteSection: db.prepare<[string]>("DELETE FROM sections WHERE name = ?"),
    head: db.prepare<[], AuditHead>("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"),
    oldestSeq: db.prepare<[], { seq: number }>("SELECT seq FROM audit ORDER BY seq ASC LIMIT 1"),
    hashAt: db.prepare<[number], { hash: string }>("SELECT hash FROM audit WHERE seq = ?"),
    rowAt: db.prepare<[number], AuditRow>("SELECT * FROM audit WHERE seq = ?"),
    insertAudit: db.prepare<[number, string, string, string | null, string, string, string]>(
      "INSERT INTO audit (seq, at, kind, actor, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    range: db.prepare<[number, number, number], AuditRow>(
      "SELECT * FROM audit WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?",
    ),
    after: db.prepare<[number, number], AuditRow>(
      "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?",
    ),
    pruneAudit: db.prepare<[number]>("DELETE FROM audit WHERE seq <= ?"),
    pruneCheckpoints: db.prepare<[number]>(
      "DELETE FROM checkpoints WHERE seq < ? AND id < (SELECT max(id) FROM checkpoints)",
    ),
    insertCheckpoint: db.prepare<[number, string, string]>(
      "INSERT INTO checkpoints (seq, head_hash, json) VALUES (?, ?, ?)",
    ),
    latestCheckpoint: db.prepare<[], { json: string }>(
      "SELECT json FROM checkpoints ORDER BY id DESC LIMIT 1",
    ),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

export class SqliteLockStore implements LockStore {
  readonly path: string;
  readonly deviceId: string;
  readonly previousShutdownWasClean: boolean;
  readonly #db: Database.Database;
  readonly #sql: Statements;
  readonly #retention: number;
  #acknowledged: number;
  /** The last pruned record (seq 0 and GENESIS_HASH while nothing was pruned). */
  #base: AuditHead;
  #closed = false;
  /** Cache updates that apply only once the running transaction is on disk. */
  #pendingAfterCommit: Array<() => void> = [];
  readonly #commitTransaction: Database.Transaction<(change: StoreCommit) => AuditRecord[]>;
  readonly #acknowledgeTransaction: Database.Transaction<
    (upToSeq: number, headHash: string) => void
  >;

  private constructor(
    db: Database.Database,
    sql: Statements,
    init: {
      path: string;
      deviceId: string;
      clean: boolean;
      retention: number;
      acknowledged: number;
      base: AuditHead;
    },
  ) {
    this.#db = db;
    this.#sql = sql;
    this.path = init.path;
    this.deviceId = init.deviceId;
    this.previousShutdownWasClean = init.clean;
    this.#retention = init.retention;
    this.#acknowledged = init.acknowledged;
    this.#base = init.base;
    this.#commitTransaction = db.transaction((change: StoreCommit) => this.#write(change));
    this.#acknowledgeTransaction = db.transaction((upToSeq: number, headHash: string) =>
      this.#acknowledgeInTransaction(upToSeq, headHash),
    );
  }

  /**
   * Opens (creating when absent) the lock store at `path` for `deviceId`: migrates the schema,
   * verifies the audit chain when the previous run ended without close(), marks the store in
   * use. Refuses a store of another device, a broken chain and an unreadable file.
   */
  static open(path: string, deviceId: string, options: LockStoreOptions = {}): SqliteLockStore {
    const retention = checkRetention(options.retention ?? DEFAULT_AUDIT_RETENTION);
    if (deviceId.length === 0) {
      throw new LockStoreError("E_STORAGE", `lock store ${path} needs a device id`);
    }
    let db: Database.Database | undefined;
    try {
      db = new Database(path);
      const mode = db.pragma("journal_mode = WAL", { simple: true });
      if (mode !== "wal") throw new Error(`journal mode is ${String(mode)}, WAL is required`);
      db.pragma("synchronous = FULL");
      db.pragma("busy_timeout = 5000");
      migrate(db, path);
      const sql = prepareStatements(db);
      const meta = (key: string) => sql.readMeta.get(key)?.value;
      let storedDevice = meta(META_DEVICE_ID);
      if (storedDevice === undefined) {
        if (sql.head.get() !== undefined) {
          throw new LockStoreError(
            "E_STORAGE",
            `lock store ${path} has audit records but no owner`,
          );
        }
        db.transaction(() => {
          sql.writeMeta.run(META_DEVICE_ID, deviceId);
          sql.writeMeta.run(META_CLEAN_SHUTDOWN, "1");
          sql.writeMeta.run(META_ACKNOWLEDGED_SEQ, "0");
          sql.writeMeta.run(META_PRUNED_SEQ, "0");
          sql.writeMeta.run(META_PRUNED_HASH, GENESIS_HASH);
        }).immediate();
        storedDevice = deviceId;
      }
      if (storedDevice !== deviceId) {
        throw new LockStoreError(
          "E_STORE_DEVICE_MISMATCH",
          `lock store ${path} belongs to ${storedDevice}, not ${deviceId}`,
        );
      }
      const clean = meta(META_CLEAN_SHUTDOWN) === "1";
      const base = { seq: Number(meta(META_PRUNED_SEQ) ?? 0), hash: meta(META_PRUNED_HASH) ?? "" };
      const acknowledged = Number(meta(META_ACKNOWLEDGED_SEQ) ?? 0);
      if (!Number.isSafeInteger(base.seq) || !Number.isSafeInteger(acknowledged)) {
        throw new LockStoreError("E_STORAGE", `lock store ${path} has unreadable meta data`);
      }
      // After a crash the chain is verified. With the device key it is verified on every open
      // too, from the latest signed checkpoint on, so a file rewritten at rest with its
      // clean-shutdown flag left set is caught as well (cheap: checkpoints are frequent).
      if (!clean || options.checkpointPublicKey !== undefined) {
        try {
          verifyStoredChain(db, sql, path, deviceId, base, options.checkpointPublicKey);
        } catch (error) {
          throw malformedOr(db, path, error);
        }
      }
      sql.writeMeta.run(META_CLEAN_SHUTDOWN, "0");
      reserveFailSecureMark(failSecureMarkPath(path));
      return new SqliteLockStore(db, sql, {
        path,
        deviceId,
        clean,
        retention,
        acknowledged,
        base,
      });
    } catch (error) {
      try {
        db?.close();
      } catch {
        // The original error below says what went wrong.
      }
      if (error instanceof LockStoreError) throw error;
      throw storageError(path, "cannot be opened", error);
    }
  }

  readSection<T>(name: string): T | undefined {
    this.#usable();
    const row = this.#guard("cannot be read", () => this.#sql.readSection.get(name));
    if (row === undefined) return undefined;
    try {
      return JSON.parse(row.json) as T;
    } catch (error) {
      throw storageError(this.path, `section "${name}" is not valid JSON`, error);
    }
  }

  commit(change: StoreCommit): AuditRecord[] {
    this.#usable();
    return this.#guard("commit failed", () => this.#commitTransaction.immediate(change));
  }

  auditHead(): AuditHead {
    this.#usable();
    return this.#guard("cannot be read", () => this.#head());
  }

  auditBase(): AuditHead {
    this.#usable();
    return { ...this.#base };
  }

  auditRange(fromSeq: number, toSeq: number, limit = 500): AuditRecord[] {
    this.#usable();
    if (!(limit > 0) || Number.isNaN(fromSeq) || Number.isNaN(toSeq)) return [];
    const rows = this.#guard("cannot be read", () =>
      this.#sql.range.all(
        Math.max(Math.ceil(fromSeq), 0),
        Math.min(Math.floor(toSeq), Number.MAX_SAFE_INTEGER),
        Math.min(Math.floor(limit), Number.MAX_SAFE_INTEGER),
      ),
    );
    return rows.map((row) => {
      try {
        return recordOf(row, this.deviceId);
      } catch (error) {
        throw storageError(this.path, `audit record ${row.seq} is unreadable`, error);
      }
    });
  }

  acknowledgedSeq(): number {
    this.#usable();
    return this.#acknowledged;
  }

  acknowledge(upToSeq: number, headHash: string): void {
    this.#usable();
    this.#guard("cannot record the acknowledgement", () =>
      this.#acknowledgeTransaction.immediate(upToSeq, headHash),
    );
  }

  auditCount(): number {
    this.#usable();
    return this.#guard("cannot be read", () => {
      const head = this.#sql.head.get();
      const oldest = this.#sql.oldestSeq.get();
      return head === undefined || oldest === undefined ? 0 : head.seq - oldest.seq + 1;
    });
  }

  saveCheckpoint(checkpoint: Checkpoint): void {
    this.#usable();
    this.#guard("cannot save a checkpoint", () =>
      this.#sql.insertCheckpoint.run(
        checkpoint.seq,
        checkpoint.headHash,
        JSON.stringify(checkpoint),
      ),
    );
  }

  latestCheckpoint(): Checkpoint | undefined {
    this.#usable();
    const row = this.#guard("cannot be read", () => this.#sql.latestCheckpoint.get());
    if (row === undefined) return undefined;
    try {
      return JSON.parse(row.json) as Checkpoint;
    } catch (error) {
      throw storageError(this.path, "has an unreadable checkpoint", error);
    }
  }

  markFailSecure(mark: FailSecureMark): void {
    writeFailSecureMark(failSecureMarkPath(this.path), mark);
  }

  failSecureMark(): FailSecureMark | undefined {
    return readFailSecureMark(failSecureMarkPath(this.path));
  }

  clearFailSecureMark(): void {
    clearFailSecureMark(failSecureMarkPath(this.path));
  }

  /** SQLite's page-level check of the open file (see sqliteProblems); empty when sound. */
  integrityProblems(): string[] {
    this.#usable();
    return sqliteProblems(this.#db);
  }

  /** Marks the shutdown clean and closes the file; further use is refused. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#sql.writeMeta.run(META_CLEAN_SHUTDOWN, "1");
    } catch (error) {
      // Left marked in use: the next start verifies the chain, which is the safe side.
      throw storageError(this.path, "cannot record a clean shutdown", error);
    } finally {
      this.#db.close();
    }
  }

  // ---------------------------------------------------------------- inside transactions

  #write(change: StoreCommit): AuditRecord[] {
    for (const [name, value] of Object.entries(change.sections ?? {})) {
      const json = value === null ? undefined : JSON.stringify(value);
      if (json === undefined) this.#sql.deleteSection.run(name);
      else this.#sql.writeSection.run(name, json);
    }
    let head = this.#head();
    const records: AuditRecord[] = [];
    for (const event of change.events ?? []) {
      // The hash covers the data exactly as it is stored and read back.
      const dataJson = JSON.stringify(event.data);
      const record = chainAuditRecord(
        {
          deviceId: this.deviceId,
          seq: head.seq + 1,
          at: formatInstant(event.at),
          kind: event.kind,
          actor: event.actor,
          data: JSON.parse(dataJson),
        },
        head.hash,
      );
      this.#sql.insertAudit.run(
        record.seq,
        record.at,
        record.kind,
        record.actor,
        dataJson,
        record.prevHash,
        record.hash,
      );
      records.push(record);
      head = record;
    }
    this.#prune(head.seq);
    return records;
  }

  #acknowledgeInTransaction(upToSeq: number, headHash: string): void {
    const known =
      upToSeq === this.#base.seq ? this.#base.hash : this.#sql.hashAt.get(upToSeq)?.hash;
    if (known === undefined && upToSeq < this.#base.seq && upToSeq <= this.#acknowledged) {
      return; // a repeated acknowledgement of records already pruned: nothing to change
    }
    if (known === undefined || known !== headHash) {
      throw new LockStoreError(
        "E_ACK_MISMATCH",
        `no audit record ${upToSeq} with hash ${headHash.slice(0, 16)}… in this log`,
      );
    }
    if (upToSeq <= this.#acknowledged) return;
    this.#sql.writeMeta.run(META_ACKNOWLEDGED_SEQ, String(upToSeq));
    this.#prune(this.#head().seq, upToSeq);
    this.#afterCommit(() => {
      this.#acknowledged = upToSeq;
    });
  }

  /** Deletes the oldest acknowledged records beyond the retention capacity, keeping the last one's hash. */
  #prune(headSeq: number, acknowledgedSeq = this.#acknowledged): void {
    const upTo = prunableUpTo({
      oldestSeq: this.#base.seq + 1,
      headSeq,
      acknowledgedSeq,
      retention: this.#retention,
    });
    if (upTo === undefined) return;
    const last = this.#sql.hashAt.get(upTo);
    if (last === undefined) {
      throw new LockStoreError("E_STORAGE", `audit record ${upTo} is missing from ${this.path}`);
    }
    this.#sql.pruneAudit.run(upTo);
    this.#sql.pruneCheckpoints.run(upTo);
    this.#sql.writeMeta.run(META_PRUNED_SEQ, String(upTo));
    this.#sql.writeMeta.run(META_PRUNED_HASH, last.hash);
    const base = { seq: upTo, hash: last.hash };
    this.#afterCommit(() => {
      this.#base = base;
    });
  }

  #afterCommit(action: () => void): void {
    this.#pendingAfterCommit.push(action);
  }

  // ---------------------------------------------------------------- helpers

  #head(): AuditHead {
    const row = this.#sql.head.get();
    return row === undefined ? { ...this.#base } : { seq: row.seq, hash: row.hash };
  }

  #usable(): void {
    if (this.#closed) {
      throw new LockStoreError("E_STORE_CLOSED", `lock store ${this.path} is closed`);
    }
  }

  /** Runs a storage operation; SQLite failures become E_STORAGE naming the file. */
  #guard<T>(what: string, operation: () => T): T {
    this.#pendingAfterCommit = [];
    let result: T;
    try {
      result = operation();
    } catch (error) {
      this.#pendingAfterCommit = [];
      if (isSqliteError(error)) throw storageError(this.path, what, error);
      throw error;
    }
    for (const action of this.#pendingAfterCommit) action();
    this.#pendingAfterCommit = [];
    return result;
  }
}

function recordOf(row: AuditRow, deviceId: string): AuditRecord {
  return {
    deviceId,
    seq: row.seq,
    at: row.at,
    kind: row.kind as AuditEventKind,
    actor: row.actor,
    data: JSON.parse(row.data) as Record<string, unknown>,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/**
 * A chain that does not verify in a file SQLite itself finds damaged is a malformed store, not
 * a log with records missing: E_STORE_MALFORMED with SQLite's finding.
 */
function malformedOr(db: Database.Database, path: string, error: unknown): unknown {
  if (error instanceof LockStoreError && error.code === "E_STORE_MALFORMED") return error;
  if (isMalformed(error)) return storageError(path, "cannot be verified", error);
  const problems = sqliteProblems(db);
  if (problems.length === 0) return error;
  return new LockStoreError(
    "E_STORE_MALFORMED",
    `lock store ${path} is a damaged SQLite file (${problems.join("; ").slice(0, 300)}); the store stays closed until it is examined`,
    { cause: error },
  );
}

function chainBroken(path: string, seq: number, reason: string): LockStoreError {
  return new LockStoreError(
    "E_AUDIT_CHAIN_BROKEN",
    `audit log in ${path} is broken at seq ${seq}: ${reason}; the store stays closed until the log is examined`,
  );
}

/**
 * Verifies the stored chain from the latest checkpoint (or the oldest kept record) to the head.
 * The checkpointed record itself is re-hashed and must carry the hash the device signed.
 */
function verifyStoredChain(
  db: Database.Database,
  sql: Statements,
  path: string,
  deviceId: string,
  base: AuditHead,
  checkpointPublicKey: Uint8Array | undefined,
): void {
  const head = sql.head.get() ?? base;
  let previous: AuditHead = base;
  const checkpointRow = sql.latestCheckpoint.get();
  if (checkpointRow !== undefined) {
    let checkpoint: Checkpoint;
    try {
      checkpoint = JSON.parse(checkpointRow.json) as Checkpoint;
    } catch {
      throw chainBroken(path, base.seq, "the latest checkpoint is unreadable");
    }
    if (
      checkpointPublicKey !== undefined &&
      (checkpoint.deviceId !== deviceId || !verifyCheckpoint(checkpoint, checkpointPublicKey))
    ) {
      throw chainBroken(
        path,
        checkpoint.seq,
        "the latest checkpoint does not carry this device's signature",
      );
    }
    if (checkpoint.seq > head.seq) {
      throw chainBroken(
        path,
        head.seq,
        `the log ends before the checkpoint at seq ${checkpoint.seq} (records are missing)`,
      );
    }
    if (checkpoint.seq === base.seq && checkpoint.headHash !== base.hash) {
      throw chainBroken(path, base.seq, "the last pruned record does not match the checkpoint");
    }
    if (checkpoint.seq > base.seq) {
      const row = sql.rowAt.get(checkpoint.seq);
      if (row === undefined) {
        throw chainBroken(path, checkpoint.seq, "the checkpointed record is missing");
      }
      if (row.hash !== checkpoint.headHash) {
        throw chainBroken(path, checkpoint.seq, "the record does not match the signed checkpoint");
      }
      previous = { seq: checkpoint.seq - 1, hash: row.prev_hash };
    }
  }
  // One read transaction, so the log cannot change between batches.
  db.transaction(() => {
    for (;;) {
      const rows = sql.after.all(previous.seq, VERIFY_BATCH);
      if (rows.length === 0) break;
      const records: AuditRecord[] = [];
      for (const row of rows) {
        try {
          records.push(recordOf(row, deviceId));
        } catch {
          throw chainBroken(path, row.seq, "the record's data is not valid JSON");
        }
      }
      const broken = verifyAuditChain(records, previous);
      if (broken !== undefined) throw chainBroken(path, broken.seq, broken.message);
      const last = records.at(-1) as AuditRecord;
      previous = { seq: last.seq, hash: last.hash };
    }
  }).deferred();
  if (previous.seq !== head.seq) {
    throw chainBroken(path, previous.seq, `the log should end at seq ${head.seq}`);
  }
}
