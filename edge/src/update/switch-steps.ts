/**
 * The switch from the running slot to the installed one, as durable steps in order. A power
 * cut between any two leaves a state reconcileBoot (install-layout.ts) resolves: before the
 * pointer moved, the old version runs on and switches again later; after it moved, the new
 * version starts on trial.
 */

import { UpdateError } from "../errors.js";
import { pointCurrent, type UpdateState, writeUpdateState } from "./install-layout.js";

export interface SwitchStep {
  name: "markSwitching" | "movePointer" | "markTrial";
  run(root: string, state: UpdateState): UpdateState;
}

export const SWITCH_STEPS: readonly SwitchStep[] = [
  {
    name: "markSwitching",
    run(root, state) {
      const next: UpdateState = { ...state, phase: "switching" };
      writeUpdateState(root, next);
      return next;
    },
  },
  {
    name: "movePointer",
    run(root, state) {
      if (state.toSlot === undefined)
        throw new UpdateError("E_UPDATE_STATE", "no slot to switch to");
      pointCurrent(root, state.toSlot);
      return state;
    },
  },
  {
    name: "markTrial",
    run(root, state) {
      // The launcher counts this start as the first; zero here.
      const next: UpdateState = { ...state, phase: "trial", bootAttempts: 0 };
      writeUpdateState(root, next);
      return next;
    },
  },
];

export function switchSlots(root: string, state: UpdateState): UpdateState {
  let current = state;
  for (const step of SWITCH_STEPS) current = step.run(root, current);
  return current;
}
