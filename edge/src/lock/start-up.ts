/**
 * Start-up order (SPEC §3 "Opening, relock, monitoring", "Unclean restart"): every input the
 * hardware reports — door contact, tamper loop, power-fail input, bolt sensor — is read before
 * the core takes any decision on it, and handed to the core in the order that lets each
 * decision see the whole picture:
 *
 * 1. door first: an opening cut off by a power loss continues while its door stands open, so
 *    the bolt found thrown must not be taken for the end of that opening (a close seal while
 *    the door is open would be false, and the door then counted as forced);
 * 2. tamper and power, which decide nothing about the bolt;
 * 3. the bolt sensor last: its confirmation ends an opening only once the door is known closed.
 *
 * An unclean restart raises powerLoss at boot; once the lock runs again with mains present
 * (the power-fail input reads "power good", or the build has no such input and the running
 * lock is itself the evidence) the condition has ended and the alarm is cleared on record —
 * the fleet keeps it until a person acknowledges it.
 */
import type { BoltPosition } from "./ports.js";

/** The inputs as the hardware reads them at power-up. */
export interface StartInputs {
  door: boolean;
  bolt: BoltPosition | "unknown";
  tamper: boolean;
  /** The power-fail input: true while mains fail; undefined when the build has no such input. */
  powerFail?: boolean;
}

/** What applyStartInputs needs of the lock core (its public inputs). */
export interface StartUpTarget {
  setDoor(open: boolean): void;
  setTamper(active: boolean): void;
  boltSensed(position: BoltPosition): void;
  recordHardwareEvent(event: {
    kind: "powerFail";
    failing: boolean;
    source: "powerFailInput" | "startUp";
  }): void;
  readonly activeAlarms: readonly string[];
}

/** Hands the start-up inputs to a freshly booted core, door first and bolt sensor last. */
export function applyStartInputs(core: StartUpTarget, inputs: StartInputs): void {
  if (inputs.door) core.setDoor(true);
  if (inputs.tamper) core.setTamper(true);
  if (inputs.powerFail === true) {
    core.recordHardwareEvent({ kind: "powerFail", failing: true, source: "powerFailInput" });
  } else if (core.activeAlarms.includes("powerLoss")) {
    core.recordHardwareEvent({
      kind: "powerFail",
      failing: false,
      source: inputs.powerFail === false ? "powerFailInput" : "startUp",
    });
  }
  if (inputs.bolt !== "unknown") core.boltSensed(inputs.bolt);
}
