/**
 * Close seal (SPEC §3): after the relock the lock shows a code proving that this opening ended
 * in a locked state. The derivations are protocol's (protocol/src/close-seal.ts, one definition
 * for lock and fleet); this picks the one that fits the opening. A one-time-code opening answers
 * with the seal of its code (the fleet closes the window with it); any other opening with the
 * opening seal over the lock id and opening number, keyed by the one-time-code secret when the
 * fleet installed one (so the fleet can check it) and by the device-local key otherwise.
 */
import { closeSeal, OPENING_SEAL_PURPOSE, openingSeal } from "@lockfleet/protocol";
import type { Authorisation } from "./state.js";

/** Kept for the edge package's existing export; the value is protocol's. */
export { OPENING_SEAL_PURPOSE };

export function openingCloseSeal(
  secret: Uint8Array,
  lockId: string,
  openingNumber: number,
  opening: readonly Authorisation[],
): string {
  const otpOpening = opening.find((authorisation) => authorisation.otp !== undefined);
  if (otpOpening?.otp !== undefined) {
    return closeSeal(secret, { lockId, personId: otpOpening.personId, ...otpOpening.otp });
  }
  return openingSeal(secret, lockId, openingNumber);
}
