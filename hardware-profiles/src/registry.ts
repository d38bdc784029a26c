/** Every hardware profile shipped, by id. */
import { fail, succeed } from "@lockfleet/protocol";
import arduinoFirmata from "./profiles/arduino-firmata.js";
import raspberryPi from "./profiles/raspberry-pi.js";
import virtual from "./profiles/virtual.js";
import virtualMatrix from "./profiles/virtual-matrix.js";
import type { HardwareProfile } from "./schema.js";
import type { ProfileResult } from "./validate.js";

export const PROFILES: readonly HardwareProfile[] = [
  virtual,
  virtualMatrix,
  raspberryPi,
  arduinoFirmata,
];

export function profileIds(): string[] {
  return PROFILES.map((profile) => profile.id);
}

/** The shipped profile with this id (not yet checked: pass it through checkProfile). */
export function getProfile(id: string): ProfileResult<HardwareProfile> {
  const profile = PROFILES.find((candidate) => candidate.id === id);
  return profile === undefined
    ? fail("E_PROFILE_UNKNOWN", `no hardware profile "${id}" (known: ${profileIds().join(", ")})`)
    : succeed(profile);
}
