/** The time-lock rules as the lock applies them to codes (the evaluator's own tests: time-lock.test.ts). */
import { describe, expect, it } from "vitest";
import { entry, MINUTE, SECOND, type Setup, setup, USERS } from "./fixtures.js";

const HOUR = 60 * MINUTE;
// The lock starts Monday 2026-11-23 09:00 in Berlin (08:00Z).
const mondayMorning = { startDay: 1, startTime: "08:00", endDay: 1, endTime: "12:00" } as const;

function opened(t: Setup): boolean {
  t.lock.press(entry(USERS.anna));
  t.lock.press(entry(USERS.ben));
  t.lock.advance(500);
  const result = t.lock.core.state().bolt === "retracted";
  t.lock.advance(15 * SECOND);
  return result;
}

describe("time locks at the lock", () => {
  it("a weekly lock period refuses codes, evaluated in the container's time zone", () => {
    const t = setup({ factory: { weekly: [mondayMorning] } });
    expect(t.lock.core.isTimeLocked()).toBe(true);
    expect(opened(t)).toBe(false);
    expect(t.records().find((r) => r.kind === "code.rejected")?.data).toMatchObject({
      reason: "timeLocked",
    });
    expect(t.lock.core.state().timeLockedUntil).toBe("2026-11-23T11:00:00.000Z");
    t.lock.advance(3 * HOUR);
    expect(opened(t)).toBe(true);
  });

  it("the same period in another zone is another instant", () => {
    const t = setup({ factory: { timeZone: "America/New_York", weekly: [mondayMorning] } });
    expect(t.lock.core.isTimeLocked()).toBe(false); // 03:00 in New York
    expect(opened(t)).toBe(true);
  });

  it("a holiday locks the whole local day", () => {
    const t = setup({
      factory: { holidays: [{ from: "2026-11-23", to: "2026-11-23", yearlyRepeat: false }] },
    });
    expect(opened(t)).toBe(false);
    expect(t.lock.core.state().timeLockedUntil).toBe("2026-11-23T23:00:00.000Z");
  });

  it("a time lock that begins during the delay prevents the release", () => {
    const t = setup({
      policy: { timeDelayMin: 5 },
      factory: { weekly: [{ startDay: 1, startTime: "09:03", endDay: 1, endTime: "12:00" }] },
    });
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben));
    t.lock.advance(5 * MINUTE);
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben));
    t.lock.advance(500);
    expect(t.lock.core.state().bolt).toBe("thrown");
  });

  it("a running time lock cannot be shortened, even by a change with two approvers", () => {
    const t = setup({ factory: { weekly: [mondayMorning] } });
    const result = t.lock.command(
      t.sign("timeLock.schedule", {
        schedule: { timeZone: "Europe/Berlin", weekly: [], holidays: [] },
        approvedBy: ["p-sec1", "p-sec2"],
      }),
    );
    expect(result).toMatchObject({ status: "ok", data: { heldUntil: "2026-11-23T11:00:00.000Z" } });
    expect(opened(t)).toBe(false);
    t.lock.advance(2 * HOUR);
    expect(opened(t)).toBe(false); // 11:00 Berlin: the old period still holds
    t.lock.advance(HOUR);
    expect(opened(t)).toBe(true);
  });

  it("removing a holiday that is running is held until its end", () => {
    const t = setup({
      factory: { holidays: [{ from: "2026-11-23", to: "2026-11-23", yearlyRepeat: false }] },
    });
    t.lock.command(t.sign("timeLock.holidays", { holidays: [], approvedBy: ["p-a", "p-b"] }));
    expect(opened(t)).toBe(false);
  });

  it("the schedule survives a restart", () => {
    const t = setup({ factory: { weekly: [mondayMorning] } });
    t.restart(false);
    t.syncTime();
    expect(opened(t)).toBe(false);
  });

  it("an immediate time lock survives a restart", () => {
    const t = setup();
    t.lock.command(t.sign("timeLock.immediate", { minutes: 60 }));
    t.restart(true);
    t.syncTime();
    expect(opened(t)).toBe(false);
    t.lock.advance(HOUR);
    expect(opened(t)).toBe(true);
  });
});
