/** The signed envelope's header fields (SPEC §4). */
import { type Static, Type } from "@sinclair/typebox";
import { DeviceId, Id, Instant, KeyId, Seq, Signature, Strict } from "./common.js";

export const ENVELOPE_VERSION = 1;

export const EnvelopeHeader = Strict({
  v: Type.Literal(ENVELOPE_VERSION),
  type: Type.String({ minLength: 1, maxLength: 64 }),
  deviceId: DeviceId,
  id: Id,
  seq: Seq,
  issuedAt: Instant,
  expiresAt: Instant,
  keyId: KeyId,
  body: Type.Unknown(),
});

/**
 * What travels: `payload` is the canonical JSON text that was signed, carried as a string so
 * the receiver verifies the exact bytes it got, never a re-serialised copy.
 */
export const SignedEnvelope = Strict({ payload: Type.String(), signature: Signature });
export type SignedEnvelope = Static<typeof SignedEnvelope>;
