/**
 * Offline one-time codes and close seals (SPEC §3 "One-time codes"); protocol/README.md
 * specifies the derivation byte for byte.
 *
 * code = HOTP-style dynamic truncation (RFC 4226 §5.3) of
 *        HMAC-SHA-256(secret, canonicalJson({purpose, lockId, counter, personId, notBefore, notAfter}))
 * to 8 decimal digits. The close seal is the same derivation with another purpose, so only the
 * lock (holding the secret) can show it, and only the fleet can check it.
 */

import { createHmac } from "node:crypto";
import { canonicalJson } from "./canonical-json.js";
import { protocolError } from "./errors.js";
import { isTopicSegment } from "./topics.js";
import { formatInstant } from "./validate.js";

export const ONE_TIME_CODE_DIGITS = 8;
export const OTP_PURPOSE = "lockfleet/one-time-code/v1";
export const CLOSE_SEAL_PURPOSE = "lockfleet/close-seal/v1";

/**
 * Windows of one-time codes sit on a fixed grid, so an offline lock can enumerate the few
 * windows that contain "now" instead of being told the window: starts on a UTC quarter hour,
 * one of these lengths.
 */
export const OTP_WINDOW_STEP_MS = 15 * 60_000;
export const OTP_WINDOW_LENGTHS_MIN = [60, 120, 240, 480, 720, 1440] as const;
/** The lock tries counters up to this far above the highest it has accepted. */
export const OTP_COUNTER_LOOKAHEAD = 16;

export interface OneTimeCodeInput {
  lockId: string;
  /** Per lock, issued strictly increasing by the fleet, each accepted at most once. */
  counter: number;
  personId: string;
  /** Window, epoch milliseconds (on the grid above). */
  notBefore: number;
  notAfter: number;
}

/** RFC 4226 §5.3 dynamic truncation of an HMAC to `digits` decimal digits. */
export function dynamicTruncate(hmac: Uint8Array, digits: number): string {
  if (hmac.length < 20)
    throw protocolError("E_BAD_INPUT", "dynamic truncation needs an HMAC of at least 20 bytes");
  if (!Number.isInteger(digits) || digits < 6 || digits > 9) {
    throw protocolError("E_BAD_INPUT", "dynamic truncation yields 6 to 9 digits");
  }
  // The offset comes from the low nibble of the last byte (RFC 4226 uses byte 19 of SHA-1).
  const offset = (hmac[hmac.length - 1] ?? 0) & 0x0f;
  const binary =
    (((hmac[offset] ?? 0) & 0x7f) << 24) |
    ((hmac[offset + 1] ?? 0) << 16) |
    ((hmac[offset + 2] ?? 0) << 8) |
    (hmac[offset + 3] ?? 0);
  return String(binary % 10 ** digits).padStart(digits, "0");
}

export function isOtpWindow(notBefore: number, notAfter: number): boolean {
  const lengthMin = (notAfter - notBefore) / 60_000;
  return (
    notBefore % OTP_WINDOW_STEP_MS === 0 &&
    (OTP_WINDOW_LENGTHS_MIN as readonly number[]).includes(lengthMin)
  );
}

/** Every grid window that contains `at` (notBefore ≤ at < notAfter). */
export function otpWindowsContaining(at: number): Array<{ notBefore: number; notAfter: number }> {
  const windows: Array<{ notBefore: number; notAfter: number }> = [];
  const latestStart = Math.floor(at / OTP_WINDOW_STEP_MS) * OTP_WINDOW_STEP_MS;
  for (const lengthMin of OTP_WINDOW_LENGTHS_MIN) {
    const length = lengthMin * 60_000;
    for (let start = latestStart; start > at - length; start -= OTP_WINDOW_STEP_MS) {
      windows.push({ notBefore: start, notAfter: start + length });
    }
  }
  return windows;
}

/** RFC 4226 R6 asks for a shared secret of at least 128 bits; the fleet issues 256. */
export const OTP_SECRET_MIN_BYTES = 16;
const PERSON_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

function derive(purpose: string, secret: Uint8Array, input: OneTimeCodeInput): string {
  if (!(secret instanceof Uint8Array) || secret.length < OTP_SECRET_MIN_BYTES) {
    throw protocolError(
      "E_BAD_INPUT",
      `a one-time-code secret has at least ${OTP_SECRET_MIN_BYTES} bytes`,
    );
  }
  if (typeof input.lockId !== "string" || !isTopicSegment(input.lockId)) {
    throw protocolError("E_BAD_INPUT", "lockId is not a valid device id");
  }
  if (typeof input.personId !== "string" || !PERSON_ID.test(input.personId)) {
    throw protocolError("E_BAD_INPUT", "personId is not a valid person id");
  }
  if (!Number.isSafeInteger(input.counter) || input.counter < 1) {
    throw protocolError("E_BAD_INPUT", "a one-time-code counter is a positive integer");
  }
  if (!isOtpWindow(input.notBefore, input.notAfter)) {
    throw protocolError(
      "E_BAD_INPUT",
      `window ${formatInstant(input.notBefore)}–${formatInstant(input.notAfter)} is not on the one-time-code grid`,
    );
  }
  const message = canonicalJson({
    purpose,
    lockId: input.lockId,
    counter: input.counter,
    personId: input.personId,
    notBefore: formatInstant(input.notBefore),
    notAfter: formatInstant(input.notAfter),
  });
  const hmac = createHmac("sha256", secret).update(message, "utf8").digest();
  return dynamicTruncate(hmac, ONE_TIME_CODE_DIGITS);
}

export function oneTimeCode(secret: Uint8Array, input: OneTimeCodeInput): string {
  return derive(OTP_PURPOSE, secret, input);
}

export function closeSeal(secret: Uint8Array, input: OneTimeCodeInput): string {
  return derive(CLOSE_SEAL_PURPOSE, secret, input);
}

export interface OneTimeCodeMatch extends OneTimeCodeInput {}

/**
 * The lock's side: finds the counter and window for which `code` is the one-time code of
 * `personId` at instant `at`, trying `counters` (not yet used ones). Compares every candidate
 * so the time taken does not reveal which one matched.
 */
export function findOneTimeCode(
  secret: Uint8Array,
  query: {
    lockId: string;
    personId: string;
    code: string;
    at: number;
    counters: readonly number[];
  },
): OneTimeCodeMatch | undefined {
  let match: OneTimeCodeMatch | undefined;
  const windows = otpWindowsContaining(query.at);
  for (const counter of query.counters) {
    for (const window of windows) {
      const input = { lockId: query.lockId, counter, personId: query.personId, ...window };
      if (oneTimeCode(secret, input) === query.code && match === undefined) match = input;
    }
  }
  return match;
}
