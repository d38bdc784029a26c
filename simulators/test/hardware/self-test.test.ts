/**
 * The hardware self-test on the virtual board: a report per part (ok / fault / notFitted),
 * a fault where a part misbehaves, and never a retracted bolt behind a closed door nor a
 * silent-alarm pulse.
 */
import { type LockHardware, openHardware } from "@lockfleet/edge";
import {
  type HardwareProfile,
  PART_NAMES,
  virtualMatrixProfile,
  virtualProfile,
} from "@lockfleet/hardware-profiles";
import { SelfTestReport, validate } from "@lockfleet/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createVirtualBoard, type VirtualBoard } from "../../src/index.js";

const open: Array<{ board: VirtualBoard; hardware: LockHardware }> = [];

async function start(profile: HardwareProfile) {
  const board = createVirtualBoard(profile, { boltTravelMs: 30 });
  const hardware = await openHardware(profile, {
    io: board.io,
    now: () => Date.parse("2026-11-23T10:00:00.000Z"),
  });
  open.push({ board, hardware });
  return { board, hardware };
}

function results(report: SelfTestReport): Record<string, string> {
  return Object.fromEntries(report.parts.map((part) => [part.part, part.result]));
}

function detail(report: SelfTestReport, part: string): string {
  return report.parts.find((entry) => entry.part === part)?.detail ?? "";
}

afterEach(async () => {
  for (const { board, hardware } of open.splice(0)) {
    await hardware.close();
    board.close();
  }
});

describe("hardware self-test on the virtual board", () => {
  it("reports every part ok on a healthy board, as a valid protocol SelfTestReport", async () => {
    const { hardware } = await start(virtualProfile);
    const report = await hardware.selfTest("lock-0001");
    expect(validate(SelfTestReport, report).ok).toBe(true);
    expect(report.deviceId).toBe("lock-0001");
    expect(report.hardwareProfile).toBe("virtual");
    expect(report.at).toBe("2026-11-23T10:00:00.000Z");
    expect(report.parts.map((part) => part.part)).toEqual([...PART_NAMES]);
    expect(Object.values(results(report))).toEqual(PART_NAMES.map(() => "ok"));
  });

  it("reports parts the profile does not have as notFitted", async () => {
    const { hardware } = await start(virtualMatrixProfile);
    const report = await hardware.selfTest("lock-0002");
    expect(results(report)).toEqual({
      boltActuator: "ok",
      boltSensor: "ok",
      doorContact: "ok",
      tamperSwitch: "notFitted",
      keypad: "ok",
      display: "ok",
      buzzer: "ok",
      silentAlarmRelay: "ok",
      powerFail: "notFitted",
    });
  });

  it("never retracts the bolt behind a closed door", async () => {
    const { board, hardware } = await start(virtualProfile);
    const positions: string[] = [];
    const timer = setInterval(() => positions.push(board.boltPosition()), 2);
    const report = await hardware.selfTest("lock-0001");
    clearInterval(timer);
    expect(positions.every((position) => position === "thrown")).toBe(true);
    expect(results(report).boltActuator).toBe("ok");
    expect(detail(report, "boltActuator")).toMatch(/retract not exercised/);
  });

  it("runs a full retract and throw cycle when the door is open", async () => {
    const { board, hardware } = await start(virtualProfile);
    // Wait for the debounced door contact itself, not a fixed pause: a loaded machine may take longer.
    const doorSeenOpen = new Promise<void>((resolve) =>
      hardware.on("door", (open) => {
        if (open) resolve();
      }),
    );
    board.setDoor(true);
    await doorSeenOpen;
    const seen = new Set<string>();
    hardware.on("bolt", (position) => seen.add(position));
    const report = await hardware.selfTest("lock-0001");
    expect(results(report).boltActuator).toBe("ok");
    expect(seen).toEqual(new Set(["retracted", "thrown"]));
    expect(board.boltPosition()).toBe("thrown");
  });

  it("never pulses the silent alarm", async () => {
    const { board, hardware } = await start(virtualProfile);
    await hardware.selfTest("lock-0001");
    expect(board.silentAlarmPulses()).toBe(0);
  });

  it("a jammed bolt is a fault of the actuator and the sensor, and raises boltJam", async () => {
    const { board, hardware } = await start(virtualProfile);
    board.setDoor(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    board.jamBolt(true);
    const jams: string[] = [];
    hardware.on("boltJam", (expected) => jams.push(expected));
    const report = await hardware.selfTest("lock-0001");
    expect(results(report).boltActuator).toBe("fault");
    expect(results(report).boltSensor).toBe("fault");
    expect(detail(report, "boltActuator")).toMatch(/did not reach retracted/);
    expect(jams).toEqual(["retracted"]);
    expect(results(report).keypad).toBe("ok");
  });

  it("an LCD backpack that does not answer on the I2C bus is a display fault", async () => {
    const { board, hardware } = await start(virtualProfile);
    board.disconnect("display", true);
    const report = await hardware.selfTest("lock-0001");
    expect(results(report).display).toBe("fault");
    expect(detail(report, "display")).toMatch(/0x27/);
    expect(results(report).keypad).toBe("ok");
  });

  it("a display that fails with an I2C error (as on raspi-io) is a display fault, not a failed self-test", async () => {
    const { board, hardware } = await start(virtualProfile);
    board.io.failWritesToAbsentDevices = true;
    board.disconnect("display", true);
    const report = await hardware.selfTest("lock-0001");
    expect(results(report).display).toBe("fault");
    expect(detail(report, "display")).toMatch(/EIO/);
    expect(results(report).buzzer).toBe("ok");
  });

  it("a keypad backpack that does not answer is a keypad fault", async () => {
    const { board, hardware } = await start(virtualProfile);
    board.disconnect("keypad", true);
    const report = await hardware.selfTest("lock-0001");
    expect(results(report).keypad).toBe("fault");
  });

  it("a key shorted in the pin matrix is a keypad fault", async () => {
    const { board, hardware } = await start(virtualMatrixProfile);
    // Column 2 shorted to ground: every key of that column reads pressed.
    board.stickPin(10, 0);
    const report = await hardware.selfTest("lock-0002");
    expect(results(report).keypad).toBe("fault");
    expect(detail(report, "keypad")).toMatch(/stuck key or short/);
  });

  it("an open housing and failed mains are faults", async () => {
    const { board, hardware } = await start(virtualProfile);
    board.setTamper(true);
    board.setPowerFail(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const report = await hardware.selfTest("lock-0001");
    expect(results(report).tamperSwitch).toBe("fault");
    expect(results(report).powerFail).toBe("fault");
  });

  it("a buzzer pin shorted to ground is a buzzer fault", async () => {
    const { board, hardware } = await start(virtualProfile);
    board.stickPin(18, 0);
    const report = await hardware.selfTest("lock-0001");
    expect(results(report).buzzer).toBe("fault");
  });

  it("a silent-alarm pin stuck active is a fault", async () => {
    const { board, hardware } = await start(virtualProfile);
    board.stickPin(27, 1);
    const report = await hardware.selfTest("lock-0001");
    expect(results(report).silentAlarmRelay).toBe("fault");
  });
});
