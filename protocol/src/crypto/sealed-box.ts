/**
 * Secrets for one lock (an initial code, the one-time-code secret) are sealed to the lock's
 * X25519 key with tweetnacl's `box` and a fresh ephemeral sender key, so only that lock can
 * read them and the sender keeps nothing that could open them again.
 */

import nacl from "tweetnacl";
import { CodedError, protocolError } from "../errors.js";
import type { SealedSecret } from "../schemas/common.js";
import { fromBase64url, toBase64url } from "./bytes.js";

export interface X25519KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export const x25519 = {
  generateKeyPair(): X25519KeyPair {
    return nacl.box.keyPair();
  },
  keyPairFromSecretKey(secretKey: Uint8Array): X25519KeyPair {
    return nacl.box.keyPair.fromSecretKey(secretKey);
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
