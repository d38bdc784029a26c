/**
 * Signs everything the lock publishes to the fleet (SPEC §4 "Only the lock speaks for the
 * lock"): state, availability, audit batches, alarm notices, checkpoints and command results
 * become device envelopes (protocol `signDeviceMessage`) under the lock's own Ed25519 key.
 *
 * The fleet refuses a device sequence it has seen, so the sequence must never repeat, across
 * restarts and power cuts included. Numbers are reserved in blocks in the lock store — one
 * durable write per block, not per message; a restart skips the rest of the block it was in.
 */

import { existsSync, readFileSync } from "node:fs";
import {
  type DeviceMessageBody,
  type DeviceMessageType,
  type DeviceSigningKey,
  signDeviceMessage,
} from "@lockfleet/protocol";
import type { LockStore } from "../store/lock-store.js";
import { writeFileAtomic } from "./device-files.js";

/** Store section holding the highest device sequence reserved so far. */
export const MESSAGE_SEQ_SECTION = "messageSeq";
/** Sequence numbers reserved per durable write. */
export const MESSAGE_SEQ_BLOCK = 10_000;
/**
 * A copy of the reservation outside the lock store, beside it in the data directory: a lock
 * whose store cannot be opened still signs its storage-fault alarm with a sequence the fleet
 * has not seen (store-refused.ts), and the store's own reservation then starts above it.
 */
export const MESSAGE_SEQ_FILE = "message-seq";

/** The reservation kept in the sequence file (0 when there is none or it is unreadable). */
export function readReservedSeq(path: string): number {
  if (!existsSync(path)) return 0;
  try {
    const value = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
    return Number.isSafeInteger(value) && value > 0 ? value : 0;
  } catch {
    return 0;
  }
}

/** Records a reservation in the sequence file, durably (best effort: the store holds it too). */
export function writeReservedSeq(path: string, reservedUpTo: number): boolean {
  try {
    writeFileAtomic(path, `${reservedUpTo}\n`);
    return true;
  } catch {
    return false;
  }
}

export class DeviceMessageSigner {
  readonly #store: Pick<LockStore, "readSection" | "commit">;
  readonly #key: DeviceSigningKey;
  readonly #now: () => number;
  readonly #seqFile: string | undefined;
  #next: number;
  #reservedUpTo: number;

  /**
   * `now` is the lock's own time (the fleet measures the lock's clock by it); `seqFile`, the
   * data directory's copy of the reservation (MESSAGE_SEQ_FILE), read and kept up to date.
   */
  constructor(
    store: Pick<LockStore, "readSection" | "commit">,
    key: DeviceSigningKey,
    now: () => number,
    seqFile?: string,
  ) {
    this.#store = store;
    this.#key = key;
    this.#now = now;
    this.#seqFile = seqFile;
    const reserved = store.readSection<{ reservedUpTo: number }>(MESSAGE_SEQ_SECTION);
    this.#reservedUpTo = Math.max(
      reserved?.reservedUpTo ?? 0,
      seqFile === undefined ? 0 : readReservedSeq(seqFile),
    );
    this.#next = this.#reservedUpTo + 1;
  }

  /** The highest device sequence signed so far (0 before the first). */
  get lastSeq(): number {
    return this.#next - 1;
  }

  /** The text to publish: `body` signed as a device message of `type`. */
  sign<T extends DeviceMessageType>(type: T, body: DeviceMessageBody<T>): string {
    if (this.#next > this.#reservedUpTo) {
      const reservedUpTo = this.#next + MESSAGE_SEQ_BLOCK - 1;
      // Durable before the first number of the block leaves the lock.
      this.#store.commit({ sections: { [MESSAGE_SEQ_SECTION]: { reservedUpTo } } });
      if (this.#seqFile !== undefined) writeReservedSeq(this.#seqFile, reservedUpTo);
      this.#reservedUpTo = reservedUpTo;
    }
    const seq = this.#next;
    this.#next += 1;
    return signDeviceMessage(type, body, this.#key, seq, this.#now());
  }
}
