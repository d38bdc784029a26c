/**
 * The release keys a lock trusts, read from a file the installer puts in place
 * (/etc/lockfleet/release-keys.json by default): the public half of each release key, as the
 * offline release tool prints it. The fleet never supplies these, so a fleet that is taken
 * over still cannot make a lock run software the release key did not sign.
 *
 *   {"keys": [{"keyId": "release-2026", "publicKey": "<base64url, 32 bytes>"}]}
 */
import { readFileSync } from "node:fs";
import { ED25519_PUBLIC_KEY_BYTES, fromBase64url } from "@lockfleet/protocol";

export const DEFAULT_RELEASE_KEYS_FILE = "/etc/lockfleet/release-keys.json";

const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

export function readReleaseKeys(file: string): Map<string, Uint8Array> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(
      `E_RELEASE_KEYS: ${file} cannot be read as JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > 8)
    throw new Error(`E_RELEASE_KEYS: ${file} holds no "keys" list of 1 to 8 keys`);
  const trusted = new Map<string, Uint8Array>();
  for (const key of keys as Array<{ keyId?: unknown; publicKey?: unknown }>) {
    let publicKey: Uint8Array | undefined;
    try {
      publicKey = typeof key.publicKey === "string" ? fromBase64url(key.publicKey) : undefined;
    } catch {
      publicKey = undefined;
    }
    if (
      typeof key.keyId !== "string" ||
      !KEY_ID.test(key.keyId) ||
      publicKey?.length !== ED25519_PUBLIC_KEY_BYTES
    )
      throw new Error(
        `E_RELEASE_KEYS: ${file}: each key needs a keyId and a 32-byte base64url publicKey`,
      );
    trusted.set(key.keyId, publicKey);
  }
  return trusted;
}
