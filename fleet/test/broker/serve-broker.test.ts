/**
 * `lockfleet-fleet serve` and its broker, as an operator runs it (a child process): over TLS
 * by default with the pin printed, plain MQTT only when asked and then with a loud warning;
 * and a connection closed by a broker limit reaches the fleet's security events.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { createFixture } from "../fixtures.js";

const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "lockfleet-serve-broker-"));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs serve until it printed `until` on stdout or stderr; returns both, then stops it. */
async function serveUntil(args: string[], until: RegExp): Promise<{ out: string; err: string }> {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [
      "--conditions=@lockfleet/source",
      "--import",
      import.meta.resolve("tsx"),
      MAIN,
      "serve",
      ...args,
    ],
    { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, LOCKFLEET_LOG_LEVEL: "silent" } },
  );
  let out = "";
  let err = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (until.test(out) || until.test(err)) resolve();
      };
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString("utf8");
        check();
      });
      child.stderr.on("data", (chunk: Buffer) => {
        err += chunk.toString("utf8");
        check();
      });
      child.once("exit", (code) => reject(new Error(`serve exited ${code}: ${out}${err}`)));
      setTimeout(
        () => reject(new Error(`serve printed no ${until}: ${out}${err}`)),
        15_000,
      ).unref();
    });
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
  return { out, err };
}

describe("lockfleet-fleet serve and the locks' broker", () => {
  it("serves locks over mqtts:// by default, with a certificate of its own, and prints the pin", async () => {
    const { out, err } = await serveUntil(
      ["--data-dir", join(dir, "tls"), "--http-port", "0", "--mqtt-port", "0"],
      /locks trust the broker CA/,
    );
    expect(out).toMatch(/devices connect to mqtts:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/locks trust the broker CA with SHA-256 [A-Za-z0-9_-]{43} /);
    expect(err).not.toMatch(/PLAIN MQTT/);
  });

  it("plain MQTT only with --mqtt-plain true, and then a loud warning", async () => {
    const { out, err } = await serveUntil(
      [
        "--data-dir",
        join(dir, "plain"),
        "--http-port",
        "0",
        "--mqtt-port",
        "0",
        "--mqtt-plain",
        "true",
      ],
      /PLAIN MQTT[\s\S]*--mqtt-tls-key/,
    );
    expect(out).toMatch(/devices connect to mqtt:\/\/127\.0\.0\.1:\d+/);
    expect(err).toMatch(/^WARNING: PLAIN MQTT\. .*\n.*in clear/m);
    expect(out).not.toMatch(/locks trust the broker CA/);
  });
});

describe("the fleet's record of broker limits", () => {
  it("a connection closed by a limit is stored as a security event, one per limit and minute", async () => {
    const fixture = await createFixture({
      app: { mqtt: { port: 0, host: "127.0.0.1", plain: true, limits: { connectTimeoutMs: 300 } } },
    });
    try {
      const reasons: string[] = [];
      fixture.app.hub.on("rejected", (_deviceId: string | undefined, reason: string) => {
        reasons.push(reason);
      });
      const port = Number(new URL(fixture.app.hub.brokerUrl).port);
      const idle = [1, 2, 3].map(() => connect({ port, host: "127.0.0.1" }).on("error", () => {}));
      await Promise.all(
        idle.map((socket) => new Promise<void>((resolve) => socket.once("close", () => resolve()))),
      );
      expect(reasons.filter((reason) => reason.startsWith("E_MQTT_CONNECT_TIMEOUT"))).toHaveLength(
        1,
      );
      expect(reasons[0]).toMatch(
        /^E_MQTT_CONNECT_TIMEOUT: not logged in within 300 ms \(from 127\.0\.0\.1\)/,
      );
    } finally {
      await fixture.close();
    }
  });
});
