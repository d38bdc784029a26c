import { DEFAULT_LOCK_POLICY } from "@lockfleet/protocol";
import { describe, expect, it } from "vitest";
import { delayMinutes } from "../../src/lock/time-delay.js";
import { entry, MINUTE, SECOND, type Setup, setup, USERS } from "./fixtures.js";

function bolt(t: Setup): string {
  return t.lock.core.state().bolt;
}

function bothCodes(t: Setup): void {
  t.lock.press(entry(USERS.anna));
  t.lock.press(entry(USERS.ben));
}

describe("time delay and confirmation window", () => {
  it("defaults: 5 min delay, 3 min window", () => {
    expect(DEFAULT_LOCK_POLICY.timeDelayMin).toBe(5);
    expect(DEFAULT_LOCK_POLICY.confirmationWindowMin).toBe(3);
  });

  it("delay 0–99 min and window 1–19 min: values outside are refused at set-up", () => {
    for (const policy of [
      { timeDelayMin: 100 },
      { timeDelayMin: -1 },
      { confirmationWindowMin: 0 },
      { confirmationWindowMin: 20 },
    ]) {
      expect(() => setup({ policy })).toThrow(/E_BAD_CONFIG/);
    }
    expect(() => setup({ policy: { timeDelayMin: 99, confirmationWindowMin: 19 } })).not.toThrow();
  });

  it("the codes start the delay; the display counts down; the bolt stays thrown", () => {
    const t = setup({ policy: { timeDelayMin: 5 } });
    bothCodes(t);
    expect(t.display()).toBe("TIME DELAY | 05:00");
    t.lock.advance(2 * MINUTE + 30 * SECOND);
    expect(t.display()).toBe("TIME DELAY | 02:30");
    expect(bolt(t)).toBe("thrown");
    expect(t.lock.core.state().cycle.phase).toBe("delay");
  });

  it("codes during the delay are refused and do not shorten it", () => {
    const t = setup({ policy: { timeDelayMin: 5 } });
    bothCodes(t);
    t.lock.advance(MINUTE);
    bothCodes(t);
    expect(t.records().at(-1)?.data).toMatchObject({ reason: "delayRunning" });
    t.lock.advance(3 * MINUTE);
    expect(t.display()).toBe("TIME DELAY | 01:00");
  });

  it("after the delay the codes must be entered again within the window to release", () => {
    const t = setup({ policy: { timeDelayMin: 5, confirmationWindowMin: 3 } });
    bothCodes(t);
    t.lock.advance(5 * MINUTE);
    expect(t.display()).toBe("CONFIRM 1 OF 2 | 03:00");
    expect(bolt(t)).toBe("thrown");
    t.lock.advance(MINUTE);
    t.lock.press(entry(USERS.anna));
    expect(t.display()).toMatch(/^CONFIRM 2 OF 2/);
    t.lock.press(entry(USERS.ben));
    t.lock.advance(500);
    expect(bolt(t)).toBe("retracted");
    expect(t.records().find((r) => r.kind === "cycle.confirmed")?.data).toMatchObject({
      persons: ["p-anna", "p-ben"],
      confirmedBy: ["p-anna", "p-ben"],
    });
  });

  it("the confirmation may come from other holders than the first round", () => {
    const t = setup({ policy: { timeDelayMin: 1 } });
    bothCodes(t);
    t.lock.advance(MINUTE);
    t.lock.press(entry(USERS.carl));
    t.lock.press(entry(USERS.anna));
    t.lock.advance(500);
    expect(bolt(t)).toBe("retracted");
  });

  it("without confirmation within the window the cycle ends (logged)", () => {
    const t = setup({ policy: { timeDelayMin: 5, confirmationWindowMin: 3 } });
    bothCodes(t);
    t.lock.advance(8 * MINUTE + SECOND);
    expect(t.records().at(-1)).toMatchObject({
      kind: "cycle.expired",
      data: { reason: "confirmationWindowElapsed" },
    });
    expect(t.lock.core.state().cycle.phase).toBe("idle");
    bothCodes(t);
    expect(t.display()).toMatch(/^TIME DELAY/);
  });

  it("the cycle can be cancelled during the delay", () => {
    const t = setup({ policy: { timeDelayMin: 5 } });
    bothCodes(t);
    t.lock.advance(MINUTE);
    t.lock.press("*");
    expect(t.records().at(-1)).toMatchObject({ kind: "cycle.cancelled" });
    expect(t.display()).toBe("CANCELLED | ");
    t.lock.advance(10 * MINUTE);
    expect(bolt(t)).toBe("thrown");
    expect(t.kinds()).not.toContain("cycle.windowOpened");
  });

  it("the cycle can be cancelled during the confirmation window", () => {
    const t = setup({ policy: { timeDelayMin: 1 } });
    bothCodes(t);
    t.lock.advance(MINUTE);
    t.lock.press(entry(USERS.anna));
    t.lock.press("*");
    t.lock.press(entry(USERS.ben));
    t.lock.advance(500);
    expect(bolt(t)).toBe("thrown");
    expect(t.kinds()).toContain("cycle.cancelled");
  });

  it("no duress delay configured: a duress opening counts down the normal delay (2 min, not 5)", () => {
    const t = setup({ policy: { timeDelayMin: 2, duressMode: "lastDigitPlusOne" } });
    expect(t.lock.core.policy.duressDelayMin).toBeUndefined();
    t.lock.press(entry(USERS.anna, "11223345"));
    t.lock.press(entry(USERS.ben));
    expect(t.display()).toBe("TIME DELAY | 02:00");
    expect(t.outputs.silentAlarmPulses).toBe(1);
    expect(t.records().find((r) => r.kind === "cycle.delayStarted")?.data).toMatchObject({
      minutes: 2,
    });
    t.lock.advance(2 * MINUTE);
    expect(t.display()).toMatch(/^CONFIRM/);
  });

  it("the duress delay is unset by default: a longer one is an explicit setting", () => {
    expect(DEFAULT_LOCK_POLICY).not.toHaveProperty("duressDelayMin");
    expect(delayMinutes({ timeDelayMin: 2 }, true)).toBe(2);
    expect(delayMinutes({ timeDelayMin: 7, duressDelayMin: 0 }, true)).toBe(7);
  });

  it("a separate, longer duress delay applies to a duress opening", () => {
    const t = setup({
      policy: { timeDelayMin: 5, duressDelayMin: 15, duressMode: "lastDigitPlusOne" },
    });
    t.lock.press(entry(USERS.anna, "11223345"));
    t.lock.press(entry(USERS.ben));
    expect(t.display()).toBe("TIME DELAY | 15:00");
    expect(t.records().find((r) => r.kind === "cycle.delayStarted")?.data).toMatchObject({
      minutes: 15,
    });
  });

  it("a shorter duress delay never shortens the normal delay", () => {
    const t = setup({
      policy: { timeDelayMin: 10, duressDelayMin: 2, duressMode: "lastDigitPlusOne" },
    });
    t.lock.press(entry(USERS.anna, "11223345"));
    t.lock.press(entry(USERS.ben));
    expect(t.display()).toBe("TIME DELAY | 10:00");
  });

  it("loss of power during the delay restarts the delay, never shortens it", () => {
    const t = setup({ policy: { timeDelayMin: 5 } });
    bothCodes(t);
    t.lock.advance(4 * MINUTE);
    const lock = t.restart();
    lock.advance(SECOND);
    expect(t.display()).toMatch(/^TIME DELAY \| 0[45]:/);
    expect(
      t
        .records()
        .filter((r) => r.kind === "cycle.delayStarted")
        .at(-1)?.data,
    ).toMatchObject({
      restarted: true,
      minutes: 5,
    });
    lock.advance(4 * MINUTE);
    expect(t.lock.core.state().cycle.phase).toBe("delay");
    lock.advance(MINUTE);
    expect(t.lock.core.state().cycle.phase).toBe("window");
  });

  it("loss of power during the window restarts the delay", () => {
    const t = setup({ policy: { timeDelayMin: 5 } });
    bothCodes(t);
    t.lock.advance(5 * MINUTE + 30 * SECOND);
    t.lock.press(entry(USERS.anna));
    const lock = t.restart();
    lock.advance(SECOND);
    expect(t.lock.core.state().cycle.phase).toBe("delay");
    lock.press(entry(USERS.anna));
    lock.press(entry(USERS.ben));
    lock.advance(500);
    expect(t.lock.core.state().bolt).toBe("thrown");
    lock.advance(5 * MINUTE);
    lock.press(entry(USERS.anna));
    lock.press(entry(USERS.ben));
    lock.advance(500);
    expect(t.lock.core.state().bolt).toBe("retracted");
  });

  it("the state message shows when the delay and the window end", () => {
    const t = setup({ policy: { timeDelayMin: 5 } });
    bothCodes(t);
    const state = t.lock.core.state();
    expect(Date.parse(state.cycle.delayEndsAt ?? "")).toBe(t.lock.core.lockTime() + 5 * MINUTE);
  });
});

describe("delay length", () => {
  it("a duress opening waits the longer of the duress delay and the time delay", () => {
    expect(delayMinutes({ timeDelayMin: 5, duressDelayMin: 15 }, false)).toBe(5);
    expect(delayMinutes({ timeDelayMin: 5, duressDelayMin: 15 }, true)).toBe(15);
    expect(delayMinutes({ timeDelayMin: 10, duressDelayMin: 2 }, true)).toBe(10);
  });
});
