/**
 * An in-memory LockStore for unit tests of the lock core: the same chaining, the same
 * all-or-nothing commit, the same acknowledgement and pruning rules as the SQLite store
 * (one contract test suite runs against both), nothing on disk.
 */
import {
  type AuditRecord,
  type Checkpoint,
  chainAuditRecord,
  formatInstant,
  GENESIS_HASH,
} from "@lockfleet/protocol";
import {
  type AuditHead,
  DEFAULT_AUDIT_RETENTION,
  type LockStore,
  LockStoreError,
  type LockStoreOptions,
  type StoreCommit,
} from "./lock-store.js";
import { checkRetention, prunableUpTo } from "./retention.js";

export class MemoryLockStore implements LockStore {
  readonly #sections = new Map<string, string>();
  /** Kept records, ascending and contiguous: #audit[i].seq === #base.seq + 1 + i. */
  #audit: AuditRecord[] = [];
  /** The last pruned record (seq 0 and GENESIS_HASH while nothing was pruned). */
  #base: AuditHead = { seq: 0, hash: GENESIS_HASH };
  readonly #checkpoints: Checkpoint[] = [];
  readonly #retention: number;
  #acknowledged = 0;
  previousShutdownWasClean = true;
  closed = false;

  constructor(
    readonly deviceId: string,
    options: LockStoreOptions = {},
  ) {
    this.#retention = checkRetention(options.retention ?? DEFAULT_AUDIT_RETENTION);
  }

  readSection<T>(name: string): T | undefined {
    const text = this.#sections.get(name);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  commit(change: StoreCommit): AuditRecord[] {
    this.#writable();
    // Everything is computed before anything changes, so a failure leaves the store as it was.
    const sections = Object.entries(change.sections ?? {}).map(
      ([name, value]) => [name, value === null ? undefined : JSON.stringify(value)] as const,
    );
    let head = this.auditHead();
    const records = (change.events ?? []).map((event) => {
      const record = chainAuditRecord(
        {
          deviceId: this.deviceId,
          seq: head.seq + 1,
          at: formatInstant(event.at),
          kind: event.kind,
          actor: event.actor,
          data: JSON.parse(JSON.stringify(event.data)),
        },
        head.hash,
      );
      head = { seq: record.seq, hash: record.hash };
      return record;
    });
    for (const [name, text] of sections) {
      if (text === undefined) this.#sections.delete(name);
      else this.#sections.set(name, text);
    }
    // The caller gets its own copies: changing them must not change the stored log.
    this.#audit.push(...records.map((record) => structuredClone(record)));
    this.#prune();
    return records;
  }

  auditHead(): AuditHead {
    const last = this.#audit.at(-1);
    return last === undefined ? { ...this.#base } : { seq: last.seq, hash: last.hash };
  }

  auditBase(): AuditHead {
    return { ...this.#base };
  }

  auditRange(fromSeq: number, toSeq: number, limit = 500): AuditRecord[] {
    const start = Math.max(0, Math.ceil(fromSeq) - this.#base.seq - 1);
    const end = Math.min(this.#audit.length, Math.floor(toSeq) - this.#base.seq);
    if (end <= start || !(limit > 0)) return [];
    return this.#audit
      .slice(start, Math.min(end, start + limit))
      .map((record) => structuredClone(record));
  }

  acknowledgedSeq(): number {
    return this.#acknowledged;
  }

  acknowledge(upToSeq: number, headHash: string): void {
    this.#writable();
    const known =
      upToSeq === this.#base.seq
        ? this.#base.hash
        : this.#audit[upToSeq - this.#base.seq - 1]?.hash;
    if (known === undefined && upToSeq < this.#base.seq && upToSeq <= this.#acknowledged) {
      return; // a repeated acknowledgement of records already pruned: nothing to change
    }
    if (known === undefined || known !== headHash) {
      throw new LockStoreError(
        "E_ACK_MISMATCH",
        `no audit record ${upToSeq} with hash ${headHash.slice(0, 16)}… in this log`,
      );
    }
    this.#acknowledged = Math.max(this.#acknowledged, upToSeq);
    this.#prune();
  }

  auditCount(): number {
    return this.#audit.length;
  }

  saveCheckpoint(checkpoint: Checkpoint): void {
    this.#writable();
    this.#checkpoints.push(structuredClone(checkpoint));
  }

  latestCheckpoint(): Checkpoint | undefined {
    const latest = this.#checkpoints.at(-1);
    return latest === undefined ? undefined : structuredClone(latest);
  }

  close(): void {
    this.closed = true;
  }

  /** A copy that behaves like the same store reopened after a crash (or a clean stop). */
  reopen(clean: boolean): MemoryLockStore {
    const copy = new MemoryLockStore(this.deviceId, { retention: this.#retention });
    for (const [name, text] of this.#sections) copy.#sections.set(name, text);
    copy.#audit = [...this.#audit];
    copy.#base = { ...this.#base };
    copy.#checkpoints.push(...this.#checkpoints);
    copy.#acknowledged = this.#acknowledged;
    copy.previousShutdownWasClean = clean;
    return copy;
  }

  #writable(): void {
    if (this.closed) throw new LockStoreError("E_STORE_CLOSED", "the lock store is closed");
  }

  /** Drops the oldest records that are acknowledged and beyond the retention capacity. */
  #prune(): void {
    const upTo = prunableUpTo({
      oldestSeq: this.#base.seq + 1,
      headSeq: this.auditHead().seq,
      acknowledgedSeq: this.#acknowledged,
      retention: this.#retention,
    });
    if (upTo === undefined) return;
    const dropped = this.#audit.splice(0, upTo - this.#base.seq);
    const last = dropped.at(-1);
    if (last !== undefined) this.#base = { seq: last.seq, hash: last.hash };
  }
}
