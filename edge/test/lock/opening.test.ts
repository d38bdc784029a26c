import { describe, expect, it } from "vitest";
import { alarmsOf, entry, MINUTE, SECOND, type Setup, setup, USERS } from "./fixtures.js";

function release(t: Setup): void {
  t.lock.press(entry(USERS.anna));
  t.lock.press(entry(USERS.ben));
  t.lock.advance(500);
  expect(t.lock.core.state().bolt).toBe("retracted");
}

describe("opening, relock and monitoring", () => {
  it("after a successful cycle the bolt retracts and the display asks to open the door", () => {
    const t = setup();
    release(t);
    expect(t.display()).toBe("OPEN DOOR | ");
    expect(t.kinds()).toEqual(expect.arrayContaining(["cycle.confirmed", "bolt.retracted"]));
  });

  it("if the door is not opened within 10 s (default) the bolt throws again", () => {
    const t = setup();
    expect(t.lock.core.policy.autoRelockSec).toBe(10);
    release(t);
    t.lock.advance(9 * SECOND);
    expect(t.lock.core.state().bolt).toBe("retracted");
    t.lock.advance(SECOND + 500);
    expect(t.lock.core.state().bolt).toBe("thrown");
    expect(t.records().find((r) => r.kind === "cycle.expired")?.data).toMatchObject({
      reason: "doorNotOpened",
    });
    expect(t.kinds()).toContain("lock.relocked");
  });

  it("when the door closes the bolt throws after 3 s (default)", () => {
    const t = setup();
    expect(t.lock.core.policy.relockAfterCloseSec).toBe(3);
    release(t);
    t.lock.door(true);
    t.lock.advance(MINUTE);
    expect(t.lock.core.state().bolt).toBe("retracted");
    t.lock.door(false);
    t.lock.advance(2 * SECOND);
    expect(t.lock.core.state().bolt).toBe("retracted");
    t.lock.advance(SECOND + 500);
    expect(t.lock.core.state().bolt).toBe("thrown");
    expect(t.lock.core.state().cycle.phase).toBe("idle");
  });

  it("once the door is closed the display no longer says DOOR OPEN while the bolt waits to throw", () => {
    const t = setup();
    release(t);
    t.lock.door(true);
    t.lock.advance(SECOND);
    expect(t.display()).toBe("DOOR OPEN | ");
    t.lock.door(false);
    t.lock.advance(100);
    expect(t.display()).toBe("DOOR CLOSED | LOCKING");
    t.lock.door(true);
    t.lock.advance(100);
    expect(t.display()).toBe("DOOR OPEN | ");
  });

  it("the door re-opened before the relock after a close keeps the bolt retracted", () => {
    const t = setup();
    release(t);
    t.lock.door(true);
    t.lock.door(false);
    t.lock.advance(2 * SECOND);
    t.lock.door(true);
    t.lock.advance(10 * SECOND);
    expect(t.lock.core.state().bolt).toBe("retracted");
    expect(t.lock.core.activeAlarms).not.toContain("doorForcedOpen");
  });

  it("door open longer than the maximum open period (15 min default) raises door-ajar and sounds", () => {
    const t = setup();
    expect(t.lock.core.policy.maxOpenSec).toBe(15 * 60);
    release(t);
    t.lock.door(true);
    t.lock.advance(15 * MINUTE - SECOND);
    expect(t.lock.core.activeAlarms).not.toContain("doorAjar");
    t.lock.advance(SECOND);
    expect(t.lock.core.activeAlarms).toContain("doorAjar");
    expect(t.lock.core.state().door).toBe("ajar");
    expect(t.outputs.lastBuzzer).toBe("alarm");
    expect(t.display()).toBe("CLOSE DOOR | ");
    t.lock.door(false);
    expect(t.lock.core.activeAlarms).not.toContain("doorAjar");
    expect(t.kinds()).toContain("alarm.cleared");
  });

  it("the maximum open period is 1 min to 99 min 59 s", () => {
    expect(() => setup({ policy: { maxOpenSec: 59 } })).toThrow(/E_BAD_CONFIG/);
    expect(() => setup({ policy: { maxOpenSec: 6000 } })).toThrow(/E_BAD_CONFIG/);
    const t = setup({ policy: { maxOpenSec: 60 } });
    release(t);
    t.lock.door(true);
    t.lock.advance(MINUTE);
    expect(t.lock.core.activeAlarms).toContain("doorAjar");
  });

  it("door open while the bolt is thrown: forced-open alarm", () => {
    const t = setup();
    t.lock.door(true);
    expect(alarmsOf(t.records())).toContain("doorForcedOpen");
    expect(t.lock.core.state().door).toBe("forced");
    expect(t.outputs.lastBuzzer).toBe("alarm");
  });

  it("door open after the relock of an opening (no authorised cycle): forced-open alarm", () => {
    const t = setup();
    release(t);
    t.lock.advance(11 * SECOND);
    t.lock.door(true);
    expect(alarmsOf(t.records())).toContain("doorForcedOpen");
  });

  it("bolt sensor not confirming within the actuator timeout: bolt-jam alarm", () => {
    const t = setup({ policy: { dualControl: "single" } });
    t.outputs.jammed = true;
    t.lock.press(entry(USERS.anna));
    t.lock.advance(4 * SECOND);
    expect(alarmsOf(t.records())).toContain("lockJammed");
    expect(t.lock.core.state().bolt).toBe("jammed");
    expect(t.records().find((r) => r.kind === "cycle.cancelled")?.data).toMatchObject({
      reason: "boltJammed",
    });
  });

  it("housing tamper input: tamper alarm", () => {
    const t = setup();
    t.lock.tamper(true);
    expect(alarmsOf(t.records())).toContain("tamper");
    expect(t.lock.core.activeAlarms).toContain("tamper");
    t.lock.tamper(false);
    expect(t.lock.core.activeAlarms).not.toContain("tamper");
  });

  it("a bolt that retracts although nothing drove it is tamper, and the bolt is thrown again", () => {
    const t = setup();
    t.lock.core.boltSensed("retracted");
    expect(t.records().find((r) => r.data.alarm === "tamper")?.data).toMatchObject({
      reason: "bolt retracted without a cycle",
    });
    expect(t.outputs.boltDriven).toBe("thrown");
  });

  it("unclean restart: power-loss event", () => {
    const t = setup();
    const head = t.head();
    t.restart(false);
    const after = t.since(head).map((r) => r.kind);
    expect(after).toContain("power.lost");
    expect(alarmsOf(t.since(head))).toContain("powerLoss");
  });

  it("clean restart: no power-loss event", () => {
    const t = setup();
    const head = t.head();
    t.restart(true);
    expect(t.since(head).map((r) => r.kind)).not.toContain("power.lost");
  });

  it("a restart while the bolt is retracted throws it and ends the opening", () => {
    const t = setup();
    release(t);
    const lock = t.restart(false);
    expect(t.outputs.boltDriven).toBe("thrown");
    lock.advance(SECOND);
    expect(t.lock.core.state().bolt).toBe("thrown");
    expect(t.lock.core.state().cycle.phase).toBe("idle");
  });
});
