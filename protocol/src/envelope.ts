/**
 * Signed envelopes (SPEC §4): canonical JSON of {v, type, deviceId, id, seq, issuedAt,
 * expiresAt, keyId, body} plus a detached Ed25519 signature over exactly those bytes.
 *
 * On the wire an envelope is the JSON object {payload, signature}: `payload` is the canonical
 * text as a string, so the receiver verifies the bytes it received and only then parses them.
 */
import type { Static, TSchema } from "@sinclair/typebox";
import { canonicalJson, isCanonicalJsonOf } from "./canonical-json.js";
import { fromBase64url, toBase64url } from "./crypto/bytes.js";
import { type Ed25519Backend, ed25519 } from "./crypto/ed25519.js";
import { fail, type Result, succeed } from "./errors.js";
import type { ReplayGuard } from "./replay-guard.js";
import { COMMAND_BODIES, type CommandType } from "./schemas/commands.js";
import { ENVELOPE_VERSION, EnvelopeHeader, SignedEnvelope } from "./schemas/envelope.js";
import { formatInstant, parseInstant, validate } from "./validate.js";

/** Larger payloads are refused before anything is parsed. */
export const MAX_ENVELOPE_BYTES = 64 * 1024;
/** How far a receiver's clock may lag the issuer's before an envelope counts as not yet valid. */
export const DEFAULT_CLOCK_SKEW_MS = 60_000;

export interface EnvelopeFields<Body = unknown> {
  type: string;
  deviceId: string;
  id: string;
  seq: number;
  /** Epoch milliseconds. */
  issuedAt: number;
  expiresAt: number;
  keyId: string;
  body: Body;
}

export interface OpenedEnvelope<Type extends string = string, Body = unknown> {
  type: Type;
  deviceId: string;
  id: string;
  seq: number;
  issuedAt: number;
  expiresAt: number;
  keyId: string;
  body: Body;
  /** The canonical text that was verified, for the audit trail. */
  payload: string;
}

/** Opened command: `body` typed by `type`. */
export type OpenedCommand = {
  [T in CommandType]: OpenedEnvelope<T, Static<(typeof COMMAND_BODIES)[T]>>;
}[CommandType];

export function signEnvelope<Body>(
  fields: EnvelopeFields<Body>,
  secretKey: Uint8Array,
  backend: Ed25519Backend = ed25519,
): SignedEnvelope {
  const payload = canonicalJson({
    v: ENVELOPE_VERSION,
    type: fields.type,
    deviceId: fields.deviceId,
    id: fields.id,
    seq: fields.seq,
    issuedAt: formatInstant(fields.issuedAt),
    expiresAt: formatInstant(fields.expiresAt),
    keyId: fields.keyId,
    body: fields.body,
  });
  const signature = backend.sign(new TextEncoder().encode(payload), secretKey);
  return { payload, signature: toBase64url(signature) };
}

/** The JSON text to publish. */
export function encodeEnvelope(envelope: SignedEnvelope): string {
  return JSON.stringify(envelope);
}

export interface OpenEnvelopeOptions {
  /** The receiving lock's id; envelopes for any other device are refused. */
  deviceId: string;
  /** Receiver's time, epoch milliseconds. */
  now: number;
  /** Public keys the receiver trusts, by keyId. */
  keys: ReadonlyMap<string, Uint8Array> | ((keyId: string) => Uint8Array | undefined);
  /** Consulted and advanced on success; omitted only where replay is checked elsewhere. */
  replayGuard?: ReplayGuard;
  /** Replay-guard sender name; all fleet keys share one sequence. */
  sender?: string;
  /** Body schemas by type (default: every command type, including "grant"). */
  bodies?: Readonly<Record<string, TSchema>>;
  maxBytes?: number;
  clockSkewMs?: number;
  backend?: Ed25519Backend;
}

export type EnvelopeErrorCode =
  | "E_TOO_LARGE"
  | "E_MALFORMED"
  | "E_UNKNOWN_KEY"
  | "E_BAD_SIGNATURE"
  | "E_NOT_CANONICAL"
  | "E_SCHEMA"
  | "E_UNKNOWN_TYPE"
  | "E_WRONG_DEVICE"
  | "E_NOT_YET_VALID"
  | "E_EXPIRED"
  | "E_REPLAY";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/**
 * Verifies and opens an envelope as received (bytes or text). The order matters: size first
 * (nothing big is parsed), signature next over the raw payload bytes (nothing unsigned is
 * interpreted), then canonical form, schema, device, validity period and replay.
 */
export function openEnvelope(
  received: Uint8Array | string,
  options: OpenEnvelopeOptions,
): Result<OpenedEnvelope, EnvelopeErrorCode> {
  const maxBytes = options.maxBytes ?? MAX_ENVELOPE_BYTES;
  const size =
    typeof received === "string" ? Buffer.byteLength(received, "utf8") : received.byteLength;
  if (size > maxBytes)
    return fail("E_TOO_LARGE", `envelope of ${size} bytes exceeds the limit of ${maxBytes}`);

  let wire: unknown;
  try {
    wire = JSON.parse(typeof received === "string" ? received : utf8.decode(received));
  } catch {
    return fail("E_MALFORMED", "envelope is not UTF-8 JSON");
  }
  const shape = validate(SignedEnvelope, wire, "envelope");
  if (!shape.ok) return fail("E_MALFORMED", shape.error.message);
  const { payload, signature } = shape.value;

  // keyId is read from the unverified payload only to pick the key; nothing else is trusted yet.
  let header: unknown;
  try {
    header = JSON.parse(payload);
  } catch {
    return fail("E_MALFORMED", "envelope payload is not JSON");
  }
  const keyId =
    typeof header === "object" && header !== null
      ? (header as { keyId?: unknown }).keyId
      : undefined;
  if (typeof keyId !== "string") return fail("E_MALFORMED", "envelope payload has no keyId");
  const publicKey =
    typeof options.keys === "function" ? options.keys(keyId) : options.keys.get(keyId);
  if (publicKey === undefined)
    return fail("E_UNKNOWN_KEY", `no trusted fleet key with keyId "${keyId}"`);

  let signatureBytes: Uint8Array;
  try {
    signatureBytes = fromBase64url(signature);
  } catch {
    // 86 characters carry 516 bits; non-zero spare bits would give a second text for one signature.
    return fail("E_MALFORMED", "envelope signature is not canonical base64url");
  }
  const backend = options.backend ?? ed25519;
  if (!backend.verify(encoder.encode(payload), signatureBytes, publicKey)) {
    return fail("E_BAD_SIGNATURE", `signature does not verify with key "${keyId}"`);
  }
  if (!isCanonicalJsonOf(header, payload)) {
    return fail("E_NOT_CANONICAL", "envelope payload is not in RFC 8785 canonical form");
  }

  const checked = validate(EnvelopeHeader, header, "envelope");
  if (!checked.ok) return fail("E_SCHEMA", checked.error.message);
  const envelope = checked.value;

  const bodies: Readonly<Record<string, TSchema>> = options.bodies ?? COMMAND_BODIES;
  const bodySchema = Object.hasOwn(bodies, envelope.type) ? bodies[envelope.type] : undefined;
  if (bodySchema === undefined)
    return fail("E_UNKNOWN_TYPE", `envelope type "${envelope.type}" is not known`);
  const body = validate(bodySchema, envelope.body, `${envelope.type} body`);
  if (!body.ok) return fail("E_SCHEMA", body.error.message);
  const impossible = impossibleInstant(body.value);
  if (impossible !== undefined) {
    return fail(
      "E_SCHEMA",
      `${envelope.type} body is not valid at ${impossible.path}: "${impossible.text}" is not a real instant`,
    );
  }

  if (envelope.deviceId !== options.deviceId) {
    return fail(
      "E_WRONG_DEVICE",
      `envelope ${envelope.id} is for ${envelope.deviceId}, not ${options.deviceId}`,
    );
  }
  const issuedAt = parseInstant(envelope.issuedAt);
  const expiresAt = parseInstant(envelope.expiresAt);
  if (Number.isNaN(issuedAt) || Number.isNaN(expiresAt) || expiresAt <= issuedAt) {
    return fail("E_SCHEMA", `envelope ${envelope.id} has an impossible validity period`);
  }
  const skew = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  if (options.now + skew < issuedAt) {
    return fail(
      "E_NOT_YET_VALID",
      `envelope ${envelope.id} issued at ${envelope.issuedAt} is not yet valid (lock time ${formatInstant(options.now)})`,
    );
  }
  if (options.now >= expiresAt) {
    return fail(
      "E_EXPIRED",
      `envelope ${envelope.id} expired at ${envelope.expiresAt} (lock time ${formatInstant(options.now)})`,
    );
  }
  if (options.replayGuard !== undefined) {
    const sender = options.sender ?? "fleet";
    const highest = options.replayGuard.highest(sender);
    if (envelope.seq <= highest) {
      return fail(
        "E_REPLAY",
        `envelope ${envelope.id} has seq ${envelope.seq}, not above ${highest}`,
      );
    }
    options.replayGuard.accept(sender, envelope.seq);
  }
  return succeed({
    type: envelope.type,
    deviceId: envelope.deviceId,
    id: envelope.id,
    seq: envelope.seq,
    issuedAt,
    expiresAt,
    keyId: envelope.keyId,
    body: body.value,
    payload,
  });
}

const INSTANT_SHAPE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/**
 * The first text in a body that has the form of an instant but names none (2026-02-30,
 * 25:00): the schemas check the form only, and such a time would reach the lock's clock.
 */
function impossibleInstant(value: unknown): { path: string; text: string } | undefined {
  const keys: string[] = [];
  const text = findImpossibleInstant(value, keys);
  // The path is written only for the one found: building it for every member of a large
  // body (an audit batch) would cost more than the search.
  return text === undefined ? undefined : { path: `/${keys.reverse().join("/")}`, text };
}

/** Pushes the keys from the instant found up to `value`, innermost first. */
function findImpossibleInstant(value: unknown, keys: string[]): string | undefined {
  if (typeof value === "string") {
    // An instant has 20 to 24 characters; the length spares most strings the pattern.
    return value.length >= 20 &&
      value.length <= 24 &&
      INSTANT_SHAPE.test(value) &&
      Number.isNaN(parseInstant(value))
      ? value
      : undefined;
  }
  if (value === null || typeof value !== "object") return undefined;
  for (const key of Object.keys(value)) {
    const found = findImpossibleInstant((value as Record<string, unknown>)[key], keys);
    if (found !== undefined) {
      keys.push(key);
      return found;
    }
  }
  return undefined;
}

/** Opens a fleet command: like openEnvelope, with the body typed by the command type. */
export function openCommand(
  received: Uint8Array | string,
  options: Omit<OpenEnvelopeOptions, "bodies">,
): Result<OpenedCommand, EnvelopeErrorCode> {
  return openEnvelope(received, options) as Result<OpenedCommand, EnvelopeErrorCode>;
}

/** The envelope id, read without verification, so a rejection can still name what it answers. */
export function peekEnvelopeId(received: Uint8Array | string): string | undefined {
  try {
    const wire = JSON.parse(typeof received === "string" ? received : utf8.decode(received)) as {
      payload?: unknown;
    };
    if (typeof wire.payload !== "string") return undefined;
    const id = (JSON.parse(wire.payload) as { id?: unknown }).id;
    return typeof id === "string" && id.length <= 64 ? id : undefined;
  } catch {
    return undefined;
  }
}
