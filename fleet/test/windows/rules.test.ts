/**
 * The pure rules behind access windows and policy changes: local time in IANA zones across
 * daylight-saving changes, standing route windows, the one-time-code grid, who may approve,
 * and which policy changes weaken a lock.
 */
import {
  DEFAULT_LOCK_POLICY,
  holidayWeakenings,
  isOtpWindow,
  type LockPolicy,
  policyWeakenings,
  scheduleWeakenings,
  type TimeLockSchedule,
} from "@lockfleet/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { approvalRefusal, approvalsRequired } from "../../src/windows/approval.js";
import { otpWindowInside } from "../../src/windows/otp-window.js";
import {
  insideStandingWindow,
  normaliseStandingWindows,
} from "../../src/windows/standing-windows.js";
import { localParts, localToUtc } from "../../src/windows/time-zone.js";

const at = (iso: string) => Date.parse(iso);

describe("local time in the branch's time zone", () => {
  it("maps wall-clock time to UTC on both sides of the spring change (Europe/Berlin)", () => {
    // 28 March 2027 is a Saturday in CET (+1), 29 March a Monday in CEST (+2).
    expect(localToUtc({ year: 2027, month: 3, day: 27 }, 9 * 60, "Europe/Berlin")).toBe(
      at("2027-03-27T08:00:00Z"),
    );
    expect(localToUtc({ year: 2027, month: 3, day: 29 }, 9 * 60, "Europe/Berlin")).toBe(
      at("2027-03-29T07:00:00Z"),
    );
  });

  it("a wall time inside the skipped spring hour lands just after the gap", () => {
    // 28 March 2027 02:30 does not exist in Berlin; 03:30 CEST = 01:30Z.
    expect(localToUtc({ year: 2027, month: 3, day: 28 }, 150, "Europe/Berlin")).toBe(
      at("2027-03-28T01:30:00Z"),
    );
  });

  it("a wall time in the repeated autumn hour is its first occurrence", () => {
    // 31 October 2027 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET).
    expect(localToUtc({ year: 2027, month: 10, day: 31 }, 150, "Europe/Berlin")).toBe(
      at("2027-10-31T00:30:00Z"),
    );
  });

  it("round-trips every quarter hour of a year in several zones", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 365 * 96 }),
        fc.constantFrom("Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"),
        (quarter, zone) => {
          const instant = at("2027-01-01T00:00:00Z") + quarter * 15 * 60_000;
          const parts = localParts(instant, zone);
          const back = localToUtc(parts, parts.hour * 60 + parts.minute, zone);
          // Equal, or the other occurrence of a repeated autumn hour (one hour apart).
          expect([0, 3_600_000]).toContain(Math.abs(back - instant));
          expect(localParts(back, zone)).toMatchObject({ hour: parts.hour, minute: parts.minute });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("standing route windows", () => {
  const weekdays = normaliseStandingWindows([
    { days: [1, 2, 3, 4, 5], from: "06:00", until: "09:00" },
  ]);

  it("a request inside the local hours qualifies in summer and in winter alike", () => {
    const container = "ctr_1";
    // Tuesday 07:00–08:00 Berlin: 06:00Z in winter, 05:00Z in summer.
    expect(
      insideStandingWindow(
        {
          containerId: container,
          notBefore: at("2026-11-24T06:00:00Z"),
          notAfter: at("2026-11-24T07:00:00Z"),
        },
        weekdays,
        "Europe/Berlin",
      ),
    ).toBe(true);
    expect(
      insideStandingWindow(
        {
          containerId: container,
          notBefore: at("2027-06-15T05:00:00Z"),
          notAfter: at("2027-06-15T06:00:00Z"),
        },
        weekdays,
        "Europe/Berlin",
      ),
    ).toBe(true);
    // The same UTC hours in summer are 08:00–09:30 local: past 09:00.
    expect(
      insideStandingWindow(
        {
          containerId: container,
          notBefore: at("2027-06-15T06:00:00Z"),
          notAfter: at("2027-06-15T07:30:00Z"),
        },
        weekdays,
        "Europe/Berlin",
      ),
    ).toBe(false);
  });

  it("Saturday is outside a Monday–Friday window", () => {
    expect(
      insideStandingWindow(
        {
          containerId: "c",
          notBefore: at("2026-11-28T06:00:00Z"),
          notAfter: at("2026-11-28T07:00:00Z"),
        },
        weekdays,
        "Europe/Berlin",
      ),
    ).toBe(false);
  });

  it("a window crossing midnight covers the early hours of the next day", () => {
    const night = normaliseStandingWindows([
      { startDay: 5, startTime: "22:00", endDay: 6, endTime: "02:00" },
    ]);
    expect(
      insideStandingWindow(
        // Saturday 00:30–01:30 Berlin.
        {
          containerId: "c",
          notBefore: at("2026-11-27T23:30:00Z"),
          notAfter: at("2026-11-28T00:30:00Z"),
        },
        night,
        "Europe/Berlin",
      ),
    ).toBe(true);
  });

  it("a window listing containers applies to those containers only", () => {
    const scoped = normaliseStandingWindows([
      { startDay: 1, startTime: "00:00", endDay: 7, endTime: "24:00", containerIds: ["ctr_a"] },
    ]);
    const request = { notBefore: at("2026-11-24T06:00:00Z"), notAfter: at("2026-11-24T07:00:00Z") };
    expect(insideStandingWindow({ containerId: "ctr_a", ...request }, scoped, "UTC")).toBe(true);
    expect(insideStandingWindow({ containerId: "ctr_b", ...request }, scoped, "UTC")).toBe(false);
  });

  it("a malformed standing window is a configuration error, not silently ignored", () => {
    expect(() => normaliseStandingWindows([{ from: "06:00" }])).toThrow(/E_STANDING_WINDOWS/);
  });
});

describe("one-time-code grid", () => {
  it("picks the longest grid window inside the approved range, never a wider one", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 1, max: 2 * 24 * 60 }),
        (startMinute, lengthMinutes) => {
          const notBefore = at("2026-11-23T00:00:00Z") + startMinute * 60_000;
          const notAfter = notBefore + lengthMinutes * 60_000;
          const grid = otpWindowInside(notBefore, notAfter);
          if (grid === undefined) {
            // Only when not even one hour on a quarter-hour start fits.
            const firstStart = Math.ceil(notBefore / 900_000) * 900_000;
            expect(firstStart + 3_600_000).toBeGreaterThan(notAfter);
            return;
          }
          expect(isOtpWindow(grid.notBefore, grid.notAfter)).toBe(true);
          expect(grid.notBefore).toBeGreaterThanOrEqual(notBefore);
          expect(grid.notAfter).toBeLessThanOrEqual(notAfter);
        },
      ),
    );
  });

  it("an aligned two-hour window is used as it is", () => {
    expect(otpWindowInside(at("2026-11-28T09:00:00Z"), at("2026-11-28T11:00:00Z"))).toEqual({
      notBefore: at("2026-11-28T09:00:00Z"),
      notAfter: at("2026-11-28T11:00:00Z"),
    });
  });
});

describe("who approves access windows", () => {
  const window = {
    bankOrgId: "org_bank",
    citOrgId: "org_cit",
    crew: ["per_crew"],
    requestedBy: "per_disp",
  };
  const officer = {
    role: "securityAdmin" as const,
    orgId: "org_bank",
    orgKind: "bank" as const,
    personId: "per_a",
  };

  it("dual or triple control at the lock asks for two approvers; single for one", () => {
    expect(approvalsRequired({ dualControl: "single" })).toBe(1);
    expect(approvalsRequired({ dualControl: "dual" })).toBe(2);
    expect(approvalsRequired({ dualControl: "triple" })).toBe(2);
  });

  it("a crew member, the CIT dispatcher and another bank's officer are refused", () => {
    expect(
      approvalRefusal(
        { ...officer, role: "citCrew", orgKind: "cit", orgId: "org_cit", personId: "per_crew" },
        window,
        [],
      ),
    ).toMatchObject({ code: "E_FORBIDDEN", statusCode: 403 });
    expect(
      approvalRefusal(
        { ...officer, role: "citDispatcher", orgKind: "cit", orgId: "org_cit" },
        window,
        [],
      ),
    ).toMatchObject({ statusCode: 403 });
    expect(approvalRefusal({ ...officer, orgId: "org_other" }, window, [])).toMatchObject({
      statusCode: 403,
    });
    expect(approvalRefusal({ ...officer, role: "auditor" }, window, [])).toMatchObject({
      statusCode: 403,
    });
  });

  it("a bank officer named in the crew may not approve", () => {
    expect(approvalRefusal({ ...officer, personId: "per_crew" }, window, [])).toMatchObject({
      statusCode: 403,
    });
  });

  it("the second approval of the same person is refused", () => {
    expect(approvalRefusal(officer, window, [])).toBeUndefined();
    expect(approvalRefusal(officer, window, ["per_a"])).toMatchObject({ code: "E_SAME_APPROVER" });
  });
});

describe("weakening policy changes", () => {
  const base: LockPolicy = DEFAULT_LOCK_POLICY;

  it("shorter delay and fewer eyes weaken; longer delay and more eyes do not", () => {
    expect(policyWeakenings(base, { ...base, timeDelayMin: 1 })).toHaveLength(1);
    expect(policyWeakenings(base, { ...base, dualControl: "single" })).toHaveLength(1);
    expect(policyWeakenings(base, { ...base, timeDelayMin: 10, dualControl: "triple" })).toEqual(
      [],
    );
    expect(policyWeakenings(base, { ...base, duressMode: "off" })).toHaveLength(1);
  });

  it("removing a weekly lock period weakens a schedule; adding one does not", () => {
    const period = { startDay: 6, startTime: "00:00", endDay: 7, endTime: "24:00" };
    const none: TimeLockSchedule = { timeZone: "Europe/Berlin", weekly: [], holidays: [] };
    const weekend: TimeLockSchedule = { ...none, weekly: [period] };
    expect(scheduleWeakenings(none, weekend)).toEqual([]);
    expect(scheduleWeakenings(weekend, none)).toHaveLength(1);
    expect(scheduleWeakenings(weekend, { ...weekend, timeZone: "UTC" })).toHaveLength(1);
  });

  it("removing or shortening a holiday weakens", () => {
    const christmas = { from: "2026-12-24", to: "2026-12-26", yearlyRepeat: true };
    expect(holidayWeakenings([], [christmas])).toEqual([]);
    expect(holidayWeakenings([christmas], [])).toHaveLength(1);
    expect(holidayWeakenings([christmas], [{ ...christmas, to: "2026-12-25" }])).toHaveLength(1);
  });
});
