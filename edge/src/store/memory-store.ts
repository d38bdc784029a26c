/**
 * An in-memory LockStore for unit tests of the lock core: the same chaining and the same
 * all-or-nothing commit as the SQLite store, nothing on disk.
 */
import {
  type AuditRecord,
  type Checkpoint,
  chainAuditRecord,
  formatInstant,
  GENESIS_HASH,
} from "@lockfleet/protocol";
import type { AuditHead, LockStore, StoreCommit } from "./lock-store.js";

export class MemoryLockStore implements LockStore {
  readonly #sections = new Map<string, string>();
  readonly #audit: AuditRecord[] = [];
  readonly #checkpoints: Checkpoint[] = [];
  #acknowledged = 0;
  previousShutdownWasClean = true;
  closed = false;

  constructor(readonly deviceId: string) {}

  readSection<T>(name: string): T | undefined {
    const text = this.#sections.get(name);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  commit(change: StoreCommit): AuditRecord[] {
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
    this.#audit.push(...records);
    return records;
  }

  auditHead(): AuditHead {
    const last = this.#audit.at(-1);
    return last === undefined ? { seq: 0, hash: GENESIS_HASH } : { seq: last.seq, hash: last.hash };
  }

  auditRange(fromSeq: number, toSeq: number, limit = 500): AuditRecord[] {
    return this.#audit
      .filter((record) => record.seq >= fromSeq && record.seq <= toSeq)
      .slice(0, limit);
  }

  acknowledgedSeq(): number {
    return this.#acknowledged;
  }

  acknowledge(upToSeq: number, headHash: string): void {
    const record = this.#audit.find((candidate) => candidate.seq === upToSeq);
    if (record === undefined || record.hash !== headHash)
      throw new Error(`E_ACK_MISMATCH: no record ${upToSeq} with that hash`);
    this.#acknowledged = Math.max(this.#acknowledged, upToSeq);
  }

  auditCount(): number {
    return this.#audit.length;
  }

  saveCheckpoint(checkpoint: Checkpoint): void {
    this.#checkpoints.push(checkpoint);
  }

  latestCheckpoint(): Checkpoint | undefined {
    return this.#checkpoints.at(-1);
  }

  close(): void {
    this.closed = true;
  }

  /** A copy that behaves like the same store reopened after a crash (or a clean stop). */
  reopen(clean: boolean): MemoryLockStore {
    const copy = new MemoryLockStore(this.deviceId);
    for (const [name, text] of this.#sections) copy.#sections.set(name, text);
    copy.#audit.push(...this.#audit);
    copy.#acknowledged = this.#acknowledged;
    copy.previousShutdownWasClean = clean;
    return copy;
  }
}
