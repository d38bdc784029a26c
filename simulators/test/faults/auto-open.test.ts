/**
 * `lockfleet-sim lock --fleet … --auto-open`: a simulated lock on its own, enrolled at a fleet,
 * opening by itself through its virtual keypad and door — the lock process the fault tests
 * and soak runs use.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimLock, TestFleet, until } from "./processes.js";

const work = mkdtempSync(join(tmpdir(), "lockfleet-faults-auto-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("lockfleet-sim lock --auto-open", () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await TestFleet.start();
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it("enrols, opens by itself with dual control, and every opening ends sealed at the fleet", async () => {
    const containerId = fleet.container({ timeDelayMin: 0 });
    const token = await fleet.enrolmentToken(containerId);
    const lock = new SimLock([
      "--data",
      join(work, "lock"),
      "--fleet",
      fleet.url,
      "--token",
      token,
      "--auto-open",
      "2s",
    ]);
    await lock.waitForLine(/fleet=online/);
    const deviceId = lock.deviceId as string;
    await until(
      "two sealed openings at the fleet",
      () => fleet.records(deviceId).filter((r) => r.kind === "lock.relocked").length >= 2,
      90_000,
    );
    const kinds = fleet.records(deviceId).map((r) => r.kind);
    expect(kinds).toContain("cycle.confirmed");
    expect(kinds).toContain("door.opened");
    // The lock itself raised nothing: no forced door, no jam, no wrong code.
    expect(fleet.alarms(deviceId).filter((a) => a.source === "device")).toEqual([]);
    expect(
      lock.stdout.some((line) => line.startsWith("auto-open: opened and closed the door")),
    ).toBe(true);
    await lock.stop("SIGTERM");
    expect((await lock.exited).code).toBe(0);
  }, 150_000);

  it("refuses an interval below one second", async () => {
    const lock = new SimLock(["--auto-open", "100ms"]);
    const ended = await lock.exited;
    expect(ended.code).toBe(2);
    expect(lock.stderr.join("\n")).toMatch(/E_USAGE: --auto-open takes a duration of at least 1s/);
  });
});
