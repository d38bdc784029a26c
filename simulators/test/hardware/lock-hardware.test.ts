/**
 * The edge's hardware layer driven through the real Johnny-Five code path on the virtual
 * board: keys pressed on the virtual keypad reach the lock, the relay and motor pins follow
 * the bolt drive, LCD text reads back, a jammed bolt raises boltJam.
 */
import { type LockHardware, openHardware } from "@lockfleet/edge";
import {
  type HardwareProfile,
  raspberryPiProfile,
  virtualMatrixProfile,
  virtualProfile,
} from "@lockfleet/hardware-profiles";
import { afterEach, describe, expect, it } from "vitest";
import { createVirtualBoard, type VirtualBoard } from "../../src/index.js";

const open: Array<{ board: VirtualBoard; hardware: LockHardware }> = [];

async function start(profile: HardwareProfile, boltTravelMs = 30) {
  const board = createVirtualBoard(profile, { boltTravelMs });
  const hardware = await openHardware(profile, { io: board.io });
  open.push({ board, hardware });
  return { board, hardware };
}

function nextEvent<T>(
  subscribe: (listener: (value: T) => void) => () => void,
  ms = 3000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no event within ${ms} ms`));
    }, ms);
    const stop = subscribe((value) => {
      clearTimeout(timer);
      stop();
      resolve(value);
    });
  });
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(async () => {
  for (const { board, hardware } of open.splice(0)) {
    await hardware.close();
    board.close();
  }
});

describe.each([
  ["I2C keypad backpack, relay bolt", virtualProfile],
  ["pin-scanned key matrix, motor bolt", virtualMatrixProfile],
])("lock hardware on the virtual board (%s)", (_, profile) => {
  it("keys pressed on the virtual keypad reach the lock in order", async () => {
    const { board, hardware } = await start(profile);
    const keys: string[] = [];
    hardware.on("key", (key) => keys.push(key));
    await board.typeKeys("0417*#");
    expect(keys).toEqual(["0", "4", "1", "7", "*", "#"]);
  });

  it("a key press shows up on the display within one update", async () => {
    const { board, hardware } = await start(profile);
    hardware.on("key", (key) => hardware.display([`CODE ${key}`, "PLEASE WAIT"]));
    await board.pressKey("5");
    expect(board.lcdLines()).toEqual(["CODE 5", "PLEASE WAIT"]);
  });

  it("display text reads back from the LCD, rewritten line by line", async () => {
    const { board, hardware } = await start(profile);
    hardware.display(["ENTER CODE", "DELAY 04:59"]);
    expect(board.lcdLines()).toEqual(["ENTER CODE", "DELAY 04:59"]);
    hardware.display(["ENTER CODE", "DELAY 04:58"]);
    expect(board.lcdLines()).toEqual(["ENTER CODE", "DELAY 04:58"]);
    hardware.display(["a line longer than sixteen", "Grüße"]);
    expect(board.lcdRows()).toEqual(["a line longer th", "Gr??e           "]);
  });

  it("starts fail-secure: bolt thrown, door closed, housing closed", async () => {
    const { board, hardware } = await start(profile);
    const { powerFail, ...inputs } = hardware.readInputs();
    expect(inputs).toEqual({ door: false, bolt: "thrown", tamper: false });
    // Mains present where the build has a power-fail input; absent where it has none.
    expect(powerFail).toBe("powerFail" in profile.parts ? false : undefined);
    expect(board.boltPosition()).toBe("thrown");
  });

  it("driving the bolt moves it and the bolt sensor confirms each position", async () => {
    const { board, hardware } = await start(profile);
    const jams: string[] = [];
    hardware.on("boltJam", (expected) => jams.push(expected));
    const retracted = nextEvent<string>((l) => hardware.on("bolt", l));
    hardware.driveBolt("retracted");
    expect(await retracted).toBe("retracted");
    expect(board.boltPosition()).toBe("retracted");
    const thrown = nextEvent<string>((l) => hardware.on("bolt", l));
    hardware.driveBolt("thrown");
    expect(await thrown).toBe("thrown");
    expect(hardware.readInputs().bolt).toBe("thrown");
    await wait(profile.timings.boltSensorTimeoutMs + 50);
    expect(jams).toEqual([]);
  });

  it("a jammed bolt raises boltJam after the actuator timeout", async () => {
    const { board, hardware } = await start(profile);
    board.jamBolt(true);
    const started = Date.now();
    const jam = nextEvent<string>((l) => hardware.on("boltJam", l));
    hardware.driveBolt("retracted");
    expect(await jam).toBe("retracted");
    expect(Date.now() - started).toBeGreaterThanOrEqual(profile.timings.boltSensorTimeoutMs - 5);
    expect(board.boltPosition()).toBe("thrown");
    expect(hardware.readInputs().bolt).toBe("thrown");
  });

  it("the door contact reports opening and closing, debounced", async () => {
    const { board, hardware } = await start(profile);
    const doors: boolean[] = [];
    hardware.on("door", (doorOpen) => doors.push(doorOpen));
    // Contact bounce never reaches the lock (the exact debounce timing is unit-tested with
    // fake timers in edge/test/hardware/debounce.test.ts).
    board.setDoor(true);
    board.setDoor(false);
    board.setDoor(true);
    board.setDoor(false);
    await wait(profile.timings.debounceMs + 30);
    expect(doors).toEqual([]);
    board.setDoor(true);
    await wait(profile.timings.debounceMs + 30);
    expect(doors).toEqual([true]);
    expect(hardware.readInputs().door).toBe(true);
    board.setDoor(false);
    await wait(profile.timings.debounceMs + 30);
    expect(doors).toEqual([true, false]);
  });

  it("a duress pulse closes the silent-alarm relay once for the pulse time", async () => {
    const { board, hardware } = await start(profile);
    const alarm = profile.parts.silentAlarmRelay;
    if (alarm === undefined) throw new Error("profile without silent alarm");
    const idle = alarm.activeLow ? 1 : 0;
    expect(board.pin(alarm.pin)).toBe(idle);
    hardware.pulseSilentAlarm();
    expect(board.silentAlarmPulses()).toBe(1);
    expect(board.pin(alarm.pin)).toBe(1 - idle);
    await wait(alarm.pulseMs + 50);
    expect(board.pin(alarm.pin)).toBe(idle);
    expect(board.silentAlarmPulses()).toBe(1);
  });

  it("the buzzer sounds a key beep and falls silent", async () => {
    const { board, hardware } = await start(profile);
    expect(board.buzzerOn()).toBe(false);
    hardware.buzzer("key");
    expect(board.buzzerOn()).toBe(true);
    await wait(100);
    expect(board.buzzerOn()).toBe(false);
    hardware.buzzer("alarm");
    expect(board.buzzerOn()).toBe(true);
    hardware.buzzer("off");
    expect(board.buzzerOn()).toBe(false);
    expect(board.buzzerSoundings()).toBe(2);
  });
});

describe("relay bolt actuator on the virtual board", () => {
  it("retracting energises a normally-open relay (pin HIGH); throwing releases it", async () => {
    const { board, hardware } = await start(virtualProfile);
    expect(board.pin(17)).toBe(0);
    hardware.driveBolt("retracted");
    expect(board.pin(17)).toBe(1);
    hardware.driveBolt("thrown");
    expect(board.pin(17)).toBe(0);
  });

  it("an active-low relay module is energised with the pin LOW", async () => {
    const profile = {
      ...virtualProfile,
      id: "virtual-active-low",
      parts: {
        ...virtualProfile.parts,
        boltActuator: { kind: "relay", pin: 17, contacts: "NO", activeLow: true },
      },
    } satisfies HardwareProfile;
    const { board, hardware } = await start(profile);
    expect(board.pin(17)).toBe(1);
    hardware.driveBolt("retracted");
    expect(board.pin(17)).toBe(0);
    expect(await nextEvent<string>((l) => hardware.on("bolt", l))).toBe("retracted");
  });

  it("normally-closed contacts invert the relay pin", async () => {
    const profile = {
      ...virtualProfile,
      id: "virtual-nc",
      parts: {
        ...virtualProfile.parts,
        boltActuator: { kind: "relay", pin: 17, contacts: "NC", activeLow: false },
      },
    } satisfies HardwareProfile;
    const { board, hardware } = await start(profile);
    expect(board.pin(17)).toBe(1);
    hardware.driveBolt("retracted");
    expect(board.pin(17)).toBe(0);
    expect(await nextEvent<string>((l) => hardware.on("bolt", l))).toBe("retracted");
  });

  it("tamper and power-fail inputs report their unsafe condition", async () => {
    const { board, hardware } = await start(virtualProfile);
    const tamper = nextEvent<boolean>((l) => hardware.on("tamper", l));
    board.setTamper(true);
    expect(await tamper).toBe(true);
    expect(hardware.readInputs().tamper).toBe(true);
    const power = nextEvent<boolean>((l) => hardware.on("powerFail", l));
    board.setPowerFail(true);
    expect(await power).toBe(true);
    expect(hardware.readInputs().powerFail).toBe(true);
  });
});

describe("the Raspberry Pi profile on the virtual board, with its pin names", () => {
  it("drives the active-low relay on GPIO17 and reads keys from the backpack", async () => {
    const { board, hardware } = await start(raspberryPiProfile);
    expect(board.pin("GPIO17")).toBe(1);
    expect(board.pin("P1-11")).toBe(1);
    hardware.driveBolt("retracted");
    expect(board.pin("GPIO17")).toBe(0);
    expect(await nextEvent<string>((l) => hardware.on("bolt", l))).toBe("retracted");
    const keys: string[] = [];
    hardware.on("key", (key) => keys.push(key));
    await board.typeKeys("9#");
    expect(keys).toEqual(["9", "#"]);
    hardware.buzzer("alarm");
    expect(board.pin("P1-12")).toBe(1);
  });
});

describe("motor bolt actuator on the virtual board", () => {
  it("the motor runs towards the commanded position and stops once the sensor confirms", async () => {
    const { board, hardware } = await start(virtualMatrixProfile, 60);
    const actuator = virtualMatrixProfile.parts.boltActuator;
    // The profile's literal type fixes the direction; the rule holds for either.
    const retractLevel = (actuator.retractDirection as "high" | "low") === "high" ? 1 : 0;
    expect(board.pin(actuator.pwmPin)).toBe(0);
    const retracted = nextEvent<string>((l) => hardware.on("bolt", l));
    hardware.driveBolt("retracted");
    expect(board.pin(actuator.pwmPin)).toBe(actuator.speed);
    expect(board.pin(actuator.dirPin)).toBe(retractLevel);
    await retracted;
    expect(board.pin(actuator.pwmPin)).toBe(0);
    hardware.driveBolt("thrown");
    expect(board.pin(actuator.dirPin)).toBe(1 - retractLevel);
  });

  it("a jammed motor bolt stops the motor after its run time", async () => {
    const { board, hardware } = await start(virtualMatrixProfile);
    const actuator = virtualMatrixProfile.parts.boltActuator;
    board.jamBolt(true);
    hardware.driveBolt("retracted");
    await wait(actuator.runMs + 30);
    expect(board.pin(actuator.pwmPin)).toBe(0);
  });
});

describe("a part that fails while driven", () => {
  it("a display that stops answering is reported as a fault, and the lock call returns", async () => {
    const { board, hardware } = await start(virtualProfile);
    const faults: Array<[string, string]> = [];
    hardware.on("fault", (part, error) => faults.push([part, error.message]));
    board.io.failWritesToAbsentDevices = true;
    board.disconnect("display", true);
    expect(() => hardware.display(["ENTER CODE", ""])).not.toThrow();
    expect(faults).toHaveLength(1);
    expect(faults[0]?.[0]).toBe("display");
    expect(faults[0]?.[1]).toMatch(/^E_HARDWARE_PART: display failed: EIO/);
    // The rest of the lock keeps working.
    hardware.driveBolt("retracted");
    expect(await nextEvent<string>((l) => hardware.on("bolt", l))).toBe("retracted");
  });

  it("a duress pulse without a silent-alarm relay is a fault, not an exception in the opening", async () => {
    const { silentAlarmRelay: _, ...parts } = virtualProfile.parts;
    const profile = {
      ...virtualProfile,
      id: "virtual-no-alarm",
      parts,
      features: ["tamper", "powerFailInput", "localSounder"],
    } satisfies HardwareProfile;
    const { hardware } = await start(profile);
    const faults: string[] = [];
    hardware.on("fault", (part) => faults.push(part));
    expect(() => hardware.pulseSilentAlarm()).not.toThrow();
    expect(faults).toEqual(["silentAlarmRelay"]);
  });

  it("an IO board that fails after start-up is a board fault, not a crash", async () => {
    const { board, hardware } = await start(virtualProfile);
    const faults: Array<[string, string]> = [];
    hardware.on("fault", (part, error) => faults.push([part, error.message]));
    board.io.emit("error", new Error("serial link lost"));
    expect(faults).toEqual([
      ["board", "E_HARDWARE_BOARD: the VirtualIo board failed: serial link lost"],
    ]);
  });

  it("outputs after close are refused with E_HARDWARE_CLOSED", async () => {
    const { hardware } = await start(virtualProfile);
    await hardware.close();
    expect(() => hardware.driveBolt("retracted")).toThrow(/^E_HARDWARE_CLOSED/);
  });
});
