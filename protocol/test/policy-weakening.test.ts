import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  holidayWeakenings,
  policyWeakenings,
  scheduleWeakenings,
  WEAKENING_APPROVERS_REQUIRED,
} from "../src/policy-weakening.js";
import {
  DEFAULT_LOCK_POLICY,
  type LockPolicy,
  type TimeLockSchedule,
} from "../src/schemas/lock.js";

const base: LockPolicy = {
  ...DEFAULT_LOCK_POLICY,
  dualControl: "dual",
  mixedParties: true,
  timeDelayMin: 10,
  duressDelayMin: 15,
  codeLength: 7,
  duressMode: "lastDigitPlusOne",
  masterMayOpen: false,
};

describe("which policy changes weaken a lock (SPEC §3)", () => {
  it("a weakening change needs two distinct approvers", () => {
    expect(WEAKENING_APPROVERS_REQUIRED).toBe(2);
  });

  it.each<[string, Partial<LockPolicy>, string]>([
    ["fewer eyes", { dualControl: "single" }, "dual control dual → single"],
    ["no mixed parties", { mixedParties: false }, "mixed parties no longer required"],
    ["a shorter delay", { timeDelayMin: 2 }, "time delay 10 → 2 min"],
    ["a shorter duress delay", { duressDelayMin: 0 }, "shorter duress delay"],
    ["a longer confirmation window", { confirmationWindowMin: 19 }, "longer confirmation window"],
    ["shorter codes", { codeLength: 6 }, "shorter codes"],
    ["more wrong codes", { wrongCodeLimit: 9 }, "more wrong codes before a penalty"],
    ["a shorter penalty", { penaltyMin: 1 }, "shorter penalty"],
    ["a shorter longest penalty", { penaltyMaxMin: 6 }, "shorter penalty"],
    ["a longer maximum open period", { maxOpenSec: 5999 }, "longer maximum open period"],
    ["a later relock", { autoRelockSec: 60 }, "later relock"],
    ["a later relock after close", { relockAfterCloseSec: 30 }, "later relock"],
    ["a longer second-code timeout", { secondCodeTimeoutSec: 300 }, "longer second-code timeout"],
    ["a master who may open", { masterMayOpen: true }, "master may open"],
    ["duress switched off", { duressMode: "off" }, "duress alarm switched off"],
    [
      "a clock that may go back further per day",
      { timeBackwardSecPerDay: 300 },
      "clock may go back 60 → 300 s per day",
    ],
  ])("%s weakens", (_what, change, words) => {
    expect(policyWeakenings(base, { ...base, ...change })).toEqual([words]);
  });

  it.each<[string, Partial<LockPolicy>]>([
    ["more eyes", { dualControl: "triple" }],
    ["a longer delay", { timeDelayMin: 30 }],
    ["a shorter confirmation window", { confirmationWindowMin: 1 }],
    ["longer codes", { codeLength: 8 }],
    ["fewer wrong codes", { wrongCodeLimit: 3 }],
    ["an earlier relock", { autoRelockSec: 5, relockAfterCloseSec: 1 }],
    ["another duress mode that still alarms", { duressMode: "separateCode" }],
    ["a longer duress delay", { duressDelayMin: 30 }],
    ["a clock that may go back less per day", { timeBackwardSecPerDay: 10 }],
  ])("%s does not weaken", (_what, change) => {
    expect(policyWeakenings(base, { ...base, ...change })).toEqual([]);
  });

  it("unsetting the duress delay weakens (a duress opening runs on the normal delay again)", () => {
    const { duressDelayMin: _unset, ...unset } = base;
    expect(policyWeakenings(base, unset)).toEqual(["shorter duress delay"]);
    expect(policyWeakenings(unset, base)).toEqual([]);
  });

  it("a delay weakens exactly when it gets shorter, and never in both directions", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), (x, y) => {
        const forth = policyWeakenings({ ...base, timeDelayMin: x }, { ...base, timeDelayMin: y });
        const back = policyWeakenings({ ...base, timeDelayMin: y }, { ...base, timeDelayMin: x });
        expect(forth).toHaveLength(y < x ? 1 : 0);
        expect(forth.length + back.length).toBe(x === y ? 0 : 1);
      }),
      { numRuns: 200 },
    );
  });
});

describe("which time-lock changes weaken a lock", () => {
  const weekend = { startDay: 6, startTime: "00:00", endDay: 7, endTime: "24:00" };
  const nights = { startDay: 1, startTime: "20:00", endDay: 2, endTime: "06:00" };
  const christmas = { from: "2026-12-24", to: "2026-12-26", yearlyRepeat: true };
  const schedule: TimeLockSchedule = {
    timeZone: "Europe/Berlin",
    weekly: [weekend],
    holidays: [christmas],
  };

  it("adding a lock period or a holiday does not weaken", () => {
    expect(scheduleWeakenings(schedule, { ...schedule, weekly: [weekend, nights] })).toEqual([]);
    const newYear = { from: "2027-01-01", to: "2027-01-01", yearlyRepeat: true };
    expect(scheduleWeakenings(schedule, { ...schedule, holidays: [christmas, newYear] })).toEqual(
      [],
    );
  });

  it("removing or changing a lock period weakens", () => {
    expect(scheduleWeakenings(schedule, { ...schedule, weekly: [] })).toEqual([
      "1 weekly lock period(s) removed or changed",
    ]);
    expect(
      scheduleWeakenings(schedule, { ...schedule, weekly: [{ ...weekend, endTime: "12:00" }] }),
    ).toEqual(["1 weekly lock period(s) removed or changed"]);
  });

  it("moving the time zone weakens", () => {
    expect(scheduleWeakenings(schedule, { ...schedule, timeZone: "UTC" })).toEqual([
      "time zone Europe/Berlin → UTC",
    ]);
  });

  it("removing or shortening a holiday weakens", () => {
    expect(holidayWeakenings([christmas], [])).toEqual(["1 holiday(s) removed or changed"]);
    expect(holidayWeakenings([christmas], [{ ...christmas, to: "2026-12-25" }])).toEqual([
      "1 holiday(s) removed or changed",
    ]);
    expect(scheduleWeakenings(schedule, { ...schedule, holidays: [] })).toEqual([
      "1 holiday(s) removed or changed",
    ]);
  });

  it("the order of periods and holidays does not matter", () => {
    const both = { ...schedule, weekly: [weekend, nights] };
    expect(scheduleWeakenings(both, { ...both, weekly: [nights, weekend] })).toEqual([]);
  });
});
