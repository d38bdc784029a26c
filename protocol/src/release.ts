/**
 * Signing and opening release metadata, and the rules a lock applies before it installs one:
 * strict Ed25519 over the exact canonical bytes (as for envelopes), only release keys, never
 * a version lower than or equal to the running one (rollback), never metadata past its expiry
 * on the lock's trusted clock (freeze), only for its hardware profile, only from a version the
 * release names as a starting point.
 */
import { canonicalJson } from "./canonical-json.js";
import { fromBase64url, toBase64url } from "./crypto/bytes.js";
import { type Ed25519Backend, ed25519 } from "./crypto/ed25519.js";
import { fail, protocolError, RELEASE_ERRORS, type Result, succeed } from "./errors.js";
import { ReleaseMetadata, SEMVER_PATTERN, type SignedRelease } from "./schemas/release.js";
import { formatInstant, parseInstant, validate } from "./validate.js";

/** Stable codes for every way a release or its target is refused. */
export type ReleaseErrorCode = keyof typeof RELEASE_ERRORS;
export const RELEASE_ERROR_CODES = Object.keys(RELEASE_ERRORS) as ReleaseErrorCode[];

/** How far the lock's clock may lag the release's issue time. */
export const RELEASE_CLOCK_SKEW_MS = 5 * 60_000;

export interface OpenedRelease {
  metadata: ReleaseMetadata;
  issuedAt: number;
  expiresAt: number;
  /** The canonical text that was verified. */
  payload: string;
  signature: string;
}

const encoder = new TextEncoder();

export function signRelease(
  metadata: ReleaseMetadata,
  secretKey: Uint8Array,
  backend: Ed25519Backend = ed25519,
): SignedRelease {
  const checked = validate(ReleaseMetadata, metadata, "release");
  if (!checked.ok) throw protocolError("E_RELEASE_SCHEMA", checked.error.message);
  const payload = canonicalJson(metadata);
  return { payload, signature: toBase64url(backend.sign(encoder.encode(payload), secretKey)) };
}

/**
 * Verifies a signed release against the release keys the lock trusts (never its fleet keys):
 * the signature over the received bytes first, then canonical form and schema.
 */
export function openRelease(
  signed: SignedRelease,
  releaseKeys: ReadonlyMap<string, Uint8Array>,
  backend: Ed25519Backend = ed25519,
): Result<OpenedRelease, ReleaseErrorCode> {
  let header: unknown;
  try {
    header = JSON.parse(signed.payload);
  } catch {
    return fail("E_RELEASE_MALFORMED", "release payload is not JSON");
  }
  const keyId =
    typeof header === "object" && header !== null
      ? (header as { keyId?: unknown }).keyId
      : undefined;
  if (typeof keyId !== "string") return fail("E_RELEASE_MALFORMED", "release names no keyId");
  const publicKey = releaseKeys.get(keyId);
  if (publicKey === undefined)
    return fail("E_RELEASE_UNKNOWN_KEY", `no trusted release key with keyId "${keyId}"`);
  let signature: Uint8Array;
  try {
    signature = fromBase64url(signed.signature);
  } catch {
    return fail("E_RELEASE_MALFORMED", "release signature is not canonical base64url");
  }
  if (!backend.verify(encoder.encode(signed.payload), signature, publicKey))
    return fail("E_RELEASE_BAD_SIGNATURE", `release signature does not verify with key "${keyId}"`);
  let canonical: string | undefined;
  try {
    canonical = canonicalJson(header);
  } catch {
    canonical = undefined;
  }
  if (canonical !== signed.payload)
    return fail("E_RELEASE_NOT_CANONICAL", "release payload is not in RFC 8785 canonical form");
  const checked = validate(ReleaseMetadata, header, "release");
  if (!checked.ok) return fail("E_RELEASE_SCHEMA", checked.error.message);
  const issuedAt = parseInstant(checked.value.issuedAt);
  const expiresAt = parseInstant(checked.value.expiresAt);
  if (Number.isNaN(issuedAt) || Number.isNaN(expiresAt) || expiresAt <= issuedAt)
    return fail(
      "E_RELEASE_SCHEMA",
      `release ${checked.value.releaseId} has an impossible validity period`,
    );
  return succeed({
    metadata: checked.value,
    issuedAt,
    expiresAt,
    payload: signed.payload,
    signature: signed.signature,
  });
}

export interface RunningSoftware {
  version: string;
  hardwareProfile: string;
  /** The lock's time, epoch ms, and whether it is trusted (set by the fleet since boot). */
  lockTime: number;
  trustedTime: boolean;
}

/** The lock's rules for installing an opened release on top of what it runs. */
export function checkReleaseApplies(
  release: OpenedRelease,
  running: RunningSoftware,
): Result<OpenedRelease, ReleaseErrorCode> {
  const { metadata } = release;
  const name = `release ${metadata.releaseId} (${metadata.version})`;
  // What needs no clock first: a rollback is refused whatever the time.
  if (compareVersions(metadata.version, running.version) <= 0)
    return fail(
      "E_UPDATE_ROLLBACK",
      `${name} is not newer than the running version ${running.version}`,
    );
  if (compareVersions(running.version, metadata.minimumFromVersion) < 0)
    return fail(
      "E_UPDATE_FROM_TOO_OLD",
      `${name} updates from ${metadata.minimumFromVersion} or later; this lock runs ${running.version}`,
    );
  if (!metadata.hardwareProfiles.includes(running.hardwareProfile))
    return fail(
      "E_UPDATE_PROFILE",
      `${name} is built for ${metadata.hardwareProfiles.join(", ")}, not "${running.hardwareProfile}"`,
    );
  if (!running.trustedTime)
    return fail(
      "E_UPDATE_NO_TRUSTED_TIME",
      `${name} cannot be judged for expiry: the lock has no trusted time since it started`,
    );
  if (running.lockTime >= release.expiresAt)
    return fail(
      "E_UPDATE_FROZEN",
      `${name} metadata expired at ${metadata.expiresAt} (lock time ${formatInstant(running.lockTime)})`,
    );
  if (running.lockTime + RELEASE_CLOCK_SKEW_MS < release.issuedAt)
    return fail(
      "E_UPDATE_NOT_YET_VALID",
      `${name} issued at ${metadata.issuedAt} is not yet valid (lock time ${formatInstant(running.lockTime)})`,
    );
  return succeed(release);
}

/** Checks a downloaded target against its metadata: length first, then SHA-256. */
export function checkTarget(
  metadata: ReleaseMetadata,
  measured: { length: number; sha256: string },
): Result<true, ReleaseErrorCode> {
  if (measured.length !== metadata.target.length)
    return fail(
      "E_UPDATE_LENGTH",
      `target of release ${metadata.releaseId} has ${measured.length} bytes, the release says ${metadata.target.length}`,
    );
  if (measured.sha256 !== metadata.target.sha256)
    return fail(
      "E_UPDATE_HASH",
      `target of release ${metadata.releaseId} has SHA-256 ${measured.sha256}, the release says ${metadata.target.sha256}`,
    );
  return succeed(true);
}

const SEMVER = new RegExp(SEMVER_PATTERN);

/**
 * Semantic-version precedence (semver.org §11): numeric core first; a pre-release sorts below
 * its release; pre-release identifiers compare numerically when both are numbers.
 */
export function compareVersions(a: string, b: string): number {
  const left = SEMVER.exec(a);
  const right = SEMVER.exec(b);
  if (left === null || right === null)
    throw new Error(`E_SCHEMA: "${left === null ? a : b}" is not a semantic version`);
  for (let i = 1; i <= 3; i += 1) {
    const difference = Number(left[i]) - Number(right[i]);
    if (difference !== 0) return Math.sign(difference);
  }
  const leftPre = left[4]?.slice(1);
  const rightPre = right[4]?.slice(1);
  if (leftPre === undefined || rightPre === undefined) {
    if (leftPre === rightPre) return 0;
    return leftPre === undefined ? 1 : -1;
  }
  const leftParts = leftPre.split(".");
  const rightParts = rightPre.split(".");
  for (let i = 0; i < Math.max(leftParts.length, rightParts.length); i += 1) {
    const l = leftParts[i];
    const r = rightParts[i];
    if (l === undefined) return -1;
    if (r === undefined) return 1;
    const lNumeric = /^\d+$/.test(l);
    const rNumeric = /^\d+$/.test(r);
    if (lNumeric && rNumeric) {
      const difference = Number(l) - Number(r);
      if (difference !== 0) return Math.sign(difference);
    } else if (lNumeric !== rNumeric) {
      return lNumeric ? -1 : 1;
    } else if (l !== r) {
      return l < r ? -1 : 1;
    }
  }
  return 0;
}
