/**
 * Release-key rotation and revocation (TUF root rules): which release keys a lock trusts, how a
 * signed key set moves that trust forward, and what a release signed by a revoked key gets.
 * Shared by the lock (which decides) and the fleet (which checks early so that a bank sees a
 * mistake before any lock refuses it); neither needs a private release key.
 */
import { canonicalJson } from "./canonical-json.js";
import { fromBase64url, toBase64url } from "./crypto/bytes.js";
import { ED25519_PUBLIC_KEY_BYTES, type Ed25519Backend, ed25519 } from "./crypto/ed25519.js";
import { fail, protocolError, RELEASE_KEYS_ERRORS, type Result, succeed } from "./errors.js";
import {
  type OpenedRelease,
  openRelease,
  RELEASE_CLOCK_SKEW_MS,
  type ReleaseErrorCode,
} from "./release.js";
import type { SignedRelease } from "./schemas/release.js";
import {
  MAX_RELEASE_KEYS,
  ReleaseKeySetMetadata,
  type SignedReleaseKeySet,
} from "./schemas/release-keys.js";
import { formatInstant, parseInstant, validate } from "./validate.js";

/** Stable codes for every way a key set, or a release under the trusted keys, is refused. */
export type ReleaseKeysErrorCode = keyof typeof RELEASE_KEYS_ERRORS;
export const RELEASE_KEYS_ERROR_CODES = Object.keys(RELEASE_KEYS_ERRORS) as ReleaseKeysErrorCode[];

/** The release keys trusted now: the installed ones, moved forward by every accepted set. */
export interface TrustedReleaseKeys {
  /** 1 for the installed keys (unless their file says otherwise), then each accepted set's. */
  version: number;
  threshold: number;
  keys: ReadonlyMap<string, Uint8Array>;
  /** Epoch ms; undefined for installed keys, which do not expire. */
  expiresAt: number | undefined;
  /** Key ids an earlier set or the installed file trusted and a later set left out. */
  revoked: ReadonlySet<string>;
  /** The signed sets accepted on top of the installed keys, oldest first. */
  chain: readonly SignedReleaseKeySet[];
}

export interface TrustClock {
  lockTime: number;
  trustedTime: boolean;
}

const encoder = new TextEncoder();
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

export function installedReleaseKeys(
  keys: ReadonlyMap<string, Uint8Array>,
  options: { version?: number; threshold?: number } = {},
): TrustedReleaseKeys {
  return {
    version: options.version ?? 1,
    threshold: options.threshold ?? 1,
    keys,
    expiresAt: undefined,
    revoked: new Set(),
    chain: [],
  };
}

/**
 * Reads the installed release-keys file (`/etc/lockfleet/release-keys.json` on a lock,
 * `<dataDir>/release-keys.json` at the fleet): the public half of each key as the release tool
 * prints it, and optionally the version and threshold of this installed set.
 *
 *   {"version": 1, "threshold": 1, "keys": [{"keyId": "release-2026", "publicKey": "<base64url>"}]}
 */
export function parseReleaseKeyFile(
  text: string,
  name: string,
): Result<TrustedReleaseKeys, ReleaseKeysErrorCode> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return fail(
      "E_RELEASE_KEYS_FILE",
      `${name} cannot be read as JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const file = (parsed ?? {}) as { keys?: unknown; version?: unknown; threshold?: unknown };
  const keys = file.keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_RELEASE_KEYS)
    return fail(
      "E_RELEASE_KEYS_FILE",
      `${name} holds no "keys" list of 1 to ${MAX_RELEASE_KEYS} keys`,
    );
  const trusted = new Map<string, Uint8Array>();
  for (const key of keys as Array<{ keyId?: unknown; publicKey?: unknown } | null>) {
    const publicKey = decodeKey(key?.publicKey);
    if (typeof key?.keyId !== "string" || !KEY_ID.test(key.keyId) || publicKey === undefined)
      return fail(
        "E_RELEASE_KEYS_FILE",
        `${name}: each key needs a keyId and a 32-byte base64url publicKey`,
      );
    trusted.set(key.keyId, publicKey);
  }
  const version = file.version ?? 1;
  const threshold = file.threshold ?? 1;
  if (
    !Number.isInteger(version) ||
    (version as number) < 1 ||
    !Number.isInteger(threshold) ||
    (threshold as number) < 1 ||
    (threshold as number) > trusted.size
  )
    return fail(
      "E_RELEASE_KEYS_FILE",
      `${name}: "version" must be a whole number from 1, "threshold" from 1 to the number of keys`,
    );
  return succeed(
    installedReleaseKeys(trusted, { version: version as number, threshold: threshold as number }),
  );
}

function decodeKey(value: unknown): Uint8Array | undefined {
  if (typeof value !== "string") return undefined;
  try {
    const key = fromBase64url(value);
    return key.length === ED25519_PUBLIC_KEY_BYTES ? key : undefined;
  } catch {
    return undefined;
  }
}

/** Signs a key set with each signer (the old keys that vouch for it and its own new keys). */
export function signReleaseKeySet(
  metadata: ReleaseKeySetMetadata,
  signers: ReadonlyArray<{ keyId: string; secretKey: Uint8Array }>,
  backend: Ed25519Backend = ed25519,
): SignedReleaseKeySet {
  const checked = validate(ReleaseKeySetMetadata, metadata, "releaseKeys");
  if (!checked.ok) throw protocolError("E_RELEASE_KEYS_SCHEMA", checked.error.message);
  const payload = canonicalJson(metadata);
  const bytes = encoder.encode(payload);
  return {
    payload,
    signatures: signers.map((signer) => ({
      keyId: signer.keyId,
      signature: toBase64url(backend.sign(bytes, signer.secretKey)),
    })),
  };
}

/** The version a signed set claims, without trusting it (for records of a refusal). */
export function peekKeySetVersion(signed: SignedReleaseKeySet): number {
  try {
    const version = (JSON.parse(signed.payload) as { version?: unknown }).version;
    return Number.isInteger(version) && (version as number) > 0 ? (version as number) : 0;
  } catch {
    return 0;
  }
}

/** Distinct key ids whose signature over the payload verifies with that id's key in `keys`. */
function validSigners(
  signed: SignedReleaseKeySet,
  keys: ReadonlyMap<string, Uint8Array>,
  backend: Ed25519Backend,
): Set<string> {
  const bytes = encoder.encode(signed.payload);
  const valid = new Set<string>();
  for (const { keyId, signature } of signed.signatures) {
    const publicKey = keys.get(keyId);
    if (publicKey === undefined || valid.has(keyId)) continue;
    let raw: Uint8Array;
    try {
      raw = fromBase64url(signature);
    } catch {
      continue;
    }
    if (backend.verify(bytes, raw, publicKey)) valid.add(keyId);
  }
  return valid;
}

export interface AdvancedReleaseKeys {
  trusted: TrustedReleaseKeys;
  metadata: ReleaseKeySetMetadata;
  /** Key ids trusted before and left out now. */
  revokedNow: string[];
}

/**
 * One step of trust: the set must be canonical, well formed, newer than the trusted one, bind
 * no trusted key id to another key, and carry valid signatures of a threshold of the trusted
 * keys and of a threshold of its own. Time is judged separately (`checkReleaseKeysFresh`):
 * in a chain only the newest set has to be unexpired, as in TUF.
 */
export function advanceReleaseKeys(
  current: TrustedReleaseKeys,
  signed: SignedReleaseKeySet,
  backend: Ed25519Backend = ed25519,
): Result<AdvancedReleaseKeys, ReleaseKeysErrorCode> {
  let header: unknown;
  try {
    header = JSON.parse(signed.payload);
  } catch {
    return fail("E_RELEASE_KEYS_MALFORMED", "key set payload is not JSON");
  }
  let canonical: string | undefined;
  try {
    canonical = canonicalJson(header);
  } catch {
    canonical = undefined;
  }
  if (canonical !== signed.payload)
    return fail(
      "E_RELEASE_KEYS_NOT_CANONICAL",
      "key set payload is not in RFC 8785 canonical form",
    );
  const checked = validate(ReleaseKeySetMetadata, header, "releaseKeys");
  if (!checked.ok) return fail("E_RELEASE_KEYS_SCHEMA", checked.error.message);
  const metadata = checked.value;
  const name = `release key set ${metadata.version}`;
  const issuedAt = parseInstant(metadata.issuedAt);
  const expiresAt = parseInstant(metadata.expiresAt);
  if (Number.isNaN(issuedAt) || Number.isNaN(expiresAt) || expiresAt <= issuedAt)
    return fail("E_RELEASE_KEYS_SCHEMA", `${name} has an impossible validity period`);
  const keys = new Map<string, Uint8Array>();
  for (const entry of metadata.keys) {
    const publicKey = decodeKey(entry.publicKey);
    if (publicKey === undefined || keys.has(entry.keyId))
      return fail("E_RELEASE_KEYS_SCHEMA", `${name} names key "${entry.keyId}" twice or badly`);
    keys.set(entry.keyId, publicKey);
  }
  if (metadata.threshold > keys.size)
    return fail("E_RELEASE_KEYS_SCHEMA", `${name} asks for more signatures than it has keys`);
  if (metadata.version <= current.version)
    return fail(
      "E_RELEASE_KEYS_ROLLBACK",
      `${name} is not newer than the trusted key set ${current.version}`,
    );
  for (const [keyId, publicKey] of keys) {
    const trusted = current.keys.get(keyId);
    if (trusted !== undefined && toBase64url(trusted) !== toBase64url(publicKey))
      return fail(
        "E_RELEASE_KEYS_REBOUND",
        `${name} binds trusted key id "${keyId}" to another key`,
      );
  }
  const byTrusted = validSigners(signed, current.keys, backend);
  if (byTrusted.size < current.threshold)
    return fail(
      "E_RELEASE_KEYS_THRESHOLD",
      `${name} carries ${byTrusted.size} valid signature(s) of trusted release keys; ${current.threshold} needed`,
    );
  const byOwn = validSigners(signed, keys, backend);
  if (byOwn.size < metadata.threshold)
    return fail(
      "E_RELEASE_KEYS_NEW_THRESHOLD",
      `${name} carries ${byOwn.size} valid signature(s) of its own keys; ${metadata.threshold} needed`,
    );
  const revokedNow = [...current.keys.keys()].filter((keyId) => !keys.has(keyId));
  const revoked = new Set([...current.revoked, ...revokedNow]);
  for (const keyId of keys.keys()) revoked.delete(keyId);
  return succeed({
    trusted: {
      version: metadata.version,
      threshold: metadata.threshold,
      keys,
      expiresAt,
      revoked,
      chain: [...current.chain, signed],
    },
    metadata,
    revokedNow,
  });
}

/** The newest accepted set must be valid now on the lock's trusted clock. */
export function checkReleaseKeysFresh(
  trusted: TrustedReleaseKeys,
  issuedAt: number | undefined,
  clock: TrustClock,
): Result<true, ReleaseKeysErrorCode> {
  if (trusted.expiresAt === undefined) return succeed(true);
  const name = `release key set ${trusted.version}`;
  if (!clock.trustedTime)
    return fail(
      "E_RELEASE_KEYS_NO_TRUSTED_TIME",
      `${name} cannot be judged for expiry: no trusted time since start`,
    );
  if (clock.lockTime >= trusted.expiresAt)
    return fail(
      "E_RELEASE_KEYS_EXPIRED",
      `${name} expired at ${formatInstant(trusted.expiresAt)} (lock time ${formatInstant(clock.lockTime)})`,
    );
  if (issuedAt !== undefined && clock.lockTime + RELEASE_CLOCK_SKEW_MS < issuedAt)
    return fail(
      "E_RELEASE_KEYS_NOT_YET_VALID",
      `${name} issued at ${formatInstant(issuedAt)} is not yet valid (lock time ${formatInstant(clock.lockTime)})`,
    );
  return succeed(true);
}

export interface KeyChainOutcome {
  trusted: TrustedReleaseKeys;
  /** The sets accepted now, oldest first (empty: nothing changed). */
  accepted: ReleaseKeySetMetadata[];
  revokedNow: string[];
  /** The first set refused, if any; nothing of the chain was taken then. */
  refused?: { version: number; code: ReleaseKeysErrorCode; message: string };
}

/**
 * Applies a chain of key sets (oldest first) on top of the trusted keys, all or nothing: sets
 * already trusted are passed over, each newer one must be vouched for by the one before, and
 * the newest must be unexpired. Sets at or below the trusted version change nothing and are
 * passed over; a chain of nothing but such sets the lock never took is a replay, refused.
 */
export function applyReleaseKeyChain(
  current: TrustedReleaseKeys,
  chain: readonly SignedReleaseKeySet[],
  clock: TrustClock,
  backend: Ed25519Backend = ed25519,
): KeyChainOutcome {
  const known = new Set(current.chain.map((signed) => signed.payload));
  let trusted = current;
  let issuedAt: number | undefined;
  const accepted: ReleaseKeySetMetadata[] = [];
  const revokedNow = new Set<string>();
  const refuse = (signed: SignedReleaseKeySet, code: ReleaseKeysErrorCode, message: string) => ({
    trusted: current,
    accepted: [],
    revokedNow: [],
    refused: { version: peekKeySetVersion(signed), code, message },
  });
  let replayed: SignedReleaseKeySet | undefined;
  for (const signed of chain) {
    if (known.has(signed.payload)) continue;
    // A set at or below the trusted version changes nothing; alone it is a replay (below).
    if (peekKeySetVersion(signed) <= trusted.version) {
      replayed ??= signed;
      continue;
    }
    const step = advanceReleaseKeys(trusted, signed, backend);
    if (!step.ok) return refuse(signed, step.error.code, step.error.message);
    trusted = step.value.trusted;
    issuedAt = parseInstant(step.value.metadata.issuedAt);
    accepted.push(step.value.metadata);
    for (const keyId of step.value.revokedNow) revokedNow.add(keyId);
  }
  const last = chain[chain.length - 1];
  if (accepted.length > 0 && last !== undefined) {
    const fresh = checkReleaseKeysFresh(trusted, issuedAt, clock);
    if (!fresh.ok) return refuse(last, fresh.error.code, fresh.error.message);
  }
  if (accepted.length === 0 && replayed !== undefined)
    return refuse(
      replayed,
      "E_RELEASE_KEYS_ROLLBACK",
      `release key set ${peekKeySetVersion(replayed)} is not newer than the trusted key set ${current.version}`,
    );
  for (const keyId of trusted.keys.keys()) revokedNow.delete(keyId);
  return { trusted, accepted, revokedNow: [...revokedNow] };
}

/**
 * Opens a release under the trusted keys: a release signed by a revoked key is named as such,
 * and while the newest accepted key set has expired no release is taken (a freeze of the keys).
 */
export function openTrustedRelease(
  signed: SignedRelease,
  trusted: TrustedReleaseKeys,
  clock: TrustClock | undefined,
  backend: Ed25519Backend = ed25519,
): Result<OpenedRelease, ReleaseErrorCode | ReleaseKeysErrorCode> {
  let keyId: unknown;
  try {
    keyId = (JSON.parse(signed.payload) as { keyId?: unknown } | null)?.keyId;
  } catch {
    keyId = undefined;
  }
  if (typeof keyId === "string" && trusted.revoked.has(keyId) && !trusted.keys.has(keyId))
    return fail(
      "E_RELEASE_KEY_REVOKED",
      `release key "${keyId}" was revoked by release key set ${trusted.version}`,
    );
  if (clock?.trustedTime === true && trusted.expiresAt !== undefined) {
    const fresh = checkReleaseKeysFresh(trusted, undefined, clock);
    if (!fresh.ok) return fresh;
  }
  return openRelease(signed, trusted.keys, backend);
}
