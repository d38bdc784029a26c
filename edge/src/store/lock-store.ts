/**
 * The edge's one storage interface (CONVENTIONS: storage behind one interface per side). The
 * lock core persists its state as named JSON sections and appends audit events; both happen
 * in one transaction, so a restart at any instant finds state and audit trail consistent.
 */
import type { AuditEventKind, AuditRecord, Checkpoint } from "@lockfleet/protocol";

/** How many audit records a store keeps at least before it may prune acknowledged ones (SPEC §3). */
export const DEFAULT_AUDIT_RETENTION = 1_000_000;

export { LockStoreError, type LockStoreErrorCode } from "../errors.js";

export interface LockStoreOptions {
  /**
   * Acknowledged audit records are pruned only while the log holds more than this many
   * records; unacknowledged ones are never pruned. Default DEFAULT_AUDIT_RETENTION.
   */
  retention?: number;
  /**
   * The device's Ed25519 public key. When given, an open after an unclean shutdown also checks
   * that the latest checkpoint carries the device's signature (a log rewritten on disk together
   * with its checkpoint is then detected, not only a log that no longer matches its checkpoint).
   */
  checkpointPublicKey?: Uint8Array;
}

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

/**
 * The fail-secure state when the store itself could not take it: the cycle that was running
 * when the lock failed secure is over, whatever the store's `cycle` section still says.
 */
export interface FailSecureMark {
  /** Lock time of the failure, epoch ms. */
  at: number;
  /** The audit head when the store refused the write. */
  headSeq: number;
  error: string;
}

export interface LockStore {
  readonly deviceId: string;
  /** False when the previous run ended without close(): the core then records a power loss. */
  readonly previousShutdownWasClean: boolean;
  readSection<T>(name: string): T | undefined;
  /** Writes sections and appends events (hash-chained, next seq) atomically; returns the new records. */
  commit(change: StoreCommit): AuditRecord[];
  auditHead(): AuditHead;
  /**
   * The record just before the oldest one still stored (seq 0 and GENESIS_HASH until records
   * were pruned): the starting point for verifying what is left of the chain.
   */
  auditBase(): AuditHead;
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
  /**
   * Keeps the fail-secure mark where a write still succeeds when the store is full (space
   * reserved when the store was opened). Optional: a store that cannot fail needs none.
   */
  markFailSecure?(mark: FailSecureMark): void;
  failSecureMark?(): FailSecureMark | undefined;
  clearFailSecureMark?(): void;
  close(): void;
}
