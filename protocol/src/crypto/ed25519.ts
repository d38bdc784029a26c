// Strict Ed25519 (RFC 8032) with two independent implementations behind one interface:
// node:crypto (OpenSSL) for speed and tweetnacl as a second opinion. Both verify through the
// same strict pre-check, so they give the same answer on every input, including hostile ones.

import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign as opensslSign,
  verify as opensslVerify,
  randomBytes,
} from "node:crypto";
import nacl from "tweetnacl";
import { protocolError } from "../errors.js";
import { concatBytes, constantTimeEqual, fromHex, toHex } from "./bytes.js";

export const ED25519_SEED_BYTES = 32;
export const ED25519_PUBLIC_KEY_BYTES = 32;
/** seed || public key, the tweetnacl/libsodium format. */
export const ED25519_SECRET_KEY_BYTES = 64;
/** R (a point, 32 bytes) || S (a scalar, 32 bytes little-endian). */
export const ED25519_SIGNATURE_BYTES = 64;

export interface Ed25519KeyPair {
  publicKey: Uint8Array;
  /** seed || publicKey (64 bytes). */
  secretKey: Uint8Array;
}

export interface Ed25519Backend {
  readonly name: "node" | "tweetnacl";
  generateKeyPair(): Ed25519KeyPair;
  /** Throws "E_BAD_KEY: ..." unless the seed is 32 bytes. */
  keyPairFromSeed(seed: Uint8Array): Ed25519KeyPair;
  /** 64-byte detached signature. Throws "E_BAD_KEY: ..." on a malformed or mismatched key. */
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  /** Strict verification; false (never an exception) on anything malformed. */
  verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean;
}

// --- Strict encoding checks (no BigInt: they run on every verification) ---

/** The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const GROUP_ORDER_LE = fromHex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");

/**
 * y-coordinates (little-endian, sign bit clear) of the 8 points of order dividing 8: the identity
 * (y = 1), the point of order 2 (y = p-1), the two of order 4 (y = 0) and the four of order 8
 * (two y values). Also y = p and y = p+1, the only other encodings of those y (0 and 1) below 2^255,
 * so this check stands alone even without the canonical-encoding check. The tests prove each one.
 */
export const SMALL_ORDER_Y_HEX: readonly string[] = Object.freeze([
  "0000000000000000000000000000000000000000000000000000000000000000", // y = 0, order 4
  "0100000000000000000000000000000000000000000000000000000000000000", // y = 1, identity
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p-1, order 2
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8 (p minus the above)
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p ≡ 0, non-canonical
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p+1 ≡ 1, non-canonical
]);
const SMALL_ORDER_Y = SMALL_ORDER_Y_HEX.map(fromHex);

/** True when S (signature bytes 32..64, little-endian) is below the group order L. */
export function isCanonicalSignatureScalar(sig: Uint8Array): boolean {
  if (sig.length !== ED25519_SIGNATURE_BYTES) return false;
  // Compare from the most significant byte down; `?? 0` only satisfies noUncheckedIndexedAccess.
  for (let i = 31; i >= 0; i--) {
    const s = sig[32 + i] ?? 0;
    const l = GROUP_ORDER_LE[i] ?? 0;
    if (s !== l) return s < l;
  }
  return false; // S = L
}

/**
 * True when the 32 bytes are the canonical encoding of a y-coordinate and x-sign: y < p = 2^255-19
 * (on the low 255 bits) and no sign bit on x = 0 (y = 1 or p-1), as RFC 8032 §5.1.3 decoding
 * demands. Whether y is on the curve is left to the backends.
 */
export function isCanonicalPointEncoding(p: Uint8Array): boolean {
  if (p.length !== ED25519_PUBLIC_KEY_BYTES) return false;
  const low = p[0] ?? 0;
  const top = (p[31] ?? 0) & 0x7f;
  const xSign = (p[31] ?? 0) & 0x80;
  let middleAllOnes = true;
  let middleAllZeros = true;
  for (let i = 1; i < 31; i++) {
    if (p[i] !== 0xff) middleAllOnes = false;
    if (p[i] !== 0) middleAllZeros = false;
  }
  if (middleAllOnes && top === 0x7f) {
    if (low >= 0xed) return false; // y in [p, 2^255): y >= p
    if (low === 0xec && xSign) return false; // y = p-1 has x = 0: "-0"
  }
  if (middleAllZeros && top === 0 && low === 1 && xSign) return false; // y = 1 has x = 0: "-0"
  return true;
}

/** True when the encoding is one of a point of order 1, 2, 4 or 8 (either x sign). */
export function hasSmallOrder(p: Uint8Array): boolean {
  if (p.length !== ED25519_PUBLIC_KEY_BYTES) {
    // Fail closed: a caller must not read "false" as "safe" for something that is not a point.
    throw protocolError("E_BAD_POINT", `a point encoding is 32 bytes, got ${p.length}`);
  }
  return SMALL_ORDER_Y.some((y) => equalIgnoringSignBit(p, y));
}

function equalIgnoringSignBit(point: Uint8Array, y: Uint8Array): boolean {
  for (let i = 0; i < 31; i++) if (point[i] !== y[i]) return false;
  return ((point[31] ?? 0) & 0x7f) === y[31];
}

/**
 * The checks RFC 8032 §5.1.7 demands but implementations skip (tweetnacl accepts S + L and
 * non-canonical keys), plus libsodium's refusal of small-order A and R. Applied before either
 * backend so that they cannot disagree on what is malformed.
 */
function passesStrictChecks(message: unknown, signature: unknown, publicKey: unknown): boolean {
  if (!(message instanceof Uint8Array)) return false;
  if (!(signature instanceof Uint8Array) || signature.length !== ED25519_SIGNATURE_BYTES) {
    return false;
  }
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== ED25519_PUBLIC_KEY_BYTES) {
    return false;
  }
  const commitment = signature.subarray(0, 32); // R
  return (
    isCanonicalSignatureScalar(signature) &&
    isCanonicalPointEncoding(publicKey) &&
    !hasSmallOrder(publicKey) &&
    isCanonicalPointEncoding(commitment) &&
    !hasSmallOrder(commitment)
  );
}

// --- Key caches ---

/** A Map that forgets its oldest entry beyond `capacity`: a fleet may see many device keys. */
class BoundedCache<V> {
  readonly #entries = new Map<string, V>();
  constructor(readonly capacity: number) {}

  get(key: string): V | undefined {
    return this.#entries.get(key);
  }

  set(key: string, value: V): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, value);
  }
}

const CACHE_CAPACITY = 256;

function assertLength(bytes: Uint8Array, length: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    const actual = bytes instanceof Uint8Array ? `${bytes.length} bytes` : typeof bytes;
    throw protocolError("E_BAD_KEY", `an Ed25519 ${what} is ${length} bytes, got ${actual}`);
  }
}

/**
 * Turns a secret key into a backend's signing key, checking once per key that its public half
 * belongs to its seed: tweetnacl would otherwise sign with a public key the signer doesn't own,
 * giving signatures nobody can verify. Entries are keyed by the public half (not by the secret,
 * so no hex copy of a seed lingers in an unwipeable string) and hold the seed for comparison.
 */
class SigningKeyCache<K> {
  readonly #checked = new BoundedCache<{ seed: Uint8Array; signingKey: K }>(CACHE_CAPACITY);
  constructor(
    private readonly derive: (seed: Uint8Array) => { publicKey: Uint8Array; signingKey: K },
  ) {}

  signingKeyFor(secretKey: Uint8Array): K {
    assertLength(secretKey, ED25519_SECRET_KEY_BYTES, "secret key (seed || public key)");
    const seed = secretKey.subarray(0, ED25519_SEED_BYTES);
    const claimedPublicKey = secretKey.subarray(ED25519_SEED_BYTES);
    const id = toHex(claimedPublicKey);
    const cached = this.#checked.get(id);
    if (cached !== undefined && constantTimeEqual(cached.seed, seed)) return cached.signingKey;

    const { publicKey, signingKey } = this.derive(seed);
    if (!constantTimeEqual(publicKey, claimedPublicKey)) {
      throw protocolError(
        "E_BAD_KEY",
        `the public half of the Ed25519 secret key (${id.slice(0, 16)}…) ` +
          "is not the public key of its seed",
      );
    }
    this.#checked.set(id, { seed: seed.slice(), signingKey });
    return signingKey;
  }
}

// --- node:crypto backend ---

// DER headers that wrap raw Ed25519 bytes (RFC 8410) so OpenSSL can import them.
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

function privateKeyObjectFromSeed(seed: Uint8Array): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
}

function rawPublicKeyOf(privateKey: KeyObject): Uint8Array {
  const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" });
  return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
}

const nodeSigningKeys = new SigningKeyCache((seed) => {
  const signingKey = privateKeyObjectFromSeed(seed);
  return { publicKey: rawPublicKeyOf(signingKey), signingKey };
});

/**
 * Imported public keys by their bytes. A fleet verifies every message of every lock, so this
 * holds one entry per connected lock (about 850 bytes each): importing a key costs as much as
 * the verification itself, and a cache smaller than the fleet re-imports on every message of a
 * reconnect storm (a quarter of the fleet's CPU in one). Sized for 50,000 locks with room over.
 */
const PUBLIC_KEY_CACHE_CAPACITY = 65_536;
const nodePublicKeys = new BoundedCache<KeyObject>(PUBLIC_KEY_CACHE_CAPACITY);

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const id = toHex(publicKey);
  let keyObject = nodePublicKeys.get(id);
  if (keyObject === undefined) {
    keyObject = createPublicKey({
      key: Buffer.concat([SPKI_PREFIX, publicKey]),
      format: "der",
      type: "spki",
    });
    nodePublicKeys.set(id, keyObject);
  }
  return keyObject;
}

function nodeKeyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
  assertLength(seed, ED25519_SEED_BYTES, "seed");
  const publicKey = rawPublicKeyOf(privateKeyObjectFromSeed(seed));
  return { publicKey, secretKey: concatBytes(seed, publicKey) };
}

export const nodeEd25519: Ed25519Backend = {
  name: "node",
  generateKeyPair: () => nodeKeyPairFromSeed(randomBytes(ED25519_SEED_BYTES)),
  keyPairFromSeed: nodeKeyPairFromSeed,
  sign(message, secretKey) {
    // Copy out of Node's shared Buffer pool into a signature-sized array of its own.
    return new Uint8Array(opensslSign(null, message, nodeSigningKeys.signingKeyFor(secretKey)));
  },
  verify(message, signature, publicKey) {
    if (!passesStrictChecks(message, signature, publicKey)) return false;
    try {
      return opensslVerify(null, message, publicKeyObject(publicKey), signature);
    } catch {
      // A key OpenSSL cannot import (y not on the curve) is a bad signature, not a fault.
      return false;
    }
  },
};

// --- tweetnacl backend ---

const naclSigningKeys = new SigningKeyCache((seed) => {
  const keyPair = nacl.sign.keyPair.fromSeed(seed);
  return { publicKey: keyPair.publicKey, signingKey: keyPair.secretKey };
});

function naclKeyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
  assertLength(seed, ED25519_SEED_BYTES, "seed");
  const { publicKey, secretKey } = nacl.sign.keyPair.fromSeed(seed);
  return { publicKey, secretKey };
}

export const tweetnaclEd25519: Ed25519Backend = {
  name: "tweetnacl",
  generateKeyPair: () => naclKeyPairFromSeed(nacl.randomBytes(ED25519_SEED_BYTES)),
  keyPairFromSeed: naclKeyPairFromSeed,
  sign(message, secretKey) {
    return nacl.sign.detached(message, naclSigningKeys.signingKeyFor(secretKey));
  },
  verify(message, signature, publicKey) {
    if (!passesStrictChecks(message, signature, publicKey)) return false;
    try {
      return nacl.sign.detached.verify(message, signature, publicKey);
    } catch {
      // tweetnacl throws on argument types it dislikes; the contract here is a plain "no".
      return false;
    }
  },
};

/** The default backend: OpenSSL through node:crypto. */
export const ed25519: Ed25519Backend = nodeEd25519;
