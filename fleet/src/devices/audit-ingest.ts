/**
 * What to do with a batch of audit records from a lock (SPEC §5 "Verified, gap-free audit per
 * lock"): which records extend the stored chain, which are duplicates, which contradict what
 * is stored, and which range to ask the lock for again. Pure: the hub does the storing.
 */
import {
  type AuditRecord,
  type ChainBreak,
  type Checkpoint,
  GENESIS_HASH,
  verifyAuditChain,
  verifyCheckpoint,
} from "@lockfleet/protocol";

export interface AuditHead {
  seq: number;
  hash: string;
}

export interface AuditIngestPlan {
  /** Records that extend the stored chain, verified link by link, in order. */
  store: AuditRecord[];
  /** Records already stored with the same hash (a resend or a replay): nothing to do. */
  duplicates: number;
  /** Records at a stored seq with a different hash: someone rewrote history. */
  conflicts: Array<{ seq: number; message: string }>;
  /** The first record that did not link to its predecessor (forged or corrupted). */
  chainBreak?: ChainBreak;
  /** Records the fleet lacks and must ask the lock for again (inclusive). */
  missing?: { fromSeq: number; toSeq: number };
}

/**
 * Plans the ingest of `records` (any order) after the stored `head`; `storedHash(seq)` answers
 * for seqs at or below the head. Every record must already name this device.
 */
export function planAuditIngest(
  head: AuditHead,
  records: readonly AuditRecord[],
  storedHash: (seq: number) => string | undefined,
): AuditIngestPlan {
  const bySeq = new Map<number, AuditRecord>();
  for (const record of records) if (!bySeq.has(record.seq)) bySeq.set(record.seq, record);
  const sorted = [...bySeq.values()].sort((a, b) => a.seq - b.seq);

  const plan: AuditIngestPlan = { store: [], duplicates: 0, conflicts: [] };
  const fresh: AuditRecord[] = [];
  for (const record of sorted) {
    if (record.seq > head.seq) {
      fresh.push(record);
      continue;
    }
    const stored = storedHash(record.seq);
    if (stored === record.hash) plan.duplicates += 1;
    else {
      plan.conflicts.push({
        seq: record.seq,
        message: `audit record ${record.seq} differs from the one stored for that seq`,
      });
    }
  }
  const first = fresh[0];
  const last = fresh[fresh.length - 1];
  if (first === undefined || last === undefined) return plan;

  if (first.seq !== head.seq + 1) {
    // Nothing here links to the stored chain; ask for everything from the head on.
    plan.missing = { fromSeq: head.seq + 1, toSeq: last.seq };
    return plan;
  }
  const chainBreak = verifyAuditChain(fresh, head);
  if (chainBreak === undefined) {
    plan.store = fresh;
    return plan;
  }
  plan.store = fresh.filter((record) => record.seq < chainBreak.seq);
  const storedUpTo = plan.store[plan.store.length - 1]?.seq ?? head.seq;
  plan.missing = { fromSeq: storedUpTo + 1, toSeq: last.seq };
  if (chainBreak.code !== "E_CHAIN_GAP") plan.chainBreak = chainBreak;
  return plan;
}

export type CheckpointVerdict =
  | { status: "matched" | "pending" }
  | { status: "mismatch"; message: string }
  | { status: "refused"; code: string; message: string };

/**
 * Checks a lock's signed checkpoint: the signature with the lock's own key, then the claim
 * against the stored chain (`pending` when the records it covers have not arrived yet).
 */
export function judgeCheckpoint(
  deviceId: string,
  checkpoint: Checkpoint,
  signingPublicKey: Uint8Array,
  head: AuditHead,
  storedHash: (seq: number) => string | undefined,
): CheckpointVerdict {
  if (checkpoint.deviceId !== deviceId) {
    return {
      status: "refused",
      code: "E_WRONG_DEVICE",
      message: `checkpoint names device ${checkpoint.deviceId}, not ${deviceId}`,
    };
  }
  if (!verifyCheckpoint(checkpoint, signingPublicKey)) {
    return {
      status: "refused",
      code: "E_BAD_SIGNATURE",
      message: `checkpoint at seq ${checkpoint.seq} does not verify with the lock's key`,
    };
  }
  if (checkpoint.seq > head.seq) return { status: "pending" };
  const stored = checkpoint.seq === 0 ? GENESIS_HASH : storedHash(checkpoint.seq);
  if (stored === checkpoint.headHash) return { status: "matched" };
  return {
    status: "mismatch",
    message: `checkpoint says the chain at seq ${checkpoint.seq} ends in ${checkpoint.headHash.slice(0, 12)}…, the stored chain does not`,
  };
}
