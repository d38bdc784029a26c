/**
 * Whole-chain verification of the lock's audit log, run in the background after start. The
 * open verifies only from the latest signed checkpoint on (fast at any log size); a record
 * changed on disk before that checkpoint would go unnoticed without this walk over every
 * record still stored, from the pruned base to the head as it stood when the walk began.
 *
 * The walk reads in batches and yields to the event loop between them, so the lock keeps
 * answering keys and sensors meanwhile. The outcome tells a broken chain (a record altered or
 * missing: E_AUDIT_CHAIN_BROKEN) from a damaged SQLite file (SQLite's own page check fails:
 * E_STORE_MALFORMED).
 */
import { type AuditRecord, verifyAuditChain, verifyCheckpoint } from "@lockfleet/protocol";
import { type AuditHead, type LockStore, LockStoreError } from "./lock-store.js";

export type ChainVerification =
  | { ok: true; fromSeq: number; toSeq: number; records: number }
  | {
      ok: false;
      code: "E_AUDIT_CHAIN_BROKEN" | "E_STORE_MALFORMED" | "E_STORAGE";
      fromSeq: number;
      toSeq: number;
      /** The first record found wrong, when the chain itself is broken. */
      seq?: number;
      message: string;
    };

export interface ChainVerificationOptions {
  /** The device's Ed25519 public key: the latest checkpoint must carry its signature. */
  checkpointPublicKey?: Uint8Array;
  /** Records per batch between yields. Default 250 (tens of milliseconds on a Raspberry Pi-class core). */
  batch?: number;
  /** True when the walk should stop (the runtime stopped). */
  cancelled?: () => boolean;
  /** SQLite's page check (SqliteLockStore.integrityProblems); run when the chain is broken. */
  integrityProblems?: () => string[];
}

type VerifiableStore = Pick<
  LockStore,
  "auditBase" | "auditHead" | "auditRange" | "latestCheckpoint"
>;

export async function verifyWholeChain(
  store: VerifiableStore,
  options: ChainVerificationOptions = {},
): Promise<ChainVerification | undefined> {
  const batch = Math.max(1, options.batch ?? 250);
  let base: AuditHead;
  let head: AuditHead;
  try {
    base = store.auditBase();
    head = store.auditHead();
  } catch (error) {
    return failure(options, 0, 0, error);
  }
  const fromSeq = base.seq + 1;
  const toSeq = head.seq;
  const broken = (seq: number, message: string): ChainVerification => {
    const problems = options.integrityProblems?.() ?? [];
    if (problems.length > 0) {
      return {
        ok: false,
        code: "E_STORE_MALFORMED",
        fromSeq,
        toSeq,
        seq,
        message: `the SQLite file is damaged (${problems.join("; ").slice(0, 300)}); ${message}`,
      };
    }
    return { ok: false, code: "E_AUDIT_CHAIN_BROKEN", fromSeq, toSeq, seq, message };
  };
  let previous: AuditHead = base;
  let checked = 0;
  const checkpoint = safely(() => store.latestCheckpoint());
  if (checkpoint instanceof Error) return failure(options, fromSeq, toSeq, checkpoint);
  if (
    checkpoint !== undefined &&
    options.checkpointPublicKey !== undefined &&
    !verifyCheckpoint(checkpoint, options.checkpointPublicKey)
  ) {
    return broken(checkpoint.seq, "the latest checkpoint does not carry this device's signature");
  }
  while (previous.seq < toSeq) {
    if (options.cancelled?.() === true) return undefined;
    const records = safely(() => store.auditRange(previous.seq + 1, toSeq, batch));
    if (records instanceof Error) return failure(options, fromSeq, toSeq, records);
    const first = records[0];
    if (first === undefined) {
      return broken(previous.seq + 1, `records ${previous.seq + 1}–${toSeq} are missing`);
    }
    const fault = verifyAuditChain(records, previous);
    if (fault !== undefined) return broken(fault.seq, fault.message);
    for (const record of records) {
      if (checkpoint !== undefined && record.seq === checkpoint.seq) {
        if (record.hash !== checkpoint.headHash)
          return broken(record.seq, "the record does not match the signed checkpoint");
      }
    }
    const last = records.at(-1) as AuditRecord;
    previous = { seq: last.seq, hash: last.hash };
    checked += records.length;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { ok: true, fromSeq, toSeq, records: checked };
}

function safely<T>(read: () => T): T | Error {
  try {
    return read();
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function failure(
  options: ChainVerificationOptions,
  fromSeq: number,
  toSeq: number,
  error: unknown,
): ChainVerification {
  const message = error instanceof Error ? error.message : String(error);
  const code =
    error instanceof LockStoreError && error.code === "E_STORE_MALFORMED"
      ? "E_STORE_MALFORMED"
      : (options.integrityProblems?.().length ?? 0) > 0
        ? "E_STORE_MALFORMED"
        : "E_STORAGE";
  return { ok: false, code, fromSeq, toSeq, message: message.slice(0, 300) };
}
