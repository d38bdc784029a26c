import { DEFAULT_LOCK_POLICY } from "@lockfleet/protocol";
import { describe, expect, it } from "vitest";
import { afterWrongCode, lockoutLengthMs, NO_PENALTY } from "../../src/lock/penalty.js";
import { entry, MINUTE, setup, USERS } from "./fixtures.js";

const policy = DEFAULT_LOCK_POLICY;
const wrong = (user: { slot: number }) => `${String(user.slot).padStart(2, "0")}00000000#`;

describe("penalty rules", () => {
  it("4 consecutive wrong codes start a 5 min lockout; 3 do not", () => {
    let state = NO_PENALTY;
    for (let i = 0; i < 3; i++) {
      const next = afterWrongCode(policy, state);
      expect(next.lockoutMs).toBeUndefined();
      state = next.state;
    }
    expect(afterWrongCode(policy, state).lockoutMs).toBe(5 * MINUTE);
  });

  it("each further wrong code after a lockout adds another, growing to at most 20 min", () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => lockoutLengthMs(policy, n) / MINUTE)).toEqual([
      5, 10, 15, 20, 20, 20,
    ]);
  });
});

describe("penalty at the keypad", () => {
  it("4 wrong codes lock the keypad for 5 minutes and raise wrongCodeEntryLimit", () => {
    const t = setup();
    for (let i = 0; i < 4; i++) t.lock.press(wrong(USERS.anna));
    expect(t.display()).toBe("PENALTY | 05:00");
    expect(t.lock.core.activeAlarms).toContain("wrongCodeEntryLimit");
    // A correct code during the lockout is not even evaluated.
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben));
    t.lock.advance(1000);
    expect(t.lock.core.state().bolt).toBe("thrown");
    expect(t.kinds()).not.toContain("code.accepted");
    t.lock.advance(5 * MINUTE);
    expect(t.kinds()).toContain("penalty.ended");
    expect(t.display()).toBe("ENTER CODE | ");
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben));
    t.lock.advance(1000);
    expect(t.lock.core.state().bolt).toBe("retracted");
  });

  it("key presses during a lockout do not restart it", () => {
    const t = setup();
    for (let i = 0; i < 4; i++) t.lock.press(wrong(USERS.anna));
    t.lock.advance(4 * MINUTE);
    for (let i = 0; i < 5; i++) t.lock.press(wrong(USERS.ben));
    t.lock.advance(MINUTE - 1000);
    expect(t.display()).toBe("PENALTY | 00:01");
    t.lock.advance(1000);
    expect(t.display()).toBe("ENTER CODE | ");
  });

  it("a wrong code after a lockout starts a 10 min lockout, then 15, then 20, then 20", () => {
    const t = setup();
    for (let i = 0; i < 4; i++) t.lock.press(wrong(USERS.anna));
    const lengths: unknown[] = [];
    for (let round = 0; round < 4; round++) {
      t.lock.advance(30 * MINUTE);
      t.lock.press(wrong(USERS.anna));
      lengths.push(t.display());
    }
    expect(lengths).toEqual([
      "PENALTY | 10:00",
      "PENALTY | 15:00",
      "PENALTY | 20:00",
      "PENALTY | 20:00",
    ]);
  });

  it("a correct code ends the series of wrong codes", () => {
    const t = setup();
    for (let i = 0; i < 3; i++) t.lock.press(wrong(USERS.anna));
    t.lock.press(entry(USERS.anna));
    t.lock.press("*");
    for (let i = 0; i < 3; i++) t.lock.press(wrong(USERS.anna));
    expect(t.display()).not.toContain("PENALTY");
  });

  it("the penalty survives a restart and runs again in full (never shorter)", () => {
    const t = setup();
    for (let i = 0; i < 4; i++) t.lock.press(wrong(USERS.anna));
    t.lock.advance(4 * MINUTE);
    const lock = t.restart();
    lock.advance(1000);
    expect(t.display()).toMatch(/^PENALTY \| 0[45]:/);
    lock.press(entry(USERS.anna));
    expect(t.since(0).filter((r) => r.kind === "code.accepted")).toHaveLength(0);
    lock.advance(4 * MINUTE);
    expect(t.display()).toMatch(/^PENALTY/);
    lock.advance(MINUTE);
    expect(t.display()).toBe("ENTER CODE | ");
    // The next wrong code is the second lockout: 10 minutes.
    lock.press(wrong(USERS.anna));
    expect(t.display()).toBe("PENALTY | 10:00");
  });
});

describe("penalty: attacks", () => {
  it("a restart does not reset the count of wrong codes (no bypass by pulling the plug)", () => {
    const t = setup();
    for (let i = 0; i < 3; i++) t.lock.press(wrong(USERS.anna));
    const lock = t.restart(false);
    lock.press(wrong(USERS.anna));
    expect(t.display()).toBe("PENALTY | 05:00");
  });

  it("a clean restart during a lockout does not end it either", () => {
    const t = setup();
    for (let i = 0; i < 4; i++) t.lock.press(wrong(USERS.anna));
    const lock = t.restart(true);
    lock.press(entry(USERS.anna));
    lock.press(entry(USERS.ben));
    lock.advance(1000);
    expect(lock.core.state().bolt).toBe("thrown");
    expect(t.display()).toMatch(/^PENALTY/);
  });

  it("wrong codes on different user ids add up (no bypass by switching slots)", () => {
    const t = setup();
    t.lock.press(wrong(USERS.anna));
    t.lock.press(wrong(USERS.ben));
    t.lock.press(wrong(USERS.carl));
    t.lock.press("9912345678#"); // an empty slot
    expect(t.display()).toBe("PENALTY | 05:00");
  });
});
