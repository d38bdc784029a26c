/**
 * What openHardware refuses before it touches a pin: a profile the registry rules reject, and
 * an IO plugin that is not available on this machine (clear E_HARDWARE_* errors). Driving
 * parts is tested on the virtual board in simulators/test/hardware.
 */
import { createRequire } from "node:module";
import {
  arduinoFirmataProfile,
  type HardwareProfile,
  raspberryPiProfile,
  virtualProfile,
} from "@lockfleet/hardware-profiles";
import { describe, expect, it } from "vitest";
import { HardwareError } from "../../src/hardware/errors.js";
import { openHardware } from "../../src/hardware/open-hardware.js";

const require = createRequire(import.meta.url);

function loads(name: string): boolean {
  try {
    require(name);
    return true;
  } catch {
    return false;
  }
}

async function refusal(promise: Promise<unknown>): Promise<HardwareError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HardwareError) return error;
    throw error;
  }
  throw new Error("openHardware did not refuse");
}

describe("openHardware refuses what it cannot drive", () => {
  it("refuses a profile that uses a pin twice, with the profile's code", async () => {
    const profile = {
      ...virtualProfile,
      parts: { ...virtualProfile.parts, doorContact: { pin: 17, activeLow: true } },
    } satisfies HardwareProfile;
    const error = await refusal(openHardware(profile));
    expect(error.code).toBe("E_PROFILE_PIN_REUSED");
    expect(error.message).toMatch(/^E_PROFILE_PIN_REUSED: .*doorContact.*boltActuator/);
  });

  it("refuses a profile whose configured feature lacks its part", async () => {
    const { silentAlarmRelay: _, ...parts } = virtualProfile.parts;
    const error = await refusal(openHardware({ ...virtualProfile, parts }));
    expect(error.code).toBe("E_PROFILE_MISSING_PART");
    expect(error.message).toMatch(/silentAlarm/);
  });

  it("a virtual profile needs the virtual board passed in", async () => {
    const error = await refusal(openHardware(virtualProfile));
    expect(error.code).toBe("E_HARDWARE_IO_REQUIRED");
  });

  it.skipIf(loads("raspi-io"))(
    "a Raspberry Pi profile off the Pi fails clearly: raspi-io is not installed here",
    async () => {
      const error = await refusal(openHardware(raspberryPiProfile));
      expect(error.code).toBe("E_HARDWARE_IO_UNAVAILABLE");
      expect(error.message).toMatch(/raspi-io .*optional dependency/);
    },
  );

  it.skipIf(loads("serialport"))(
    "a Firmata profile fails clearly when serialport has no native binding",
    async () => {
      const error = await refusal(openHardware(arduinoFirmataProfile));
      expect(error.code).toBe("E_HARDWARE_SERIALPORT_UNAVAILABLE");
      expect(error.message).toMatch(/\/dev\/ttyACM0/);
    },
  );
});
