/**
 * The door contact, the bolt position sensor and the tamper loop (SPEC §3 "Opening, relock,
 * monitoring"). Door state (closed, open, ajar, forced) is kept apart from bolt state
 * (thrown, retracted, jammed) as Matter does; a door opened while the bolt is thrown or
 * without an authorised cycle is forced, a bolt that moves undriven is tampering.
 */
import { isDue, SECOND } from "./deadlines.js";
import type { LockContext } from "./lock-context.js";
import type { OpeningCycle } from "./opening-cycle.js";
import type { BoltPosition } from "./ports.js";

export class Sensors {
  readonly #ctx: LockContext;
  readonly #cycle: OpeningCycle;

  constructor(ctx: LockContext, cycle: OpeningCycle) {
    this.#ctx = ctx;
    this.#cycle = cycle;
  }

  door(open: boolean): void {
    const ctx = this.#ctx;
    if (open === ctx.doorOpen) return;
    ctx.doorOpen = open;
    ctx.message = undefined;
    const cycle = ctx.s.cycle;
    if (open) {
      const opening = cycle && (cycle.phase === "released" || cycle.phase === "open");
      // An opening that a power loss cut off continues: the bolt was thrown at start-up
      // while the door, opened under the authorised cycle, stood open (SPEC §3: forced is
      // open while thrown, or without an authorised cycle — neither is the case).
      const continued = opening && cycle.afterRestart === true;
      ctx.audit(
        "door.opened",
        null,
        continued ? { openingNumber: cycle.openingNumber, continuesOpening: true } : {},
      );
      const authorised = opening && (ctx.bolt !== "thrown" || continued);
      if (!authorised) {
        ctx.doorForced = true;
        ctx.raise("doorForcedOpen", null, { bolt: ctx.bolt });
        ctx.buzz("alarm");
        return;
      }
      if (cycle.phase === "released") ctx.set("cycle", { ...cycle, phase: "open" });
      // Every time the door opens, also again before the relock after a close.
      ctx.deadlines.ajar = ctx.mono() + ctx.s.policy.maxOpenSec * SECOND;
      ctx.deadlines.relock = undefined;
      return;
    }
    ctx.audit("door.closed", null, {});
    if (ctx.doorForced) {
      ctx.doorForced = false;
      ctx.clear("doorForcedOpen");
    }
    ctx.clear("doorAjar");
    ctx.deadlines.ajar = undefined;
    if (cycle?.phase === "open")
      ctx.deadlines.relock = ctx.mono() + ctx.s.policy.relockAfterCloseSec * SECOND;
    ctx.buzz("off");
  }

  /** The bolt position sensor reports. */
  bolt(position: BoltPosition): void {
    const ctx = this.#ctx;
    const previous = ctx.bolt;
    ctx.bolt = position;
    const command = ctx.boltCommand;
    if (command !== undefined && command.position === position) {
      ctx.boltCommand = undefined;
      if (previous === "jammed") ctx.clear("lockJammed");
      ctx.audit(position === "thrown" ? "bolt.thrown" : "bolt.retracted", null, {});
      if (position === "thrown") this.#cycle.relocked();
      return;
    }
    if (previous !== position && command === undefined && position === "retracted") {
      // The bolt moved although nothing drove it: manipulation.
      ctx.raise("tamper", null, { reason: "bolt retracted without a cycle" });
      ctx.driveBolt("thrown");
    }
  }

  tamper(active: boolean): void {
    const ctx = this.#ctx;
    if (active === ctx.tamper) return;
    ctx.tamper = active;
    if (active) {
      ctx.raise("tamper", null, { reason: "housing opened" });
      ctx.buzz("alarm");
    } else {
      ctx.clear("tamper");
    }
  }

  /** The bolt did not reach the position it was driven to. */
  jammed(detectedBy: "boltSensorTimeout" | "actuator"): void {
    const ctx = this.#ctx;
    const command = ctx.boltCommand;
    if (command === undefined) return;
    ctx.boltCommand = undefined;
    ctx.bolt = "jammed";
    ctx.raise("lockJammed", null, { driving: command.position, detectedBy });
    if (command.position === "retracted")
      this.#cycle.end("cycle.cancelled", { reason: "boltJammed" });
  }

  /** The door has stood open too long, or the bolt sensor never confirmed a drive. */
  tick(now: number): void {
    const ctx = this.#ctx;
    if (isDue(ctx.deadlines.ajar, now)) {
      ctx.deadlines.ajar = undefined;
      ctx.raise("doorAjar", null, { maxOpenSec: ctx.s.policy.maxOpenSec });
      ctx.buzz("alarm");
    }
    if (ctx.boltCommand !== undefined && isDue(ctx.boltCommand.by, now)) {
      this.jammed("boltSensorTimeout");
    }
  }
}
