/**
 * One test over every shipped profile (unique ids, the schema, no pin used twice, every part a
 * configured feature needs, polarity and timings in range), and the refusal of each rule.
 */
import { describe, expect, it } from "vitest";
import {
  canonicalPin,
  checkProfile,
  FEATURE_PARTS,
  getProfile,
  type HardwareProfile,
  PROFILES,
  pinUses,
  profileIds,
  REQUIRED_PARTS,
  virtualMatrixProfile,
  virtualProfile,
} from "../src/index.js";

describe("registry of shipped profiles", () => {
  it("profile ids are unique", () => {
    expect(new Set(profileIds()).size).toBe(PROFILES.length);
  });

  it("ships the virtual, Raspberry Pi and Arduino Firmata builds", () => {
    expect(profileIds()).toEqual(
      expect.arrayContaining(["virtual", "raspberry-pi", "arduino-firmata"]),
    );
    expect(PROFILES.map((profile) => profile.io.plugin)).toEqual(
      expect.arrayContaining(["virtual", "raspi-io", "firmata"]),
    );
  });

  describe.each(PROFILES.map((profile) => [profile.id, profile] as const))(
    "profile %s",
    (_, profile) => {
      it("passes the runtime check", () => {
        const result = checkProfile(profile);
        expect(result.ok ? "ok" : result.error.message).toBe("ok");
      });

      it("uses no pin twice, counting pin aliases as one pin", () => {
        const pins = pinUses(profile).map((use) => canonicalPin(profile.io, use.pin));
        expect(pins).not.toContain(undefined);
        expect(new Set(pins).size).toBe(pins.length);
      });

      it("has every part the lock and its features need", () => {
        const needed = [...REQUIRED_PARTS, ...profile.features.flatMap((f) => FEATURE_PARTS[f])];
        for (const part of needed) expect(profile.parts[part], part).toBeDefined();
      });

      it("is found by its id", () => {
        const found = getProfile(profile.id);
        expect(found.ok && found.value).toBe(profile);
      });
    },
  );

  it("an unknown id is refused with the ids that exist", () => {
    const found = getProfile("nope");
    expect(found.ok).toBe(false);
    if (!found.ok) {
      expect(found.error.code).toBe("E_PROFILE_UNKNOWN");
      expect(found.error.message).toMatch(/virtual/);
    }
  });
});

function refused(profile: unknown): { code: string; message: string } {
  const result = checkProfile(profile);
  if (result.ok) throw new Error("the profile was accepted");
  return result.error;
}

describe("checkProfile refuses", () => {
  it("a pin used by two parts", () => {
    const error = refused({
      ...virtualProfile,
      parts: { ...virtualProfile.parts, buzzer: { kind: "active", pin: 27 } },
    } satisfies HardwareProfile);
    expect(error.code).toBe("E_PROFILE_PIN_REUSED");
    expect(error.message).toMatch(/silentAlarmRelay uses pin 27.*buzzer|buzzer.*silentAlarmRelay/);
  });

  it("two names of the same Raspberry Pi pin (P1-11 is GPIO17)", () => {
    const pi = getProfile("raspberry-pi");
    if (!pi.ok) throw new Error(pi.error.message);
    const error = refused({
      ...pi.value,
      parts: { ...pi.value.parts, buzzer: { kind: "active", pin: "P1-11" } },
    });
    expect(error.code).toBe("E_PROFILE_PIN_REUSED");
    expect(error.message).toMatch(/GPIO17/);
  });

  it("a part on the I2C bus pins", () => {
    const error = refused({
      ...virtualProfile,
      parts: { ...virtualProfile.parts, buzzer: { kind: "active", pin: 2 } },
    } satisfies HardwareProfile);
    expect(error.code).toBe("E_PROFILE_PIN_REUSED");
    expect(error.message).toMatch(/i2c\.sda/);
  });

  it("a pin of the Firmata board's serial link", () => {
    const arduino = getProfile("arduino-firmata");
    if (!arduino.ok) throw new Error(arduino.error.message);
    const error = refused({
      ...arduino.value,
      parts: { ...arduino.value.parts, buzzer: { kind: "piezo", pin: 1 } },
    });
    expect(error.code).toBe("E_PROFILE_PIN_REUSED");
    expect(error.message).toMatch(/serial link/);
  });

  it("a pin in the key matrix also used by another part", () => {
    const error = refused({
      ...virtualMatrixProfile,
      parts: { ...virtualMatrixProfile.parts, doorContact: { pin: 9, activeLow: false } },
    } satisfies HardwareProfile);
    expect(error.code).toBe("E_PROFILE_PIN_REUSED");
    expect(error.message).toMatch(/keypad\.col1/);
  });

  it("two I2C parts at one address", () => {
    const error = refused({
      ...virtualProfile,
      parts: {
        ...virtualProfile.parts,
        display: { ...virtualProfile.parts.display, address: virtualProfile.parts.keypad.address },
      },
    } satisfies HardwareProfile);
    expect(error.code).toBe("E_PROFILE_PIN_REUSED");
    expect(error.message).toMatch(/0x0a/);
  });

  it("a configured feature without its part (silent alarm without relay)", () => {
    const { silentAlarmRelay: _, ...parts } = virtualProfile.parts;
    const error = refused({ ...virtualProfile, parts });
    expect(error.code).toBe("E_PROFILE_MISSING_PART");
    expect(error.message).toMatch(/silentAlarm.*silentAlarmRelay/);
  });

  it("a lock without a part every lock needs (bolt sensor)", () => {
    const { boltSensor: _, ...parts } = virtualProfile.parts;
    const error = refused({ ...virtualProfile, parts });
    expect(error.code).toBe("E_PROFILE_MISSING_PART");
    expect(error.message).toMatch(/boltSensor/);
  });

  it("I2C parts without I2C bus pins", () => {
    const { i2c: _, ...profile } = virtualProfile;
    expect(refused(profile).code).toBe("E_PROFILE_MISSING_PART");
  });

  it("an IO plugin the edge cannot drive", () => {
    const error = refused({ ...virtualProfile, io: { plugin: "beaglebone-io" } });
    expect(error.code).toBe("E_PROFILE_UNKNOWN_IO_PLUGIN");
    expect(error.message).toMatch(/beaglebone-io/);
  });

  it("a polarity that is not a polarity", () => {
    const error = refused({
      ...virtualProfile,
      parts: { ...virtualProfile.parts, doorContact: { pin: 23, activeLow: "yes" } },
    });
    expect(error.code).toBe("E_PROFILE_RANGE");
    expect(error.message).toMatch(/doorContact\/activeLow/);
  });

  it("relay contacts other than NO or NC", () => {
    const error = refused({
      ...virtualProfile,
      parts: {
        ...virtualProfile.parts,
        boltActuator: { ...virtualProfile.parts.boltActuator, contacts: "CO" },
      },
    });
    expect(error.code).toBe("E_PROFILE_RANGE");
    expect(error.message).toMatch(/boltActuator\/contacts/);
  });

  it("a debounce time out of range", () => {
    const error = refused({
      ...virtualProfile,
      timings: { ...virtualProfile.timings, debounceMs: 900 },
    });
    expect(error.code).toBe("E_PROFILE_RANGE");
    expect(error.message).toMatch(/timings\/debounceMs/);
  });

  it("a bolt sensor timeout shorter than four debounce times", () => {
    const error = refused({
      ...virtualProfile,
      timings: { ...virtualProfile.timings, debounceMs: 100, boltSensorTimeoutMs: 300 },
    } satisfies HardwareProfile);
    expect(error.code).toBe("E_PROFILE_RANGE");
  });

  it("a motor that runs longer than the bolt sensor timeout", () => {
    const error = refused({
      ...virtualMatrixProfile,
      parts: {
        ...virtualMatrixProfile.parts,
        boltActuator: { ...virtualMatrixProfile.parts.boltActuator, runMs: 1500 },
      },
    } satisfies HardwareProfile);
    expect(error.code).toBe("E_PROFILE_RANGE");
    expect(error.message).toMatch(/motor runs 1500 ms/);
  });

  it("a motor or piezo on a pin without PWM", () => {
    const arduino = getProfile("arduino-firmata");
    if (!arduino.ok) throw new Error(arduino.error.message);
    const error = refused({
      ...arduino.value,
      parts: { ...arduino.value.parts, buzzer: { kind: "piezo", pin: 13 } },
    });
    expect(error.code).toBe("E_PROFILE_RANGE");
    expect(error.message).toMatch(/buzzer \(piezo\) needs a PWM pin.*D13/);
  });

  it("a key map that does not fit the keypad", () => {
    const error = refused({
      ...virtualMatrixProfile,
      parts: {
        ...virtualMatrixProfile.parts,
        keypad: { ...virtualMatrixProfile.parts.keypad, cols: [9, 10, 11, 14] },
      },
    } satisfies HardwareProfile);
    expect(error.code).toBe("E_PROFILE_RANGE");
    expect(error.message).toMatch(/16 keys/);
  });

  it("a pin the board does not have", () => {
    const error = refused({
      ...virtualProfile,
      parts: { ...virtualProfile.parts, buzzer: { kind: "active", pin: 99 } },
    } satisfies HardwareProfile);
    expect(error.code).toBe("E_PROFILE_SCHEMA");
    expect(error.message).toMatch(/99/);
  });

  it("something that is not a profile at all", () => {
    expect(refused(null).code).toBe("E_PROFILE_SCHEMA");
    expect(refused({ id: "x" }).code).toBe("E_PROFILE_SCHEMA");
  });
});
