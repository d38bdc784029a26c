/**
 * What the profile's polarity fields mean at the pin, in one place for the edge that drives
 * the pins and the virtual board that plays the world around them.
 */
import type { BoltActuator, DigitalInput } from "./schema.js";

/** The level a digital input reads when its part is in the active condition (or not). */
export function inputLevel(input: DigitalInput, active: boolean): 0 | 1 {
  return active === input.activeLow ? 0 : 1;
}

/**
 * The relay pin level that closes the actuator circuit, which retracts the bolt: the coil is
 * energised at the active level, and normally-closed contacts close when it is released.
 */
export function relayRetractLevel(actuator: Extract<BoltActuator, { kind: "relay" }>): 0 | 1 {
  const energised = actuator.activeLow ? 0 : 1;
  return actuator.contacts === "NO" ? energised : energised === 1 ? 0 : 1;
}
