/**
 * Signed software releases for the locks (SPEC §4 key roles: a release key separate from the
 * fleet's command key and from the device keys). The shape follows TUF's targets metadata: a
 * version, an expiry, the target's SHA-256 and length, and what it may be installed on.
 *
 * On the wire a release is `{payload, signature}` like an envelope: `payload` is the RFC 8785
 * canonical text of ReleaseMetadata, the signature is Ed25519 by a release key over those bytes.
 */
import { type Static, Type } from "@sinclair/typebox";
import { Hash, Id, Instant, KeyId, Signature, Strict } from "./common.js";
import { ReleaseKeyChain } from "./release-keys.js";

/** Semantic version `MAJOR.MINOR.PATCH` with an optional pre-release (`1.4.0-rc.2`). */
export const SEMVER_PATTERN =
  "^(0|[1-9]\\d{0,8})\\.(0|[1-9]\\d{0,8})\\.(0|[1-9]\\d{0,8})(-[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?$";
export const SemVer = Type.String({ pattern: SEMVER_PATTERN, maxLength: 64 });

export const RELEASE_METADATA_VERSION = 1;
/** A target larger than this is refused before any byte is fetched. */
export const MAX_TARGET_BYTES = 512 * 1024 * 1024;

export const ReleaseTarget = Strict({
  /** File name of the archive (a gzip-compressed tar of the install tree). */
  name: Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$" }),
  sha256: Hash,
  length: Type.Integer({ minimum: 1, maximum: MAX_TARGET_BYTES }),
});
export type ReleaseTarget = Static<typeof ReleaseTarget>;

export const ReleaseMetadata = Strict({
  v: Type.Literal(RELEASE_METADATA_VERSION),
  type: Type.Literal("release"),
  releaseId: Id,
  version: SemVer,
  issuedAt: Instant,
  /** After this instant (on the lock's trusted clock) the metadata is stale: a freeze attack. */
  expiresAt: Instant,
  /** The release key that signs this metadata; never a fleet command key. */
  keyId: KeyId,
  target: ReleaseTarget,
  /** Hardware profile ids this build runs on. */
  hardwareProfiles: Type.Array(Type.String({ pattern: "^[a-z0-9][a-z0-9-]{0,63}$" }), {
    minItems: 1,
    maxItems: 32,
    uniqueItems: true,
  }),
  /** The oldest running version that may update to this one directly. */
  minimumFromVersion: SemVer,
  notes: Type.Optional(Type.String({ maxLength: 2000 })),
});
export type ReleaseMetadata = Static<typeof ReleaseMetadata>;

export const SignedRelease = Strict({
  payload: Type.String({ minLength: 2, maxLength: 8192 }),
  signature: Signature,
});
export type SignedRelease = Static<typeof SignedRelease>;

/**
 * The fleet's `update.offer` command: the fleet decides *which* lock updates and when (its own
 * signature on the envelope), the release key decides *what* may run (its signature inside) —
 * the two-role split Uptane uses (director and image repository).
 */
export const UpdateOfferBody = Strict({
  release: SignedRelease,
  rolloutId: Id,
  download: Strict({
    /** HTTP(S) address of the target; the lock fetches it in ranges. */
    url: Type.String({ pattern: "^https?://[^\\s]{1,2000}$" }),
    /** Bearer token for this lock and this rollout (stored by the fleet only as a hash). */
    token: Type.String({ pattern: "^[A-Za-z0-9_-]{16,128}$" }),
  }),
  /**
   * The release-key sets the fleet keeps, oldest first: the lock takes the ones newer than its
   * own (each vouched for by the keys it trusts) before it judges the release.
   */
  releaseKeys: Type.Optional(ReleaseKeyChain),
});
export type UpdateOfferBody = Static<typeof UpdateOfferBody>;

/**
 * What a lock reports of an update, step by step, in its own hash-chained, device-signed audit
 * log: the fleet derives each lock's rollout status from these records only.
 */
export const UPDATE_STEPS = [
  "offered",
  "refused",
  "downloading",
  "verified",
  "installed",
  "switched",
  "healthy",
  "rolledBack",
] as const;
export type UpdateStep = (typeof UPDATE_STEPS)[number];

/** The `data` of every `update.*` audit record. */
export const UpdateAuditData = Strict({
  releaseId: Id,
  version: SemVer,
  /** The version running when the step was taken. */
  running: SemVer,
  rolloutId: Type.Optional(Id),
  /** Stable error code of a refusal, failed download or failed health check. */
  code: Type.Optional(Type.String({ pattern: "^E_[A-Z0-9_]{1,60}$" })),
  reason: Type.Optional(Type.String({ maxLength: 500 })),
  bytes: Type.Optional(Type.Integer({ minimum: 0 })),
  slot: Type.Optional(Type.Union([Type.Literal("a"), Type.Literal("b")])),
});
export type UpdateAuditData = Static<typeof UpdateAuditData>;
