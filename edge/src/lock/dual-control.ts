/**
 * Dual control (SPEC §3): per container single, dual or triple, by parallel codes without
 * fixed groups; the same person never counts twice; a container may require mixed parties
 * (one bank and one CIT person). A grant that lifts dual control lets its holder open alone.
 */
import type { LockPolicy } from "@lockfleet/protocol";
import type { Authorisation } from "./state.js";

export const EYES = { single: 1, dual: 2, triple: 3 } as const;

export function codesRequired(
  policy: Pick<LockPolicy, "dualControl">,
  authorisations: readonly Authorisation[],
): number {
  if (authorisations.some((authorisation) => authorisation.single)) return 1;
  return EYES[policy.dualControl];
}

/** Whether this person already counts in the round (by any of their codes or slots). */
export function alreadyCounted(
  authorisations: readonly Authorisation[],
  personId: string,
): boolean {
  return authorisations.some((given) => given.personId === personId);
}

/**
 * With mixed parties required: could the codes still to come supply the missing party? False
 * when one more person of the same party would leave no room for the other party.
 */
export function mixedPartiesPossible(
  policy: Pick<LockPolicy, "mixedParties">,
  authorisations: readonly Authorisation[],
  required: number,
): boolean {
  if (!policy.mixedParties || required < 2) return true;
  const parties = new Set(authorisations.map((authorisation) => authorisation.party));
  const missing = (parties.has("bank") ? 0 : 1) + (parties.has("cit") ? 0 : 1);
  return missing <= required - authorisations.length;
}
