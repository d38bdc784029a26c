/**
 * Password hashing with scrypt (node:crypto), memory-hard: N=2^15, r=8, p=1 uses 32 MiB per
 * hash. The stored form names its parameters, so raising them later keeps old hashes valid:
 * `scrypt$<log2 N>$<r>$<p>$<salt b64url>$<hash b64url>`.
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

export interface ScryptParameters {
  log2N: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT: ScryptParameters = { log2N: 15, r: 8, p: 1 };
const KEY_LENGTH = 32;
export const MIN_PASSWORD_LENGTH = 12;

function derive(password: string, salt: Buffer, params: ScryptParameters): Promise<Buffer> {
  const N = 2 ** params.log2N;
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize("NFC"),
      salt,
      KEY_LENGTH,
      { N, r: params.r, p: params.p, maxmem: 256 * N * params.r + 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

export async function hashPassword(
  password: string,
  params: ScryptParameters = DEFAULT_SCRYPT,
): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params);
  return [
    "scrypt",
    params.log2N,
    params.r,
    params.p,
    salt.toString("base64url"),
    key.toString("base64url"),
  ].join("$");
}

export function parsePasswordHash(
  stored: string,
): (ScryptParameters & { salt: Buffer; key: Buffer }) | undefined {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return undefined;
  const [log2N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![log2N, r, p].every((n) => Number.isInteger(n) && n > 0) || log2N > 22) return undefined;
  return {
    log2N,
    r,
    p,
    salt: Buffer.from(parts[4] ?? "", "base64url"),
    key: Buffer.from(parts[5] ?? "", "base64url"),
  };
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parsePasswordHash(stored);
  if (parsed === undefined) return false;
  const key = await derive(password, parsed.salt, parsed);
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
}

/** A hash no password matches: login spends the same time whether or not the account exists. */
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(params: ScryptParameters = DEFAULT_SCRYPT): Promise<string> {
  decoyHash ??= hashPassword(randomBytes(24).toString("base64url"), params);
  return decoyHash;
}

/** A password for an operator to note once: 20 characters from a 64-symbol alphabet (120 bits). */
export function generatePassword(): string {
  return randomBytes(15).toString("base64url");
}
