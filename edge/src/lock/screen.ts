/**
 * What the display shows, derived from state at every unit of work; a transient message
 * (WRONG CODE, CANCELLED, the close seal…) takes precedence while it lasts. Nothing here may
 * depend on whether a code was a duress code (display.ts).
 */
import { remaining } from "./deadlines.js";
import { DISPLAY, type DisplayLines } from "./display.js";
import type { LockContext } from "./lock-context.js";
import type { CycleSection } from "./state.js";

/** What the keypad contributes to the screen. */
export interface KeypadView {
  typed: number;
  programming: boolean;
}

export function deriveScreen(ctx: LockContext, keypad: KeypadView): DisplayLines {
  const now = ctx.mono();
  const deadlines = ctx.deadlines;
  if (ctx.faulted || ctx.storageFault.active) return DISPLAY.fault();
  if (deadlines.penaltyUntil !== undefined)
    return DISPLAY.penalty(remaining(deadlines.penaltyUntil, now));
  if (ctx.activeAlarms.has("doorAjar")) return DISPLAY.doorAjar();
  const message = ctx.message;
  if (
    message !== undefined &&
    message.phase === ctx.phase() &&
    (message.until === undefined || now < message.until)
  ) {
    return message.lines;
  }
  const cycle = ctx.s.cycle;
  if (keypad.typed > 0) {
    // a second code, or a confirmation, is typed under the prompt that asked for it
    const asking = cycle?.phase === "collecting" || cycle?.phase === "window";
    return DISPLAY.typing(keypad.typed, asking ? cycleScreen(ctx, cycle, now)[0] : undefined);
  }
  if (keypad.programming && cycle?.phase === "open") return DISPLAY.program();
  return cycle ? cycleScreen(ctx, cycle, now) : DISPLAY.idle();
}

/** What a running cycle shows when nothing is being typed. */
function cycleScreen(ctx: LockContext, cycle: CycleSection, now: number): DisplayLines {
  const deadlines = ctx.deadlines;
  switch (cycle.phase) {
    case "collecting":
      return DISPLAY.nextCode(cycle.authorisations.length, ctx.codesRequired(cycle.authorisations));
    case "delay":
      return DISPLAY.delay(remaining(deadlines.delayEnds, now));
    case "window":
      return DISPLAY.window(
        remaining(deadlines.windowEnds, now),
        cycle.authorisations.length,
        ctx.codesRequired(cycle.opening),
      );
    case "released":
      return DISPLAY.released();
    case "open":
      // closed again and waiting for the relock: no longer "DOOR OPEN"
      return deadlines.relock === undefined ? DISPLAY.open() : DISPLAY.closing();
  }
}
