/**
 * Codes exist on the lock only as keyed hashes (HMAC-SHA-256 with a device-local key), bound
 * to the user slot so equal codes of two users do not hash alike.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export function hashCode(codeHashKey: Uint8Array, slot: number, code: string): string {
  return createHmac("sha256", codeHashKey)
    .update(`lockfleet/code/v1|${slot}|${code}`)
    .digest("hex");
}

export function codeMatches(
  codeHashKey: Uint8Array,
  slot: number,
  code: string,
  codeHash: string | undefined,
): boolean {
  // Hash even when there is nothing to compare with, so timing does not reveal empty slots.
  const candidate = Buffer.from(hashCode(codeHashKey, slot, code), "hex");
  const stored = Buffer.from(codeHash ?? "0".repeat(64), "hex");
  return (
    stored.length === candidate.length &&
    timingSafeEqual(stored, candidate) &&
    codeHash !== undefined
  );
}

/**
 * Duress by "last digit + 1 without carry": the person keys their code with the last digit
 * raised by one (9 becomes 0). Given what was keyed, this is the code it stands for.
 */
export function codeBehindDuressEntry(entered: string): string {
  const last = Number(entered.at(-1));
  return `${entered.slice(0, -1)}${(last + 9) % 10}`;
}

export function duressEntryFor(code: string): string {
  const last = Number(code.at(-1));
  return `${code.slice(0, -1)}${(last + 1) % 10}`;
}

export function isDigits(text: string, length?: number): boolean {
  return /^\d+$/.test(text) && (length === undefined || text.length === length);
}

/** Trivial codes a person may not choose: all digits equal, or a straight run up or down. */
export function isTrivialCode(code: string): boolean {
  const digits = [...code].map(Number);
  const steps = new Set(digits.slice(1).map((digit, index) => digit - (digits[index] ?? 0)));
  return steps.size === 1 && [0, 1, -1].includes([...steps][0] ?? 2);
}
