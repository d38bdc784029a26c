/**
 * Session and API token secrets: random, shown once, stored as SHA-256 only. API tokens carry
 * the `lft_` prefix so secret scanners and people recognise them.
 */
import { createHash, randomBytes } from "node:crypto";

export const SESSION_COOKIE = "lf_session";
export const API_TOKEN_PREFIX = "lft_";

export function newSessionSecret(): string {
  return randomBytes(32).toString("base64url");
}

export function newApiTokenSecret(): string {
  return `${API_TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** Reads one cookie from a `Cookie:` header (RFC 6265 pairs, no decoding of other cookies). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(";")) {
    const index = pair.indexOf("=");
    if (index < 0) continue;
    if (pair.slice(0, index).trim() === name) return pair.slice(index + 1).trim();
  }
  return undefined;
}

export function sessionCookie(
  value: string,
  options: { maxAgeSec: number; secure: boolean },
): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    `Max-Age=${options.maxAgeSec}`,
    ...(options.secure ? ["Secure"] : []),
  ].join("; ");
}
