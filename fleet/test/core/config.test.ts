/** The settings of `lockfleet-fleet serve`: flags, then environment, then defaults, all checked. */

import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ESCALATION } from "../../src/alarms/escalation.js";
import { buildApp } from "../../src/app.js";
import { serveConfig } from "../../src/cli.js";
import { SERVE_SETTINGS, type SettingSpec } from "../../src/config.js";

const KEK = Buffer.alloc(32, 7).toString("base64");

describe("serve settings", () => {
  it("with nothing given every setting takes its documented default", () => {
    const config = serveConfig([], {});
    expect(config.httpHost).toBe("127.0.0.1");
    expect(config.httpPort).toBe(8080);
    expect(config.options.dataDir).toBe(join(process.cwd(), "fleet-data"));
    // the broker listens on this machine only until told the locks' network, over TLS with a
    // certificate it makes itself unless given one
    expect(config.options.mqtt).toEqual({ port: 8883, host: "127.0.0.1", tls: "self-signed" });
    expect(config.options.logger).toEqual({ level: "info" });
    expect(config.options.secureCookies).toBe(false);
    expect(config.options.sessionTtlMs).toBe(720 * 60_000);
    expect(config.options.hubOptions).toEqual({
      offlineGraceMs: 120_000,
      clockDriftToleranceMs: 30_000,
      timeSyncIntervalMs: 360 * 60_000,
    });
    expect(config.options.alarms).toEqual({});
    expect(config.options.kek).toBeUndefined();
    // the help shows the same defaults
    expect(SERVE_SETTINGS.httpPort.default).toBe("8080");
    expect(SERVE_SETTINGS.offlineGraceS.default).toBe("120");
    expect(SERVE_SETTINGS.sessionTtlMin.default).toBe("720");
  });

  it("a flag wins over its environment variable, which wins over the default", () => {
    const env = {
      LOCKFLEET_HTTP_HOST: "0.0.0.0",
      LOCKFLEET_SESSION_TTL_MIN: "30",
      LOCKFLEET_ALARM_OFFLINE_GRACE_S: "90",
      LOCKFLEET_SECURE_COOKIES: "true",
    };
    const fromEnv = serveConfig([], env);
    expect(fromEnv.httpHost).toBe("0.0.0.0");
    expect(fromEnv.options.sessionTtlMs).toBe(30 * 60_000);
    expect(fromEnv.options.hubOptions?.offlineGraceMs).toBe(90_000);
    expect(fromEnv.options.secureCookies).toBe(true);
    const fromFlags = serveConfig(
      ["--http-host", "::1", "--session-ttl-min", "60", "--secure-cookies", "false"],
      env,
    );
    expect(fromFlags.httpHost).toBe("::1");
    expect(fromFlags.options.sessionTtlMs).toBe(60 * 60_000);
    expect(fromFlags.options.secureCookies).toBe(false);
    // an empty variable counts as unset
    expect(serveConfig([], { LOCKFLEET_HTTP_PORT: "" }).httpPort).toBe(8080);
  });

  it("an external broker replaces the embedded one; the device address is told to locks", () => {
    const config = serveConfig(["--broker-url", "mqtts://fleet:pw@broker.internal:8883"], {
      LOCKFLEET_BROKER_DEVICE_URL: "mqtts://broker.bank.example:8883",
    });
    expect(config.options.mqtt).toEqual({
      url: "mqtts://fleet:pw@broker.internal:8883",
      deviceUrl: "mqtts://broker.bank.example:8883",
    });
  });

  it("on an external Mosquitto, the dynamic-security admin account lets the fleet manage lock accounts", () => {
    const config = serveConfig(["--broker-url", "mqtt://fleet:pw@broker.internal:1883"], {
      LOCKFLEET_BROKER_DYNSEC_URL: "mqtt://admin:pw2@broker.internal:1883",
    });
    expect(config.options.mqtt).toEqual({
      url: "mqtt://fleet:pw@broker.internal:1883",
      dynsecUrl: "mqtt://admin:pw2@broker.internal:1883",
    });
  });

  it("with the embedded broker, locks are told the device address, not the listening one", () => {
    const config = serveConfig(["--broker-device-url", "mqtt://fleet.bank.example:1883"], {});
    expect(config.options.mqtt).toEqual({
      port: 8883,
      host: "127.0.0.1",
      tls: "self-signed",
      deviceUrl: "mqtt://fleet.bank.example:1883",
    });
  });

  it("alarm forwarding and escalation settings from the environment still work", () => {
    const config = serveConfig([], {
      LOCKFLEET_ALARM_WEBHOOK: "https://soc.example/alarms",
      LOCKFLEET_ALARM_WEBHOOK_SECRET: "s3cret-value",
      LOCKFLEET_ALARM_SYSLOG: "tcp://[::1]:6514",
      LOCKFLEET_ALARM_SYSLOG_FACILITY: "local4",
      LOCKFLEET_ALARM_ESCALATION: "critical=1,repeat=5,levels=2",
    });
    expect(config.options.alarms?.webhook).toEqual({
      url: "https://soc.example/alarms",
      secret: "s3cret-value",
    });
    expect(config.options.alarms?.syslog).toEqual({
      transport: "tcp",
      host: "::1",
      port: 6514,
      facility: "local4",
    });
    expect(config.options.alarms?.escalation).toEqual({
      afterMs: { ...DEFAULT_ESCALATION.afterMs, critical: 60_000 },
      repeatMs: 5 * 60_000,
      maxLevel: 2,
    });
  });

  it("the key-encryption key comes from LOCKFLEET_KEK as 32 bytes", () => {
    const config = serveConfig([], { LOCKFLEET_KEK: KEK });
    expect(Buffer.from(config.options.kek ?? []).equals(Buffer.alloc(32, 7))).toBe(true);
  });

  const bad: Array<[string, string[], NodeJS.ProcessEnv, RegExp]> = [
    [
      "port out of range",
      ["--http-port", "65536"],
      {},
      /^E_CONFIG: --http-port \/ LOCKFLEET_HTTP_PORT must be a port number 0–65535, not "65536"$/,
    ],
    [
      "port that is not a number",
      [],
      { LOCKFLEET_MQTT_PORT: "18 83" },
      /^E_CONFIG: --mqtt-port \/ LOCKFLEET_MQTT_PORT must be a port/,
    ],
    ["negative port", ["--mqtt-port=-1"], {}, /^E_CONFIG: --mqtt-port \/ LOCKFLEET_MQTT_PORT/],
    [
      "host with a scheme",
      ["--http-host", "http://fleet"],
      {},
      /^E_CONFIG: --http-host \/ LOCKFLEET_HTTP_HOST must be a host name/,
    ],
    [
      "broker URL that is not MQTT",
      [],
      { LOCKFLEET_BROKER_URL: "http://broker:1883" },
      /^E_CONFIG: --broker-url \/ LOCKFLEET_BROKER_URL must be a URL starting with mqtt:\/\/ or mqtts:\/\//,
    ],
    ["broker URL that is no URL", ["--broker-url", "broker:1883"], {}, /^E_CONFIG: --broker-url/],
    [
      "unknown log level",
      ["--log-level", "verbose"],
      {},
      /^E_CONFIG: --log-level \/ LOCKFLEET_LOG_LEVEL must be one of fatal, error/,
    ],
    [
      "yes/no that is neither",
      [],
      { LOCKFLEET_SECURE_COOKIES: "maybe" },
      /^E_CONFIG: --secure-cookies \/ LOCKFLEET_SECURE_COOKIES must be true or false/,
    ],
    ["session lifetime of zero", ["--session-ttl-min", "0"], {}, /^E_CONFIG: --session-ttl-min/],
    [
      "fractional grace",
      [],
      { LOCKFLEET_ALARM_OFFLINE_GRACE_S: "1.5" },
      /^E_CONFIG: --alarm-offline-grace-s \/ LOCKFLEET_ALARM_OFFLINE_GRACE_S must be whole seconds/,
    ],
    [
      "webhook that is no http(s) URL",
      [],
      { LOCKFLEET_ALARM_WEBHOOK: "ftp://soc.example" },
      /^E_CONFIG: --alarm-webhook \/ LOCKFLEET_ALARM_WEBHOOK must be a URL starting with http:\/\/ or https:\/\//,
    ],
    [
      "dynamic-security account without an external broker",
      ["--broker-dynsec-url", "mqtt://admin:pw@broker:1883"],
      {},
      /^E_CONFIG: --broker-dynsec-url \/ LOCKFLEET_BROKER_DYNSEC_URL applies only with --broker-url/,
    ],
    [
      "webhook secret without a webhook",
      [],
      { LOCKFLEET_ALARM_WEBHOOK_SECRET: "x" },
      /^E_CONFIG: LOCKFLEET_ALARM_WEBHOOK_SECRET applies only with --alarm-webhook/,
    ],
    [
      "unknown syslog transport",
      ["--alarm-syslog", "tls://siem:6514"],
      {},
      /^E_CONFIG: --alarm-syslog \/ LOCKFLEET_ALARM_SYSLOG is tls:\/\/siem:6514; write udp:\/\/host:port or tcp:\/\/host:port$/,
    ],
    [
      "syslog port out of range",
      [],
      { LOCKFLEET_ALARM_SYSLOG: "udp://siem:70000" },
      /^E_CONFIG: --alarm-syslog \/ LOCKFLEET_ALARM_SYSLOG has port 70000/,
    ],
    [
      "unknown syslog facility",
      [],
      { LOCKFLEET_ALARM_SYSLOG_FACILITY: "local9" },
      /^E_CONFIG: --alarm-syslog-facility \/ LOCKFLEET_ALARM_SYSLOG_FACILITY is local9/,
    ],
    [
      "facility number beyond 23",
      ["--alarm-syslog", "udp://s:514", "--alarm-syslog-facility", "24"],
      {},
      /^E_CONFIG: --alarm-syslog-facility/,
    ],
    [
      "unknown escalation name",
      ["--alarm-escalation", "urgent=3"],
      {},
      /^E_CONFIG: --alarm-escalation \/ LOCKFLEET_ALARM_ESCALATION has unknown name urgent$/,
    ],
    [
      "fractional escalation levels",
      [],
      { LOCKFLEET_ALARM_ESCALATION: "levels=2.5" },
      /^E_CONFIG: --alarm-escalation .* levels is a whole number$/,
    ],
  ];
  for (const [what, argv, env, message] of bad) {
    it(`refused, naming the setting: ${what}`, () => {
      expect(() => serveConfig(argv, env)).toThrow(message);
    });
  }

  it("a bad key-encryption key is refused without echoing it", () => {
    const short = Buffer.alloc(16, 9).toString("base64");
    let message = "";
    try {
      serveConfig([], { LOCKFLEET_KEK: short });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^E_CONFIG: LOCKFLEET_KEK must be 32 bytes in base64/);
    expect(message).not.toContain(short);
  });

  it("secrets are not accepted as flags (a command line is visible to every user)", () => {
    expect(() => serveConfig(["--kek", KEK], {})).toThrow(/kek/);
    expect(() => serveConfig(["--alarm-webhook-secret", "x"], {})).toThrow(/alarm-webhook-secret/);
  });

  it("every setting has an environment variable, and each flag and variable is used once", () => {
    const specs = Object.values(SERVE_SETTINGS) as SettingSpec[];
    const envs = specs.map((s) => s.env);
    const flags = specs.flatMap((s) => (s.flag === undefined ? [] : [s.flag]));
    expect(new Set(envs).size).toBe(envs.length);
    expect(new Set(flags).size).toBe(flags.length);
    for (const env of envs) expect(env).toMatch(/^LOCKFLEET_[A-Z0-9_]+$/);
  });
});

describe("fleet/README.md", () => {
  it("documents every setting with its flag, environment variable and default", () => {
    const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");
    for (const spec of Object.values(SERVE_SETTINGS) as SettingSpec[]) {
      const row = readme.split("\n").find((line) => line.includes(`| \`${spec.env}\` |`));
      expect(row, spec.env).toBeDefined();
      if (spec.flag !== undefined) expect(row).toContain(`\`--${spec.flag} `);
      if (spec.default !== undefined) expect(row).toContain(`| \`${spec.default}\` |`);
    }
  });
});

describe("settings reach the running fleet", () => {
  let dir: string;
  let webhook: HttpServer;
  let syslog: Server;
  const posted: Array<{ path: string; body: string }> = [];
  const logged: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "lockfleet-config-"));
    webhook = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        posted.push({ path: req.url ?? "", body: Buffer.concat(chunks).toString("utf8") });
        res.end();
      });
    });
    syslog = createServer((socket) => socket.on("data", (d) => logged.push(String(d))));
    await new Promise<void>((r) => webhook.listen(0, "127.0.0.1", () => r()));
    await new Promise<void>((r) => syslog.listen(0, "127.0.0.1", () => r()));
  });
  afterAll(async () => {
    webhook.closeAllConnections();
    await new Promise<void>((r) => webhook.close(() => r()));
    await new Promise<void>((r) => syslog.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("alarm forwarders, session lifetime and the key-encryption key come from the configuration, not the process environment", async () => {
    const webhookPort = (webhook.address() as AddressInfo).port;
    const syslogPort = (syslog.address() as AddressInfo).port;
    const config = serveConfig(
      [
        "--data-dir",
        join(dir, "data"),
        "--mqtt-port",
        "0",
        "--mqtt-host",
        "127.0.0.1",
        "--log-level",
        "silent",
        "--session-ttl-min",
        "15",
        "--alarm-webhook",
        `http://127.0.0.1:${webhookPort}/soc`,
        "--alarm-syslog",
        `tcp://127.0.0.1:${syslogPort}`,
        "--alarm-syslog-facility",
        "local4",
      ],
      { LOCKFLEET_KEK: KEK },
    );
    // a variable set in the process is not read behind the configuration's back
    process.env.LOCKFLEET_ALARM_WEBHOOK = "http://127.0.0.1:9/elsewhere";
    const app = await buildApp(config.options);
    try {
      expect(app.authSettings.sessionTtlMs).toBe(15 * 60_000);
      app.alarms.raise({
        deviceId: "lock-00000000c0f1",
        kind: "tamper",
        source: "fleet",
        at: new Date().toISOString(),
        orgId: "org_config_test",
        containerId: null,
      });
      await app.alarms.flushForwards();
      for (let i = 0; i < 50 && logged.length === 0; i += 1) {
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      delete process.env.LOCKFLEET_ALARM_WEBHOOK;
      await app.close();
    }
    expect(posted).toHaveLength(1);
    expect(posted[0]?.path).toBe("/soc");
    expect(JSON.parse(posted[0]?.body ?? "{}")).toMatchObject({
      event: "raised",
      alarm: { kind: "tamper", deviceId: "lock-00000000c0f1" },
    });
    // local4 (20) * 8 + severity of a tamper alarm
    expect(logged.join("")).toMatch(/<16\d>1 .*kind="tamper"/);
    // the data directory holds no key file: the key came from LOCKFLEET_KEK
    expect(readdirSync(join(dir, "data"))).not.toContain("kek");
  });
});

describe("the broker address locks are told", () => {
  it("an embedded broker with a device address hands that address to enrolling locks", async () => {
    const { createFixture } = await import("../fixtures.js");
    const f = await createFixture({
      app: {
        mqtt: {
          port: 0,
          host: "127.0.0.1",
          deviceUrl: "mqtt://fleet.bank.example:1883",
          plain: true,
        },
      },
    });
    try {
      expect(f.app.hub.brokerUrl).toBe("mqtt://fleet.bank.example:1883");
    } finally {
      await f.close();
    }
  });
});
