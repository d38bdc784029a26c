import type { LockState } from "@lockfleet/protocol";
import { describe, expect, it } from "vitest";
import { countdown, lockStatus } from "../../src/dashboard/lock-state.js";

const base: LockState = {
  deviceId: "lock-aaaaaaaaaaaa",
  org: "org_bank",
  at: "2026-11-23T10:00:00.000Z",
  bolt: "thrown",
  door: "closed",
  cycle: { phase: "idle", codesRequired: 2, codesGiven: 0 },
  timeLocked: false,
  blocked: false,
  activeAlarms: [],
  trustedTime: true,
  auditHead: { seq: 1, hash: "0".repeat(64) },
};
const lock = (state: Partial<LockState>, availability: "online" | "offline" = "online") => ({
  availability,
  state: { ...base, ...state },
});

describe("the dashboard's lock state at a glance", () => {
  it("names each state the spec lists: locked, delay, window open, open, alarm, offline", () => {
    expect(lockStatus(lock({})).state).toBe("locked");
    const delay = lockStatus(
      lock({
        cycle: {
          phase: "delay",
          codesRequired: 2,
          codesGiven: 2,
          delayEndsAt: "2026-11-23T10:10:00.000Z",
        },
      }),
    );
    expect(delay).toEqual({
      state: "delay",
      label: "Delay running",
      endsAt: "2026-11-23T10:10:00.000Z",
    });
    expect(
      lockStatus(
        lock({
          cycle: {
            phase: "window",
            codesRequired: 2,
            codesGiven: 2,
            windowEndsAt: "2026-11-23T10:15:00.000Z",
          },
        }),
      ).state,
    ).toBe("window");
    expect(
      lockStatus(
        lock({
          bolt: "retracted",
          door: "open",
          cycle: { phase: "open", codesRequired: 2, codesGiven: 2 },
        }),
      ).state,
    ).toBe("open");
    expect(lockStatus(lock({ activeAlarms: ["tamper"] }))).toEqual({
      state: "alarm",
      label: "Alarm: tamper",
    });
    expect(lockStatus(lock({}, "offline")).state).toBe("offline");
  });

  it("an offline lock shows offline whatever its last state said; an open alarm outranks open", () => {
    expect(lockStatus(lock({ activeAlarms: ["doorAjar"] }, "offline")).state).toBe("offline");
    expect(lockStatus(lock({ door: "open" }), 1).state).toBe("alarm");
    expect(lockStatus(lock({ door: "forced" })).state).toBe("alarm");
  });

  it("the broker's last will is shown as a hint, never as the lock's status", () => {
    const hinted = {
      ...lock({}),
      availabilityHint: { status: "offline" as const, at: "2026-11-23T10:00:00.000Z" },
    };
    expect(lockStatus(hinted)).toEqual({
      state: "locked",
      label: "Locked (broker: offline?, being checked)",
    });
  });

  it("counts down in minutes and seconds and stops at zero", () => {
    const now = Date.parse("2026-11-23T10:00:00.000Z");
    expect(countdown("2026-11-23T10:04:05.000Z", now)).toBe("4:05");
    expect(countdown("2026-11-23T09:59:00.000Z", now)).toBe("");
    expect(countdown(undefined, now)).toBe("");
  });
});
