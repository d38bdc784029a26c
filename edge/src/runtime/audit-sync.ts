/**
 * Audit sync with the fleet (SPEC §3 "Audit log", §4 `event`): at-least-once, in order.
 *
 * The lock store is the outbox: nothing is kept only in memory. Whenever the link comes up,
 * everything the fleet has not acknowledged is sent again from `acknowledgedSeq + 1`, in
 * ascending order, in batches, each batch published with QoS 1 and awaited before the next.
 * The fleet dedups by seq, acknowledges with a signed `audit.ack` and asks for gaps with
 * `audit.gapRequest`; if no acknowledgement follows within `ackTimeoutMs`, the unacknowledged
 * tail is sent again. Alarm notices and checkpoints jump the queue (highest priority).
 *
 * The lock logs every acknowledgement and gap request it accepts, but not as a record of its
 * own: the core keeps them and writes one `audit.acknowledged` record ahead of the next record
 * it writes for another reason (see AckSection in lock/state.ts). An idle lock whose fleet
 * acknowledges everything therefore sends nothing more and its log does not grow.
 */
import type { Alarm, AuditRecord, Checkpoint, DeviceEventMessage } from "@lockfleet/protocol";
import type { LockStore } from "../store/lock-store.js";
import { type RuntimeLog, silentLog } from "./log.js";

export type AuditOutbox = Pick<
  LockStore,
  "auditHead" | "auditRange" | "acknowledgedSeq" | "auditBase"
>;

export interface AuditSyncOptions {
  store: AuditOutbox;
  /** Publishes one message on the device's `event` topic (QoS 1); resolves on the broker's ack. */
  publish: (message: DeviceEventMessage) => Promise<void>;
  /** Records per `event` message (protocol maximum 500). Default 100. */
  batchSize?: number;
  /** Sent records without an acknowledgement for this long are sent again. Default 60 s. */
  ackTimeoutMs?: number;
  /** Alarm notices kept while offline (the audit records stay in the store regardless). */
  maxQueuedNotices?: number;
  log?: RuntimeLog;
}

interface Range {
  fromSeq: number;
  toSeq: number;
}

export class AuditSync {
  readonly #store: AuditOutbox;
  readonly #publish: AuditSyncOptions["publish"];
  readonly #batchSize: number;
  readonly #ackTimeoutMs: number;
  readonly #maxQueuedNotices: number;
  readonly #log: RuntimeLog;
  #online = false;
  #stopped = false;
  #pumping = false;
  #pumpScheduled = false;
  #generation = 0;
  #offline: { promise: Promise<void>; resolve: () => void } = deferred();
  /** Highest seq sent in order over the current connection. */
  #sentUpTo = 0;
  #notices: DeviceEventMessage[] = [];
  #resends: Range[] = [];
  #ackTimer: NodeJS.Timeout | undefined;
  #ackBaseline = 0;
  #published = 0;

  constructor(options: AuditSyncOptions) {
    this.#store = options.store;
    this.#publish = options.publish;
    this.#batchSize = Math.min(500, Math.max(1, options.batchSize ?? 100));
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 60_000;
    this.#maxQueuedNotices = options.maxQueuedNotices ?? 256;
    this.#log = options.log ?? silentLog;
  }

  /** Highest seq sent in order on the current link. */
  get sentUpTo(): number {
    return this.#sentUpTo;
  }

  /** `event` messages published so far (audit batches, alarms, checkpoints, re-sends). */
  get published(): number {
    return this.#published;
  }

  /** The link is up: start again from the first record the fleet has not acknowledged. */
  connected(): void {
    if (this.#stopped) return;
    this.#generation += 1;
    this.#online = true;
    this.#offline = deferred();
    this.#sentUpTo = this.#store.acknowledgedSeq();
    this.#schedulePump();
  }

  disconnected(): void {
    this.#online = false;
    this.#generation += 1;
    this.#offline.resolve();
    this.#clearAckTimer();
  }

  /** The core committed new records. */
  recordsAppended(): void {
    this.#schedulePump();
  }

  /** The fleet asks again for fromSeq..toSeq (a gap it detected). */
  resend(fromSeq: number, toSeq: number): void {
    this.#resends.push({ fromSeq, toSeq });
    this.#schedulePump();
  }

  alarm(alarm: Alarm): void {
    this.#notice({ type: "alarm", alarm });
  }

  checkpoint(checkpoint: Checkpoint): void {
    this.#notice({ type: "checkpoint", checkpoint });
  }

  /** An `audit.ack` was accepted by the core (the store already moved its acknowledged seq). */
  acknowledged(): void {
    this.#clearAckTimer();
    this.#armAckTimer();
  }

  stop(): void {
    this.#stopped = true;
    this.disconnected();
  }

  #notice(message: DeviceEventMessage): void {
    // Alarms first, then checkpoints; the oldest checkpoint gives way when the queue is full.
    if (message.type === "alarm") {
      const firstCheckpoint = this.#notices.findIndex((queued) => queued.type !== "alarm");
      this.#notices.splice(
        firstCheckpoint === -1 ? this.#notices.length : firstCheckpoint,
        0,
        message,
      );
    } else {
      this.#notices = this.#notices.filter((queued) => queued.type !== "checkpoint");
      this.#notices.push(message);
    }
    if (this.#notices.length > this.#maxQueuedNotices) this.#notices.shift();
    this.#schedulePump();
  }

  #schedulePump(): void {
    if (this.#pumpScheduled || this.#stopped) return;
    this.#pumpScheduled = true;
    // Deferred so that an alarm notice emitted right after its audit record goes out first.
    setImmediate(() => {
      this.#pumpScheduled = false;
      void this.#pump();
    });
  }

  #next(): { message: DeviceEventMessage; sent?: () => void } | undefined {
    const notice = this.#notices.shift();
    if (notice !== undefined) return { message: notice };
    while (this.#resends.length > 0) {
      const range = this.#resends[0] as Range;
      const records = this.#store.auditRange(range.fromSeq, range.toSeq, this.#batchSize);
      const last = records.at(-1);
      if (last === undefined || last.seq >= range.toSeq) this.#resends.shift();
      else range.fromSeq = last.seq + 1;
      if (last !== undefined) return { message: { type: "audit", records } };
    }
    const head = this.#store.auditHead().seq;
    if (this.#sentUpTo >= head) return undefined;
    // Records at or below the store's base were pruned after an acknowledgement.
    const from = Math.max(this.#sentUpTo, this.#store.auditBase().seq) + 1;
    const records: AuditRecord[] = this.#store.auditRange(from, head, this.#batchSize);
    const last = records.at(-1);
    if (last === undefined) {
      this.#sentUpTo = head;
      return undefined;
    }
    return {
      message: { type: "audit", records },
      sent: () => {
        this.#sentUpTo = Math.max(this.#sentUpTo, last.seq);
        this.#armAckTimer();
      },
    };
  }

  async #pump(): Promise<void> {
    if (this.#pumping || !this.#online || this.#stopped) return;
    this.#pumping = true;
    const generation = this.#generation;
    const offline = this.#offline.promise;
    try {
      while (this.#online && generation === this.#generation) {
        const next = this.#next();
        if (next === undefined) break;
        const outcome = await Promise.race([
          this.#publish(next.message).then(() => "sent" as const),
          offline.then(() => "offline" as const),
        ]);
        if (outcome === "offline") {
          // Whatever was under way is sent again from the acknowledged seq on reconnect.
          if (next.message.type !== "audit") this.#notices.unshift(next.message);
          break;
        }
        this.#published += 1;
        next.sent?.();
      }
    } catch (error) {
      this.#log.warn("audit sync: publish failed; will retry", {
        err: error instanceof Error ? error.message : String(error),
      });
    } finally {
      this.#pumping = false;
    }
    if (this.#online && generation !== this.#generation) this.#schedulePump();
  }

  #armAckTimer(): void {
    if (this.#ackTimer !== undefined || !this.#online) return;
    const acknowledged = this.#store.acknowledgedSeq();
    if (acknowledged >= this.#sentUpTo) return;
    this.#ackBaseline = acknowledged;
    this.#ackTimer = setTimeout(() => {
      this.#ackTimer = undefined;
      const now = this.#store.acknowledgedSeq();
      if (!this.#online || now >= this.#sentUpTo) return;
      if (now === this.#ackBaseline) {
        this.#log.info("audit sync: no acknowledgement; sending the unacknowledged tail again", {
          fromSeq: now + 1,
          toSeq: this.#sentUpTo,
        });
        this.#sentUpTo = now;
        this.#schedulePump();
      } else {
        this.#armAckTimer();
      }
    }, this.#ackTimeoutMs);
    this.#ackTimer.unref();
  }

  #clearAckTimer(): void {
    if (this.#ackTimer !== undefined) clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
