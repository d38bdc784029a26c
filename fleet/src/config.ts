/**
 * The settings of `lockfleet-fleet serve`, in one table: each has a flag, an environment
 * variable and a default. A value comes from the flag, else the environment, else the default;
 * it is checked and turned into `FleetOptions` (app.ts) plus the HTTP address to listen on. A bad
 * value stops the start with `E_CONFIG: <setting> …` naming the flag and the variable.
 * Secrets (key-encryption key, webhook secret) are read from the environment only, never from
 * flags (a command line is visible to every user of the machine), and never echoed.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { CodedError } from "@lockfleet/protocol";
import { type AlarmOptions, parseEscalation, parseSyslogOptions } from "./alarms/settings.js";
import type { FleetOptions } from "./app.js";
import { type BrokerLimits, DEFAULT_BROKER_LIMITS } from "./broker/connection-guard.js";
import type { FleetCode } from "./error-catalogue.js";
import { KEK_BYTES } from "./secrets.js";

export class ConfigError extends CodedError<Extract<FleetCode, "E_CONFIG">> {
  constructor(message: string) {
    super("E_CONFIG", message);
    this.name = "ConfigError";
  }
}

export interface SettingSpec {
  /** Flag without the leading dashes; absent for settings read from the environment only. */
  flag?: string;
  /** Placeholder of the flag's value in help. */
  value?: string;
  env: string;
  /** As shown in help; absent when the setting is off unless given. */
  default?: string;
  help: string;
  /** Never echoed in errors, never accepted as a flag. */
  secret?: boolean;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Every setting of `lockfleet-fleet serve`, in the order help lists them. */
export const SERVE_SETTINGS = {
  dataDir: {
    flag: "data-dir",
    value: "<dir>",
    env: "LOCKFLEET_DATA_DIR",
    default: "./fleet-data",
    help: "database, key files (created 0700)",
  },
  httpHost: {
    flag: "http-host",
    value: "<host>",
    env: "LOCKFLEET_HTTP_HOST",
    default: "127.0.0.1",
    help: "address of the HTTP API and dashboard (put TLS in front)",
  },
  httpPort: {
    flag: "http-port",
    value: "<port>",
    env: "LOCKFLEET_HTTP_PORT",
    default: "8080",
    help: "port of the HTTP API and dashboard",
  },
  mqttHost: {
    flag: "mqtt-host",
    value: "<host>",
    env: "LOCKFLEET_MQTT_HOST",
    default: "127.0.0.1",
    help: "address of the embedded MQTT broker: the fleet's address on the locks' network (nothing listens beyond this machine until it is set)",
  },
  mqttPort: {
    flag: "mqtt-port",
    value: "<port>",
    env: "LOCKFLEET_MQTT_PORT",
    default: "8883",
    help: "port of the embedded MQTT broker (1883 with --mqtt-plain true)",
  },
  mqttTlsCert: {
    flag: "mqtt-tls-cert",
    value: "<file>",
    env: "LOCKFLEET_MQTT_TLS_CERT",
    help: "PEM certificate (chain) of the embedded broker, served as mqtts://; its names must cover the address locks use (default: a self-signed one made in <data-dir>/mqtt-tls)",
  },
  mqttTlsKey: {
    flag: "mqtt-tls-key",
    value: "<file>",
    env: "LOCKFLEET_MQTT_TLS_KEY",
    help: "PEM private key of that certificate",
  },
  mqttTlsCa: {
    flag: "mqtt-tls-ca",
    value: "<file>",
    env: "LOCKFLEET_MQTT_TLS_CA",
    help: "CA certificate locks trust for the broker, handed to them and pinned in enrolment tokens (default: the broker certificate itself, then self-signed); with --broker-url mqtts://, the external broker's CA",
  },
  mqttPlain: {
    flag: "mqtt-plain",
    value: "<true|false>",
    env: "LOCKFLEET_MQTT_PLAIN",
    default: "false",
    help: "run the embedded broker without TLS: passwords and commands travel in clear (demo and tests only)",
  },
  mqttMaxPacketBytes: {
    flag: "mqtt-max-packet-bytes",
    value: "<bytes>",
    env: "LOCKFLEET_MQTT_MAX_PACKET_BYTES",
    default: String(DEFAULT_BROKER_LIMITS.maxPacketBytes),
    help: "largest MQTT packet a logged-in client may send; a larger declared length closes the connection before it is read",
  },
  mqttConnectTimeoutS: {
    flag: "mqtt-connect-timeout-s",
    value: "<seconds>",
    env: "LOCKFLEET_MQTT_CONNECT_TIMEOUT_S",
    default: String(DEFAULT_BROKER_LIMITS.connectTimeoutMs / 1000),
    help: "seconds a connection may take to log in (TLS handshake included)",
  },
  mqttMaxUnauthenticated: {
    flag: "mqtt-max-unauthenticated",
    value: "<count>",
    env: "LOCKFLEET_MQTT_MAX_UNAUTHENTICATED",
    default: String(DEFAULT_BROKER_LIMITS.maxUnauthenticated),
    help: "connections waiting to log in at once; beyond it new ones are closed",
  },
  mqttMaxLoginsPerMin: {
    flag: "mqtt-max-logins-per-min",
    value: "<count>",
    env: "LOCKFLEET_MQTT_MAX_LOGINS_PER_MIN",
    default: String(DEFAULT_BROKER_LIMITS.maxLoginsPerClientIdPerMinute),
    help: "logins of one client id within a minute; beyond it that client id is refused",
  },
  brokerUrl: {
    flag: "broker-url",
    value: "<url>",
    env: "LOCKFLEET_BROKER_URL",
    help: "mqtt:// or mqtts:// external broker instead of the embedded one",
  },
  brokerDeviceUrl: {
    flag: "broker-device-url",
    value: "<url>",
    env: "LOCKFLEET_BROKER_DEVICE_URL",
    help: "broker address told to locks at enrolment, when they reach the broker by another name (e.g. mqtt://fleet.bank.example:1883)",
  },
  brokerDynsecUrl: {
    flag: "broker-dynsec-url",
    value: "<url>",
    env: "LOCKFLEET_BROKER_DYNSEC_URL",
    help: "with --broker-url: the external Mosquitto's dynamic-security admin account (mqtt://admin:PASSWORD@host:port); the fleet then creates each lock's broker account and ACL",
  },
  logLevel: {
    flag: "log-level",
    value: "<level>",
    env: "LOCKFLEET_LOG_LEVEL",
    default: "info",
    help: LOG_LEVELS.join("|"),
  },
  secureCookies: {
    flag: "secure-cookies",
    value: "<auto|true|false>",
    env: "LOCKFLEET_SECURE_COOKIES",
    default: "auto",
    help: "mark the session cookie Secure; auto: unless the HTTP host is loopback only",
  },
  sessionTtlMin: {
    flag: "session-ttl-min",
    value: "<minutes>",
    env: "LOCKFLEET_SESSION_TTL_MIN",
    default: "720",
    help: "minutes a dashboard session lasts",
  },
  offlineGraceS: {
    flag: "alarm-offline-grace-s",
    value: "<seconds>",
    env: "LOCKFLEET_ALARM_OFFLINE_GRACE_S",
    default: "120",
    help: "seconds a lock may be offline before lockOffline",
  },
  clockDriftS: {
    flag: "alarm-clock-drift-s",
    value: "<seconds>",
    env: "LOCKFLEET_ALARM_CLOCK_DRIFT_S",
    default: "30",
    help: "seconds of lock clock drift before clockDrift and a time sync",
  },
  timeSyncMin: {
    flag: "time-sync-interval-min",
    value: "<minutes>",
    env: "LOCKFLEET_TIME_SYNC_INTERVAL_MIN",
    default: "360",
    help: "minutes between signed time syncs to every lock; 0 turns them off",
  },
  alarmWebhook: {
    flag: "alarm-webhook",
    value: "<url>",
    env: "LOCKFLEET_ALARM_WEBHOOK",
    help: "http(s) URL each alarm notice is POSTed to",
  },
  alarmWebhookSecret: {
    env: "LOCKFLEET_ALARM_WEBHOOK_SECRET",
    help: "HMAC-SHA-256 key for X-Lockfleet-Signature",
    secret: true,
  },
  alarmSyslog: {
    flag: "alarm-syslog",
    value: "<url>",
    env: "LOCKFLEET_ALARM_SYSLOG",
    help: "udp://host:port or tcp://host:port syslog collector",
  },
  alarmSyslogFacility: {
    flag: "alarm-syslog-facility",
    value: "<facility>",
    env: "LOCKFLEET_ALARM_SYSLOG_FACILITY",
    default: "local0",
    help: "facility name (local0…local7, auth, …) or number 0–23",
  },
  alarmEscalation: {
    flag: "alarm-escalation",
    value: "<list>",
    env: "LOCKFLEET_ALARM_ESCALATION",
    default: "critical=2,high=10,medium=30,low=240,repeat=15,levels=3",
    help: "minutes per priority until the next level, repeat minutes, levels",
  },
  trustedProxies: {
    flag: "trusted-proxies",
    value: "<list>",
    env: "LOCKFLEET_TRUSTED_PROXIES",
    help: "comma-separated addresses/CIDRs of reverse proxies whose X-Forwarded-For is believed",
  },
  metricsToken: {
    env: "LOCKFLEET_METRICS_TOKEN",
    help: "bearer token /metrics asks for; without it /metrics answers loopback callers only",
    secret: true,
  },
  adminLogCheckpointEvery: {
    flag: "admin-log-checkpoint-every",
    value: "<entries>",
    env: "LOCKFLEET_ADMIN_LOG_CHECKPOINT_EVERY",
    default: "100",
    help: "sign an admin-log checkpoint at least every this many entries",
  },
  adminLogCheckpointMin: {
    flag: "admin-log-checkpoint-min",
    value: "<minutes>",
    env: "LOCKFLEET_ADMIN_LOG_CHECKPOINT_MIN",
    default: "15",
    help: "and at least every this many minutes when entries were added",
  },
  kek: {
    env: "LOCKFLEET_KEK",
    default: "<data-dir>/kek",
    help: `key-encryption key for secrets at rest, ${KEK_BYTES} bytes in base64`,
    secret: true,
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingKey = keyof typeof SERVE_SETTINGS;

/** `--flag / ENV_NAME`, or `ENV_NAME` alone for environment-only settings. */
export function settingLabel(key: SettingKey): string {
  const spec: SettingSpec = SERVE_SETTINGS[key];
  return spec.flag === undefined ? spec.env : `--${spec.flag} / ${spec.env}`;
}

/** The settings part of `lockfleet-fleet serve --help`: flag, variable, default, meaning. */
export function settingsHelp(): string {
  return Object.values(SERVE_SETTINGS)
    .map((raw) => {
      const spec: SettingSpec = raw;
      const name =
        spec.flag === undefined
          ? `${spec.env} (environment only)`
          : `--${spec.flag} ${spec.value ?? "<value>"}, ${spec.env}`;
      const fallback = spec.default === undefined ? "" : `  [default ${spec.default}]`;
      return `  ${name}${fallback}\n      ${spec.help}`;
    })
    .join("\n");
}

/** What `lockfleet-fleet serve` starts: the fleet's options and where HTTP listens. */
export interface ServeConfig {
  httpHost: string;
  httpPort: number;
  options: FleetOptions;
}

type Raw = Partial<Record<SettingKey, string>>;

class Reader {
  constructor(private readonly raw: Raw) {}

  text(key: SettingKey): string | undefined {
    const value = this.raw[key];
    return value === undefined || value === "" ? undefined : value;
  }

  fail(key: SettingKey, problem: string): ConfigError {
    return new ConfigError(`${settingLabel(key)} ${problem}`);
  }

  /** `must be …, not "value"` without echoing secrets. */
  bad(key: SettingKey, expected: string): ConfigError {
    const spec: SettingSpec = SERVE_SETTINGS[key];
    const value = this.raw[key] ?? "";
    return this.fail(
      key,
      spec.secret ? `must be ${expected}` : `must be ${expected}, not "${value}"`,
    );
  }

  integer(key: SettingKey, fallback: number, min: number, max: number, what: string): number {
    const text = this.text(key);
    if (text === undefined) return fallback;
    const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) throw this.bad(key, what);
    return value;
  }

  port(key: SettingKey, fallback: number): number {
    return this.integer(key, fallback, 0, 65535, "a port number 0–65535");
  }

  host(key: SettingKey, fallback: string): string {
    const text = this.text(key);
    if (text === undefined) return fallback;
    if (!/^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*|[A-Za-z0-9.-]+)$/.test(text)) {
      throw this.bad(key, "a host name or IP address (no scheme, no port)");
    }
    return text.replace(/^\[|\]$/g, "");
  }

  boolean(key: SettingKey, fallback: boolean): boolean {
    const text = this.text(key)?.toLowerCase();
    if (text === undefined) return fallback;
    if (["true", "yes", "1", "on"].includes(text)) return true;
    if (["false", "no", "0", "off"].includes(text)) return false;
    throw this.bad(key, "true or false");
  }

  url(key: SettingKey, protocols: readonly string[]): string | undefined {
    const text = this.text(key);
    if (text === undefined) return undefined;
    const expected = `a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}`;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw this.bad(key, expected);
    }
    if (!protocols.includes(url.protocol) || url.hostname === "") throw this.bad(key, expected);
    return text;
  }
}

/**
 * Reads the settings of `serve` from its arguments (already split into flag values by key) and
 * the environment. Throws ConfigError naming the first bad setting.
 */
export function resolveServeConfig(
  flags: Partial<Record<SettingKey, string | boolean>>,
  env: NodeJS.ProcessEnv,
  cwd: string = process.cwd(),
): ServeConfig {
  const raw: Raw = {};
  for (const key of Object.keys(SERVE_SETTINGS) as SettingKey[]) {
    const flag = flags[key];
    const fromEnv = env[SERVE_SETTINGS[key].env];
    if (flag !== undefined) raw[key] = typeof flag === "boolean" ? String(flag) : flag;
    else if (fromEnv !== undefined) raw[key] = fromEnv;
  }
  const read = new Reader(raw);

  const dataDir = resolve(cwd, read.text("dataDir") ?? "fleet-data");
  const httpHost = read.host("httpHost", "127.0.0.1");
  const httpPort = read.port("httpPort", 8080);
  const mqttHost = read.host("mqttHost", "127.0.0.1");
  // mqtts:// has its own registered port; plain MQTT keeps 1883.
  const mqttPort = read.port("mqttPort", read.boolean("mqttPlain", false) ? 1883 : 8883);
  const brokerUrl = read.url("brokerUrl", ["mqtt:", "mqtts:"]);
  const brokerDeviceUrl = read.url("brokerDeviceUrl", ["mqtt:", "mqtts:"]);
  const brokerDynsecUrl = read.url("brokerDynsecUrl", ["mqtt:", "mqtts:"]);
  if (brokerDynsecUrl !== undefined && brokerUrl === undefined) {
    throw read.fail(
      "brokerDynsecUrl",
      `applies only with ${settingLabel("brokerUrl")} (the embedded broker keeps its own accounts)`,
    );
  }

  const mqttTls = readBrokerTls(read, brokerUrl);
  const limits = readBrokerLimits(read);

  const logLevel = read.text("logLevel") ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw read.bad("logLevel", `one of ${LOG_LEVELS.join(", ")}`);
  }
  // a session cookie crosses the network unless the fleet listens on loopback only
  const loopbackOnly = httpHost === "localhost" || httpHost === "::1" || /^127\./.test(httpHost);
  const secureCookiesText = read.text("secureCookies")?.toLowerCase();
  const secureCookies =
    secureCookiesText === undefined || secureCookiesText === "auto"
      ? !loopbackOnly
      : read.boolean("secureCookies", !loopbackOnly);
  const trustedProxies = (read.text("trustedProxies") ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  for (const proxy of trustedProxies) {
    if (!/^[0-9A-Fa-f:.]+(\/\d{1,3})?$/.test(proxy)) {
      throw read.bad("trustedProxies", "IP addresses or CIDR ranges, separated by commas");
    }
  }
  const metricsToken = read.text("metricsToken");
  if (metricsToken !== undefined && metricsToken.length < 16) {
    throw read.bad("metricsToken", "at least 16 characters");
  }
  const checkpointEvery = read.integer(
    "adminLogCheckpointEvery",
    100,
    1,
    1_000_000,
    "whole entries from 1 to 1000000",
  );
  const checkpointMin = read.integer(
    "adminLogCheckpointMin",
    15,
    1,
    24 * 60,
    "whole minutes from 1 to 1440",
  );
  const sessionTtlMin = read.integer(
    "sessionTtlMin",
    720,
    1,
    7 * 24 * 60,
    "whole minutes from 1 to 10080 (7 days)",
  );
  const offlineGraceS = read.integer(
    "offlineGraceS",
    120,
    1,
    86_400,
    "whole seconds from 1 to 86400",
  );
  const clockDriftS = read.integer("clockDriftS", 30, 1, 86_400, "whole seconds from 1 to 86400");
  const timeSyncMin = read.integer(
    "timeSyncMin",
    360,
    0,
    7 * 24 * 60,
    "whole minutes from 0 (off) to 10080",
  );

  const alarms: AlarmOptions = {};
  const webhook = read.url("alarmWebhook", ["http:", "https:"]);
  const webhookSecret = read.text("alarmWebhookSecret");
  if (webhook !== undefined) alarms.webhook = { url: webhook, secret: webhookSecret };
  else if (webhookSecret !== undefined) {
    throw read.fail("alarmWebhookSecret", `applies only with ${settingLabel("alarmWebhook")}`);
  }
  // the alarm parsers name the variable; the error names the flag too
  const fail = (name: string, message: string): Error => {
    const key = (Object.keys(SERVE_SETTINGS) as SettingKey[]).find(
      (k) => SERVE_SETTINGS[k].env === name,
    );
    return new ConfigError(`${key === undefined ? name : settingLabel(key)} ${message}`);
  };
  const syslog = read.text("alarmSyslog");
  const facility = read.text("alarmSyslogFacility");
  if (syslog !== undefined) alarms.syslog = parseSyslogOptions(syslog, facility, fail);
  else if (facility !== undefined) parseSyslogOptions("udp://localhost:514", facility, fail);
  const escalation = read.text("alarmEscalation");
  if (escalation !== undefined) alarms.escalation = parseEscalation(escalation, fail);

  let kek: Uint8Array | undefined;
  const kekText = read.text("kek");
  if (kekText !== undefined) {
    const bytes = Buffer.from(kekText.trim(), "base64");
    if (!/^[A-Za-z0-9+/=_-]+$/.test(kekText.trim()) || bytes.length !== KEK_BYTES) {
      throw read.bad("kek", `${KEK_BYTES} bytes in base64 (openssl rand -base64 ${KEK_BYTES})`);
    }
    kek = bytes;
  }

  const options: FleetOptions = {
    dataDir,
    mqtt:
      brokerUrl === undefined
        ? {
            port: mqttPort,
            host: mqttHost,
            ...(brokerDeviceUrl === undefined ? {} : { deviceUrl: brokerDeviceUrl }),
            ...(Object.keys(limits).length === 0 ? {} : { limits }),
            ...(mqttTls.embedded === undefined
              ? { plain: true as const }
              : { tls: mqttTls.embedded }),
          }
        : {
            url: brokerUrl,
            ...(brokerDeviceUrl === undefined ? {} : { deviceUrl: brokerDeviceUrl }),
            ...(brokerDynsecUrl === undefined ? {} : { dynsecUrl: brokerDynsecUrl }),
            ...(mqttTls.externalCa === undefined ? {} : { ca: mqttTls.externalCa }),
          },
    hubOptions: {
      offlineGraceMs: offlineGraceS * 1000,
      clockDriftToleranceMs: clockDriftS * 1000,
      timeSyncIntervalMs: timeSyncMin * 60_000,
    },
    logger: { level: logLevel },
    secureCookies,
    trustedProxies,
    ...(metricsToken === undefined ? {} : { metricsToken }),
    adminLogCheckpoints: { everyEntries: checkpointEvery, everyMs: checkpointMin * 60_000 },
    sessionTtlMs: sessionTtlMin * 60_000,
    alarms,
    ...(kek === undefined ? {} : { kek }),
  };
  return { httpHost, httpPort, options };
}

/**
 * TLS of the embedded broker: certificate and key together; neither: a self-signed certificate
 * the fleet makes in its data directory (locks pin it at enrolment, so it is as strong as a
 * CA's); plain MQTT only when stated explicitly.
 * With an external broker only the CA applies (what the fleet and its locks trust for it).
 */
function readBrokerTls(
  read: Reader,
  brokerUrl: string | undefined,
): { embedded?: { cert: string; key: string; ca?: string } | "self-signed"; externalCa?: string } {
  const file = (key: SettingKey): string | undefined => {
    const path = read.text(key);
    if (path === undefined) return undefined;
    try {
      return readFileSync(path, "utf8");
    } catch (error) {
      throw read.fail(
        key,
        `file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  };
  const plain = read.boolean("mqttPlain", false);
  const certGiven = read.text("mqttTlsCert") !== undefined;
  const keyGiven = read.text("mqttTlsKey") !== undefined;
  if (brokerUrl !== undefined) {
    for (const key of ["mqttTlsCert", "mqttTlsKey", "mqttPlain"] as const) {
      if (read.text(key) !== undefined) {
        throw read.fail(
          key,
          `applies to the embedded broker, not with ${settingLabel("brokerUrl")}`,
        );
      }
    }
    const ca = file("mqttTlsCa");
    if (ca !== undefined && !brokerUrl.startsWith("mqtts:")) {
      throw read.fail("mqttTlsCa", `applies only to an mqtts:// ${settingLabel("brokerUrl")}`);
    }
    return ca === undefined ? {} : { externalCa: ca };
  }
  if (plain) {
    for (const key of ["mqttTlsCert", "mqttTlsKey", "mqttTlsCa"] as const) {
      if (read.text(key) !== undefined) {
        throw read.fail(key, `contradicts ${settingLabel("mqttPlain")} true`);
      }
    }
    return {};
  }
  if (!certGiven && !keyGiven) {
    if (read.text("mqttTlsCa") !== undefined) {
      throw read.fail("mqttTlsCa", `applies only with ${settingLabel("mqttTlsCert")}`);
    }
    return { embedded: "self-signed" };
  }
  if (!certGiven || !keyGiven) {
    throw read.fail(
      certGiven ? "mqttTlsKey" : "mqttTlsCert",
      `is required too: a broker certificate and its key go together`,
    );
  }
  const cert = file("mqttTlsCert") as string;
  const key = file("mqttTlsKey") as string;
  const ca = file("mqttTlsCa");
  return { embedded: { cert, key, ...(ca === undefined ? {} : { ca }) } };
}

/** The broker limits that were set (the rest keep their defaults in the broker). */
function readBrokerLimits(read: Reader): Partial<BrokerLimits> {
  const limits: Partial<BrokerLimits> = {};
  const given = (key: SettingKey) => read.text(key) !== undefined;
  if (given("mqttMaxPacketBytes")) {
    limits.maxPacketBytes = read.integer(
      "mqttMaxPacketBytes",
      0,
      1024,
      268_435_455,
      "whole bytes from 1024 to 268435455",
    );
  }
  if (given("mqttConnectTimeoutS")) {
    const seconds = read.integer("mqttConnectTimeoutS", 0, 1, 300, "whole seconds from 1 to 300");
    limits.connectTimeoutMs = seconds * 1000;
  }
  if (given("mqttMaxUnauthenticated")) {
    limits.maxUnauthenticated = read.integer(
      "mqttMaxUnauthenticated",
      0,
      1,
      1_000_000,
      "a whole number from 1 to 1000000",
    );
  }
  if (given("mqttMaxLoginsPerMin")) {
    limits.maxLoginsPerClientIdPerMinute = read.integer(
      "mqttMaxLoginsPerMin",
      0,
      1,
      10_000,
      "a whole number from 1 to 10000",
    );
  }
  return limits;
}

/** Flag definitions for node:util parseArgs, one per setting that has a flag. */
export function serveArgOptions(): Record<string, { type: "string" }> {
  const options: Record<string, { type: "string" }> = {};
  for (const raw of Object.values(SERVE_SETTINGS)) {
    const spec: SettingSpec = raw;
    if (spec.flag !== undefined) options[spec.flag] = { type: "string" };
  }
  return options;
}

/** parseArgs values (by flag) → values by setting key. */
export function flagsByKey(values: Record<string, unknown>): Partial<Record<SettingKey, string>> {
  const flags: Partial<Record<SettingKey, string>> = {};
  for (const key of Object.keys(SERVE_SETTINGS) as SettingKey[]) {
    const spec: SettingSpec = SERVE_SETTINGS[key];
    const value = spec.flag === undefined ? undefined : values[spec.flag];
    if (typeof value === "string") flags[key] = value;
  }
  return flags;
}
