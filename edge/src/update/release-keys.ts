/**
 * The release keys a lock trusts. The installer puts the first ones in place
 * (/etc/lockfleet/release-keys.json by default): the public half of each release key, as the
 * offline release tool prints it. The fleet never supplies these, so a fleet that is taken over
 * still cannot make a lock run software the release key did not sign.
 *
 *   {"keys": [{"keyId": "release-2026", "publicKey": "<base64url, 32 bytes>"}]}
 *
 * From there, trust moves only by signed key sets (rotation, revocation) that the keys trusted
 * now vouch for; the accepted ones are kept in `<installRoot>/release-keys.json`, outside both
 * slots, so that a switch or a rollback never brings a revoked key back.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  advanceReleaseKeys,
  installedReleaseKeys,
  parseReleaseKeyFile,
  type SignedReleaseKeySet,
  type TrustedReleaseKeys,
} from "@lockfleet/protocol";
import { UpdateError } from "../errors.js";
import { writeDurably } from "./install-layout.js";

export const DEFAULT_RELEASE_KEYS_FILE = "/etc/lockfleet/release-keys.json";

export function readReleaseKeys(file: string): TrustedReleaseKeys {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(
      `E_RELEASE_KEYS: ${file} cannot be read (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const parsed = parseReleaseKeyFile(text, file);
  if (!parsed.ok) throw new UpdateError("E_RELEASE_KEYS", parsed.error.message);
  return parsed.value;
}

/** The installed keys as given to the updater: a bare map is an installed set of version 1. */
export function asTrustedKeys(
  keys: ReadonlyMap<string, Uint8Array> | TrustedReleaseKeys,
): TrustedReleaseKeys {
  return keys instanceof Map ? installedReleaseKeys(keys) : (keys as TrustedReleaseKeys);
}

export function acceptedKeySetsFile(installRoot: string): string {
  return join(installRoot, "release-keys.json");
}

/**
 * The installed keys moved forward by every key set accepted before. Each set is checked again
 * (a damaged or swapped file must not widen trust): the chain stops at the first set that does
 * not follow, and the lock stays on what the sets before it established.
 */
export function loadTrustedKeys(
  installRoot: string,
  installed: TrustedReleaseKeys,
  warn: (message: string) => void,
): TrustedReleaseKeys {
  const file = acceptedKeySetsFile(installRoot);
  if (!existsSync(file)) return installed;
  let chain: SignedReleaseKeySet[];
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { chain?: unknown };
    if (!Array.isArray(parsed.chain)) throw new Error("no chain");
    chain = parsed.chain as SignedReleaseKeySet[];
  } catch (error) {
    warn(`E_RELEASE_KEYS: ${file} cannot be read (${String(error)}); the installed keys apply`);
    return installed;
  }
  let trusted = installed;
  for (const signed of chain) {
    // Sets the installed file already supersedes (a reinstall with newer keys) are passed over.
    if (typeof signed?.payload !== "string" || !Array.isArray(signed.signatures)) break;
    const step = advanceReleaseKeys(trusted, signed);
    if (!step.ok) {
      if (step.error.code === "E_RELEASE_KEYS_ROLLBACK") continue;
      warn(`E_RELEASE_KEYS: ${file}: ${step.error.code}: ${step.error.message}`);
      break;
    }
    trusted = step.value.trusted;
  }
  return trusted;
}

export function saveTrustedKeys(installRoot: string, trusted: TrustedReleaseKeys): void {
  writeDurably(acceptedKeySetsFile(installRoot), `${JSON.stringify({ chain: trusted.chain })}\n`);
}
