import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Holiday,
  holdOnScheduleChange,
  IMMEDIATE_TIME_LOCK_MAX_MS,
  IMMEDIATE_TIME_LOCK_MIN_MS,
  immediateTimeLockUntil,
  instantOfLocal,
  localParts,
  MAX_HOLIDAYS,
  MAX_WEEKLY_PERIODS,
  TimeLockEvaluator,
  TimeLockInvalidError,
  type TimeLockSchedule,
  validateImmediateTimeLock,
  validateSchedule,
  type WeeklyLockPeriod,
} from "../../src/lock/time-lock.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** An instant written in UTC; the local reading sits in a comment beside it. */
const utc = (iso: string) => Date.parse(iso);

const weekend: WeeklyLockPeriod = { startDay: 5, startTime: "18:00", endDay: 1, endTime: "07:00" };

function schedule(
  timeZone: string,
  weekly: WeeklyLockPeriod[] = [],
  holidays: Holiday[] = [],
): TimeLockSchedule {
  return { timeZone, weekly, holidays };
}

function sunday(startTime: string, endTime: string): WeeklyLockPeriod {
  return { startDay: 7, startTime, endDay: 7, endTime };
}

describe("weekly lock periods", () => {
  const berlin = new TimeLockEvaluator(schedule("Europe/Berlin", [weekend]));

  it("weekend period Fri 18:00 → Mon 07:00 locks on Saturday noon", () => {
    const saturdayNoon = utc("2031-01-11T11:00Z"); // Sat 12:00 CET
    expect(berlin.isLocked(saturdayNoon)).toBe(true);
    expect(berlin.reasonAt(saturdayNoon)).toEqual({ kind: "weekly", index: 0 });
  });

  it("weekend period unlocks at Monday 07:00 exactly", () => {
    expect(berlin.isLocked(utc("2031-01-13T05:59:59.999Z"))).toBe(true); // Mon 06:59:59.999
    expect(berlin.isLocked(utc("2031-01-13T06:00Z"))).toBe(false); // Mon 07:00
    expect(berlin.lockedUntil(utc("2031-01-11T11:00Z"))).toBe(utc("2031-01-13T06:00Z"));
  });

  it("weekend period locks at Friday 18:00 exactly", () => {
    expect(berlin.isLocked(utc("2031-01-10T16:59:59.999Z"))).toBe(false); // Fri 17:59:59.999
    expect(berlin.isLocked(utc("2031-01-10T17:00Z"))).toBe(true); // Fri 18:00
    expect(berlin.nextLockStart(utc("2031-01-08T11:00Z"))).toBe(utc("2031-01-10T17:00Z"));
  });

  it("lockedUntil is undefined and nextLockStart is now when asked about an unlocked / locked instant", () => {
    expect(berlin.lockedUntil(utc("2031-01-08T11:00Z"))).toBeUndefined();
    expect(berlin.nextLockStart(utc("2031-01-11T11:00Z"))).toBe(utc("2031-01-11T11:00Z"));
  });

  it("a period ending at 24:00 ends at the next local midnight", () => {
    const evaluator = new TimeLockEvaluator(
      schedule("Europe/Berlin", [{ startDay: 3, startTime: "20:00", endDay: 3, endTime: "24:00" }]),
    );
    expect(evaluator.lockedUntil(utc("2031-01-08T20:00Z"))).toBe(utc("2031-01-08T23:00Z")); // Thu 00:00 CET
  });

  it("a schedule without periods or future holidays never locks again", () => {
    expect(new TimeLockEvaluator(schedule("Europe/Berlin")).nextLockStart(0)).toBeUndefined();
  });
});

describe("daylight-saving changes", () => {
  describe("Europe/Berlin (clocks change at 01:00Z on the last Sundays of March and October)", () => {
    const berlin = new TimeLockEvaluator(schedule("Europe/Berlin", [weekend]));

    it("weekend across the spring-forward night ends Mon 07:00 CEST = 05:00Z, not 06:00Z", () => {
      expect(berlin.lockedUntil(utc("2031-03-29T11:00Z"))).toBe(utc("2031-03-31T05:00Z"));
    });

    it("weekend across the fall-back night ends Mon 07:00 CET = 06:00Z", () => {
      expect(berlin.nextLockStart(utc("2031-10-24T10:00Z"))).toBe(utc("2031-10-24T16:00Z")); // Fri 18:00 CEST
      expect(berlin.lockedUntil(utc("2031-10-25T10:00Z"))).toBe(utc("2031-10-27T06:00Z"));
    });

    it("a period 02:30–03:30 on the spring-forward night locks from 03:00 until 03:30", () => {
      const evaluator = new TimeLockEvaluator(
        schedule("Europe/Berlin", [sunday("02:30", "03:30")]),
      );
      expect(evaluator.isLocked(utc("2031-03-30T00:59Z"))).toBe(false); // 01:59 CET
      expect(evaluator.isLocked(utc("2031-03-30T01:00Z"))).toBe(true); // 03:00 CEST
      expect(evaluator.nextLockStart(utc("2031-03-29T11:00Z"))).toBe(utc("2031-03-30T01:00Z"));
      expect(evaluator.lockedUntil(utc("2031-03-30T01:00Z"))).toBe(utc("2031-03-30T01:30Z"));
      // The week before, without a change, the same period locks a full hour.
      expect(evaluator.lockedUntil(utc("2031-03-23T01:30Z"))).toBe(utc("2031-03-23T02:30Z"));
    });

    it("a period lying wholly inside the skipped hour does not lock that night", () => {
      const evaluator = new TimeLockEvaluator(
        schedule("Europe/Berlin", [sunday("02:10", "02:40")]),
      );
      expect(evaluator.nextLockStart(utc("2031-03-29T11:00Z"))).toBe(utc("2031-04-06T00:10Z"));
    });

    it("both passes through 02:xx are inside a period 02:00–03:00 on the fall-back night", () => {
      const evaluator = new TimeLockEvaluator(
        schedule("Europe/Berlin", [sunday("02:00", "03:00")]),
      );
      expect(evaluator.isLocked(utc("2031-10-25T23:59Z"))).toBe(false); // 01:59 CEST
      expect(evaluator.nextLockStart(utc("2031-10-25T10:00Z"))).toBe(utc("2031-10-26T00:00Z")); // 02:00 CEST
      expect(evaluator.isLocked(utc("2031-10-26T00:59Z"))).toBe(true); // 02:59 CEST
      expect(evaluator.isLocked(utc("2031-10-26T01:30Z"))).toBe(true); // 02:30 CET
      expect(evaluator.lockedUntil(utc("2031-10-26T00:00Z"))).toBe(utc("2031-10-26T02:00Z")); // 03:00 CET
    });

    it("clocks going back never open a running lock", () => {
      const evaluator = new TimeLockEvaluator(
        schedule("Europe/Berlin", [sunday("02:30", "05:00")]),
      );
      expect(evaluator.isLocked(utc("2031-10-26T00:29Z"))).toBe(false); // 02:29 CEST
      expect(evaluator.isLocked(utc("2031-10-26T01:10Z"))).toBe(true); // 02:10 CET, before the period by the wall clock
      expect(evaluator.reasonAt(utc("2031-10-26T01:10Z"))).toEqual({ kind: "weekly", index: 0 });
      expect(evaluator.lockedUntil(utc("2031-10-26T00:30Z"))).toBe(utc("2031-10-26T04:00Z")); // 05:00 CET
    });

    it("a period ending inside the repeated hour locks again for the repeated readings", () => {
      const evaluator = new TimeLockEvaluator(
        schedule("Europe/Berlin", [sunday("01:00", "02:30")]),
      );
      expect(evaluator.lockedUntil(utc("2031-10-25T23:30Z"))).toBe(utc("2031-10-26T00:30Z")); // 02:30 CEST
      expect(evaluator.isLocked(utc("2031-10-26T00:45Z"))).toBe(false); // 02:45 CEST
      expect(evaluator.nextLockStart(utc("2031-10-26T00:45Z"))).toBe(utc("2031-10-26T01:00Z")); // 02:00 CET
      expect(evaluator.lockedUntil(utc("2031-10-26T01:00Z"))).toBe(utc("2031-10-26T01:30Z")); // 02:30 CET
    });
  });

  describe("America/New_York (clocks change at 02:00 local, 2nd Sunday of March and 1st of November)", () => {
    const newYork = new TimeLockEvaluator(schedule("America/New_York", [weekend]));

    it("weekend across the spring-forward night ends Mon 07:00 EDT = 11:00Z", () => {
      expect(newYork.lockedUntil(utc("2031-03-08T17:00Z"))).toBe(utc("2031-03-10T11:00Z"));
    });

    it("weekend across the fall-back night ends Mon 07:00 EST = 12:00Z", () => {
      expect(newYork.lockedUntil(utc("2031-11-01T16:00Z"))).toBe(utc("2031-11-03T12:00Z"));
    });

    it("both passes through 01:xx are inside a period 01:00–02:00 on the fall-back night", () => {
      const evaluator = new TimeLockEvaluator(
        schedule("America/New_York", [sunday("01:00", "02:00")]),
      );
      expect(evaluator.nextLockStart(utc("2031-11-01T16:00Z"))).toBe(utc("2031-11-02T05:00Z")); // 01:00 EDT
      expect(evaluator.isLocked(utc("2031-11-02T06:30Z"))).toBe(true); // 01:30 EST
      expect(evaluator.lockedUntil(utc("2031-11-02T05:00Z"))).toBe(utc("2031-11-02T07:00Z")); // 02:00 EST
    });
  });

  it("Asia/Kolkata (UTC+05:30): weekend ends Mon 07:00 IST = 01:30Z", () => {
    const kolkata = new TimeLockEvaluator(schedule("Asia/Kolkata", [weekend]));
    expect(kolkata.nextLockStart(utc("2031-01-10T00:00Z"))).toBe(utc("2031-01-10T12:30Z"));
    expect(kolkata.lockedUntil(utc("2031-01-11T06:30Z"))).toBe(utc("2031-01-13T01:30Z"));
  });

  describe("Australia/Lord_Howe (half-hour daylight saving)", () => {
    it("a period ending in the skipped half hour ends when the clock goes on (02:00 → 02:30)", () => {
      const evaluator = new TimeLockEvaluator(
        schedule("Australia/Lord_Howe", [
          { startDay: 6, startTime: "22:00", endDay: 7, endTime: "02:15" },
        ]),
      );
      expect(evaluator.nextLockStart(utc("2031-10-04T00:00Z"))).toBe(utc("2031-10-04T11:30Z")); // Sat 22:00 +10:30
      expect(evaluator.lockedUntil(utc("2031-10-04T12:00Z"))).toBe(utc("2031-10-04T15:30Z")); // Sun 02:30 +11
    });

    it("both passes through 01:30–02:00 are inside a period 01:00–02:00", () => {
      const evaluator = new TimeLockEvaluator(
        schedule("Australia/Lord_Howe", [sunday("01:00", "02:00")]),
      );
      expect(evaluator.nextLockStart(utc("2031-04-05T00:00Z"))).toBe(utc("2031-04-05T14:00Z")); // 01:00 +11
      expect(evaluator.isLocked(utc("2031-04-05T15:10Z"))).toBe(true); // 01:40 +10:30
      expect(evaluator.lockedUntil(utc("2031-04-05T14:00Z"))).toBe(utc("2031-04-05T15:30Z")); // 02:00 +10:30
    });
  });
});

describe("holidays", () => {
  const christmas: Holiday = {
    from: "2020-12-24",
    to: "2020-12-26",
    yearlyRepeat: true,
    name: "Christmas",
  };

  it("a yearly holiday 24.12–26.12 locks on 2031-12-25 local but not on 12-27", () => {
    const evaluator = new TimeLockEvaluator(schedule("Europe/Berlin", [], [christmas]));
    expect(evaluator.isLocked(utc("2031-12-25T11:00Z"))).toBe(true);
    expect(evaluator.reasonAt(utc("2031-12-25T11:00Z"))).toEqual({ kind: "holiday", index: 0 });
    expect(evaluator.isLocked(utc("2031-12-26T22:59Z"))).toBe(true); // 12-26 23:59 CET
    expect(evaluator.isLocked(utc("2031-12-26T23:00Z"))).toBe(false); // 12-27 00:00 CET
    expect(evaluator.lockedUntil(utc("2031-12-25T11:00Z"))).toBe(utc("2031-12-26T23:00Z"));
    expect(evaluator.isLocked(utc("2040-12-25T11:00Z"))).toBe(true);
  });

  it("a non-repeating holiday locks only in its year", () => {
    const evaluator = new TimeLockEvaluator(
      schedule(
        "Europe/Berlin",
        [],
        [{ from: "2031-05-01", to: "2031-05-01", yearlyRepeat: false }],
      ),
    );
    expect(evaluator.isLocked(utc("2031-05-01T10:00Z"))).toBe(true);
    expect(evaluator.isLocked(utc("2032-05-01T10:00Z"))).toBe(false);
    expect(evaluator.nextLockStart(utc("2031-05-02T10:00Z"))).toBeUndefined();
  });

  it("a yearly holiday may wrap the new year (12-31..01-01)", () => {
    const evaluator = new TimeLockEvaluator(
      schedule("Europe/Berlin", [], [{ from: "2000-12-31", to: "2000-01-01", yearlyRepeat: true }]),
    );
    expect(evaluator.isLocked(utc("2031-12-31T11:00Z"))).toBe(true);
    expect(evaluator.isLocked(utc("2032-01-01T11:00Z"))).toBe(true);
    expect(evaluator.isLocked(utc("2032-01-02T11:00Z"))).toBe(false);
    expect(evaluator.lockedUntil(utc("2031-12-31T11:00Z"))).toBe(utc("2032-01-01T23:00Z"));
    expect(evaluator.lockedUntil(utc("2032-01-01T11:00Z"))).toBe(utc("2032-01-01T23:00Z"));
    expect(evaluator.nextLockStart(utc("2032-01-02T11:00Z"))).toBe(utc("2032-12-30T23:00Z"));
  });

  it("a yearly holiday on Feb 29 locks on Feb 29 in leap years only", () => {
    const leapDay: Holiday = { from: "2028-02-29", to: "2028-02-29", yearlyRepeat: true };
    const evaluator = new TimeLockEvaluator(schedule("Europe/Berlin", [], [leapDay]));
    expect(evaluator.isLocked(utc("2031-02-28T11:00Z"))).toBe(false);
    expect(evaluator.isLocked(utc("2031-03-01T11:00Z"))).toBe(false);
    expect(evaluator.isLocked(utc("2032-02-29T11:00Z"))).toBe(true);
    expect(evaluator.nextLockStart(utc("2031-03-01T11:00Z"))).toBe(utc("2032-02-28T23:00Z"));
    expect(
      validateSchedule(
        schedule("Europe/Berlin", [], [{ ...leapDay, from: "2031-02-29", yearlyRepeat: false }]),
      ),
    ).toEqual({
      code: "E_TIME_LOCK_INVALID",
      message: "holiday 1: from 2031-02-29 is not a date (YYYY-MM-DD)",
    });
    expect(
      validateSchedule(
        schedule("Europe/Berlin", [], [{ ...leapDay, from: "2031-02-29", yearlyRepeat: true }]),
      ),
    ).toBeUndefined();
  });

  it("a holiday starts at local midnight in its zone (Berlin: 23:00Z the day before in winter, 22:00Z in summer)", () => {
    const evaluator = new TimeLockEvaluator(
      schedule(
        "Europe/Berlin",
        [],
        [
          { from: "2031-01-06", to: "2031-01-06", yearlyRepeat: false },
          { from: "2031-08-15", to: "2031-08-15", yearlyRepeat: false },
        ],
      ),
    );
    expect(evaluator.isLocked(utc("2031-01-05T22:59Z"))).toBe(false);
    expect(evaluator.nextLockStart(utc("2031-01-05T12:00Z"))).toBe(utc("2031-01-05T23:00Z"));
    expect(evaluator.lockedUntil(utc("2031-01-05T23:00Z"))).toBe(utc("2031-01-06T23:00Z"));
    expect(evaluator.nextLockStart(utc("2031-08-14T12:00Z"))).toBe(utc("2031-08-14T22:00Z"));
    expect(evaluator.lockedUntil(utc("2031-08-14T22:00Z"))).toBe(utc("2031-08-15T22:00Z"));
  });

  it("a holiday on a day whose midnight is skipped starts at the first existing minute (America/Santiago)", () => {
    // On 2031-09-07 Santiago's clocks jump from 00:00 to 01:00 (04:00Z).
    const evaluator = new TimeLockEvaluator(
      schedule(
        "America/Santiago",
        [],
        [{ from: "2031-09-07", to: "2031-09-07", yearlyRepeat: false }],
      ),
    );
    expect(evaluator.isLocked(utc("2031-09-07T03:59Z"))).toBe(false); // Sat 23:59 −04
    expect(evaluator.nextLockStart(utc("2031-09-06T12:00Z"))).toBe(utc("2031-09-07T04:00Z")); // Sun 01:00 −03
    expect(evaluator.lockedUntil(utc("2031-09-07T04:00Z"))).toBe(utc("2031-09-08T03:00Z"));
  });

  it("a holiday ending on a Friday chains into the weekend period: locked until Monday 07:00", () => {
    const evaluator = new TimeLockEvaluator(
      schedule(
        "Europe/Berlin",
        [weekend],
        [{ from: "2031-12-25", to: "2031-12-26", yearlyRepeat: false }], // Thu–Fri
      ),
    );
    expect(evaluator.lockedUntil(utc("2031-12-25T11:00Z"))).toBe(utc("2031-12-29T06:00Z"));
  });

  it("locks that touch chain together; a one-minute gap does not", () => {
    const friday: Holiday = { from: "2031-12-26", to: "2031-12-26", yearlyRepeat: false };
    const touching = new TimeLockEvaluator(
      schedule(
        "Europe/Berlin",
        [{ startDay: 6, startTime: "00:00", endDay: 6, endTime: "12:00" }],
        [friday],
      ),
    );
    expect(touching.lockedUntil(utc("2031-12-26T11:00Z"))).toBe(utc("2031-12-27T11:00Z")); // Sat 12:00
    const apart = new TimeLockEvaluator(
      schedule(
        "Europe/Berlin",
        [{ startDay: 6, startTime: "00:01", endDay: 6, endTime: "12:00" }],
        [friday],
      ),
    );
    expect(apart.lockedUntil(utc("2031-12-26T11:00Z"))).toBe(utc("2031-12-26T23:00Z")); // Sat 00:00
  });
});

describe("capacities", () => {
  /** Four one-hour periods a day, every day: 28 distinct periods. */
  const periods = (count: number): WeeklyLockPeriod[] =>
    Array.from({ length: count }, (_, i) => {
      const day = (i % 7) + 1;
      const hour = String(Math.floor(i / 7) * 2).padStart(2, "0");
      return { startDay: day, startTime: `${hour}:00`, endDay: day, endTime: `${hour}:30` };
    });
  const holidays = (count: number): Holiday[] =>
    Array.from({ length: count }, (_, i) => {
      const date = new Date(Date.UTC(2031, 0, 1 + i)).toISOString().slice(0, 10);
      return { from: date, to: date, yearlyRepeat: false };
    });

  it(`${MAX_WEEKLY_PERIODS} weekly periods are accepted, ${MAX_WEEKLY_PERIODS + 1} rejected`, () => {
    expect(MAX_WEEKLY_PERIODS).toBeGreaterThanOrEqual(28);
    const full = schedule("Europe/Berlin", periods(MAX_WEEKLY_PERIODS));
    expect(validateSchedule(full)).toBeUndefined();
    expect(new TimeLockEvaluator(full).reasonAt(utc("2031-01-12T05:10Z"))).toEqual({
      kind: "weekly",
      index: 27,
    }); // Sun 06:10 CET
    expect(validateSchedule(schedule("Europe/Berlin", periods(MAX_WEEKLY_PERIODS + 1)))).toEqual({
      code: "E_TIME_LOCK_INVALID",
      message: "29 weekly periods given; a lock holds at most 28",
    });
  });

  it(`${MAX_HOLIDAYS} holidays are accepted, ${MAX_HOLIDAYS + 1} rejected`, () => {
    expect(MAX_HOLIDAYS).toBeGreaterThanOrEqual(64);
    const full = schedule("Europe/Berlin", [], holidays(MAX_HOLIDAYS));
    expect(validateSchedule(full)).toBeUndefined();
    expect(new TimeLockEvaluator(full).lockedUntil(utc("2031-01-01T12:00Z"))).toBe(
      utc("2031-03-05T23:00Z"),
    );
    expect(
      validateSchedule(schedule("Europe/Berlin", [], holidays(MAX_HOLIDAYS + 1)))?.message,
    ).toBe("65 holidays given; a lock holds at most 64");
  });
});

describe("invalid schedules are rejected with E_TIME_LOCK_INVALID", () => {
  const invalid = (s: TimeLockSchedule) => {
    const error = validateSchedule(s);
    expect(error?.code).toBe("E_TIME_LOCK_INVALID");
    return error?.message;
  };
  const period = (changes: Partial<WeeklyLockPeriod>) =>
    schedule("Europe/Berlin", [{ ...weekend, ...changes }]);

  it("an unknown time zone such as Europe/Nowhere", () => {
    expect(invalid(schedule("Europe/Nowhere"))).toBe(
      "time zone Europe/Nowhere is not an IANA time zone known to this platform",
    );
    expect(() => new TimeLockEvaluator(schedule("Europe/Nowhere"))).toThrow(TimeLockInvalidError);
    expect(invalid(schedule("+01:00"))).toMatch(/fixed UTC offset/);
    expect(invalid(schedule(""))).toMatch(/IANA/);
  });

  it("times that are not times of day", () => {
    expect(invalid(period({ endTime: "25:00" }))).toBe(
      "weekly period 1: endTime 25:00 is not a time of day (HH:MM, 00:00–23:59, or 24:00 as an end)",
    );
    for (const startTime of ["24:00", "7:00", "12:60", "noon"]) {
      expect(invalid(period({ startTime }))).toMatch(
        /^weekly period 1: startTime .* is not a time of day/,
      );
    }
    expect(validateSchedule(period({ endTime: "24:00" }))).toBeUndefined();
  });

  it("days that are not ISO weekdays", () => {
    for (const startDay of [0, 8, 1.5]) {
      expect(invalid(period({ startDay }))).toMatch(
        /^weekly period 1: startDay .* is not an ISO weekday/,
      );
    }
  });

  it("a period starting where it ends, or periods covering the whole week", () => {
    expect(invalid(period({ startDay: 1, startTime: "07:00" }))).toBe(
      "weekly period 1: starts and ends at Monday 07:00, which would lock the whole week",
    );
    expect(
      invalid(period({ startDay: 7, startTime: "24:00", endDay: 1, endTime: "00:00" })),
    ).toMatch(/startTime 24:00/);
    const everyDay = [1, 2, 3, 4, 5, 6, 7].map((day) => ({
      startDay: day,
      startTime: "00:00",
      endDay: day,
      endTime: "24:00",
    }));
    expect(invalid(schedule("Europe/Berlin", everyDay))).toMatch(/could never be opened/);
  });

  it("holidays with dates that do not exist, reversed ranges, or covering the whole year", () => {
    const holiday = (h: Holiday) => invalid(schedule("Europe/Berlin", [], [h]));
    expect(
      holiday({ from: "2031-13-01", to: "2031-13-01", yearlyRepeat: false, name: "Bad" }),
    ).toBe('holiday 1 ("Bad"): from 2031-13-01 is not a date (YYYY-MM-DD)');
    expect(holiday({ from: "2031-12-27", to: "2031-12-24", yearlyRepeat: false })).toBe(
      "holiday 1: from 2031-12-27 is after to 2031-12-24; only a yearly holiday may wrap the new year",
    );
    expect(holiday({ from: "2031-01-01", to: "2031-12-31", yearlyRepeat: true })).toMatch(
      /could never be opened/,
    );
  });
});

describe("immediate time lock", () => {
  const now = utc("2031-01-08T11:00Z");

  it("accepts 1 min to 144 h and rejects anything outside", () => {
    expect(IMMEDIATE_TIME_LOCK_MIN_MS).toBe(MINUTE);
    expect(IMMEDIATE_TIME_LOCK_MAX_MS).toBe(144 * HOUR);
    expect(immediateTimeLockUntil(now, MINUTE)).toBe(now + MINUTE);
    expect(immediateTimeLockUntil(now, 144 * HOUR)).toBe(now + 144 * HOUR);
    for (const duration of [MINUTE - 1, 144 * HOUR + 1, 0, -HOUR, Number.NaN]) {
      expect(validateImmediateTimeLock(duration)?.code).toBe("E_TIME_LOCK_INVALID");
      expect(() => immediateTimeLockUntil(now, duration)).toThrow(TimeLockInvalidError);
    }
    expect(validateImmediateTimeLock(145 * HOUR)?.message).toBe(
      "immediate time lock of 145 h is outside 1 min–144 h",
    );
  });

  it("never shortens a running immediate time lock", () => {
    const running = now + 5 * HOUR;
    expect(immediateTimeLockUntil(now, HOUR, running)).toBe(running);
    expect(immediateTimeLockUntil(now, 6 * HOUR, running)).toBe(now + 6 * HOUR);
  });

  it("chains with the schedule: immediate lock into the weekend period holds until Monday 07:00", () => {
    const evaluator = new TimeLockEvaluator(schedule("Europe/Berlin", [weekend]));
    const fridayFive = utc("2031-01-10T16:00Z"); // Fri 17:00 CET
    const until = immediateTimeLockUntil(fridayFive, 2 * HOUR);
    expect(evaluator.reasonAt(fridayFive, until)).toEqual({ kind: "immediate", until });
    expect(evaluator.lockedUntil(fridayFive, until)).toBe(utc("2031-01-13T06:00Z"));
    expect(evaluator.lockedUntil(now, now + HOUR)).toBe(now + HOUR);
    expect(evaluator.nextLockStart(now, now + HOUR)).toBe(now);
  });
});

describe("a running time lock cannot be shortened", () => {
  const old = schedule("Europe/Berlin", [weekend]);
  const saturdayNoon = utc("2031-01-11T11:00Z");
  const mondaySeven = utc("2031-01-13T06:00Z");

  it("holds until the old end when the new schedule would release earlier", () => {
    expect(holdOnScheduleChange(old, schedule("Europe/Berlin"), saturdayNoon)).toBe(mondaySeven);
    const shorter = schedule("Europe/Berlin", [{ ...weekend, endDay: 6, endTime: "18:00" }]);
    expect(holdOnScheduleChange(old, shorter, saturdayNoon)).toBe(mondaySeven);
  });

  it("needs no hold when the new schedule locks as long or longer", () => {
    const longer = schedule("Europe/Berlin", [{ ...weekend, endTime: "09:00" }]);
    expect(holdOnScheduleChange(old, longer, saturdayNoon)).toBeUndefined();
    expect(holdOnScheduleChange(old, old, saturdayNoon)).toBeUndefined();
  });

  it("needs no hold when no time lock is running", () => {
    expect(
      holdOnScheduleChange(old, schedule("Europe/Berlin"), utc("2031-01-08T11:00Z")),
    ).toBeUndefined();
  });
});

describe("local wall time ↔ instants", () => {
  it("localParts reads the wall clock, ISO weekday included", () => {
    expect(localParts(utc("2031-03-30T01:00Z"), "Europe/Berlin")).toEqual({
      year: 2031,
      month: 3,
      day: 30,
      weekday: 7,
      hour: 3,
      minute: 0,
    });
    expect(localParts(utc("2031-01-13T01:30Z"), "Asia/Kolkata")).toMatchObject({
      weekday: 1,
      hour: 7,
    });
  });

  it("instantOfLocal resolves skipped wall time to the first existing minute after it", () => {
    expect(instantOfLocal("Europe/Berlin", 2031, 3, 30, 2, 30)).toBe(utc("2031-03-30T01:00Z"));
    expect(instantOfLocal("Europe/Berlin", 2031, 3, 30, 3, 0)).toBe(utc("2031-03-30T01:00Z"));
  });

  it("instantOfLocal resolves repeated wall time to the earlier instant unless asked for the later", () => {
    expect(instantOfLocal("Europe/Berlin", 2031, 10, 26, 2, 30)).toBe(utc("2031-10-26T00:30Z"));
    expect(instantOfLocal("Europe/Berlin", 2031, 10, 26, 2, 30, "later")).toBe(
      utc("2031-10-26T01:30Z"),
    );
    expect(instantOfLocal("Australia/Lord_Howe", 2031, 4, 6, 1, 45, "later")).toBe(
      utc("2031-04-05T15:15Z"),
    );
    expect(instantOfLocal("Europe/Berlin", 2031, 1, 13, 24, 0)).toBe(utc("2031-01-13T23:00Z"));
  });
});

// ---------------------------------------------------------------------------------------------
// Properties over random schedules and instants

const ZONES = [
  "Europe/Berlin",
  "America/New_York",
  "Asia/Kolkata",
  "Australia/Lord_Howe",
  "America/Santiago",
  "Pacific/Chatham",
  "America/St_Johns",
  "UTC",
];
const FIRST_DAY = Date.UTC(2030, 0, 1);
const LAST_DAY = Date.UTC(2033, 11, 31);

/** The reading of the wall clock as minutes on its own 1970 epoch. */
function wallMinuteOf(at: number, timeZone: string): number {
  const p = localParts(at, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) / MINUTE;
}

/** A change of the zone's UTC offset: when, on which local day, and which wall times it skips or repeats. */
interface OffsetChange {
  at: number;
  localDay: number;
  weekday: number;
  /** Minute of the day where the skipped (clocks forward) or repeated (clocks back) wall time begins. */
  changedFrom: number;
  changedMinutes: number;
}

/** The zone's offset changes, found by sampling once a day and narrowing to the minute. */
function offsetChanges(timeZone: string): OffsetChange[] {
  const offset = (at: number) => wallMinuteOf(at, timeZone) - at / MINUTE;
  const changes: OffsetChange[] = [];
  for (let at = FIRST_DAY + DAY; at <= LAST_DAY; at += DAY) {
    if (offset(at) === offset(at - DAY)) continue;
    let [before, after] = [at - DAY, at];
    while (after - before > MINUTE) {
      const middle = before + Math.floor((after - before) / 2 / MINUTE) * MINUTE;
      if (offset(middle) === offset(at)) after = middle;
      else before = middle;
    }
    const wall = wallMinuteOf(after, timeZone);
    const localDay = Math.floor(wall / 1440);
    const shift = offset(after) - offset(before);
    changes.push({
      at: after,
      localDay,
      weekday: ((localDay + 3) % 7) + 1,
      changedFrom: (shift > 0 ? wallMinuteOf(before, timeZone) + 1 : wall) % 1440,
      changedMinutes: Math.abs(shift),
    });
  }
  return changes;
}
const OFFSET_CHANGES = new Map(ZONES.map((zone) => [zone, offsetChanges(zone)]));

const hhmm = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
const isoDate = (day: number) => new Date(day * DAY).toISOString().slice(0, 10);

function weeklyPeriod(weekday: fc.Arbitrary<number>, timeOfDay: fc.Arbitrary<number>) {
  return fc.record({
    startDay: weekday,
    startTime: timeOfDay.map(hhmm),
    endDay: weekday,
    endTime: fc.oneof(timeOfDay.map(hhmm), fc.constant("24:00")),
  });
}

function holiday(firstDay: fc.Arbitrary<number>) {
  return fc
    .record({
      first: firstDay,
      length: fc.integer({ min: 0, max: 10 }),
      yearlyRepeat: fc.boolean(),
    })
    .map(({ first, length, yearlyRepeat }) => ({
      from: isoDate(first),
      to: isoDate(first + length),
      yearlyRepeat,
    }));
}

const anyWeekday = fc.integer({ min: 1, max: 7 });
const anyTime = fc.integer({ min: 0, max: 1439 });
const anyDay = fc.integer({ min: FIRST_DAY / DAY, max: LAST_DAY / DAY });

/** Random schedules and instants anywhere in 2030–2033. */
function anywhere(timeZone: string) {
  return fc.record({
    schedule: fc.record({
      timeZone: fc.constant(timeZone),
      weekly: fc.array(weeklyPeriod(anyWeekday, anyTime), { maxLength: 4 }),
      holidays: fc.array(holiday(anyDay), { maxLength: 3 }),
    }),
    t0: fc.integer({ min: FIRST_DAY / MINUTE, max: LAST_DAY / MINUTE }).map((m) => m * MINUTE),
  });
}

/** Periods that start near an offset change and often run across it, holidays around its day, and an instant up to a day before it. */
function aroundAChange(timeZone: string, change: OffsetChange) {
  const { changedFrom, changedMinutes } = change;
  const nearTheChange = fc
    .oneof(
      fc.integer({ min: 0, max: changedMinutes - 1 }),
      fc.integer({ min: -90, max: changedMinutes + 90 }),
    )
    .map((shift) => (changedFrom + shift + 1440) % 1440);
  const acrossTheChange = fc
    .record({
      startDay: fc.oneof({ arbitrary: fc.constant(change.weekday), weight: 3 }, anyWeekday),
      start: nearTheChange,
      length: fc.integer({ min: 1, max: 300 }),
    })
    .map(({ startDay, start, length }) => {
      const end = (startDay - 1) * 1440 + start + length;
      return {
        startDay,
        startTime: hhmm(start),
        endDay: (Math.floor(end / 1440) % 7) + 1,
        endTime: hhmm(end % 1440),
      };
    });
  return fc.record({
    schedule: fc.record({
      timeZone: fc.constant(timeZone),
      weekly: fc.array(
        fc.oneof({ arbitrary: acrossTheChange, weight: 3 }, weeklyPeriod(anyWeekday, anyTime)),
        { minLength: 1, maxLength: 4 },
      ),
      // A holiday over the change day would hide what the periods do, so one is rare.
      holidays: fc.oneof(
        { arbitrary: fc.constant<Holiday[]>([]), weight: 3 },
        fc.array(holiday(fc.integer({ min: change.localDay - 3, max: change.localDay + 1 })), {
          maxLength: 2,
        }),
      ),
    }),
    t0: fc.integer({ min: 0, max: 24 * 60 - 1 }).map((minutes) => change.at - minutes * MINUTE),
  });
}

const scenario = fc
  .constantFrom(...ZONES)
  .chain((timeZone) => {
    const changes = OFFSET_CHANGES.get(timeZone) ?? [];
    const nearChanges = changes.map((change) => aroundAChange(timeZone, change));
    return nearChanges.length === 0
      ? anywhere(timeZone)
      : fc.oneof(anywhere(timeZone), { arbitrary: fc.oneof(...nearChanges), weight: 2 });
  })
  .filter(({ schedule: s }) => validateSchedule(s) === undefined);

/** Whether the wall clock reading at `at` lies in a period or holiday, straight from the definition. */
function wallClockLocks(s: TimeLockSchedule, at: number): boolean {
  const p = localParts(at, s.timeZone);
  const weekday = ((new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay() + 6) % 7) + 1;
  const minuteOfWeek = (weekday - 1) * 1440 + p.hour * 60 + p.minute;
  const weekMinute = (day: number, time: string) =>
    ((day - 1) * 1440 + Number(time.slice(0, 2)) * 60 + Number(time.slice(3))) % 10080;
  const inWeekly = s.weekly.some((w) => {
    const [start, end] = [weekMinute(w.startDay, w.startTime), weekMinute(w.endDay, w.endTime)];
    return start < end
      ? start <= minuteOfWeek && minuteOfWeek < end
      : minuteOfWeek >= start || minuteOfWeek < end;
  });
  const date = `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
  const inHoliday = s.holidays.some((h) => {
    if (!h.yearlyRepeat) return h.from <= date && date <= h.to;
    const [from, to, monthDay] = [h.from.slice(5), h.to.slice(5), date.slice(5)];
    return from <= to ? from <= monthDay && monthDay <= to : monthDay >= from || monthDay <= to;
  });
  return inWeekly || inHoliday;
}

/**
 * Brute force, minute by minute from four hours before `from`: the wall-clock rule, plus "clocks
 * going back never open a lock" (locked when set back → locked until the clock reads that time again).
 */
function oracle(s: TimeLockSchedule, from: number, minutes: number): boolean[] {
  const states: boolean[] = [];
  let previous: { wall: number; locked: boolean } | undefined;
  let heldUntilWall: number | undefined;
  for (let i = -4 * 60; i < minutes; i++) {
    const at = from + i * MINUTE;
    const wall = wallMinuteOf(at, s.timeZone);
    if (previous !== undefined && wall < previous.wall && previous.locked)
      heldUntilWall = previous.wall + 1;
    if (heldUntilWall !== undefined && wall >= heldUntilWall) heldUntilWall = undefined;
    const locked = wallClockLocks(s, at) || heldUntilWall !== undefined;
    if (i >= 0) states.push(locked);
    previous = { wall, locked };
  }
  return states;
}

describe("properties", () => {
  it("isLocked holds throughout [t0, lockedUntil(t0)) and not at lockedUntil(t0)", () => {
    fc.assert(
      fc.property(scenario, ({ schedule: s, t0 }) => {
        const evaluator = new TimeLockEvaluator(s);
        const until = evaluator.lockedUntil(t0);
        if (until === undefined) {
          expect(evaluator.isLocked(t0)).toBe(false);
          return;
        }
        expect(until).toBeGreaterThan(t0);
        expect(Number.isFinite(until)).toBe(true);
        for (let k = 0; k < 20; k++) {
          expect(evaluator.isLocked(t0 + Math.floor(((until - t0) * k) / 20))).toBe(true);
        }
        expect(evaluator.isLocked(until - 1)).toBe(true);
        expect(evaluator.isLocked(until)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("nothing locks in [t0, nextLockStart(t0)) and it locks at nextLockStart(t0)", () => {
    fc.assert(
      fc.property(scenario, ({ schedule: s, t0 }) => {
        const evaluator = new TimeLockEvaluator(s);
        const start = evaluator.nextLockStart(t0);
        if (start === undefined) {
          for (let week = 0; week < 20; week++)
            expect(evaluator.isLocked(t0 + week * 7 * DAY)).toBe(false);
          return;
        }
        expect(evaluator.isLocked(start)).toBe(true);
        if (start === t0) return;
        for (let k = 0; k < 20; k++) {
          expect(evaluator.isLocked(t0 + Math.floor(((start - t0) * k) / 20))).toBe(false);
        }
        expect(evaluator.isLocked(start - 1)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("isLocked, lockedUntil and nextLockStart agree with a minute-by-minute oracle over a random day", () => {
    const minutes = 24 * 60;
    fc.assert(
      fc.property(
        scenario,
        fc.integer({ min: 0, max: minutes - 1 }),
        ({ schedule: s, t0 }, offset) => {
          const evaluator = new TimeLockEvaluator(s);
          const states = oracle(s, t0, minutes);
          states.forEach((locked, i) => {
            expect(evaluator.isLocked(t0 + i * MINUTE), `minute ${i} of the day`).toBe(locked);
          });
          // From the day's start, a random minute and every minute where the state flips, the
          // next flip within the day is what lockedUntil / nextLockStart must name.
          const flips = states.flatMap((locked, i) =>
            i > 0 && locked !== states[i - 1] ? [i] : [],
          );
          for (const i of [0, offset, ...flips]) {
            const change = states.findIndex((locked, j) => j > i && locked !== states[i]);
            const at = t0 + i * MINUTE;
            const answer = states[i] ? evaluator.lockedUntil(at) : evaluator.nextLockStart(at);
            if (change >= 0) expect(answer).toBe(t0 + change * MINUTE);
            else
              expect(answer ?? Number.POSITIVE_INFINITY).toBeGreaterThanOrEqual(
                t0 + minutes * MINUTE,
              );
          }
        },
      ),
      { numRuns: 100 },
    );
  }, 120_000); // some 1,500 Intl readings per run; seconds, not milliseconds
});
