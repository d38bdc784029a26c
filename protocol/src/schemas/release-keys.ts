/**
 * Release-key rotation and revocation, shaped like TUF's root metadata: a numbered set of
 * release public keys with a signature threshold and an expiry. A new set is trusted only when
 * a threshold of the keys the lock trusts now signed it (the old keys vouch for the new) and a
 * threshold of its own keys signed it too (whoever installs a key can use it). A key left out of
 * a newer set is revoked: releases it signed are refused from then on.
 *
 * On the wire a set is `{payload, signatures}`: `payload` is the RFC 8785 canonical text of
 * ReleaseKeySetMetadata, each signature Ed25519 by one release key over those bytes.
 */
import { type Static, Type } from "@sinclair/typebox";
import { Instant, KeyId, PublicKey, Signature, Strict } from "./common.js";

export const RELEASE_KEY_SET_METADATA_VERSION = 1;
/** At most this many keys in one set, and signatures on one set. */
export const MAX_RELEASE_KEYS = 8;
/** An offer carries at most this many key sets (the chain from what the locks may still trust). */
export const MAX_RELEASE_KEY_CHAIN = 8;

export const ReleaseKeyEntry = Strict({ keyId: KeyId, publicKey: PublicKey });
export type ReleaseKeyEntry = Static<typeof ReleaseKeyEntry>;

export const ReleaseKeySetMetadata = Strict({
  v: Type.Literal(RELEASE_KEY_SET_METADATA_VERSION),
  type: Type.Literal("releaseKeys"),
  /** Strictly increasing; a lock never goes back to a lower one (a replayed older set). */
  version: Type.Integer({ minimum: 2, maximum: 1_000_000 }),
  issuedAt: Instant,
  /** After this instant, on the lock's trusted clock, the set is stale and releases are refused. */
  expiresAt: Instant,
  /** How many distinct keys of this set must sign the next one (and this one). */
  threshold: Type.Integer({ minimum: 1, maximum: MAX_RELEASE_KEYS }),
  keys: Type.Array(ReleaseKeyEntry, { minItems: 1, maxItems: MAX_RELEASE_KEYS }),
  notes: Type.Optional(Type.String({ maxLength: 500 })),
});
export type ReleaseKeySetMetadata = Static<typeof ReleaseKeySetMetadata>;

export const SignedReleaseKeySet = Strict({
  payload: Type.String({ minLength: 2, maxLength: 4096 }),
  signatures: Type.Array(Strict({ keyId: KeyId, signature: Signature }), {
    minItems: 1,
    maxItems: 2 * MAX_RELEASE_KEYS,
  }),
});
export type SignedReleaseKeySet = Static<typeof SignedReleaseKeySet>;

/** The chain of key sets an offer carries, oldest first. */
export const ReleaseKeyChain = Type.Array(SignedReleaseKeySet, {
  maxItems: MAX_RELEASE_KEY_CHAIN,
});

/** The `data` of `update.keysAccepted` and `update.keysRefused` audit records. */
export const ReleaseKeysAuditData = Strict({
  /** The version of the set accepted or refused (0 when it could not be read). */
  version: Type.Integer({ minimum: 0 }),
  /** The version the lock trusted before. */
  trusted: Type.Integer({ minimum: 0 }),
  keyIds: Type.Optional(Type.Array(KeyId, { maxItems: MAX_RELEASE_KEYS })),
  revoked: Type.Optional(Type.Array(KeyId, { maxItems: 64 })),
  rolloutId: Type.Optional(KeyId),
  code: Type.Optional(Type.String({ pattern: "^E_[A-Z0-9_]{1,60}$" })),
  reason: Type.Optional(Type.String({ maxLength: 500 })),
});
export type ReleaseKeysAuditData = Static<typeof ReleaseKeysAuditData>;
