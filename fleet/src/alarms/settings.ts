/**
 * Alarm settings of a fleet: escalation times and forwarding targets. `lockfleet-fleet serve`
 * reads them with every other setting (flags, then environment, then defaults; see
 * fleet/src/config.ts) into `FleetOptions.alarms`, which `alarmSettingsFrom` turns into
 * forwarders. The parsers here are shared with that configuration:
 *
 *   LOCKFLEET_ALARM_WEBHOOK=https://soc.example/alarms
 *   LOCKFLEET_ALARM_WEBHOOK_SECRET=…                  (HMAC-SHA-256 signature header)
 *   LOCKFLEET_ALARM_SYSLOG=tcp://siem.example:6514     (or udp://host:514)
 *   LOCKFLEET_ALARM_SYSLOG_FACILITY=local4
 *   LOCKFLEET_ALARM_ESCALATION=critical=2,high=10,medium=30,low=240,repeat=15,levels=3  (minutes)
 *   LOCKFLEET_ALARM_OFFLINE_GRACE_S=60  LOCKFLEET_ALARM_CLOCK_DRIFT_S=120
 */
import { CodedError } from "@lockfleet/protocol";
import type { FleetCheckOptions } from "./alarm-service.js";
import { DEFAULT_ESCALATION, type EscalationPolicy } from "./escalation.js";
import type { AlarmForwarder } from "./forwarding/forwarder.js";
import { SYSLOG_FACILITIES, type SyslogFacility, SyslogForwarder } from "./forwarding/syslog.js";
import { WebhookForwarder } from "./forwarding/webhook.js";

export interface AlarmSettings {
  escalation: EscalationPolicy;
  forwarders: AlarmForwarder[];
  checks: Partial<FleetCheckOptions>;
}

const MINUTE = 60_000;

/** Alarm settings as plain data, as `FleetOptions.alarms` carries them. */
export interface AlarmOptions {
  /** Each notice is POSTed as JSON to this http(s) URL, signed when `secret` is set. */
  webhook?: { url: string; secret?: string | undefined } | undefined;
  /** RFC 5424 messages to a syslog collector. */
  syslog?:
    | {
        transport: "udp" | "tcp";
        host: string;
        port: number;
        facility?: SyslogFacility | number | undefined;
      }
    | undefined;
  /** Default DEFAULT_ESCALATION (critical 2, high 10, medium 30, low 240 min; repeat 15; 3 levels). */
  escalation?: EscalationPolicy | undefined;
}

/** Makes the error for a bad value of the setting `name`. */
export type SettingError = (name: string, message: string) => Error;

function setting(name: string, message: string): Error {
  return new CodedError("E_ALARM_SETTING", `${name} ${message}`);
}

export function parseEscalation(text: string, fail: SettingError = setting): EscalationPolicy {
  const policy: EscalationPolicy = {
    afterMs: { ...DEFAULT_ESCALATION.afterMs },
    repeatMs: DEFAULT_ESCALATION.repeatMs,
    maxLevel: DEFAULT_ESCALATION.maxLevel,
  };
  const afterMs = { ...policy.afterMs };
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "")) {
    const [key, raw] = part.split("=");
    const value = Number(raw);
    if (raw === undefined || !Number.isFinite(value) || value <= 0) {
      throw fail("LOCKFLEET_ALARM_ESCALATION", `has ${part}; write name=minutes`);
    }
    if (key === "critical" || key === "high" || key === "medium" || key === "low") {
      afterMs[key] = value * MINUTE;
    } else if (key === "repeat") policy.repeatMs = value * MINUTE;
    else if (key === "levels") {
      if (!Number.isInteger(value)) {
        throw fail("LOCKFLEET_ALARM_ESCALATION", `has ${part}; levels is a whole number`);
      }
      policy.maxLevel = value;
    } else throw fail("LOCKFLEET_ALARM_ESCALATION", `has unknown name ${key}`);
  }
  return { ...policy, afterMs };
}

/** `udp://host:port` or `tcp://host:port` (IPv6 in brackets) and a facility name or number. */
export function parseSyslogOptions(
  url: string,
  facility: string | undefined,
  fail: SettingError = setting,
): NonNullable<AlarmOptions["syslog"]> {
  const match = /^(udp|tcp):\/\/(\[[0-9a-fA-F:]+\]|[^:/]+):(\d{1,5})\/?$/.exec(url);
  if (match === null) {
    throw fail("LOCKFLEET_ALARM_SYSLOG", `is ${url}; write udp://host:port or tcp://host:port`);
  }
  const [, transport, host, port] = match;
  const portNumber = Number(port);
  if (portNumber < 1 || portNumber > 65535) {
    throw fail("LOCKFLEET_ALARM_SYSLOG", `has port ${port}; use 1–65535`);
  }
  let facilityValue: number | SyslogFacility | undefined;
  if (facility !== undefined && facility !== "") {
    if (facility in SYSLOG_FACILITIES) facilityValue = facility as SyslogFacility;
    else if (/^\d+$/.test(facility) && Number(facility) <= 23) facilityValue = Number(facility);
    else throw fail("LOCKFLEET_ALARM_SYSLOG_FACILITY", `is ${facility}; use a name like local4`);
  }
  return {
    transport: transport === "tcp" ? "tcp" : "udp",
    host: (host ?? "").replace(/^\[|\]$/g, ""),
    port: portNumber,
    ...(facilityValue === undefined ? {} : { facility: facilityValue }),
  };
}

export function parseSyslogTarget(url: string, facility: string | undefined): SyslogForwarder {
  return syslogForwarder(parseSyslogOptions(url, facility));
}

function syslogForwarder(options: NonNullable<AlarmOptions["syslog"]>): SyslogForwarder {
  return new SyslogForwarder({
    transport: options.transport,
    host: options.host,
    port: options.port,
    ...(options.facility === undefined ? {} : { facility: options.facility }),
  });
}

/** The forwarders and escalation of `options`; nothing configured forwards nowhere. */
export function alarmSettingsFrom(
  options: AlarmOptions,
  checks: Partial<FleetCheckOptions> = {},
): AlarmSettings {
  const forwarders: AlarmForwarder[] = [];
  if (options.webhook !== undefined) {
    forwarders.push(
      new WebhookForwarder({ url: options.webhook.url, secret: options.webhook.secret }),
    );
  }
  if (options.syslog !== undefined) forwarders.push(syslogForwarder(options.syslog));
  return { escalation: options.escalation ?? DEFAULT_ESCALATION, forwarders, checks };
}

/**
 * The alarm settings straight from `LOCKFLEET_ALARM_*` variables, for embedding without
 * config.ts. `lockfleet-fleet serve` does not use it: there the variables go through config.ts
 * into `FleetOptions.alarms` (and the offline and drift limits to the device hub).
 */
export function alarmSettingsFromEnv(env: NodeJS.ProcessEnv): AlarmSettings {
  const forwarders: AlarmForwarder[] = [];
  const webhook = env.LOCKFLEET_ALARM_WEBHOOK;
  if (webhook !== undefined && webhook !== "") {
    forwarders.push(
      new WebhookForwarder({
        url: webhook,
        secret: env.LOCKFLEET_ALARM_WEBHOOK_SECRET || undefined,
      }),
    );
  }
  const syslog = env.LOCKFLEET_ALARM_SYSLOG;
  if (syslog !== undefined && syslog !== "") {
    forwarders.push(parseSyslogTarget(syslog, env.LOCKFLEET_ALARM_SYSLOG_FACILITY));
  }
  const checks: Partial<FleetCheckOptions> = {};
  const grace = Number(env.LOCKFLEET_ALARM_OFFLINE_GRACE_S);
  if (env.LOCKFLEET_ALARM_OFFLINE_GRACE_S && grace > 0) checks.offlineGraceMs = grace * 1000;
  const drift = Number(env.LOCKFLEET_ALARM_CLOCK_DRIFT_S);
  if (env.LOCKFLEET_ALARM_CLOCK_DRIFT_S && drift > 0) checks.clockDriftLimitMs = drift * 1000;
  return {
    escalation: env.LOCKFLEET_ALARM_ESCALATION
      ? parseEscalation(env.LOCKFLEET_ALARM_ESCALATION)
      : DEFAULT_ESCALATION,
    forwarders,
    checks,
  };
}
