/**
 * Group commit of audit records across locks: batches that arrive within a few milliseconds of
 * each other, from any number of locks, are stored in one SQLite transaction (one fsync with
 * synchronous=FULL), each lock's part under its own savepoint. What a batch leads to (the
 * ack, the "audit" event, checkpoint settling, alarms and gap requests) runs only once the
 * transaction has committed, so no lock is ever acknowledged a record that is not durable.
 *
 * Between arrival and commit a lock's chain continues from its pending head (the last record
 * queued), so its next batch links to the one still waiting; if the commit fails the pending
 * records are forgotten and the stored head is the truth again (the lock resends what was not
 * acknowledged, and the stored chain deduplicates it).
 */
import type { AuditRecord } from "@lockfleet/protocol";
import type { AuditHead } from "./audit-ingest.js";
import type { DeviceRepository } from "./device-repository.js";

/** A group is committed at once when it holds this many records (bounds its memory and delay). */
const MAX_GROUP_RECORDS = 20_000;

interface PendingChain {
  /** The stored head when the first batch of this group arrived. */
  storedHead: AuditHead;
  /** The head once everything queued is stored. */
  head: AuditHead;
  records: AuditRecord[];
  /** seq → hash of the queued records, for duplicates and conflicts not yet stored. */
  hashes: Map<number, string>;
}

/** Runs after the group's commit: `stored` says whether this lock's records are durable. */
export type AfterCommit = (stored: boolean) => void;

export interface AuditGroupCommitOptions {
  repository: DeviceRepository;
  /** How long the first batch of a group waits for others (0: the next turn of the loop). */
  windowMs: number;
  receivedAt: () => string;
  onError: (error: unknown, deviceId: string) => void;
}

export class AuditGroupCommit {
  readonly #options: AuditGroupCommitOptions;
  #chains = new Map<string, PendingChain>();
  #after: Array<{ deviceId: string; run: AfterCommit }> = [];
  #recordCount = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: AuditGroupCommitOptions) {
    this.#options = options;
  }

  /** The head a new batch from this lock must continue: queued records first, then stored. */
  head(deviceId: string): AuditHead {
    return this.#chains.get(deviceId)?.head ?? this.#options.repository.auditHead(deviceId);
  }

  /** The hash of a record at or below `head(deviceId)`, queued or stored. */
  hash(deviceId: string, seq: number): string | undefined {
    const queued = this.#chains.get(deviceId)?.hashes.get(seq);
    return queued ?? this.#options.repository.auditHash(deviceId, seq);
  }

  /** Whether this lock has records waiting for the commit. */
  pending(deviceId: string): boolean {
    return this.#chains.has(deviceId);
  }

  /**
   * Queues verified records that continue `head(deviceId)`, and what follows from them; `after`
   * runs once they are committed (or failed to be). With no records and nothing queued for this
   * lock, `after` runs at once: everything it refers to is already durable.
   */
  add(deviceId: string, records: readonly AuditRecord[], after: AfterCommit): void {
    const last = records[records.length - 1];
    if (last === undefined && !this.#chains.has(deviceId)) {
      after(true);
      return;
    }
    if (last !== undefined) {
      let chain = this.#chains.get(deviceId);
      if (chain === undefined) {
        const storedHead = this.#options.repository.auditHead(deviceId);
        chain = { storedHead, head: storedHead, records: [], hashes: new Map() };
        this.#chains.set(deviceId, chain);
      }
      for (const record of records) {
        chain.records.push(record);
        chain.hashes.set(record.seq, record.hash);
      }
      chain.head = { seq: last.seq, hash: last.hash };
      this.#recordCount += records.length;
    }
    this.#after.push({ deviceId, run: after });
    if (this.#recordCount >= MAX_GROUP_RECORDS) this.commit();
    else this.#schedule();
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => this.commit(), this.#options.windowMs);
  }

  /**
   * Stores every queued lock's records in one transaction, then runs what waited on them.
   * A lock whose part fails (its stored head moved, a seq already stored) loses only its own
   * part; the others commit. When the whole transaction fails, nothing is acknowledged.
   */
  commit(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const chains = this.#chains;
    const after = this.#after;
    this.#chains = new Map();
    this.#after = [];
    this.#recordCount = 0;
    let failed: ReadonlyMap<string, unknown> = new Map();
    if (chains.size > 0) {
      try {
        failed = this.#options.repository.appendAuditGroup(
          [...chains].map(([deviceId, chain]) => ({
            deviceId,
            expectedHead: chain.storedHead,
            records: chain.records,
          })),
          this.#options.receivedAt(),
        );
      } catch (error) {
        failed = new Map([...chains.keys()].map((deviceId) => [deviceId, error]));
      }
    }
    for (const [deviceId, error] of failed) this.#options.onError(error, deviceId);
    this.#settle(after, (deviceId) => !failed.has(deviceId));
  }

  #settle(
    after: Array<{ deviceId: string; run: AfterCommit }>,
    stored: (deviceId: string) => boolean,
  ): void {
    for (const { deviceId, run } of after) {
      try {
        run(stored(deviceId));
      } catch (error) {
        // One lock's follow-up (an alarm that could not be written) must not stop the others'.
        this.#options.onError(error, deviceId);
      }
    }
  }
}
