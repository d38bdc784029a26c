/**
 * Device secrets at rest: AES-256-GCM under a key-encryption key (KEK) that lives in its own
 * 0600 file, outside the data directory, so a copy of the data directory alone opens nothing.
 *
 * Where the KEK comes from, first match wins: an explicit `--kek-file`; the systemd credential
 * `$CREDENTIALS_DIRECTORY/lockfleet-kek` (LoadCredential= in the unit); /etc/lockfleet/kek.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fromBase64url, toBase64url } from "@lockfleet/protocol";
import { RuntimeError } from "./errors.js";

export const DEFAULT_KEK_FILE = "/etc/lockfleet/kek";
export const KEK_CREDENTIAL_NAME = "lockfleet-kek";
const KEK_BYTES = 32;
const IV_BYTES = 12;

/** A value sealed under the KEK; `purpose` is bound in as associated data. */
export interface SealedValue {
  alg: "aes-256-gcm";
  iv: string;
  tag: string;
  ciphertext: string;
}

export interface KekLocation {
  path: string;
  /** Where the path came from, for messages. */
  source: "option" | "systemd-credential" | "default";
}

export function locateKek(
  kekFile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): KekLocation {
  if (kekFile !== undefined) return { path: kekFile, source: "option" };
  const credentials = env.CREDENTIALS_DIRECTORY;
  if (credentials !== undefined && credentials.length > 0) {
    const path = join(credentials, KEK_CREDENTIAL_NAME);
    if (existsSync(path)) return { path, source: "systemd-credential" };
  }
  return { path: DEFAULT_KEK_FILE, source: "default" };
}

/** Reads the KEK; refuses a file others could read (a systemd credential is 0400 by design). */
export function loadKek(location: KekLocation): Buffer {
  let text: string;
  try {
    const stat = statSync(location.path);
    if ((stat.mode & 0o077) !== 0) {
      throw new RuntimeError(
        "E_KEK_PERMISSIONS",
        `key-encryption key ${location.path} is readable by group or others (mode ${(stat.mode & 0o777).toString(8)}); chmod 600 it`,
      );
    }
    text = readFileSync(location.path, "utf8").trim();
  } catch (error) {
    if (error instanceof RuntimeError) throw error;
    throw new RuntimeError(
      "E_KEK_MISSING",
      `key-encryption key ${location.path} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      { cause: error },
    );
  }
  let key: Uint8Array;
  try {
    key = fromBase64url(text);
  } catch (error) {
    throw new RuntimeError("E_KEK_INVALID", `${location.path} is not a base64url key`, {
      cause: error,
    });
  }
  if (key.length !== KEK_BYTES) {
    throw new RuntimeError("E_KEK_INVALID", `${location.path} must hold a 32-byte key`);
  }
  return Buffer.from(key);
}

/** Loads the KEK, creating a fresh one (0600, never overwriting) when the file does not exist. */
export function loadOrCreateKek(location: KekLocation): Buffer {
  if (!existsSync(location.path)) {
    if (location.source === "systemd-credential") return loadKek(location);
    mkdirSync(dirname(location.path), { recursive: true, mode: 0o700 });
    let fd: number;
    try {
      fd = openSync(location.path, "wx", 0o600);
    } catch (error) {
      throw new RuntimeError(
        "E_KEK_MISSING",
        `key-encryption key ${location.path} cannot be created (${(error as NodeJS.ErrnoException).code ?? "error"})`,
        { cause: error },
      );
    }
    try {
      writeSync(fd, `${toBase64url(randomBytes(KEK_BYTES))}\n`);
    } finally {
      closeSync(fd);
    }
  }
  return loadKek(location);
}

export function sealValue(kek: Uint8Array, purpose: string, plaintext: Uint8Array): SealedValue {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", kek, iv);
  cipher.setAAD(Buffer.from(purpose, "utf8"));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return {
    alg: "aes-256-gcm",
    iv: toBase64url(iv),
    tag: toBase64url(cipher.getAuthTag()),
    ciphertext: toBase64url(ciphertext),
  };
}

/** Opens a sealed value; a wrong KEK, a wrong purpose or any tampering fails with E_SEALED. */
export function openValue(kek: Uint8Array, purpose: string, sealed: SealedValue): Buffer {
  try {
    if (sealed.alg !== "aes-256-gcm") throw new Error(`unknown algorithm ${String(sealed.alg)}`);
    const decipher = createDecipheriv("aes-256-gcm", kek, fromBase64url(sealed.iv));
    decipher.setAAD(Buffer.from(purpose, "utf8"));
    decipher.setAuthTag(fromBase64url(sealed.tag));
    return Buffer.concat([decipher.update(fromBase64url(sealed.ciphertext)), decipher.final()]);
  } catch (error) {
    throw new RuntimeError(
      "E_SEALED",
      `the sealed ${purpose.split("|")[0]} cannot be opened: wrong key-encryption key or damaged file`,
      { cause: error },
    );
  }
}

export function isSealedValue(value: unknown): value is SealedValue {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    v.alg === "aes-256-gcm" &&
    typeof v.iv === "string" &&
    typeof v.tag === "string" &&
    typeof v.ciphertext === "string"
  );
}
