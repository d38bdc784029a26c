import { createHash } from "node:crypto";
import fc from "fast-check";
import nacl from "tweetnacl";
import { describe, expect, it } from "vitest";
import {
  concatBytes,
  constantTimeEqual,
  fromBase64url,
  fromHex,
  toBase64url,
  toHex,
} from "../../src/crypto/bytes.js";
import {
  type Ed25519Backend,
  ed25519,
  hasSmallOrder,
  isCanonicalPointEncoding,
  isCanonicalSignatureScalar,
  nodeEd25519,
  SMALL_ORDER_Y_HEX,
  tweetnaclEd25519,
} from "../../src/crypto/ed25519.js";

const backends: Ed25519Backend[] = [nodeEd25519, tweetnaclEd25519];
const utf8 = (text: string) => new TextEncoder().encode(text);

// --- A tiny BigInt reference of edwards25519 (RFC 8032 §5.1), slow but obviously right ---

const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const mod = (a: bigint, m = P) => ((a % m) + m) % m;
function powMod(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}
const inverse = (a: bigint) => powMod(a, P - 2n);
const D = mod(-121665n * inverse(121666n));
const SQRT_MINUS_ONE = powMod(2n, (P - 1n) / 4n);

interface Point {
  x: bigint;
  y: bigint;
}
const IDENTITY: Point = { x: 0n, y: 1n };
const samePoint = (a: Point, b: Point) => a.x === b.x && a.y === b.y;

function littleEndian(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of [...bytes].reverse()) value = (value << 8n) | BigInt(byte);
  return value;
}
function littleEndian32(value: bigint): Uint8Array {
  const bytes = new Uint8Array(32);
  for (let i = 0, v = value; i < 32; i++, v >>= 8n) bytes[i] = Number(v & 0xffn);
  return bytes;
}

/** Recovers x from y and the sign bit, reducing y mod p; undefined when y is not on the curve. */
function decodePointLax(bytes: Uint8Array): Point | undefined {
  const y = mod(littleEndian(bytes) & (2n ** 255n - 1n));
  const xSign = BigInt((bytes[31] ?? 0) >> 7);
  const xSquared = mod((y * y - 1n) * inverse(D * y * y + 1n));
  let x = powMod(xSquared, (P + 3n) / 8n);
  if (mod(x * x) !== xSquared) x = mod(x * SQRT_MINUS_ONE);
  if (mod(x * x) !== xSquared) return undefined;
  if ((x & 1n) !== xSign) x = mod(-x);
  return { x, y };
}
function encodePoint({ x, y }: Point): Uint8Array {
  return littleEndian32(y | ((x & 1n) << 255n));
}
/** Twisted Edwards addition with a = -1; complete, so it also doubles. */
function addPoints(a: Point, b: Point): Point {
  const t = mod(D * a.x * b.x * a.y * b.y);
  return {
    x: mod((a.x * b.y + b.x * a.y) * inverse(1n + t)),
    y: mod((a.y * b.y + a.x * b.x) * inverse(1n - t)),
  };
}
const timesEight = (point: Point) => {
  let result = point;
  for (let i = 0; i < 3; i++) result = addPoints(result, result);
  return result;
};
const withSignBit = (encoding: Uint8Array) => {
  const flipped = encoding.slice();
  flipped[31] = (flipped[31] ?? 0) | 0x80;
  return flipped;
};

// --- Building signatures by hand, as an attacker would ---

const sha512 = (...parts: Uint8Array[]) =>
  new Uint8Array(
    createHash("sha512")
      .update(concatBytes(...parts))
      .digest(),
  );
/** The secret scalar a of a seed (RFC 8032 §5.1.5): clamped low half of SHA-512(seed). */
function secretScalar(seed: Uint8Array): bigint {
  const h = sha512(seed).subarray(0, 32);
  h[0] = (h[0] ?? 0) & 248;
  h[31] = ((h[31] ?? 0) & 127) | 64;
  return littleEndian(h);
}
const challenge = (r: Uint8Array, publicKey: Uint8Array, message: Uint8Array) =>
  mod(littleEndian(sha512(r, publicKey, message)), L);
const signatureOf = (r: Uint8Array, s: bigint) => concatBytes(r, littleEndian32(s));
const withScalar = (signature: Uint8Array, s: bigint) => signatureOf(signature.subarray(0, 32), s);

/** A nonce point R = rB with known r, from a fixed seed. */
const nonceSeed = fromHex("0101010101010101010101010101010101010101010101010101010101010101");
const nonce = {
  r: mod(secretScalar(nonceSeed), L),
  R: nacl.sign.keyPair.fromSeed(nonceSeed).publicKey,
};

/**
 * A "signature" under a small-order public key A, made without any secret: with the challenge k
 * a multiple of 8, kA is the identity and S = r satisfies SB = R + kA.
 */
function forgeForSmallOrderKey(publicKey: Uint8Array): {
  message: Uint8Array;
  signature: Uint8Array;
} {
  for (let attempt = 0; ; attempt++) {
    const message = utf8(`open vault 7, attempt ${attempt}`);
    if (challenge(nonce.R, publicKey, message) % 8n === 0n) {
      return { message, signature: signatureOf(nonce.R, nonce.r) };
    }
  }
}

/** The 8 points of order dividing 8: multiples of an order-8 point. */
const orderEightPoint = decodePointLax(fromHex(SMALL_ORDER_Y_HEX[3] ?? ""));
if (orderEightPoint === undefined) throw new Error("the order-8 y is not on the curve");
const torsionPoints = Array.from({ length: 8 }, (_, k) => {
  let point = IDENTITY;
  for (let i = 0; i < k; i++) point = addPoints(point, orderEightPoint);
  return point;
});

// --- RFC 8032 §7.1 (TEST SHA(abc) is Ed25519ph, which lockfleet does not use) ---

const rfc8032Vectors = [
  {
    name: "TEST 1",
    seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    message: "",
    signature:
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155" +
      "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  },
  {
    name: "TEST 2",
    seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    message: "72",
    signature:
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da" +
      "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
  {
    name: "TEST 3",
    seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    message: "af82",
    signature:
      "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac" +
      "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
  },
  {
    name: "TEST 1024",
    seed: "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
    publicKey: "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
    message: [
      "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98",
      "fa6e264bf09efe12ee50f8f54e9f77b1e355f6c50544e23fb1433ddf73be84d8",
      "79de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d",
      "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc",
      "1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4fe",
      "ba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e",
      "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbef",
      "efd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7",
      "aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1",
      "85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2",
      "d17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24",
      "554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270",
      "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc",
      "2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b07",
      "07e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba",
      "b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51a",
      "ddd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429e",
      "c96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7",
      "51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c",
      "42f58c30c04aafdb038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8",
      "ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df",
      "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08",
      "d78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649",
      "de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4",
      "88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a3",
      "2ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e",
      "6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f",
      "b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b5",
      "0d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1",
      "369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d",
      "b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c",
      "0618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d0",
    ].join(""),
    signature:
      "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350" +
      "aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03",
  },
];

it("TEST 1024's message is 1023 bytes", () => {
  expect(fromHex(rfc8032Vectors[3]?.message ?? "").length).toBe(1023);
});

it("the default backend is node:crypto", () => {
  expect(ed25519).toBe(nodeEd25519);
});

describe.each(backends)("$name backend", (backend) => {
  const alice = backend.keyPairFromSeed(fromHex("a1".repeat(32)));
  const bob = backend.keyPairFromSeed(fromHex("b0".repeat(32)));
  const command = utf8('{"body":{"action":"open"},"deviceId":"lock-0042","seq":17,"v":1}');
  const aliceSignature = backend.sign(command, alice.secretKey);

  describe.each(rfc8032Vectors)("RFC 8032 §7.1 $name", (vector) => {
    const seed = fromHex(vector.seed);
    const message = fromHex(vector.message);

    it("derives the public key from the seed", () => {
      const keyPair = backend.keyPairFromSeed(seed);
      expect(toHex(keyPair.publicKey)).toBe(vector.publicKey);
      expect(toHex(keyPair.secretKey)).toBe(vector.seed + vector.publicKey);
    });

    it("produces the published signature", () => {
      const secretKey = fromHex(vector.seed + vector.publicKey);
      expect(toHex(backend.sign(message, secretKey))).toBe(vector.signature);
    });

    it("verifies the published signature", () => {
      expect(backend.verify(message, fromHex(vector.signature), fromHex(vector.publicKey))).toBe(
        true,
      );
    });
  });

  it("generated key pairs use the seed || public key layout and sign verifiably", () => {
    const keyPair = backend.generateKeyPair();
    expect(keyPair.publicKey.length).toBe(32);
    expect(keyPair.secretKey.length).toBe(64);
    expect(backend.keyPairFromSeed(keyPair.secretKey.subarray(0, 32))).toEqual(keyPair);
    const signature = backend.sign(command, keyPair.secretKey);
    expect(signature.length).toBe(64);
    expect(backend.verify(command, signature, keyPair.publicKey)).toBe(true);
  });

  describe("S must be below the group order", () => {
    it("malleated signature (S + L) rejected", () => {
      const s = littleEndian(aliceSignature.subarray(32));
      const malleated = withScalar(aliceSignature, s + L);
      // The same group element, so a verifier without the S < L check would accept it.
      expect(nacl.sign.detached.verify(command, malleated, alice.publicKey)).toBe(true);
      expect(backend.verify(command, malleated, alice.publicKey)).toBe(false);
    });

    it("S = L rejected", () => {
      expect(isCanonicalSignatureScalar(withScalar(aliceSignature, L))).toBe(false);
      expect(isCanonicalSignatureScalar(withScalar(aliceSignature, L - 1n))).toBe(true);
      expect(backend.verify(command, withScalar(aliceSignature, L), alice.publicKey)).toBe(false);
    });

    it("S with high bits set rejected", () => {
      for (const highBits of [0x20, 0x40, 0x80, 0xe0]) {
        const signature = aliceSignature.slice();
        signature[63] = (signature[63] ?? 0) | highBits;
        expect(backend.verify(command, signature, alice.publicKey)).toBe(false);
      }
    });
  });

  describe("encodings must be canonical", () => {
    it("non-canonical public key (y = p + 1, the identity) rejected, though tweetnacl alone accepts the forgery", () => {
      const publicKey = littleEndian32(P + 1n);
      const { message, signature } = forgeForSmallOrderKey(publicKey);
      expect(nacl.sign.detached.verify(message, signature, publicKey)).toBe(true);
      expect(isCanonicalPointEncoding(publicKey)).toBe(false);
      expect(backend.verify(message, signature, publicKey)).toBe(false);
    });

    it("every public key encoding with y >= p rejected", () => {
      for (let y = P; y < 2n ** 255n; y++) {
        for (const publicKey of [littleEndian32(y), withSignBit(littleEndian32(y))]) {
          expect(backend.verify(command, aliceSignature, publicKey)).toBe(false);
        }
      }
    });

    it('"-0" public key encodings (x = 0 with the sign bit) rejected', () => {
      for (const y of [1n, P - 1n]) {
        const publicKey = withSignBit(littleEndian32(y));
        const { message, signature } = forgeForSmallOrderKey(publicKey);
        expect(backend.verify(message, signature, publicKey)).toBe(false);
      }
    });

    it("non-canonical R rejected", () => {
      // R = identity written as y = p + 1 (or as "-0"), S = k·a: SB - kA is the identity.
      const a = secretScalar(alice.secretKey.subarray(0, 32));
      for (const r of [littleEndian32(P + 1n), withSignBit(littleEndian32(1n))]) {
        const signature = signatureOf(r, mod(challenge(r, alice.publicKey, command) * a, L));
        expect(isCanonicalPointEncoding(r)).toBe(false);
        expect(backend.verify(command, signature, alice.publicKey)).toBe(false);
      }
    });
  });

  describe("small-order points refused", () => {
    it("every small-order point encoding rejected as public key, though tweetnacl alone accepts each forgery", () => {
      const encodings = [
        ...torsionPoints.map(encodePoint),
        ...torsionPoints.map((point) => withSignBit(encodePoint(point))),
        ...SMALL_ORDER_Y_HEX.map(fromHex),
      ];
      for (const publicKey of encodings) {
        const { message, signature } = forgeForSmallOrderKey(publicKey);
        expect(nacl.sign.detached.verify(message, signature, publicKey)).toBe(true);
        expect(backend.verify(message, signature, publicKey)).toBe(false);
      }
    });

    it("small-order R rejected, though tweetnacl alone accepts the signature", () => {
      // R = identity (canonical) and S = k·a: valid by the bare equation SB = R + kA.
      const a = secretScalar(alice.secretKey.subarray(0, 32));
      const r = littleEndian32(1n);
      const signature = signatureOf(r, mod(challenge(r, alice.publicKey, command) * a, L));
      expect(nacl.sign.detached.verify(command, signature, alice.publicKey)).toBe(true);
      expect(backend.verify(command, signature, alice.publicKey)).toBe(false);
    });
  });

  describe("verify answers false and never throws", () => {
    it("wrong-length key or signature gives false", () => {
      const cases: [Uint8Array, Uint8Array][] = [
        [aliceSignature.subarray(0, 63), alice.publicKey],
        [concatBytes(aliceSignature, new Uint8Array(1)), alice.publicKey],
        [new Uint8Array(0), alice.publicKey],
        [aliceSignature, alice.publicKey.subarray(0, 31)],
        [aliceSignature, concatBytes(alice.publicKey, new Uint8Array(1))],
        [aliceSignature, alice.secretKey],
        [aliceSignature, new Uint8Array(0)],
      ];
      for (const [signature, publicKey] of cases) {
        expect(backend.verify(command, signature, publicKey)).toBe(false);
      }
    });

    it("arguments that are not byte arrays give false", () => {
      const notBytes = [undefined, null, "aa", 42, [1, 2, 3], {}] as unknown as Uint8Array[];
      for (const junk of notBytes) {
        expect(backend.verify(junk, aliceSignature, alice.publicKey)).toBe(false);
        expect(backend.verify(command, junk, alice.publicKey)).toBe(false);
        expect(backend.verify(command, aliceSignature, junk)).toBe(false);
      }
    });

    it("public key that is not on the curve gives false", () => {
      // y = 2 has no x on edwards25519 (checked with the reference below).
      const offCurve = littleEndian32(2n);
      expect(decodePointLax(offCurve)).toBeUndefined();
      expect(backend.verify(command, aliceSignature, offCurve)).toBe(false);
    });

    it("flipped message bit gives false", () => {
      for (let bit = 0; bit < command.length * 8; bit += 37) {
        const tampered = command.slice();
        tampered[bit >> 3] = (tampered[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        expect(backend.verify(tampered, aliceSignature, alice.publicKey)).toBe(false);
      }
    });

    it("signature with another key gives false", () => {
      expect(backend.verify(command, aliceSignature, bob.publicKey)).toBe(false);
      expect(backend.verify(command, backend.sign(command, bob.secretKey), alice.publicKey)).toBe(
        false,
      );
    });
  });

  describe("E_BAD_KEY", () => {
    it("secret key whose public half does not match the seed", () => {
      const mismatched = concatBytes(alice.secretKey.subarray(0, 32), bob.publicKey);
      expect(() => backend.sign(command, mismatched)).toThrow(/^E_BAD_KEY:/);
    });

    it("mismatch caught even when the claimed public key is cached with its real seed", () => {
      backend.sign(command, bob.secretKey); // caches bob's key
      const impostor = concatBytes(alice.secretKey.subarray(0, 32), bob.publicKey);
      expect(() => backend.sign(command, impostor)).toThrow(/^E_BAD_KEY:/);
      expect(backend.verify(command, backend.sign(command, bob.secretKey), bob.publicKey)).toBe(
        true,
      );
    });

    it("wrong-length secret key or seed", () => {
      for (const length of [0, 32, 63, 65]) {
        expect(() => backend.sign(command, new Uint8Array(length))).toThrow(/^E_BAD_KEY:/);
      }
      for (const length of [0, 31, 33, 64]) {
        expect(() => backend.keyPairFromSeed(new Uint8Array(length))).toThrow(/^E_BAD_KEY:/);
      }
    });
  });
});

describe("the small-order blocklist", () => {
  it("each y in the blocklist has small order: [8]P is the identity", () => {
    for (const hex of SMALL_ORDER_Y_HEX) {
      const point = decodePointLax(fromHex(hex));
      expect(point, hex).toBeDefined();
      if (point) expect(samePoint(timesEight(point), IDENTITY), hex).toBe(true);
    }
  });

  it("it covers all 8 points of order dividing 8, with either sign bit", () => {
    const distinct = new Set(torsionPoints.map((point) => `${point.x},${point.y}`));
    expect(distinct.size).toBe(8);
    for (const point of torsionPoints) {
      expect(samePoint(timesEight(point), IDENTITY)).toBe(true);
      expect(hasSmallOrder(encodePoint(point))).toBe(true);
      expect(hasSmallOrder(withSignBit(encodePoint(point)))).toBe(true);
    }
  });

  it("a random valid public key does not have small order", () => {
    const { publicKey } = nodeEd25519.generateKeyPair();
    const point = decodePointLax(publicKey);
    expect(point).toBeDefined();
    if (point) expect(samePoint(timesEight(point), IDENTITY)).toBe(false);
    expect(hasSmallOrder(publicKey)).toBe(false);
  });

  it("hasSmallOrder throws E_BAD_POINT on a wrong length rather than answering", () => {
    expect(() => hasSmallOrder(new Uint8Array(31))).toThrow(/^E_BAD_POINT:/);
  });
});

describe("encoding checks match their BigInt definitions", () => {
  const nearL = fc.oneof(
    fc.constantFrom(0n, L - 1n, L, L + 1n, 2n ** 253n - 1n),
    fc.bigInt({ min: L - 300n, max: L + 300n }),
  );
  const anyScalarBytes = fc.bigInt({ min: 0n, max: 2n ** 256n - 1n });

  it("isCanonicalSignatureScalar(sig) is S < L", () => {
    fc.assert(
      fc.property(fc.oneof(nearL, anyScalarBytes), (s) => {
        const signature = concatBytes(new Uint8Array(32), littleEndian32(s));
        expect(isCanonicalSignatureScalar(signature)).toBe(s < L);
      }),
      { numRuns: 500 },
    );
    expect(isCanonicalSignatureScalar(new Uint8Array(63))).toBe(false);
  });

  it('isCanonicalPointEncoding(p) is y < p and not "-0"', () => {
    const edgeY = fc.oneof(
      fc.constantFrom(0n, 1n, 2n, P - 2n, P - 1n, P, P + 1n, 2n ** 255n - 1n),
      fc.bigInt({ min: 0n, max: 40n }),
      fc.bigInt({ min: P - 40n, max: 2n ** 255n - 1n }),
      fc.bigInt({ min: 0n, max: 2n ** 255n - 1n }),
    );
    fc.assert(
      fc.property(edgeY, fc.boolean(), (y, xSign) => {
        const encoding = littleEndian32(y);
        if (xSign) encoding[31] = (encoding[31] ?? 0) | 0x80;
        const negativeZero = xSign && (y === 1n || y === P - 1n);
        expect(isCanonicalPointEncoding(encoding)).toBe(y < P && !negativeZero);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("both backends agree", () => {
  const [node, tweetnacl] = [nodeEd25519, tweetnaclEd25519];
  const seeds = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const messages = fc.uint8Array({ maxLength: 300 });

  it("random seeds and messages give byte-identical signatures, each verified by the other", () => {
    fc.assert(
      fc.property(seeds, messages, (seed, message) => {
        const keyPair = node.keyPairFromSeed(seed);
        expect(tweetnacl.keyPairFromSeed(seed)).toEqual(keyPair);
        const nodeSignature = node.sign(message, keyPair.secretKey);
        const naclSignature = tweetnacl.sign(message, keyPair.secretKey);
        expect(toHex(nodeSignature)).toBe(toHex(naclSignature));
        expect(tweetnacl.verify(message, nodeSignature, keyPair.publicKey)).toBe(true);
        expect(node.verify(message, naclSignature, keyPair.publicKey)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("random mutations of signature or key bytes give identical verify answers", () => {
    const mutation = fc.tuple(fc.integer({ min: 0, max: 95 }), fc.integer({ min: 1, max: 255 }));
    fc.assert(
      fc.property(
        seeds,
        messages,
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (seed, message, mutations) => {
          const keyPair = node.keyPairFromSeed(seed);
          // Bytes 0..63 are the signature, 64..95 the public key.
          const mutated = concatBytes(node.sign(message, keyPair.secretKey), keyPair.publicKey);
          for (const [index, xor] of mutations) mutated[index] = (mutated[index] ?? 0) ^ xor;
          const signature = mutated.subarray(0, 64);
          const publicKey = mutated.subarray(64);
          expect(node.verify(message, signature, publicKey)).toBe(
            tweetnacl.verify(message, signature, publicKey),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it("mixed-order public key (A + T, T of order 8): both accept exactly when kT vanishes", () => {
    // Canonical and not small-order, so it passes the pre-check; what remains is the equation.
    // Both backends check SB = R + kA without the cofactor, so they must agree case by case.
    const alice = node.keyPairFromSeed(fromHex("a1".repeat(32)));
    const a = secretScalar(alice.secretKey.subarray(0, 32));
    const alicePoint = decodePointLax(alice.publicKey);
    if (alicePoint === undefined) throw new Error("a real public key decodes");
    const mixed = encodePoint(addPoints(alicePoint, orderEightPoint));
    expect(isCanonicalPointEncoding(mixed) && !hasSmallOrder(mixed)).toBe(true);

    const answers = new Set<boolean>();
    for (let attempt = 0; attempt < 48; attempt++) {
      const message = utf8(`close seal, attempt ${attempt}`);
      const k = challenge(nonce.R, mixed, message);
      const signature = signatureOf(nonce.R, mod(nonce.r + k * a, L));
      const accepted = node.verify(message, signature, mixed);
      expect(tweetnacl.verify(message, signature, mixed)).toBe(accepted);
      expect(accepted).toBe(k % 8n === 0n);
      answers.add(accepted);
    }
    expect(answers).toEqual(new Set([true, false]));
  });
});

// These belong in test/crypto/bytes.test.ts once the lead creates it.
describe("byte helpers", () => {
  it("hex round-trips and rejects odd or non-hex text", () => {
    expect(toHex(fromHex("00ff10AB"))).toBe("00ff10ab");
    expect(() => fromHex("abc")).toThrow(/^E_BAD_ENCODING:/);
    expect(() => fromHex("zz")).toThrow(/^E_BAD_ENCODING:/);
  });

  it("base64url matches Node's encoder and round-trips", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = toBase64url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString("base64url"));
        expect(fromBase64url(text)).toEqual(bytes);
      }),
    );
  });

  it("base64url decoding is strict: no padding, no stray characters, no leftover bits", () => {
    expect(() => fromBase64url("AA==")).toThrow(/^E_BAD_ENCODING:/);
    expect(() => fromBase64url("A+A")).toThrow(/^E_BAD_ENCODING:/);
    expect(() => fromBase64url("AAAAA")).toThrow(/^E_BAD_ENCODING:/);
    expect(() => fromBase64url("AB")).toThrow(/^E_BAD_ENCODING:/); // "AA" is the canonical form of 0x00
    expect(fromBase64url("AA")).toEqual(new Uint8Array([0]));
  });

  it("constantTimeEqual compares contents and lengths", () => {
    expect(constantTimeEqual(fromHex("0102"), fromHex("0102"))).toBe(true);
    expect(constantTimeEqual(fromHex("0102"), fromHex("0103"))).toBe(false);
    expect(constantTimeEqual(fromHex("0102"), fromHex("010200"))).toBe(false);
  });
});
