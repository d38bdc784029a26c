import { describe, expect, it } from "vitest";
import type { SetupOptions } from "./fixtures.js";
import { alarmsOf, setup as baseSetup, entry, SECOND, type Setup, USERS } from "./fixtures.js";

/** No time delay, and no separate duress delay (the default): the duress opening releases at once, too. */
function setup(options: SetupOptions = {}): Setup {
  return baseSetup(options);
}

function bolt(t: Setup): string {
  return t.lock.core.state().bolt;
}

describe("duress (silent alarm)", () => {
  it("last digit + 1 opens as normal and pulses the silent alarm", () => {
    const t = setup({ policy: { duressMode: "lastDigitPlusOne" } });
    const alarms: string[] = [];
    t.lock.core.on("alarm", (alarm) => alarms.push(`${alarm.kind}:${alarm.priority}`));
    t.lock.press(entry(USERS.anna, "11223345"));
    t.lock.press(entry(USERS.ben));
    t.lock.advance(500);
    expect(bolt(t)).toBe("retracted");
    expect(t.outputs.silentAlarmPulses).toBe(1);
    expect(alarms).toEqual(["forcedUser:critical"]);
    expect(
      t.records().find((r) => r.kind === "alarm.raised" && r.data.alarm === "forcedUser"),
    ).toMatchObject({ actor: "p-anna" });
  });

  it("last digit + 1 without carry: 9 becomes 0", () => {
    const t = setup({
      policy: { duressMode: "lastDigitPlusOne", dualControl: "single" },
      factory: {
        users: [{ slot: 5, personId: "p-nine", role: "user", enabled: true, code: "12121219" }],
      },
    });
    t.lock.press("0512121210#");
    t.lock.advance(500);
    expect(bolt(t)).toBe("retracted");
    expect(t.outputs.silentAlarmPulses).toBe(1);
    expect(t.kinds()).not.toContain("code.rejected");
  });

  it("a separate duress code per user raises the alarm; last digit + 1 then is a wrong code", () => {
    const t = setup({
      policy: { duressMode: "separateCode", dualControl: "single" },
      factory: {
        users: [
          {
            slot: 6,
            personId: "p-sep",
            role: "user",
            enabled: true,
            code: "40302010",
            duressCode: "73829105",
          },
        ],
      },
    });
    t.lock.press("0640302011#");
    expect(t.records().at(-1)).toMatchObject({ kind: "code.rejected" });
    expect(t.outputs.silentAlarmPulses).toBe(0);
    t.lock.press("0673829105#");
    t.lock.advance(500);
    expect(bolt(t)).toBe("retracted");
    expect(t.outputs.silentAlarmPulses).toBe(1);
    expect(alarmsOf(t.records())).toContain("forcedUser");
  });

  it("with duress off, last digit + 1 is a wrong code", () => {
    const t = setup({ policy: { duressMode: "off", dualControl: "single" } });
    t.lock.press(entry(USERS.anna, "11223345"));
    t.lock.advance(500);
    expect(bolt(t)).toBe("thrown");
    expect(t.outputs.silentAlarmPulses).toBe(0);
  });

  it("the duress alarm is stored and sent at the highest priority", () => {
    const t = setup({ policy: { duressMode: "lastDigitPlusOne" } });
    t.lock.press(entry(USERS.anna, "11223345"));
    const record = t.records().find((r) => r.data.alarm === "forcedUser");
    expect(record?.data.priority).toBe("critical");
  });

  it("the lock's state message never reveals a duress alarm", () => {
    const t = setup({ policy: { duressMode: "lastDigitPlusOne" } });
    t.lock.press(entry(USERS.anna, "11223345"));
    t.lock.press(entry(USERS.ben));
    t.lock.advance(SECOND);
    expect(t.lock.core.state().activeAlarms).not.toContain("forcedUser");
    expect(t.lock.core.activeAlarms).not.toContain("forcedUser");
  });
});
