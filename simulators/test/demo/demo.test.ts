/**
 * `lockfleet-sim demo` as a newcomer runs it (`npm start`), in a child process through the
 * real launcher: fleet, embedded broker and SQLite in a temporary data directory, three
 * virtual boards running the device runtime, the scripted CIT story. Checked over HTTP, as
 * the dashboard sees it: every lock online, the crew's opening in the lock's audit trail,
 * the access window closed by the lock's close seal.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AuditRecord } from "@lockfleet/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { FleetClient } from "../../src/demo/fleet-client.js";
import { readWorld } from "../../src/demo/seed.js";

const LAUNCHER = fileURLToPath(new URL("../../bin/lockfleet-sim.js", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "lockfleet-demo-"));
const children: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

interface DemoProcess {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with stdout once `pattern` appears; rejects if the process ends first. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

function demo(...args: string[]): DemoProcess {
  const child = spawn(process.execPath, [LAUNCHER, "demo", ...args]);
  children.push(child);
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const deadline = setTimeout(
          () =>
            done(
              new Error(`no ${pattern} within ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`),
            ),
          timeoutMs,
        );
        const check = () => {
          const match = out.match(pattern);
          if (match !== null) done(undefined, match);
        };
        const ended = () =>
          done(new Error(`the demo ended before ${pattern}\nstdout:\n${out}\nstderr:\n${err}`));
        function done(error?: Error, match?: RegExpMatchArray) {
          clearTimeout(deadline);
          child.stdout.off("data", check);
          child.off("exit", ended);
          if (error !== undefined) reject(error);
          else resolve(match as RegExpMatchArray);
        }
        child.stdout.on("data", check);
        child.on("exit", ended);
        check();
      }),
  };
}

interface DeviceView {
  deviceId: string;
  availability: "unknown" | "online" | "offline";
}

describe("lockfleet-sim demo", () => {
  const dataDir = join(work, "data");

  it("brings up the fleet with three live locks and records a CIT crew's dual-control opening", async () => {
    const run = demo(
      "--port",
      "0",
      "--mqtt-port",
      "0",
      "--data",
      dataDir,
      "--time-delay-min",
      "0",
      "--door-open-sec",
      "2",
    );
    const [, url] = await run.waitFor(/dashboard\s+(http:\/\/127\.0\.0\.1:\d+)\//, 60_000);
    const [, windowId] = await run.waitFor(
      /Story complete: window (\S+) used at (\S+?)( and closed)?\. /,
      90_000,
    );
    const world = readWorld(dataDir);
    const admin = world?.logins.find((login) => login.role === "securityAdmin");
    expect(admin).toBeDefined();
    // On disk, no password and no code in clear: sealed under demo.kek.
    const onDisk = readFileSync(join(dataDir, "demo.json"), "utf8");
    for (const login of world?.logins ?? []) expect(onDisk).not.toContain(login.password);
    const codes = (world?.locks ?? []).flatMap((lock) => lock.users.map((user) => user.code));
    expect(codes.length).toBeGreaterThan(0);
    for (const code of codes) expect(onDisk).not.toContain(`"${code}"`);
    // The printed logins are the ones that work.
    expect(run.stdout()).toContain(admin?.email);
    const api = await FleetClient.login(url as string, admin?.email ?? "", admin?.password ?? "");

    const { items: devices } = await api.get<{ items: DeviceView[] }>("devices");
    expect(devices.map((device) => device.deviceId).sort()).toEqual(
      (world?.locks ?? []).map((lock) => lock.deviceId).sort(),
    );
    expect(devices.map((device) => device.availability)).toEqual(["online", "online", "online"]);

    const opened = world?.locks[0];
    const crew = (world?.crew ?? []).map((person) => person.id).sort();
    const { items: records } = await api.get<{ items: AuditRecord[] }>(
      `devices/${opened?.deviceId}/audit?limit=500`,
    );
    const confirmed = records.find((record) => record.kind === "cycle.confirmed");
    // Both crew members, in whichever order they typed their codes.
    const persons = (confirmed?.data as { persons?: string[] } | undefined)?.persons ?? [];
    expect([...persons].sort()).toEqual(crew);
    expect(records.some((record) => record.kind === "bolt.retracted")).toBe(true);
    expect(records.some((record) => record.kind === "lock.relocked")).toBe(true);

    // Every person holds a right on every lock, confirmed by each lock.
    for (const person of [...(world?.bankStaff ?? []), ...(world?.crew ?? [])]) {
      const { items: rights } = await api.get<{
        items: Array<{ role: string; locks: Array<{ deviceId: string; status: string }> }>;
      }>(`rights?personId=${person.id}`);
      expect(rights.flatMap((right) => right.locks.map((lock) => lock.status))).toEqual([
        "present",
        "present",
        "present",
      ]);
    }

    // The lock's close seal closed the CIT window in the fleet.
    const window = await api.get<{ status: string; crew: string[] }>(`windows/${windowId}`);
    expect(window.status).toBe("closed");
    expect([...window.crew].sort()).toEqual(crew);

    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
  }, 150_000);

  it("a second start with the same data directory reuses the world and the enrolled locks", async () => {
    const before = readWorld(dataDir);
    const run = demo("--port", "0", "--mqtt-port", "0", "--data", dataDir, "--no-story");
    await run.waitFor(/\(3 virtual locks online\)/, 60_000);
    for (const lock of before?.locks ?? []) expect(run.stdout()).toContain(lock.deviceId as string);
    expect(readWorld(dataDir)).toEqual(before);
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
  }, 90_000);

  for (const setting of ["--port", "--mqtt-port"]) {
    it(`a taken port is refused with an error naming ${setting}`, async () => {
      const server: Server = createServer();
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      try {
        const other = setting === "--port" ? "--mqtt-port" : "--port";
        const run = demo(
          setting,
          String(port),
          other,
          "0",
          "--data",
          join(work, `taken${setting}`),
        );
        expect(await run.exited).toBe(1);
        expect(run.stderr()).toMatch(
          new RegExp(
            `^E_DEMO_PORT_TAKEN: port ${port} on 127\\.0\\.0\\.1 is already in use; .* ${setting}\\n`,
          ),
        );
      } finally {
        server.close();
      }
    });
  }
});
