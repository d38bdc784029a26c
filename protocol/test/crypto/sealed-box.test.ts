import { randomBytes } from "node:crypto";
import nacl from "tweetnacl";
import { describe, expect, it } from "vitest";
import { fromBase64url, toBase64url } from "../../src/crypto/bytes.js";
import { openSealedSecret, sealSecret, x25519 } from "../../src/crypto/sealed-box.js";
import { SealedSecret } from "../../src/schemas/common.js";
import { isValid } from "../../src/validate.js";

const lock = x25519.generateKeyPair();
const otherLock = x25519.generateKeyPair();
const secret = new Uint8Array(32).map((_, i) => i * 7);

function flipByte(text: string, index: number): string {
  const bytes = fromBase64url(text);
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  return toBase64url(bytes);
}

describe("sealed secrets", () => {
  it("round trip: only the lock's X25519 key opens what was sealed to it", () => {
    const sealed = sealSecret(secret, lock.publicKey);
    expect(isValid(SealedSecret, sealed)).toBe(true);
    expect(sealed.alg).toBe("x25519-xsalsa20-poly1305");
    expect(openSealedSecret(sealed, lock.secretKey)).toEqual(secret);
  });

  it("keyPairFromSecretKey recovers the same public key", () => {
    expect(x25519.keyPairFromSecretKey(lock.secretKey).publicKey).toEqual(lock.publicKey);
  });

  it("keyPairFromSecretKey (node:crypto) gives tweetnacl's public key for any 32 bytes, unclamped too", () => {
    const edges = [new Uint8Array(32), new Uint8Array(32).fill(0xff)];
    for (const secretKey of [...edges, ...Array.from({ length: 50 }, () => randomBytes(32))]) {
      const pair = x25519.keyPairFromSecretKey(secretKey);
      expect(pair.publicKey).toEqual(nacl.box.keyPair.fromSecretKey(secretKey).publicKey);
      expect(pair.secretKey).toEqual(new Uint8Array(secretKey));
    }
    expect(() => x25519.keyPairFromSecretKey(new Uint8Array(31))).toThrow(/^E_BAD_KEY/);
  });

  it("sealing twice gives different boxes (fresh ephemeral key and nonce)", () => {
    const a = sealSecret(secret, lock.publicKey);
    const b = sealSecret(secret, lock.publicKey);
    expect(a.ephemeralPublicKey).not.toBe(b.ephemeralPublicKey);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.box).not.toBe(b.box);
  });

  it("E_SEALED_BOX: another lock's key cannot open it", () => {
    const sealed = sealSecret(secret, lock.publicKey);
    expect(() => openSealedSecret(sealed, otherLock.secretKey)).toThrow(/^E_SEALED_BOX/);
  });

  it.each(["box", "nonce", "ephemeralPublicKey"] as const)(
    "E_SEALED_BOX: a tampered %s",
    (field) => {
      const sealed = sealSecret(secret, lock.publicKey);
      expect(() =>
        openSealedSecret({ ...sealed, [field]: flipByte(sealed[field], 3) }, lock.secretKey),
      ).toThrow(/^E_SEALED_BOX/);
    },
  );

  it("E_SEALED_BOX: a truncated box, a nonce of the wrong size, text that is not base64url, a short key", () => {
    const sealed = sealSecret(secret, lock.publicKey);
    expect(() =>
      openSealedSecret({ ...sealed, box: sealed.box.slice(0, 20) }, lock.secretKey),
    ).toThrow(/^E_SEALED_BOX/);
    expect(() =>
      openSealedSecret({ ...sealed, nonce: toBase64url(new Uint8Array(12)) }, lock.secretKey),
    ).toThrow(/^E_SEALED_BOX/);
    expect(() => openSealedSecret({ ...sealed, box: "***" }, lock.secretKey)).toThrow(
      /^E_SEALED_BOX/,
    );
    expect(() => openSealedSecret(sealed, lock.secretKey.subarray(0, 16))).toThrow(/^E_SEALED_BOX/);
  });

  it("E_BAD_KEY: sealing to something that is not a 32-byte public key", () => {
    expect(() => sealSecret(secret, new Uint8Array(31))).toThrow(/^E_BAD_KEY/);
  });
});
