/**
 * `lockfleet-sim lock` as a person scripts it: the real launcher in a child process, commands
 * piped on stdin line by line. Behind it runs the real edge runtime on the virtual Johnny-Five
 * board (in a lock process of its own, so a power cut is a killed process), bench-top or
 * enrolled at a real fleet (buildApp on port 0).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixture, type Fixture } from "../../../fleet/test/fixtures.js";

const LAUNCHER = fileURLToPath(new URL("../../bin/lockfleet-sim.js", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "lockfleet-lock-console-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function lock(script: string[], ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [LAUNCHER, "lock", ...args],
      { timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === "number" ? error.code : null,
          stdout,
          stderr,
        }),
    );
    child.stdin?.end(`${script.join("\n")}\n`);
  });
}

const lines = (run: Run, prefix: string) =>
  run.stdout.split("\n").filter((line) => line.startsWith(prefix));
const auditKinds = (run: Run) => lines(run, "audit #").map((line) => line.split(" ")[3]);
const seqs = (run: Run) =>
  lines(run, "audit #").map((line) => Number(line.split(" ")[1]?.slice(1)));

// Bench-top users (README): 01 code 11223344 (user), 02 code 55667788 (manager); dual control.
const ANNA = "0111223344#";
const ANNA_DURESS = "0111223345#";
const BEN = "0255667788#";

describe("lockfleet-sim lock, bench-top (no fleet)", () => {
  it("two codes of different people open it; the door opened and closed relocks it with a close seal", async () => {
    const run = await lock([ANNA, BEN, "wait 1s", "o", "wait 300ms", "c", "wait 4s", "q"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(auditKinds(run)).toEqual(
      expect.arrayContaining(["cycle.confirmed", "bolt.retracted", "door.opened", "lock.relocked"]),
    );
    expect(run.stdout).toMatch(/lock: \[OPEN DOOR\s*\] \[\s*\] bolt=retracted door=closed/);
    expect(run.stdout).toMatch(/lock: \[LOCKED\s*\] \[SEAL \d{8}\s*\] bolt=thrown door=closed/);
    expect(run.stdout).not.toMatch(/alarm\.raised/);
  });

  it("the same person's code twice does not open it", async () => {
    const run = await lock([ANNA, ANNA, "wait 500ms", "q"]);
    expect(run.code).toBe(0);
    expect(auditKinds(run)).not.toContain("cycle.confirmed");
    expect(run.stdout).not.toMatch(/bolt=retracted/);
  });

  it("the door opened while the bolt is thrown raises the forced-open alarm and sounds the buzzer", async () => {
    const run = await lock(["o", "wait 300ms", "q"]);
    expect(run.stdout).toMatch(/alarm\.raised \{"alarm":"doorForcedOpen"/);
    expect(run.stdout).toMatch(/door=forced buzzer=on/);
  });

  it("a duress code opens like a normal one and only the silent alarm tells", async () => {
    const run = await lock([ANNA_DURESS, BEN, "wait 1s", "q"]);
    expect(run.code).toBe(0);
    const views = lines(run, "lock: ");
    expect(views.some((view) => /\[OPEN DOOR\s*\].*silentAlarms=1/.test(view))).toBe(true);
    expect(views.every((view) => !/DURESS|ALARM/i.test(view.split("]")[0] ?? ""))).toBe(true);
  });

  it("opening the housing raises the tamper alarm", async () => {
    const run = await lock(["t", "wait 300ms", "q"]);
    expect(run.stdout).toContain("> housing opened (tamper)");
    expect(run.stdout).toMatch(/alarm\.raised \{"alarm":"tamper"/);
  });

  it("a power cut restarts the lock from its persisted state: power loss logged, the chain continues", async () => {
    const dataDir = join(work, "power");
    const first = await lock([ANNA, "p", "wait 300ms", "q"], "--data", dataDir);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("> power cut");
    expect(first.stdout).toMatch(/previous run ended without a clean shutdown/);
    expect(auditKinds(first)).toContain("power.lost");
    const firstSeqs = seqs(first);
    const start = firstSeqs[0] ?? 0;
    expect(firstSeqs).toEqual(firstSeqs.map((_, index) => start + index));
    // A later session on the same data directory is the same lock, after a clean shutdown.
    const second = await lock(["q"], "--data", dataDir);
    expect(second.stdout).not.toMatch(/without a clean shutdown/);
    expect(first.stdout.match(/lock (lock-bench-[0-9a-f]+) started/)?.[1]).toBe(
      second.stdout.match(/lock (lock-bench-[0-9a-f]+) started/)?.[1],
    );
    expect(Math.min(...seqs(second))).toBe(Math.max(...firstSeqs) + 1);
    expect(auditKinds(second)).not.toContain("power.lost");
  });

  it("the self-test exercises every part; a jammed bolt is reported by the lock", async () => {
    const run = await lock(["s", "j", ANNA, BEN, "wait 2500ms", "q"]);
    expect(run.stdout).toMatch(/self-test: boltActuator=ok .*keypad=ok display=ok/);
    expect(run.stdout).toContain("> bolt jammed");
    expect(run.stdout).toMatch(/alarm\.raised \{"alarm":"lockJammed"/);
  });

  it("refuses --fleet without --token, and names what it cannot take", async () => {
    const usage = await lock([], "--fleet", "http://127.0.0.1:1");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^E_USAGE: --fleet URL and --token T come together/);
    const bad = await lock(["x", "q"]);
    expect(bad.code).toBe(0);
    expect(bad.stderr).toMatch(/E_CONSOLE_INPUT: "x" is not a command/);
  });
});

describe("lockfleet-sim lock, enrolled at a fleet (buildApp on port 0)", () => {
  let fixture: Fixture;
  let fleetUrl: string;
  beforeAll(async () => {
    fixture = await createFixture({ app: { hubOptions: { timeSyncIntervalMs: 0 } } });
    fleetUrl = await fixture.app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it("enrols with a one-time token, comes online, and its audit records reach the fleet", async () => {
    const issued = await fetch(new URL("/api/v1/enrolment-tokens", fleetUrl), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${fixture.tokens.securityAdmin}`,
      },
      body: JSON.stringify({ containerId: fixture.container.id }),
    });
    const { token } = (await issued.json()) as { token: string };
    const audited = new Map<string, number>();
    fixture.app.hub.on("audit", (deviceId: string, records: unknown[]) =>
      audited.set(deviceId, (audited.get(deviceId) ?? 0) + records.length),
    );
    const dataDir = join(work, "enrolled");
    const run = await lock(
      ["wait 3s", "o", "wait 2s", "q"],
      "--data",
      dataDir,
      "--fleet",
      fleetUrl,
      "--token",
      token,
    );
    expect(run.code).toBe(0);
    const deviceId = run.stdout.match(
      /lock (lock-[0-9a-f]+) started, at fleet org \S+ \(enrolled now\)/,
    )?.[1];
    expect(deviceId).toBeDefined();
    expect(run.stdout).toMatch(/fleet=online/);
    expect(audited.get(deviceId as string)).toBeGreaterThan(0);
    // The same token cannot enrol a second lock.
    const again = await lock(
      ["q"],
      "--data",
      join(work, "second"),
      "--fleet",
      fleetUrl,
      "--token",
      token,
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/E_ENROLMENT_REFUSED/);
  });
});
