/**
 * Both sides' ledgers of one lock, compared: what the lock wrote and holds as acknowledged
 * (its SQLite store, read once the lock has stopped) against what the fleet stored. Used by
 * the fault tests and the soak run's consistency report.
 */
import { join } from "node:path";
import { SqliteLockStore } from "@lockfleet/edge";
import { type AuditRecord, verifyAuditChain } from "@lockfleet/protocol";

export interface LockLedger {
  /** Highest seq the fleet acknowledged to the lock. */
  acknowledged: number;
  /** Every record the lock still holds, ascending. */
  records: AuditRecord[];
}

/** The lock's own ledger from its data directory (the lock must not be running). */
export function readLockLedger(dataDir: string, deviceId: string): LockLedger {
  const store = SqliteLockStore.open(join(dataDir, "lock.sqlite"), deviceId);
  try {
    const head = store.auditHead().seq;
    return { acknowledged: store.acknowledgedSeq(), records: store.auditRange(1, head, head) };
  } finally {
    store.close();
  }
}

export interface LedgerComparison {
  written: number;
  acknowledged: number;
  stored: number;
  /** Acknowledged by the fleet but not stored there. */
  missing: number;
  /** Stored more than once under one seq. */
  duplicates: number;
  /** Stored, but not the record the lock wrote (another hash). */
  differing: number;
  /** The fleet's copy as one hash chain from genesis: undefined when it verifies. */
  chainBreak: string | undefined;
  commandsAccepted: number;
  /** Commands the lock accepted more than once (by envelope id). */
  commandsTwice: number;
  problems: string[];
}

/**
 * Nothing lost, nothing twice: every record the lock holds as acknowledged is stored at the
 * fleet once and unchanged (same hash), the fleet's copy verifies as one chain, and every
 * command the lock accepted was accepted once, in rising seq.
 */
export function compareLedgers(lock: LockLedger, fleet: readonly AuditRecord[]): LedgerComparison {
  const problems: string[] = [];
  const bySeq = new Map<number, AuditRecord[]>();
  for (const record of fleet) bySeq.set(record.seq, [...(bySeq.get(record.seq) ?? []), record]);
  let missing = 0;
  let duplicates = 0;
  let differing = 0;
  for (const record of lock.records) {
    const stored = bySeq.get(record.seq) ?? [];
    if (stored.length > 1) duplicates += 1;
    if (stored.length > 0 && stored[0]?.hash !== record.hash) differing += 1;
    if (record.seq <= lock.acknowledged && stored.length === 0) missing += 1;
  }
  if (missing > 0) problems.push(`${missing} acknowledged records not stored at the fleet`);
  if (duplicates > 0) problems.push(`${duplicates} records stored more than once`);
  if (differing > 0) problems.push(`${differing} stored records differ from the lock's`);
  const written = lock.records.at(-1)?.seq ?? 0;
  if (fleet.some((record) => record.seq > written)) {
    problems.push("the fleet holds records the lock never wrote");
  }
  const chainBreak = verifyAuditChain(fleet)?.message;
  if (chainBreak !== undefined) problems.push(`fleet chain: ${chainBreak}`);
  const accepted = lock.records.filter((record) => record.kind === "command.accepted");
  const ids = accepted.map((record) => String(record.data.id));
  const commandsTwice = ids.length - new Set(ids).size;
  if (commandsTwice > 0) problems.push(`${commandsTwice} commands accepted twice`);
  const seqs = accepted.map((record) => Number(record.data.seq));
  if (seqs.some((seq, index) => index > 0 && seq <= (seqs[index - 1] ?? 0))) {
    problems.push("command seqs accepted out of order");
  }
  return {
    written,
    acknowledged: lock.acknowledged,
    stored: fleet.length,
    missing,
    duplicates,
    differing,
    chainBreak,
    commandsAccepted: ids.length,
    commandsTwice,
    problems,
  };
}
