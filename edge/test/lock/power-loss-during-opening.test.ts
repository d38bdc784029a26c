/**
 * A power cut during an authorised opening (SPEC §3): forced-open is "door open while the bolt
 * is thrown, or without an authorised cycle". The persisted cycle shows the opening was
 * authorised, so a door found open at the restart continues that opening; the close, the relock
 * after [3 s] and the close seal then follow as in any opening.
 */
import { openingSeal } from "@lockfleet/protocol";
import { describe, expect, it } from "vitest";
import { alarmsOf, DEVICE, entry, MINUTE, SECOND, type Setup, setup, USERS } from "./fixtures.js";

function openDoor(t: Setup): void {
  t.lock.press(entry(USERS.anna));
  t.lock.press(entry(USERS.ben));
  t.lock.advance(500);
  expect(t.lock.core.state().bolt).toBe("retracted");
  t.lock.door(true);
  t.lock.advance(2 * SECOND);
}

/** Power back: the inputs as they stand are reported at once, the bolt first (as the runtime does). */
function restartWithDoorOpen(t: Setup, boltAtRestart: "retracted" | "thrown" = "retracted") {
  const lock = t.restart(false);
  lock.core.boltSensed(boltAtRestart);
  lock.door(true);
  return lock;
}

describe("a power cut during an authorised opening", () => {
  it("a door still open at the restart raises no forced-open alarm: it continues that opening", () => {
    const t = setup();
    openDoor(t);
    const head = t.head();
    const lock = restartWithDoorOpen(t);
    lock.advance(SECOND);
    const after = t.since(head);
    expect(alarmsOf(after)).not.toContain("doorForcedOpen");
    expect(alarmsOf(after)).toContain("powerLoss");
    expect(after.find((r) => r.kind === "door.opened")?.data).toEqual({
      openingNumber: 1,
      continuesOpening: true,
    });
    expect(lock.core.state()).toMatchObject({ door: "open", cycle: { phase: "open" } });
    expect(lock.core.activeAlarms).not.toContain("doorForcedOpen");
  });

  it("the bolt is thrown at the restart (fail-secure) but no close seal is shown while the door stands open", () => {
    const t = setup();
    openDoor(t);
    const head = t.head();
    const lock = restartWithDoorOpen(t);
    lock.advance(10 * SECOND);
    expect(lock.core.state().bolt).toBe("thrown");
    expect(t.since(head).map((r) => r.kind)).not.toContain("lock.relocked");
    expect(t.display()).not.toMatch(/SEAL/);
  });

  it("the close, the relock after 3 s and the close seal of that opening then follow", () => {
    const t = setup();
    openDoor(t);
    const lock = restartWithDoorOpen(t);
    lock.advance(5 * SECOND);
    lock.door(false);
    lock.advance(2 * SECOND + 900);
    expect(t.kinds()).not.toContain("lock.relocked");
    lock.advance(200);
    const relocked = t.records().find((r) => r.kind === "lock.relocked");
    // No one-time-code secret installed: the opening seal is keyed by the device-local key.
    const seal = openingSeal(t.identity.codeHashKey, DEVICE, 1);
    expect(relocked?.data).toEqual({ openingNumber: 1, closeSeal: seal, afterRestart: true });
    expect(t.display()).toBe(`LOCKED | SEAL ${seal}`);
    expect(lock.core.state()).toMatchObject({
      bolt: "thrown",
      door: "closed",
      cycle: { phase: "idle" },
    });
    expect(alarmsOf(t.records())).not.toContain("lockJammed");
  });

  it("the door reopened before the relock of the continued opening is still that opening", () => {
    const t = setup();
    openDoor(t);
    const lock = restartWithDoorOpen(t);
    lock.advance(SECOND);
    lock.door(false);
    lock.advance(SECOND);
    lock.door(true);
    expect(lock.core.activeAlarms).not.toContain("doorForcedOpen");
    lock.door(false);
    lock.advance(4 * SECOND);
    expect(t.records().filter((r) => r.kind === "lock.relocked")).toHaveLength(1);
  });

  it("once the continued opening has ended locked, opening the door is forced again", () => {
    const t = setup();
    openDoor(t);
    const lock = restartWithDoorOpen(t);
    lock.advance(SECOND);
    lock.door(false);
    lock.advance(4 * SECOND);
    expect(t.kinds()).toContain("lock.relocked");
    lock.door(true);
    expect(lock.core.activeAlarms).toContain("doorForcedOpen");
  });

  it("the open-time monitoring goes on during the continued opening (door-ajar alarm)", () => {
    const t = setup();
    openDoor(t);
    const lock = restartWithDoorOpen(t);
    lock.advance(lock.core.policy.maxOpenSec * SECOND + SECOND);
    expect(lock.core.activeAlarms).toContain("doorAjar");
    expect(lock.core.activeAlarms).not.toContain("doorForcedOpen");
  });

  it("a second power cut during the continued opening continues it again", () => {
    const t = setup();
    openDoor(t);
    restartWithDoorOpen(t).advance(MINUTE);
    const head = t.head();
    const lock = restartWithDoorOpen(t);
    lock.advance(SECOND);
    expect(alarmsOf(t.since(head))).not.toContain("doorForcedOpen");
    lock.door(false);
    lock.advance(4 * SECOND);
    expect(t.since(head).find((r) => r.kind === "lock.relocked")?.data).toMatchObject({
      openingNumber: 1,
      afterRestart: true,
    });
  });

  it("released but not yet opened when the power went: a door found open continues the opening", () => {
    const t = setup();
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben));
    t.lock.advance(500);
    const head = t.head();
    const lock = restartWithDoorOpen(t);
    lock.advance(SECOND);
    expect(alarmsOf(t.since(head))).not.toContain("doorForcedOpen");
    expect(lock.core.state().cycle.phase).toBe("open");
  });

  it("a door found open at a restart without an opening on record is a forced opening", () => {
    const t = setup();
    const head = t.head();
    const lock = restartWithDoorOpen(t, "thrown");
    lock.advance(SECOND);
    expect(alarmsOf(t.since(head))).toContain("doorForcedOpen");
  });

  it("a door found open at a restart after the opening had ended locked is a forced opening", () => {
    const t = setup();
    openDoor(t);
    t.lock.door(false);
    t.lock.advance(4 * SECOND);
    expect(t.kinds()).toContain("lock.relocked");
    const head = t.head();
    const lock = restartWithDoorOpen(t, "thrown");
    lock.advance(SECOND);
    expect(alarmsOf(t.since(head))).toContain("doorForcedOpen");
  });

  it("a door opened during the delay before a power cut is still forced after it", () => {
    const t = setup({ policy: { timeDelayMin: 5 } });
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben));
    t.lock.advance(MINUTE);
    const head = t.head();
    const lock = restartWithDoorOpen(t, "thrown");
    lock.advance(SECOND);
    expect(alarmsOf(t.since(head))).toContain("doorForcedOpen");
  });
});
