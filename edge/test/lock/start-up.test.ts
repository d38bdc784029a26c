/**
 * Start-up order (lock/start-up.ts): every input is read before any decision, the door before
 * the bolt sensor; alarms raised at boot wait for the first listener; powerLoss is cleared
 * once the lock runs with mains present.
 */
import { describe, expect, it } from "vitest";
import { ManualClock, VirtualOutputs } from "../../src/lock/harness.js";
import { LockCore } from "../../src/lock/lock-core.js";
import type { StartInputs } from "../../src/lock/start-up.js";
import type { MemoryLockStore } from "../../src/store/memory-store.js";
import { alarmsOf, DEVICE, entry, SECOND, setup, USERS } from "./fixtures.js";

/** An opening cut off by a power loss while the door stood open, restarted with `inputs`. */
function restartDuringOpening(inputs: StartInputs) {
  const t = setup({ policy: { timeDelayMin: 0 } });
  t.lock.press(entry(USERS.anna));
  t.lock.press(entry(USERS.ben));
  t.lock.advance(SECOND);
  t.lock.door(true);
  expect(t.lock.core.state().cycle.phase).toBe("open");
  const head = t.head();
  const store = (t.store as MemoryLockStore).reopen(false);
  const clock = new ManualClock(t.clock.now());
  const core = LockCore.open({
    store,
    clock,
    outputs: new VirtualOutputs(),
    identity: t.identity,
    startInputs: inputs,
  });
  return { core, store, head };
}

describe("start-up order", () => {
  it("a power cut with the door open gives no close seal and no forced-door alarm at start-up", () => {
    const { core, store, head } = restartDuringOpening({
      door: true,
      bolt: "thrown",
      tamper: false,
    });
    const records = store.auditRange(head + 1, 1e9);
    const kinds = records.map((record) => record.kind);
    expect(kinds).not.toContain("lock.relocked");
    expect(alarmsOf(records)).not.toContain("doorForcedOpen");
    expect(records.find((record) => record.kind === "door.opened")?.data).toMatchObject({
      continuesOpening: true,
    });
    // The door is read before the bolt sensor.
    expect(kinds.indexOf("door.opened")).toBeLessThan(kinds.indexOf("bolt.thrown"));
    expect(core.state().door).toBe("open");
    // Closing the door ends the opening with its seal.
    core.setDoor(false);
    expect(store.auditRange(head + 1, 1e9).map((r) => r.kind)).not.toContain("lock.relocked");
  });

  it("with the door found closed the interrupted opening ends locked with its close seal", () => {
    const { store, head } = restartDuringOpening({ door: false, bolt: "thrown", tamper: false });
    const records = store.auditRange(head + 1, 1e9);
    expect(records.find((record) => record.kind === "lock.relocked")?.data).toMatchObject({
      afterRestart: true,
    });
  });

  it("alarms raised while the lock boots reach the first alarm listener", () => {
    const { core } = restartDuringOpening({ door: false, bolt: "thrown", tamper: true });
    const heard: string[] = [];
    core.on("alarm", (alarm) => heard.push(alarm.kind));
    expect(heard).toEqual(["powerLoss", "tamper"]);
    // Delivered once.
    const again: string[] = [];
    core.on("alarm", (alarm) => again.push(alarm.kind));
    expect(again).toEqual([]);
  });

  it("powerLoss after an unclean restart is cleared once the lock runs with mains present", () => {
    const withoutInput = restartDuringOpening({ door: false, bolt: "thrown", tamper: false });
    expect(withoutInput.core.activeAlarms).not.toContain("powerLoss");
    const cleared = withoutInput.store
      .auditRange(withoutInput.head + 1, 1e9)
      .find((record) => record.kind === "alarm.cleared");
    expect(cleared?.data).toMatchObject({ alarm: "powerLoss", source: "startUp" });

    const mainsDown = restartDuringOpening({
      door: false,
      bolt: "thrown",
      tamper: false,
      powerFail: true,
    });
    expect(mainsDown.core.activeAlarms).toContain("powerLoss");
    mainsDown.core.recordHardwareEvent({ kind: "powerFail", failing: false });
    expect(mainsDown.core.activeAlarms).not.toContain("powerLoss");
  });

  it("a clean start raises no powerLoss and needs no clearing", () => {
    const t = setup();
    const store = (t.store as MemoryLockStore).reopen(true);
    const core = LockCore.open({
      store,
      clock: new ManualClock(t.clock.now()),
      outputs: new VirtualOutputs(),
      identity: t.identity,
      startInputs: { door: false, bolt: "thrown", tamper: false, powerFail: false },
    });
    expect(core.activeAlarms).toEqual([]);
    expect(store.auditRange(1, 1e9).map((r) => r.kind)).not.toContain("alarm.cleared");
    expect(DEVICE).toBe(core.deviceId);
  });
});
