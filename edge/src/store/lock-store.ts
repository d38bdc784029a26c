/**
 * The edge's one storage interface (CONVENTIONS: storage behind one interface per side). The
 * lock core persists its state as named JSON sections and appends audit events; both happen
 * in one transaction, so a restart at any instant finds state and audit trail consistent.
 */
import type { AuditEventKind, AuditRecord, Checkpoint } from "@lockfleet/protocol";

export interface AuditAppend {
  /** Lock time, epoch milliseconds. */
  at: number;
  kind: AuditEventKind;
  /** Unique id of the acting person; null when the lock or its hardware acted. */
  actor: string | null;
  data: Record<string, unknown>;
}

export interface StoreCommit {
  /** Sections to overwrite (JSON-serialisable values); `null` deletes a section. */
  sections?: Record<string, unknown>;
  events?: AuditAppend[];
}

export interface AuditHead {
  seq: number;
  hash: string;
}

export interface LockStore {
  readonly deviceId: string;
  /** False when the previous run ended without close(): the core then records a power loss. */
  readonly previousShutdownWasClean: boolean;
  readSection<T>(name: string): T | undefined;
  /** Writes sections and appends events (hash-chained, next seq) atomically; returns the new records. */
  commit(change: StoreCommit): AuditRecord[];
  auditHead(): AuditHead;
  /** Records fromSeq..toSeq inclusive that are still stored, ascending, at most `limit`. */
  auditRange(fromSeq: number, toSeq: number, limit?: number): AuditRecord[];
  /** Highest seq the fleet has acknowledged. */
  acknowledgedSeq(): number;
  /**
   * The fleet has stored everything up to `upToSeq` (whose hash must be `headHash`). Only
   * acknowledged records may ever be pruned, and only beyond the retention capacity.
   */
  acknowledge(upToSeq: number, headHash: string): void;
  auditCount(): number;
  saveCheckpoint(checkpoint: Checkpoint): void;
  latestCheckpoint(): Checkpoint | undefined;
  close(): void;
}
