/**
 * Disk full over real processes: the lock's data directory on a small tmpfs (mounted by the
 * test; it needs root and skips with that reason elsewhere), filled up by a filler file while
 * the lock runs a cycle. The fleet (port 0, time syncs every 2 s so the lock keeps writing)
 * must see a storageFault — never a bolt jam — and the fault must end on record once space
 * returns, with no cycle from before the fault coming back.
 */
import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimLock, sleep, TestFleet, until } from "./processes.js";

const work = mkdtempSync(join(tmpdir(), "lockfleet-faults-disk-"));
const mountPoint = join(work, "tmpfs");
mkdirSync(mountPoint);

function mountTmpfs(): string | undefined {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", mountPoint], {
      stdio: "pipe",
    });
    return undefined;
  } catch (error) {
    return `a tmpfs cannot be mounted here (needs root): ${String(error).split("\n")[0]}`;
  }
}
const cannotMount = mountTmpfs();
afterAll(() => {
  if (cannotMount === undefined) execFileSync("umount", ["-l", mountPoint]);
  rmSync(work, { recursive: true, force: true });
});

const filler = join(mountPoint, "filler");
/** Writes the filler until the file system is full. */
function fillDisk(): void {
  const fd = openSync(filler, "a");
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch {
    // ENOSPC: full
  }
  const small = Buffer.alloc(512, 1);
  try {
    for (;;) writeSync(fd, small);
  } catch {
    // full to the last block
  } finally {
    closeSync(fd);
  }
}
const freeDisk = () => rmSync(filler, { force: true });

describe("disk full", () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await TestFleet.start({ timeSyncIntervalMs: 2000 });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it("is a storageFault from memory, never a bolt jam; no stale cycle survives; cleared once writes succeed", async (context) => {
    if (cannotMount !== undefined) context.skip(cannotMount);
    // Two young locks on the disk (a young SQLite WAL still grows with every write, so a full
    // disk refuses their writes): A is cut off while the disk is full, B runs on.
    const startLock = async (name: string) => {
      const containerId = fleet.container({ timeDelayMin: 1, confirmationWindowMin: 1 });
      const token = await fleet.enrolmentToken(containerId);
      const dataDir = join(mountPoint, name);
      const lock = new SimLock([
        "--data",
        dataDir,
        "--fleet",
        fleet.url,
        "--token",
        token,
        "--auto-open",
        "2s",
      ]);
      await lock.waitForLine(/fleet=online/);
      return { lock, dataDir, deviceId: lock.deviceId as string };
    };
    const [a, b] = await Promise.all([startLock("lock-a"), startLock("lock-b")]);
    const records = (deviceId: string) => fleet.records(deviceId);
    const storageFault = (deviceId: string) =>
      fleet.alarms(deviceId).find((alarm) => alarm.kind === "storageFault");
    for (const { deviceId } of [a, b]) {
      await until("a cycle in its time delay", () =>
        records(deviceId).some((r) => r.kind === "cycle.delayStarted"),
      );
    }

    // The disk fills up while the delays run.
    fillDisk();
    for (const { deviceId } of [a, b]) {
      const fault = await until("storageFault alarm at the fleet", () => storageFault(deviceId));
      expect(fault.data).toMatchObject({ code: "E_STORAGE", fromMemory: true });
      expect(String(fault.data.error)).toMatch(/full/);
    }
    // Writes keep failing for a while (a time sync every 2 s, retries backing off).
    await sleep(12_000);
    for (const { lock, deviceId } of [a, b]) {
      const faultLines = lock.stderr.filter((line) => line.includes("lock store refuses writes"));
      // Bounded: one line on the 1st, 2nd, 4th, 8th … failed attempt, never one per attempt.
      const attempts = faultLines.map(
        (line) => (JSON.parse(line) as { attempts: number }).attempts,
      );
      expect(attempts.length).toBeGreaterThanOrEqual(1);
      expect(attempts).toEqual(attempts.map((_, index) => 2 ** index));
      expect(attempts.length).toBeLessThanOrEqual(8);
      expect(lock.stdout.some((line) => /FAULT/.test(line) && /bolt=thrown/.test(line))).toBe(true);
      expect(fleet.states.get(deviceId)?.some((state) => state.bolt === "jammed")).toBe(false);
      expect(fleet.states.get(deviceId)?.at(-1)?.activeAlarms).toContain("storageFault");
      expect(fleet.alarms(deviceId).some((alarm) => alarm.kind === "lockJammed")).toBe(false);
    }

    // A loses power while the disk is still full; then space comes back.
    await a.lock.stop("SIGKILL");
    const beforeA = records(a.deviceId).length;
    const beforeB = records(b.deviceId).length;
    freeDisk();

    // B, still running, writes again: the fault goes on record and is cleared in place.
    const restored = await until("storage.restored from the running lock", () =>
      records(b.deviceId)
        .slice(beforeB)
        .find((r) => r.kind === "storage.restored"),
    );
    const kindsB = records(b.deviceId)
      .slice(beforeB)
      .map((r) =>
        r.kind === "alarm.raised" || r.kind === "alarm.cleared"
          ? `${r.kind}:${String(r.data.alarm)}`
          : r.kind,
      );
    expect(kindsB.slice(0, 2)).toEqual(["lock.fault", "alarm.raised:storageFault"]);
    expect(kindsB).toContain("alarm.cleared:storageFault");
    expect(restored.data.attempts).toBeGreaterThanOrEqual(1);
    await until("B's storageFault cleared at the fleet", () => storageFault(b.deviceId)?.clearedAt);
    // The cycle B ran when it failed secure is over (B opens again by itself from here on).
    expect(
      records(b.deviceId)
        .slice(beforeB)
        .some((r) => r.kind === "cycle.windowOpened" || r.kind === "cycle.confirmed"),
    ).toBe(false);

    // A starts again: the fault on record, its cycle ended, not restarted.
    let lock = new SimLock(["--data", a.dataDir, "--auto-open", "1h"]);
    await lock.waitForLine(/fleet=online/);
    await until("A's fault on record after the restart", () =>
      records(a.deviceId)
        .slice(beforeA)
        .find((r) => r.kind === "lock.fault" && r.data.recordedAfterRestart === true),
    );
    await until("A's storageFault cleared at the fleet", () => storageFault(a.deviceId)?.clearedAt);
    await sleep(2000);
    const afterRestart = records(a.deviceId).slice(beforeA);
    expect(
      afterRestart.some((r) => r.kind === "cycle.delayStarted" && r.data.restarted === true),
    ).toBe(false);
    expect(afterRestart.find((r) => r.kind === "cycle.expired")?.data).toMatchObject({
      reason: "failSecure",
    });
    expect(fleet.states.get(a.deviceId)?.at(-1)?.cycle.phase).toBe("idle");
    await lock.stop("SIGTERM");
    expect((await lock.exited).code).toBe(0);

    // Later clean starts bring no cycle back either.
    const beforeClean = records(a.deviceId).length;
    lock = new SimLock(["--data", a.dataDir, "--auto-open", "1h"]);
    await lock.waitForLine(/fleet=online/);
    await until("the clean start at the fleet", () =>
      records(a.deviceId)
        .slice(beforeClean)
        .find((r) => r.kind === "device.started"),
    );
    await Promise.all([lock.stop("SIGTERM"), b.lock.stop("SIGTERM")]);
    for (const { deviceId } of [a, b]) {
      expect(
        records(deviceId).some((r) => r.kind === "alarm.raised" && r.data.alarm === "lockJammed"),
      ).toBe(false);
      expect(
        records(deviceId).some((r) => r.kind === "cycle.delayStarted" && r.data.restarted === true),
      ).toBe(false);
    }
  }, 240_000);
});
