/**
 * The gate every message from a lock passes before the fleet acts on it (SPEC §4 "Only the
 * lock speaks for the lock"): the device envelope is verified over the raw bytes received with
 * the lock's enrolled key (protocol `openDeviceMessage`), then its device sequence is checked
 * per stream (topic kind). MQTT keeps one publisher's messages in order per topic, and the
 * retained copy of a topic is delivered again on every subscription, so each stream keeps its
 * own highest seq; the lock numbers all its messages from one counter.
 *
 * A message at or below the highest seq changes nothing. Exactly the last one accepted on its
 * stream (the broker's retained copy, delivered on every subscription) is a duplicate; one
 * accepted within the redelivery window (QoS 1 sends a message again when its acknowledgement
 * was lost) is recorded as a redelivery; any other is a replay. The only unsigned message a lock's topics may carry is the
 * broker's last will ("offline" on `availability`), which is a hint, never evidence.
 */
import {
  Availability,
  type DeviceMessageErrorCode,
  type OpenedDeviceMessage,
  openDeviceMessage,
  type TopicKind,
  validate,
} from "@lockfleet/protocol";
import type { DeviceRepository, MessageMark } from "./device-repository.js";

/** Accepted messages remembered per lock, to tell a redelivery from a replay. */
const RECENT_PER_DEVICE = 64;
/** How long after acceptance the same message again counts as a QoS 1 redelivery (2 min). */
export const DEFAULT_REDELIVERY_WINDOW_MS = 120_000;

export type Admission =
  /** Verified, in sequence, within its validity period: the fleet may act on it. */
  | { verdict: "accepted"; message: OpenedDeviceMessage; stale: false }
  /**
   * Verified and in sequence, but a retained snapshot whose validity period has passed (an
   * idle lock's last state): shown for what it is, never taken as a sign of life.
   */
  | { verdict: "accepted"; message: OpenedDeviceMessage; stale: true }
  /** The last message the fleet accepted on this stream, delivered again (retained copy). */
  | { verdict: "duplicate"; seq: number }
  /** A message accepted moments ago, delivered again: changes nothing, worth a record. */
  | { verdict: "redelivery"; seq: number; type: string }
  /** The broker's last will: unsigned "offline". */
  | { verdict: "hint"; availability: Availability }
  | {
      verdict: "refused";
      code: DeviceMessageErrorCode | "E_REPLAY";
      message: string;
      /** The lock's signed time, when only the validity period failed. */
      signedAt?: number;
    };

export interface GatedDevice {
  deviceId: string;
  signingPublicKey: Uint8Array;
}

interface Mark {
  seq: number;
  signature: string;
}

export class DeviceMessageGate {
  readonly #repository: DeviceRepository;
  /** deviceId → stream → highest accepted. */
  readonly #marks = new Map<string, Map<string, Mark>>();
  /** deviceId → seq → signature and time of recently accepted messages. */
  readonly #recent = new Map<string, Map<number, { signature: string; at: number }>>();
  readonly #redeliveryWindowMs: number;
  #dirty = new Map<string, MessageMark>();

  constructor(repository: DeviceRepository, redeliveryWindowMs = DEFAULT_REDELIVERY_WINDOW_MS) {
    this.#repository = repository;
    this.#redeliveryWindowMs = redeliveryWindowMs;
    for (const mark of repository.messageMarks()) {
      this.#streams(mark.deviceId).set(mark.stream, { seq: mark.seq, signature: mark.signature });
    }
  }

  admit(
    device: GatedDevice,
    stream: TopicKind,
    payload: Uint8Array,
    retained: boolean,
    now: number,
    lockNow: number = now,
  ): Admission {
    // Validity is stated in the lock's clock (`lockNow`, the fleet's estimate of it); replay and
    // redelivery bookkeeping runs on the fleet's own clock (`now`), which no message moves.
    const outcome = openDeviceMessage(payload, {
      deviceId: device.deviceId,
      topic: stream,
      publicKey: device.signingPublicKey,
      now: lockNow,
    });
    let stale = false;
    if (!outcome.ok) {
      if (outcome.error.code === "E_UNSIGNED" && stream === "availability") {
        const will = lastWill(payload);
        if (will !== undefined) return { verdict: "hint", availability: will };
      }
      const timing = outcome.error.code === "E_EXPIRED" || outcome.error.code === "E_NOT_YET_VALID";
      if (!(timing && retained)) {
        return {
          verdict: "refused",
          code: outcome.error.code,
          message: outcome.error.message,
          ...(outcome.signedAt === undefined ? {} : { signedAt: outcome.signedAt }),
        };
      }
      // A retained snapshot older than its validity: the signature holds, so it is checked
      // for replay like any other and then shown as a snapshot.
      const reopened = openDeviceMessage(payload, {
        deviceId: device.deviceId,
        topic: stream,
        publicKey: device.signingPublicKey,
        now: outcome.signedAt ?? now,
      });
      if (!reopened.ok) {
        return { verdict: "refused", code: reopened.error.code, message: reopened.error.message };
      }
      stale = true;
      return this.#sequence(device.deviceId, stream, reopened.value, stale, now);
    }
    return this.#sequence(device.deviceId, stream, outcome.value, stale, now);
  }

  #sequence(
    deviceId: string,
    stream: string,
    message: OpenedDeviceMessage,
    stale: boolean,
    now: number,
  ): Admission {
    const streams = this.#streams(deviceId);
    const mark = streams.get(stream);
    if (mark !== undefined && message.seq <= mark.seq) {
      if (message.seq === mark.seq && message.signature === mark.signature) {
        return { verdict: "duplicate", seq: message.seq };
      }
      const recent = this.#recent.get(deviceId)?.get(message.seq);
      if (
        recent !== undefined &&
        recent.signature === message.signature &&
        now - recent.at <= this.#redeliveryWindowMs
      ) {
        return { verdict: "redelivery", seq: message.seq, type: message.type };
      }
      return {
        verdict: "refused",
        code: "E_REPLAY",
        message: `${message.type} message ${message.id} has device seq ${message.seq}, not above ${mark.seq} on ${stream}`,
      };
    }
    streams.set(stream, { seq: message.seq, signature: message.signature });
    this.#dirty.set(`${deviceId}\u0000${stream}`, {
      deviceId,
      stream,
      seq: message.seq,
      signature: message.signature,
    });
    let recent = this.#recent.get(deviceId);
    if (recent === undefined) {
      recent = new Map();
      this.#recent.set(deviceId, recent);
    }
    recent.set(message.seq, { signature: message.signature, at: now });
    if (recent.size > RECENT_PER_DEVICE) {
      const oldest = recent.keys().next().value;
      if (oldest !== undefined) recent.delete(oldest);
    }
    return stale
      ? { verdict: "accepted", message, stale: true }
      : { verdict: "accepted", message, stale: false };
  }

  /** Writes the sequences accepted since the last flush (with the hub's batched writes). */
  flush(): void {
    if (this.#dirty.size === 0) return;
    const marks = [...this.#dirty.values()];
    this.#dirty = new Map();
    this.#repository.writeMessageMarks(marks);
  }

  #streams(deviceId: string): Map<string, Mark> {
    let streams = this.#marks.get(deviceId);
    if (streams === undefined) {
      streams = new Map();
      this.#marks.set(deviceId, streams);
    }
    return streams;
  }
}

/** The last will a lock leaves with the broker: exactly `{"status":"offline"}`-shaped. */
function lastWill(payload: Uint8Array): Availability | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(payload).toString("utf8"));
    const checked = validate(Availability, parsed, "availability");
    return checked.ok && checked.value.status === "offline" ? checked.value : undefined;
  } catch {
    return undefined;
  }
}
