/**
 * Signs everything the lock publishes to the fleet (SPEC §4 "Only the lock speaks for the
 * lock"): state, availability, audit batches, alarm notices, checkpoints and command results
 * become device envelopes (protocol `signDeviceMessage`) under the lock's own Ed25519 key.
 *
 * The fleet refuses a device sequence it has seen, so the sequence must never repeat, across
 * restarts and power cuts included. Numbers are reserved in blocks in the lock store — one
 * durable write per block, not per message; a restart skips the rest of the block it was in.
 */
import {
  type DeviceMessageBody,
  type DeviceMessageType,
  type DeviceSigningKey,
  signDeviceMessage,
} from "@lockfleet/protocol";
import type { LockStore } from "../store/lock-store.js";

/** Store section holding the highest device sequence reserved so far. */
export const MESSAGE_SEQ_SECTION = "messageSeq";
/** Sequence numbers reserved per durable write. */
export const MESSAGE_SEQ_BLOCK = 10_000;

export class DeviceMessageSigner {
  readonly #store: Pick<LockStore, "readSection" | "commit">;
  readonly #key: DeviceSigningKey;
  readonly #now: () => number;
  #next: number;
  #reservedUpTo: number;

  /** `now` is the lock's own time (the fleet measures the lock's clock by it). */
  constructor(
    store: Pick<LockStore, "readSection" | "commit">,
    key: DeviceSigningKey,
    now: () => number,
  ) {
    this.#store = store;
    this.#key = key;
    this.#now = now;
    const reserved = store.readSection<{ reservedUpTo: number }>(MESSAGE_SEQ_SECTION);
    this.#reservedUpTo = reserved?.reservedUpTo ?? 0;
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
      this.#reservedUpTo = reservedUpTo;
    }
    const seq = this.#next;
    this.#next += 1;
    return signDeviceMessage(type, body, this.#key, seq, this.#now());
  }
}
