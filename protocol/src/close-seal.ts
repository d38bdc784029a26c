/**
 * Close seals (SPEC §3): after the relock the lock shows a code proving that this opening ended
 * in a locked state; the fleet recomputes it. One definition for both sides; protocol/README.md
 * specifies it byte for byte.
 *
 * - An opening made with a one-time code answers with `closeSeal(secret, same inputs)`
 *   (one-time-code.ts, purpose `lockfleet/close-seal/v1`): it closes the code's window.
 * - Any other opening answers with the *opening seal*: HOTP-style dynamic truncation of
 *   HMAC-SHA-256(secret, canonicalJson({purpose: "lockfleet/opening-seal/v1", lockId,
 *   openingNumber})) to 8 digits, where `openingNumber` is the lock's own count of openings.
 */

import { createHmac } from "node:crypto";
import { canonicalJson } from "./canonical-json.js";
import { constantTimeEqual } from "./crypto/bytes.js";
import { protocolError } from "./errors.js";
import {
  closeSeal,
  dynamicTruncate,
  ONE_TIME_CODE_DIGITS,
  type OneTimeCodeInput,
  OTP_SECRET_MIN_BYTES,
} from "./one-time-code.js";
import { isTopicSegment } from "./topics.js";

export const OPENING_SEAL_PURPOSE = "lockfleet/opening-seal/v1";

/** What a lock shows as a close seal, and what the fleet accepts as one: 8 decimal digits. */
export const CLOSE_SEAL_PATTERN = /^\d{8}$/;

/** The exact text that is HMACed for the opening seal (UTF-8 bytes of it). */
export function openingSealMessage(lockId: string, openingNumber: number): string {
  if (typeof lockId !== "string" || !isTopicSegment(lockId)) {
    throw protocolError("E_BAD_INPUT", "lockId is not a valid device id");
  }
  if (!Number.isSafeInteger(openingNumber) || openingNumber < 1) {
    throw protocolError("E_BAD_INPUT", "an opening number is a positive integer");
  }
  return canonicalJson({ purpose: OPENING_SEAL_PURPOSE, lockId, openingNumber });
}

/** The close seal of opening `openingNumber` of lock `lockId` made without a one-time code. */
export function openingSeal(secret: Uint8Array, lockId: string, openingNumber: number): string {
  if (!(secret instanceof Uint8Array) || secret.length < OTP_SECRET_MIN_BYTES) {
    throw protocolError(
      "E_BAD_INPUT",
      `a close-seal secret has at least ${OTP_SECRET_MIN_BYTES} bytes`,
    );
  }
  const message = openingSealMessage(lockId, openingNumber);
  return dynamicTruncate(
    createHmac("sha256", secret).update(message, "utf8").digest(),
    ONE_TIME_CODE_DIGITS,
  );
}

/** Compares two seals in time independent of where they differ. */
export function sealsEqual(expected: string, presented: string): boolean {
  const encoder = new TextEncoder();
  const a = encoder.encode(expected);
  const b = encoder.encode(presented);
  return a.length === b.length && constantTimeEqual(a, b);
}

/**
 * The fleet's check of an opening seal a lock reported. Never throws on what the lock sent:
 * a malformed seal or opening number simply does not verify.
 */
export function verifyOpeningSeal(
  secret: Uint8Array,
  lockId: string,
  openingNumber: unknown,
  presented: unknown,
): boolean {
  if (typeof presented !== "string" || !CLOSE_SEAL_PATTERN.test(presented)) return false;
  if (typeof openingNumber !== "number") return false;
  let expected: string;
  try {
    expected = openingSeal(secret, lockId, openingNumber);
  } catch {
    return false;
  }
  return sealsEqual(expected, presented);
}

/** Which of the one-time-code inputs (if any) `presented` is the close seal of. */
export function matchOtpCloseSeal(
  secret: Uint8Array,
  candidates: readonly OneTimeCodeInput[],
  presented: string,
): OneTimeCodeInput | undefined {
  let match: OneTimeCodeInput | undefined;
  // Every candidate is computed so the time taken does not say which one matched.
  for (const candidate of candidates) {
    if (sealsEqual(closeSeal(secret, candidate), presented) && match === undefined) {
      match = candidate;
    }
  }
  return match;
}
