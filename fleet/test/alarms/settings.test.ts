import { describe, expect, it } from "vitest";
import { DEFAULT_ESCALATION } from "../../src/alarms/escalation.js";
import {
  alarmSettingsFromEnv,
  parseEscalation,
  parseSyslogTarget,
} from "../../src/alarms/settings.js";

describe("alarm settings from the environment", () => {
  it("escalation minutes per priority, repeat and levels; unnamed values keep their defaults", () => {
    const policy = parseEscalation("critical=1, high=3,repeat=4,levels=5");
    expect(policy.afterMs.critical).toBe(60_000);
    expect(policy.afterMs.high).toBe(180_000);
    expect(policy.afterMs.medium).toBe(DEFAULT_ESCALATION.afterMs.medium);
    expect(policy.repeatMs).toBe(240_000);
    expect(policy.maxLevel).toBe(5);
  });

  it("a wrong escalation setting names the setting and the part at fault", () => {
    expect(() => parseEscalation("urgent=3")).toThrow(
      /E_ALARM_SETTING: LOCKFLEET_ALARM_ESCALATION has unknown name urgent/,
    );
    expect(() => parseEscalation("critical=soon")).toThrow(
      /E_ALARM_SETTING: LOCKFLEET_ALARM_ESCALATION has critical=soon/,
    );
  });

  it("syslog targets are udp:// or tcp:// with host and port", () => {
    expect(parseSyslogTarget("tcp://siem.example:6514", "local4").name).toBe(
      "syslog tcp siem.example:6514",
    );
    expect(parseSyslogTarget("udp://[::1]:514", undefined).name).toBe("syslog udp ::1:514");
    expect(() => parseSyslogTarget("http://siem.example", undefined)).toThrow(
      /LOCKFLEET_ALARM_SYSLOG/,
    );
    expect(() => parseSyslogTarget("udp://h:514", "local9")).toThrow(
      /LOCKFLEET_ALARM_SYSLOG_FACILITY/,
    );
  });

  it("builds the forwarders that are configured and no others", () => {
    expect(alarmSettingsFromEnv({}).forwarders).toEqual([]);
    const settings = alarmSettingsFromEnv({
      LOCKFLEET_ALARM_WEBHOOK: "https://soc.example/alarms",
      LOCKFLEET_ALARM_SYSLOG: "udp://127.0.0.1:514",
      LOCKFLEET_ALARM_OFFLINE_GRACE_S: "90",
    });
    expect(settings.forwarders.map((f) => f.name)).toEqual([
      "webhook https://soc.example/alarms",
      "syslog udp 127.0.0.1:514",
    ]);
    expect(settings.checks.offlineGraceMs).toBe(90_000);
  });
});
