/**
 * Small secret keys the fleet keeps in its data directory (created once, mode 0600): e.g. the
 * HMAC key under which identity document numbers are hashed, so the numbers are never stored.
 */

import { createHmac, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { CodedError } from "@lockfleet/protocol";

export function loadOrCreateKey(path: string, bytes = 32): Buffer {
  if (existsSync(path)) {
    const key = Buffer.from(readFileSync(path, "utf8").trim(), "base64");
    if (key.length !== bytes) {
      throw new CodedError("E_KEY_FILE", `${path} does not hold a ${bytes}-byte base64 key`);
    }
    return key;
  }
  const key = randomBytes(bytes);
  writeFileSync(path, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  return key;
}

/** Keyed hash of a document number, normalised (case, spaces) so the same document matches. */
export function documentReferenceHash(key: Buffer, documentType: string, number: string): string {
  const normalised = number.replace(/[\s-]/g, "").toUpperCase();
  return createHmac("sha256", key).update(`${documentType}:${normalised}`).digest("hex");
}
