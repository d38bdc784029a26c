/**
 * Programming at the keypad (SPEC §3): policy changes, weakening ones included, may come from
 * a master user while the container is open — never from a single user at a closed lock. The
 * master keys a function digit and its value, then `#`:
 *
 *   1 + minutes  time delay (0–99)          e.g. 1 5 #  → 5 min
 *   2 + 1|2|3    single, dual, triple       e.g. 2 2 #  → dual control
 *   3 + minutes  confirmation window (1–19) e.g. 3 3 #  → 3 min
 *   4 + minutes  duress delay (0–99)        e.g. 4 1 0 # → 10 min; 4 0 # → unset (normal delay)
 *   5 + 0|1      mixed parties (bank + CIT) e.g. 5 1 #  → required
 */
import { isValid, LockPolicy } from "@lockfleet/protocol";

export const PROGRAM_FUNCTIONS = {
  "1": "timeDelayMin",
  "2": "dualControl",
  "3": "confirmationWindowMin",
  "4": "duressDelayMin",
  "5": "mixedParties",
} as const;

const EYES_BY_DIGIT = { "1": "single", "2": "dual", "3": "triple" } as const;

export type ProgrammingResult =
  | {
      ok: true;
      policy: LockPolicy;
      changed: (typeof PROGRAM_FUNCTIONS)[keyof typeof PROGRAM_FUNCTIONS];
    }
  | { ok: false; reason: "format" | "unknownFunction" | "outOfRange" };

export function programPolicy(policy: LockPolicy, entered: string): ProgrammingResult {
  if (!/^\d{2,3}$/.test(entered)) return { ok: false, reason: "format" };
  const digit = entered.slice(0, 1);
  const value = entered.slice(1);
  if (!(digit in PROGRAM_FUNCTIONS)) return { ok: false, reason: "unknownFunction" };
  const changed = PROGRAM_FUNCTIONS[digit as keyof typeof PROGRAM_FUNCTIONS];
  let next: LockPolicy;
  if (changed === "dualControl") {
    const eyes = EYES_BY_DIGIT[value as keyof typeof EYES_BY_DIGIT];
    if (eyes === undefined) return { ok: false, reason: "outOfRange" };
    next = { ...policy, dualControl: eyes };
  } else if (changed === "mixedParties") {
    if (value !== "0" && value !== "1") return { ok: false, reason: "outOfRange" };
    next = { ...policy, mixedParties: value === "1" };
  } else if (changed === "duressDelayMin" && Number(value) === 0) {
    // No separate duress delay: a duress opening runs on the normal delay (the default).
    const { duressDelayMin: _unset, ...rest } = policy;
    next = rest;
  } else {
    next = { ...policy, [changed]: Number(value) };
  }
  if (!isValid(LockPolicy, next)) return { ok: false, reason: "outOfRange" };
  return { ok: true, policy: next, changed };
}
