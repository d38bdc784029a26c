/** The hardware profile a device runs with: a shipped profile, checked before any pin is touched. */
import { checkProfile, getProfile, type HardwareProfile } from "@lockfleet/hardware-profiles";
import { RuntimeError } from "./errors.js";

export function resolveProfile(id: string | undefined): HardwareProfile {
  if (id === undefined || id.length === 0) {
    throw new RuntimeError("E_PROFILE_UNKNOWN", "no hardware profile given (--profile ID)");
  }
  const found = getProfile(id);
  if (!found.ok) throw new RuntimeError("E_PROFILE_UNKNOWN", found.error.message);
  const checked = checkProfile(found.value);
  if (!checked.ok) {
    throw new RuntimeError("E_PROFILE_INVALID", `${checked.error.code}: ${checked.error.message}`);
  }
  return checked.value as HardwareProfile;
}
