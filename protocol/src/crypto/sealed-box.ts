/**
 * Secrets for one lock (an initial code, the one-time-code secret) are sealed to the lock's
 * X25519 key with tweetnacl's `box` and a fresh ephemeral sender key, so only that lock can
 * read them and the sender keeps nothing that could open them again.
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import nacl from "tweetnacl";
import { CodedError, protocolError } from "../errors.js";
import type { SealedSecret } from "../schemas/common.js";
import { fromBase64url, toBase64url } from "./bytes.js";

export interface X25519KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

// DER headers that wrap raw X25519 bytes (RFC 8410) so OpenSSL can import them.
const X25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const X25519_SPKI_PREFIX_LENGTH = 12;

export const x25519 = {
  generateKeyPair(): X25519KeyPair {
    return nacl.box.keyPair();
  },
  /**
   * The public key of a lock's X25519 secret key (the same as tweetnacl's
   * `box.keyPair.fromSecretKey`, RFC 7748 clamping included) computed by node:crypto: every
   * device start derives it, and tweetnacl's pure-JavaScript scalar multiplication leaves
   * about 11 MiB of short-lived arrays that grow the young heap of an otherwise idle lock.
   */
  keyPairFromSecretKey(secretKey: Uint8Array): X25519KeyPair {
    if (secretKey.length !== nacl.box.secretKeyLength) {
      throw protocolError("E_BAD_KEY", "an X25519 secret key has 32 bytes");
    }
    const privateKey = createPrivateKey({
      key: Buffer.concat([X25519_PKCS8_PREFIX, secretKey]),
      format: "der",
      type: "pkcs8",
    });
    const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" });
    return {
      publicKey: new Uint8Array(spki.subarray(X25519_SPKI_PREFIX_LENGTH)),
      secretKey: new Uint8Array(secretKey),
    };
  },
};

export function sealSecret(secret: Uint8Array, recipientPublicKey: Uint8Array): SealedSecret {
  if (recipientPublicKey.length !== nacl.box.publicKeyLength) {
    throw protocolError("E_BAD_KEY", "an X25519 public key has 32 bytes");
  }
  const ephemeral = nacl.box.keyPair();
  const nonce = nacl.randomBytes(nacl.box.nonceLength);
  const box = nacl.box(secret, nonce, recipientPublicKey, ephemeral.secretKey);
  ephemeral.secretKey.fill(0);
  return {
    alg: "x25519-xsalsa20-poly1305",
    ephemeralPublicKey: toBase64url(ephemeral.publicKey),
    nonce: toBase64url(nonce),
    box: toBase64url(box),
  };
}

/** Refusal of a sealed secret; `code` is always `E_SEALED_BOX`. */
export class SealedBoxError extends CodedError<"E_SEALED_BOX"> {
  constructor(sentence: string) {
    super("E_SEALED_BOX", sentence);
    this.name = "SealedBoxError";
  }
}

/** Opens a sealed secret with the lock's X25519 secret key; throws E_SEALED_BOX when it cannot. */
export function openSealedSecret(sealed: SealedSecret, recipientSecretKey: Uint8Array): Uint8Array {
  let opened: Uint8Array | null = null;
  try {
    opened = nacl.box.open(
      fromBase64url(sealed.box),
      fromBase64url(sealed.nonce),
      fromBase64url(sealed.ephemeralPublicKey),
      recipientSecretKey,
    );
  } catch {
    opened = null;
  }
  if (opened === null)
    throw new SealedBoxError("sealed secret cannot be opened with this lock's key");
  return opened;
}
