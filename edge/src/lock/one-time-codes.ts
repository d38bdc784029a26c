/**
 * One-time codes (SPEC §3, offline access for CIT crews): the fleet issues codes over a strictly
 * increasing per-lock counter; the lock accepts a code only inside its window and each counter
 * at most once. The members of one crew get consecutive counters for the same window and may
 * key them in any order, so the lock accepts unused counters up to OTP_COUNTER_LOOKAHEAD below
 * the highest it has accepted and as far above it; anything older is refused. The highest
 * accepted counter never goes back.
 */
import {
  findOneTimeCode,
  type OneTimeCodeMatch,
  OTP_COUNTER_LOOKAHEAD,
  openSealedSecret,
} from "@lockfleet/protocol";
import type { OtpSection } from "./state.js";

/** The counters a code may still be for: unused, within the lookahead around the highest. */
export function otpCandidateCounters(otp: Pick<OtpSection, "highest" | "used">): number[] {
  const used = new Set(otp.used);
  const counters: number[] = [];
  for (
    let counter = Math.max(1, otp.highest - OTP_COUNTER_LOOKAHEAD + 1);
    counter <= otp.highest + OTP_COUNTER_LOOKAHEAD;
    counter++
  ) {
    if (!used.has(counter)) counters.push(counter);
  }
  return counters;
}

/** The section after accepting `counter`: highest never lowered, used counters kept while in reach. */
export function afterAccepting(otp: OtpSection, counter: number): OtpSection {
  const highest = Math.max(otp.highest, counter);
  const used = [...otp.used, counter].filter(
    (candidate) => candidate > highest - OTP_COUNTER_LOOKAHEAD,
  );
  return { ...otp, highest, used };
}

export interface OneTimeCodeAcceptance {
  match: OneTimeCodeMatch;
  next: OtpSection;
}

/** Checks `code` for `personId` at lock time `at`; the secret is opened only for the check. */
export function acceptOneTimeCode(
  otp: OtpSection,
  encryptionSecretKey: Uint8Array,
  query: { lockId: string; personId: string; code: string; at: number },
): OneTimeCodeAcceptance | undefined {
  const secret = openSealedSecret(otp.sealed, encryptionSecretKey);
  try {
    const match = findOneTimeCode(secret, { ...query, counters: otpCandidateCounters(otp) });
    return match === undefined ? undefined : { match, next: afterAccepting(otp, match.counter) };
  } finally {
    secret.fill(0);
  }
}
