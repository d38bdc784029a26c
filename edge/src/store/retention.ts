/**
 * The pruning rule both stores follow (SPEC §3: nothing is deleted before the fleet has
 * acknowledged it; capacity at least 1,000,000 events).
 */
import { LockStoreError } from "./lock-store.js";

export function checkRetention(retention: number): number {
  if (!Number.isSafeInteger(retention) || retention < 0) {
    throw new LockStoreError(
      "E_STORAGE",
      `audit retention must be a whole number of records ≥ 0, not ${retention}`,
    );
  }
  return retention;
}

/**
 * The highest seq that may be pruned now, or undefined when nothing may: only acknowledged
 * records, and only as many as the log holds beyond `retention`. Records are pruned oldest
 * first, so what is kept stays one contiguous, verifiable chain.
 */
export function prunableUpTo(log: {
  oldestSeq: number;
  headSeq: number;
  acknowledgedSeq: number;
  retention: number;
}): number | undefined {
  const upTo = Math.min(log.acknowledgedSeq, log.headSeq - log.retention);
  return upTo >= log.oldestSeq ? upTo : undefined;
}
