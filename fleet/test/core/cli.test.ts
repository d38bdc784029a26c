/** `lockfleet-fleet` serve / init / backup, over real sockets and real files. */

import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import {
  backup,
  init,
  runCli,
  type ServeConfig,
  serve,
  serveConfig,
  unreachableBrokerNote,
} from "../../src/cli.js";
import { SERVE_SETTINGS, type SettingSpec } from "../../src/config.js";

function occupy(host: string): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen({ port: 0, host }, () => {
      const address = server.address();
      resolve({ server, port: typeof address === "object" && address !== null ? address.port : 0 });
    });
  });
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, output: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

describe("lockfleet-fleet", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "lockfleet-cli-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const base = (name: string, dataDir = join(dir, name), mqttPort = 0): ServeConfig => ({
    httpPort: 0,
    httpHost: "127.0.0.1",
    options: {
      dataDir,
      mqtt: { port: mqttPort, host: "127.0.0.1", plain: true },
      logger: { level: "silent" },
    },
  });

  it("a taken HTTP port is reported as E_PORT_IN_USE naming --http-port / LOCKFLEET_HTTP_PORT", async () => {
    const { server, port } = await occupy("127.0.0.1");
    try {
      await expect(serve({ ...base("http"), httpPort: port })).rejects.toThrow(
        new RegExp(`^E_PORT_IN_USE: port ${port} .*--http-port / LOCKFLEET_HTTP_PORT`),
      );
      const c = capture();
      const code = await runCli(
        [
          "serve",
          "--http-port",
          String(port),
          "--mqtt-port",
          "0",
          "--data-dir",
          join(dir, "http2"),
          "--log-level",
          "silent",
        ],
        c.output,
      );
      expect(code).toBe(1);
      expect(c.err.join("\n")).toMatch(/^E_PORT_IN_USE: .*--http-port/);
    } finally {
      server.close();
    }
  });

  it("a taken MQTT port is reported as E_PORT_IN_USE naming --mqtt-port / LOCKFLEET_MQTT_PORT", async () => {
    const { server, port } = await occupy("127.0.0.1");
    try {
      await expect(serve(base("mqtt", join(dir, "mqtt"), port))).rejects.toThrow(
        /^E_PORT_IN_USE: .*--mqtt-port \/ LOCKFLEET_MQTT_PORT/,
      );
    } finally {
      server.close();
    }
  });

  it("settings come from flags, else from the environment; a bad value names its setting", () => {
    const env = { LOCKFLEET_HTTP_PORT: "9123", LOCKFLEET_BROKER_URL: "mqtt://broker.example:1883" };
    expect(serveConfig([], env)).toMatchObject({
      httpPort: 9123,
      options: { mqtt: { url: "mqtt://broker.example:1883" } },
    });
    expect(serveConfig(["--http-port", "9000"], env).httpPort).toBe(9000);
    expect(() => serveConfig(["--mqtt-port", "70000"], {})).toThrow(
      /E_CONFIG: --mqtt-port \/ LOCKFLEET_MQTT_PORT/,
    );
    expect(() => serveConfig(["--broker-url", "http://x"], {})).toThrow(/E_CONFIG: --broker-url/);
  });

  it("serve --help lists every setting with its flag, environment variable and default", async () => {
    const c = capture();
    expect(await runCli(["serve", "--help"], c.output)).toBe(0);
    const help = c.out.join("\n");
    for (const spec of Object.values(SERVE_SETTINGS) as SettingSpec[]) {
      expect(help).toContain(spec.env);
      if (spec.flag !== undefined) expect(help).toContain(`--${spec.flag} `);
      if (spec.default !== undefined) expect(help).toContain(`[default ${spec.default}]`);
    }
    expect(help).toContain("LOCKFLEET_KEK (environment only)");
    expect(c.err).toEqual([]);
  });

  it("init --help and backup --help show their options and start nothing", async () => {
    const c = capture();
    expect(await runCli(["init", "--help"], c.output)).toBe(0);
    expect(await runCli(["backup", "-h"], c.output)).toBe(0);
    const help = c.out.join("\n");
    expect(help).toMatch(/lockfleet-fleet init --bank-name/);
    expect(help).toMatch(/lockfleet-fleet backup --out <file>/);
    expect(readdirSync(dir)).not.toContain("fleet-data");
  });

  it("a bad setting stops serve with exit code 1 and one E_CONFIG line, before anything listens", async () => {
    const c = capture();
    const dataDir = join(dir, "never-started");
    const code = await runCli(
      ["serve", "--data-dir", dataDir, "--alarm-syslog", "syslog://siem.example"],
      c.output,
    );
    expect(code).toBe(1);
    expect(c.err).toEqual([
      "E_CONFIG: --alarm-syslog / LOCKFLEET_ALARM_SYSLOG is syslog://siem.example; write udp://host:port or tcp://host:port",
    ]);
    expect(c.out).toEqual([]);
    expect(readdirSync(dir)).not.toContain("never-started");
  });

  it("a broker address locks cannot reach is pointed out, naming the setting to change", () => {
    const setting = "--mqtt-host / LOCKFLEET_MQTT_HOST";
    expect(unreachableBrokerNote("mqtt://0.0.0.0:1883", setting)).toMatch(
      /^note: locks enrolled now are told to connect to mqtt:\/\/0\.0\.0\.0:1883, which is no address a lock can reach; set --mqtt-host \/ LOCKFLEET_MQTT_HOST/,
    );
    expect(unreachableBrokerNote("mqtt://[::]:1883", setting)).toMatch(/no address a lock/);
    expect(unreachableBrokerNote("mqtt://127.0.0.1:1883", setting)).toMatch(
      /only this machine reaches/,
    );
    expect(unreachableBrokerNote("mqtts://broker.bank.example:8883", setting)).toBeUndefined();
    expect(unreachableBrokerNote("mqtt://10.20.0.5:1883", setting)).toBeUndefined();
  });

  it("an unknown flag or command is a usage error with exit code 2", async () => {
    const flag = capture();
    expect(await runCli(["serve", "--http-prot", "80"], flag.output)).toBe(2);
    expect(flag.err.join("\n")).toMatch(/^E_USAGE: .*--http-prot/);
    const command = capture();
    expect(await runCli(["start"], command.output)).toBe(2);
    expect(command.err.join("\n")).toMatch(/^E_USAGE: unknown command "start"/);
    const none = capture();
    expect(await runCli([], none.output)).toBe(2);
    expect(none.out.join("\n")).toMatch(/^usage: lockfleet-fleet <command>/);
  });

  it("init creates the first bank and security admin, shows a generated password once, and it logs in over HTTP", async () => {
    const dataDir = join(dir, "init");
    const c = capture();
    await init(
      [
        "--data-dir",
        dataDir,
        "--bank-name",
        "Sparkasse Test",
        "--admin-name",
        "Ada",
        "--email",
        "Ada@Example.test",
      ],
      c.output,
    );
    const line = c.out.find((l) => l.startsWith("password"));
    const password = line?.split(": ")[1] ?? "";
    expect(password).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(c.out.filter((l) => l.includes(password))).toHaveLength(1);
    const dbBytes =
      readFileSync(join(dataDir, "fleet.db")).toString("latin1") +
      readFileSync(join(dataDir, "fleet.db-wal"), { flag: "a+" }).toString("latin1");
    expect(dbBytes).not.toContain(password);

    const again = capture();
    expect(
      await runCli(
        [
          "init",
          "--data-dir",
          dataDir,
          "--bank-name",
          "B",
          "--admin-name",
          "B",
          "--email",
          "ada@example.test",
        ],
        again.output,
      ),
    ).toBe(1);
    expect(again.err[0]).toMatch(/^E_INIT_EXISTS/);

    const running = await serve(base("init", dataDir));
    try {
      const res = await fetch(`${running.url}/api/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "ada@example.test", password }),
      });
      expect(res.status).toBe(200);
      const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
      const me = await fetch(`${running.url}/api/v1/auth/me`, { headers: { cookie } });
      expect(((await me.json()) as { principal: { role: string } }).principal.role).toBe(
        "securityAdmin",
      );
      const health = await fetch(`${running.url}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      await running.close();
    }
  });

  it("init with --password-stdin never prints the password", async () => {
    const c = capture();
    const typed = "operator typed this one";
    await init(
      [
        "--data-dir",
        join(dir, "stdin"),
        "--bank-name",
        "B",
        "--admin-name",
        "Bo",
        "--email",
        "bo@example.test",
        "--password-stdin",
      ],
      c.output,
      async () => typed,
    );
    expect(c.out.join("\n")).not.toContain(typed);
    await expect(
      init(
        [
          "--data-dir",
          join(dir, "stdin2"),
          "--bank-name",
          "B",
          "--admin-name",
          "Bo",
          "--email",
          "b@example.test",
          "--password-stdin",
        ],
        c.output,
        async () => "short",
      ),
    ).rejects.toThrow(/E_PASSWORD/);
  });

  it("backup copies the database consistently while the fleet runs; the copy restores", async () => {
    const dataDir = join(dir, "live");
    const c = capture();
    await init(
      [
        "--data-dir",
        dataDir,
        "--bank-name",
        "Live Bank",
        "--admin-name",
        "Li",
        "--email",
        "li@example.test",
      ],
      c.output,
    );
    const password = c.out.find((l) => l.startsWith("password"))?.split(": ")[1] ?? "";
    const running = await serve(base("live", dataDir));
    const out = join(dir, "backups", "fleet-backup.db");
    let headHash: string;
    try {
      // writes in flight while the backup runs
      const login = await fetch(`${running.url}/api/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "li@example.test", password }),
      });
      const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
      const writes = Array.from({ length: 20 }, (_, i) =>
        fetch(`${running.url}/api/v1/people`, {
          method: "POST",
          headers: { cookie, "content-type": "application/json" },
          body: JSON.stringify({ name: `Person ${i}` }),
        }),
      );
      await backup(["--data-dir", dataDir, "--out", out], c.output);
      await Promise.all(writes);
      expect(c.out.join("\n")).toMatch(/integrity ok/);
      expect(c.out.join("\n")).toMatch(/key files .* are not in this backup/);
      headHash = running.app.adminLog.head().hash;
    } finally {
      await running.close();
    }
    await expect(backup(["--data-dir", dataDir, "--out", out], c.output)).rejects.toThrow(
      /E_BACKUP_EXISTS/,
    );

    // restore: the database copy, plus the key files the operator keeps apart from backups
    const restoredDir = join(dir, "restored");
    mkdirSync(restoredDir);
    copyFileSync(out, join(restoredDir, "fleet.db"));
    for (const key of readdirSync(dataDir).filter((name) => !name.startsWith("fleet.db"))) {
      copyFileSync(join(dataDir, key), join(restoredDir, key));
    }
    const restored = await buildApp({ dataDir: restoredDir, mqtt: { port: 0, plain: true } });
    try {
      const verification = restored.adminLog.verify();
      expect(verification.ok).toBe(true);
      expect(verification.entries).toBeGreaterThanOrEqual(2);
      expect(headHash).toMatch(/^[0-9a-f]{64}$/);
      const login = await restored.inject({
        method: "POST",
        url: "/api/v1/auth/login",
        payload: { email: "li@example.test", password },
      });
      expect(login.statusCode).toBe(200);
    } finally {
      await restored.close();
    }
  });

  it("the bin launcher runs the CLI from the sources (no build step) and exits with its code", async () => {
    const launcher = fileURLToPath(new URL("../../bin/lockfleet-fleet.js", import.meta.url));
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [launcher, ...args],
          { cwd: tmpdir() },
          (error, stdout, stderr) =>
            resolve({ code: error === null ? 0 : (error.code as number | null), stdout, stderr }),
        );
      });
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("usage: lockfleet-fleet");
    const missing = await run([
      "backup",
      "--data-dir",
      join(dir, "nothing-here"),
      "--out",
      join(dir, "x.db"),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^E_NO_DATABASE: /);
  });
});
