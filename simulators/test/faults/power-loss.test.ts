/**
 * Power cuts over real processes: the lock is `lockfleet-sim lock` through its launcher,
 * SIGKILLed (its lock process ends with it) and started again on the same data directory.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SIM_LAUNCHER, SimLock, TestFleet, until } from "./processes.js";

const work = mkdtempSync(join(tmpdir(), "lockfleet-faults-power-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function consoleRun(script: string[], ...args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [SIM_LAUNCHER, "lock", ...args],
      { timeout: 90_000 },
      (_error, stdout) => resolve(stdout),
    );
    child.stdin?.end(`${script.join("\n")}\n`);
  });
}

describe("a power cut with the door open", () => {
  it("yields no close seal and no forced-door alarm; the seal follows the door's close", async () => {
    // The reproduction: open, cut the power with the door open, restart, then close.
    const stdout = await consoleRun([
      "0111223344#",
      "0255667788#",
      "wait 1s",
      "o",
      "wait 1s",
      "p",
      "wait 3s",
      "c",
      "wait 5s",
      "q",
    ]);
    const records = stdout
      .split("\n")
      .filter((line) => line.startsWith("audit #"))
      .map((line) => ({ kind: line.split(" ")[3] ?? "", line }));
    const restart = records.findIndex((record) => record.kind === "power.lost");
    expect(restart).toBeGreaterThan(0);
    const after = records.slice(restart);
    const kinds = after.map((record) => record.kind);
    expect(kinds).toContain("door.closed");
    expect(kinds).toContain("lock.relocked");
    // The close seal comes only after the door closed.
    expect(kinds.indexOf("lock.relocked")).toBeGreaterThan(kinds.indexOf("door.closed"));
    expect(after.map((record) => record.line).join("\n")).not.toMatch(/doorForcedOpen/);
    expect(after.find((record) => record.kind === "door.opened")?.line).toMatch(
      /"continuesOpening":true/,
    );
  }, 120_000);
});

describe("power-loss alarms reach the fleet", () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await TestFleet.start();
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it("each unclean restart's powerLoss alarm reaches the fleet's alarms and is cleared on the lock", async () => {
    const token = await fleet.enrolmentToken(fleet.fixture.container.id);
    const dataDir = join(work, "enrolled");
    const common = ["--data", dataDir, "--auto-open", "1h"];
    let lock = new SimLock([...common, "--fleet", fleet.url, "--token", token]);
    await lock.waitForLine(/fleet=online/);
    const deviceId = lock.deviceId as string;
    for (let cut = 1; cut <= 2; cut++) {
      // Power cut: the launcher is killed; the lock process goes with it.
      await lock.stop("SIGKILL");
      lock = new SimLock(common);
      await lock.waitForLine(/fleet=online/);
      await until(
        `powerLoss record ${cut} at the fleet`,
        () =>
          fleet.records(deviceId).filter((r) => r.kind === "power.lost").length >= cut &&
          fleet.records(deviceId).filter((r) => r.kind === "alarm.cleared").length >= cut,
      );
    }
    const alarm = await until("powerLoss alarm at the fleet", () =>
      fleet.alarms(deviceId).find((a) => a.kind === "powerLoss"),
    );
    expect(alarm.source).toBe("device");
    // Raised by the lock while it booted, before its runtime listened: queued, then delivered.
    const raisedRecords = fleet
      .records(deviceId)
      .filter((r) => r.kind === "alarm.raised" && r.data.alarm === "powerLoss");
    expect(raisedRecords).toHaveLength(2);
    expect(alarm.occurrences).toBe(2);
    // The condition ended on the lock (running again, mains present): cleared, not acknowledged.
    expect(alarm.clearedAt).not.toBeNull();
    expect(alarm.status).toBe("open");
    const lastState = fleet.states.get(deviceId)?.at(-1);
    expect(lastState?.activeAlarms).not.toContain("powerLoss");
    await lock.stop("SIGTERM");
    expect((await lock.exited).code).toBe(0);
  }, 180_000);
});
