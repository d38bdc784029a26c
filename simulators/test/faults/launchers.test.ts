/**
 * Launchers never outlive a kill: `lockfleet-fleet` and `lockfleet-sim` run their command in
 * their own process (no child left serving), and a lock process of the console ends with it.
 * Each is SIGKILLed here as a service manager or an operator would.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FLEET_LAUNCHER, SimLock, until } from "./processes.js";

const work = mkdtempSync(join(tmpdir(), "lockfleet-faults-launchers-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function serving(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function fleetServe(dataDir: string, httpPort = 0, mqttPort = 0) {
  const child = spawn(
    process.execPath,
    [
      FLEET_LAUNCHER,
      "serve",
      "--data-dir",
      dataDir,
      "--http-port",
      String(httpPort),
      "--mqtt-host",
      "127.0.0.1",
      "--mqtt-port",
      String(mqttPort),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return { child, exited, output: () => output };
}

async function ports(fleet: { output: () => string }) {
  const http = await until(
    "fleet listening",
    () => /fleet listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(fleet.output())?.[1],
    60_000,
  );
  const mqtt = await until(
    "broker address",
    () => /devices connect to mqtts?:\/\/[^:]+:(\d+)/.exec(fleet.output())?.[1],
    10_000,
  );
  return { http: Number(http), mqtt: Number(mqtt) };
}

const kill = (child: ChildProcess) => child.kill("SIGKILL");

describe("launchers never outlive a kill", () => {
  it("SIGKILL on the lockfleet-fleet launcher leaves nothing serving; a restart gets the same ports", async () => {
    const dataDir = join(work, "fleet");
    const first = fleetServe(dataDir);
    const bound = await ports(first);
    expect(await serving(bound.http)).toBe(true);
    expect(await serving(bound.mqtt)).toBe(true);
    kill(first.child);
    await first.exited;
    expect(await serving(bound.http)).toBe(false);
    expect(await serving(bound.mqtt)).toBe(false);
    const second = fleetServe(dataDir, bound.http, bound.mqtt);
    const again = await ports(second);
    expect(again).toEqual(bound);
    expect(second.output()).not.toMatch(/in use/);
    second.child.kill("SIGTERM");
    await second.exited;
  }, 120_000);

  it("SIGKILL on the lockfleet-sim launcher ends its lock process too", async () => {
    const dataDir = join(work, "lock");
    const first = new SimLock(["--data", dataDir, "--auto-open", "1h"]);
    await first.waitForLine(/started, bench-top lock/);
    await first.stop("SIGKILL");
    // A lock process left behind would still hold the data directory.
    const second = new SimLock(["--data", dataDir, "--auto-open", "1h"]);
    await second.waitForLine(/started, bench-top lock/);
    expect(second.stderr.join("\n")).not.toMatch(/E_DATA_DIR_IN_USE/);
    expect(second.stdout.join("\n")).toMatch(/previous run ended without a clean shutdown/);
    await second.stop("SIGTERM");
    expect((await second.exited).code).toBe(0);
  }, 120_000);
});
