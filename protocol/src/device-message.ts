/**
 * Device-signed messages (SPEC §4 "Only the lock speaks for the lock"): everything a lock
 * publishes that the fleet acts on — state, availability, audit batches, alarm notices,
 * checkpoints, command results — travels in the same envelope as a fleet command, signed with
 * the lock's own Ed25519 device key.
 *
 * The payload is the canonical JSON of {v, type, deviceId, id, seq, issuedAt, expiresAt, keyId,
 * body}: `deviceId` is the sending lock, `seq` its device sequence (strictly increasing across
 * every message the lock ever sends, restarts included), `keyId` the lock's name for its key.
 * One signature covers a whole audit batch; the records in it stay hash-chained.
 */
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { type Ed25519Backend, ed25519 } from "./crypto/ed25519.js";
import { encodeEnvelope, openEnvelope, signEnvelope } from "./envelope.js";
import type { ProtocolError } from "./errors.js";
import { Alarm, AuditRecord, Checkpoint } from "./schemas/audit.js";
import { Strict } from "./schemas/common.js";
import { CommandResult } from "./schemas/result.js";
import { Availability, LockState } from "./schemas/state.js";
import type { TopicKind } from "./topics.js";
import { formatInstant, parseInstant } from "./validate.js";

export const DEVICE_MESSAGE_TYPES = [
  "state",
  "availability",
  "audit",
  "alarm",
  "checkpoint",
  "result",
] as const;
export type DeviceMessageType = (typeof DEVICE_MESSAGE_TYPES)[number];

/** One audit batch: consecutive records of the lock's hash chain, one signature for all. */
export const AuditBatch = Strict({
  records: Type.Array(AuditRecord, { minItems: 1, maxItems: 500 }),
});
export type AuditBatch = Static<typeof AuditBatch>;

export const DEVICE_MESSAGE_BODIES = {
  state: LockState,
  availability: Availability,
  audit: AuditBatch,
  alarm: Alarm,
  checkpoint: Checkpoint,
  result: CommandResult,
} as const satisfies Record<DeviceMessageType, TSchema>;

export type DeviceMessageBody<T extends DeviceMessageType> = Static<
  (typeof DEVICE_MESSAGE_BODIES)[T]
>;

/** The topic each type travels on; the same message on any other topic is refused. */
export const DEVICE_MESSAGE_TOPIC: Readonly<Record<DeviceMessageType, TopicKind>> = {
  state: "state",
  availability: "availability",
  audit: "event",
  alarm: "event",
  checkpoint: "event",
  result: "cmd/result",
};

/**
 * Longest validity a lock may give each type (`expiresAt - issuedAt`), and what it gives.
 * State and availability describe the present and go stale fast; an alarm, an audit batch or
 * a checkpoint stays true however late it arrives (a lock cut off for an hour still reports),
 * so they live a day; results answer commands that live minutes.
 */
export const DEVICE_MESSAGE_LIFETIME_MS: Readonly<Record<DeviceMessageType, number>> = {
  state: 10 * 60_000,
  availability: 10 * 60_000,
  audit: 24 * 60 * 60_000,
  alarm: 24 * 60 * 60_000,
  checkpoint: 24 * 60 * 60_000,
  result: 60 * 60_000,
};

/** Larger device messages are refused unread (an audit batch of 500 records fits). */
export const MAX_DEVICE_MESSAGE_BYTES = 512 * 1024;

/** How far ahead of the receiver's clock a lock's `issuedAt` may lie. */
export const DEVICE_MESSAGE_CLOCK_SKEW_MS = 60_000;

export interface DeviceSigningKey {
  deviceId: string;
  /** The lock's name for its key (the fleet verifies with the key it enrolled). */
  keyId: string;
  secretKey: Uint8Array;
}

/**
 * Signs one device message and returns the text to publish. `seq` must be above every seq the
 * lock signed before; `now` is the lock's own time.
 */
export function signDeviceMessage<T extends DeviceMessageType>(
  type: T,
  body: DeviceMessageBody<T>,
  key: DeviceSigningKey,
  seq: number,
  now: number,
  backend: Ed25519Backend = ed25519,
): string {
  const envelope = signEnvelope(
    {
      type,
      deviceId: key.deviceId,
      id: `${type}-${seq}`,
      seq,
      issuedAt: now,
      expiresAt: now + DEVICE_MESSAGE_LIFETIME_MS[type],
      keyId: key.keyId,
      body,
    },
    key.secretKey,
    backend,
  );
  return encodeEnvelope(envelope);
}

export type DeviceMessageErrorCode =
  | "E_TOO_LARGE"
  | "E_MALFORMED"
  | "E_UNSIGNED"
  | "E_UNKNOWN_KEY"
  | "E_BAD_SIGNATURE"
  | "E_NOT_CANONICAL"
  | "E_SCHEMA"
  | "E_UNKNOWN_TYPE"
  | "E_WRONG_DEVICE"
  | "E_WRONG_TOPIC"
  | "E_NOT_YET_VALID"
  | "E_EXPIRED";

/** An opened device message of one type: header fields, typed body, and what was signed. */
export type OpenedDeviceMessage = {
  [T in DeviceMessageType]: {
    type: T;
    deviceId: string;
    id: string;
    seq: number;
    issuedAt: number;
    expiresAt: number;
    keyId: string;
    body: DeviceMessageBody<T>;
    /** The canonical payload text that was verified. */
    payload: string;
    /** The signature as received (base64url); identifies this exact message. */
    signature: string;
  };
}[DeviceMessageType];

export type DeviceMessageOutcome =
  | { ok: true; value: OpenedDeviceMessage }
  | {
      ok: false;
      error: ProtocolError<DeviceMessageErrorCode>;
      /**
       * Set when the signature verified and only the validity period failed: the lock's own
       * signed time at sending (a receiver may measure the lock's clock by it, never act on
       * the message).
       */
      signedAt?: number;
    };

export interface OpenDeviceMessageOptions {
  /** The lock the topic belongs to; a message naming any other device is refused. */
  deviceId: string;
  /** The topic kind it arrived on. */
  topic: TopicKind;
  /** The lock's enrolled signing key. */
  publicKey: Uint8Array;
  /** Receiver's time, epoch milliseconds. */
  now: number;
  clockSkewMs?: number;
  maxBytes?: number;
  backend?: Ed25519Backend;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Verifies a device message as received: size, signature over the raw payload bytes with the
 * lock's key, canonical form, header and body schema, the device named in the header and in
 * the body, the topic, the lifetime for its type, then the validity period against the
 * receiver's clock. Replay (the device sequence) is the receiver's to check: it knows which
 * messages it accepted.
 */
export function openDeviceMessage(
  received: Uint8Array | string,
  options: OpenDeviceMessageOptions,
): DeviceMessageOutcome {
  const opened = openEnvelope(received, {
    deviceId: options.deviceId,
    // The validity period is checked below, so that a lock's signed time survives a refusal.
    now: 0,
    clockSkewMs: Number.POSITIVE_INFINITY,
    keys: () => options.publicKey,
    bodies: DEVICE_MESSAGE_BODIES,
    maxBytes: options.maxBytes ?? MAX_DEVICE_MESSAGE_BYTES,
    ...(options.backend === undefined ? {} : { backend: options.backend }),
  });
  if (!opened.ok) {
    if (opened.error.code === "E_MALFORMED" && isUnsigned(received)) {
      return refuse("E_UNSIGNED", "the message is not a signed envelope");
    }
    return { ok: false, error: opened.error as ProtocolError<DeviceMessageErrorCode> };
  }
  const envelope = opened.value;
  const type = envelope.type as DeviceMessageType;
  if (DEVICE_MESSAGE_TOPIC[type] !== options.topic) {
    return refuse(
      "E_WRONG_TOPIC",
      `a ${type} message arrived on ${options.topic}, not ${DEVICE_MESSAGE_TOPIC[type]}`,
    );
  }
  const named = bodyDevices(type, envelope.body).find((id) => id !== options.deviceId);
  if (named !== undefined) {
    return refuse("E_WRONG_DEVICE", `${type} message ${envelope.id} names lock ${named}`);
  }
  const lifetime = envelope.expiresAt - envelope.issuedAt;
  if (lifetime > DEVICE_MESSAGE_LIFETIME_MS[type]) {
    return refuse(
      "E_SCHEMA",
      `${type} message ${envelope.id} claims ${lifetime} ms of validity, more than ${DEVICE_MESSAGE_LIFETIME_MS[type]}`,
    );
  }
  const skew = options.clockSkewMs ?? DEVICE_MESSAGE_CLOCK_SKEW_MS;
  if (options.now + skew < envelope.issuedAt) {
    return {
      ...refuse(
        "E_NOT_YET_VALID",
        `${type} message ${envelope.id} issued at ${formatInstant(envelope.issuedAt)} is ahead of receiver time ${formatInstant(options.now)}`,
      ),
      signedAt: envelope.issuedAt,
    };
  }
  if (options.now >= envelope.expiresAt) {
    return {
      ...refuse(
        "E_EXPIRED",
        `${type} message ${envelope.id} expired at ${formatInstant(envelope.expiresAt)} (receiver time ${formatInstant(options.now)})`,
      ),
      signedAt: envelope.issuedAt,
    };
  }
  return {
    ok: true,
    value: { ...envelope, signature: signatureOf(received) } as OpenedDeviceMessage,
  };
}

function refuse(
  code: DeviceMessageErrorCode,
  message: string,
): { ok: false; error: ProtocolError<DeviceMessageErrorCode> } {
  return { ok: false, error: { code, message } };
}

/** Every device id the body names (each must be the sender). */
function bodyDevices(type: DeviceMessageType, body: unknown): string[] {
  if (type === "audit") return (body as AuditBatch).records.map((record) => record.deviceId);
  if (type === "availability") return [];
  return [(body as { deviceId: string }).deviceId];
}

/** JSON that is not the `{payload, signature}` shape at all: a message sent without signing. */
function isUnsigned(received: Uint8Array | string): boolean {
  try {
    const parsed: unknown = JSON.parse(
      typeof received === "string" ? received : utf8.decode(received),
    );
    return (
      typeof parsed === "object" &&
      parsed !== null &&
      !Array.isArray(parsed) &&
      !("payload" in parsed && "signature" in parsed)
    );
  } catch {
    return false;
  }
}

const SIGNATURE_MEMBER = /"signature"\s*:\s*"([A-Za-z0-9_-]{86})"/;

/**
 * The signature member of an envelope openEnvelope accepted (so exactly `{payload, signature}`):
 * inside the payload string every quote is escaped, so only the real member can match; read
 * this way an audit batch is not parsed a second time.
 */
function signatureOf(received: Uint8Array | string): string {
  const text = typeof received === "string" ? received : Buffer.from(received).toString("utf8");
  const found = SIGNATURE_MEMBER.exec(text)?.[1];
  if (found !== undefined) return found;
  return (JSON.parse(text) as { signature: string }).signature;
}

/**
 * The type, device seq and body of a device message, read WITHOUT verifying it: for logs,
 * observers and tests only. Nothing may be decided on what this returns; `openDeviceMessage`
 * is the only way to trust a device message.
 */
export function peekDeviceMessage(
  received: Uint8Array | string,
): { type: string; seq: number; issuedAt: number; body: unknown } | undefined {
  try {
    const wire = JSON.parse(typeof received === "string" ? received : utf8.decode(received)) as {
      payload?: unknown;
    };
    if (typeof wire.payload !== "string") return undefined;
    const payload = JSON.parse(wire.payload) as {
      type?: unknown;
      seq?: unknown;
      issuedAt?: unknown;
      body?: unknown;
    };
    if (
      typeof payload.type !== "string" ||
      typeof payload.seq !== "number" ||
      typeof payload.issuedAt !== "string"
    )
      return undefined;
    return {
      type: payload.type,
      seq: payload.seq,
      issuedAt: parseInstant(payload.issuedAt),
      body: payload.body,
    };
  } catch {
    return undefined;
  }
}
