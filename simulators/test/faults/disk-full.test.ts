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
    const containerId = fleet.container({ timeDelayMin: 1, confirmationWindowMin: 1 });
    const token = await fleet.enrolmentToken(containerId);
    const dataDir = join(mountPoint, "lock");
    let lock = new SimLock([
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
    const deviceId = lock.deviceId as string;
    const records = () => fleet.records(deviceId);
    await until("a cycle in its time delay", () =>
      records().some((r) => r.kind === "cycle.delayStarted"),
    );

    // The disk fills up while the delay runs.
    fillDisk();
    const fault = await until(
      "storageFault alarm at the fleet",
      () => fleet.alarms(deviceId).find((a) => a.kind === "storageFault"),
      20_000,
    );
    expect(fault.data).toMatchObject({ code: "E_STORAGE", fromMemory: true });
    expect(String(fault.data.error)).toMatch(/full/);
    // Writes keep failing for a while (a time sync every 2 s, retries backing off).
    await sleep(12_000);
    const faultLines = lock.stderr.filter((line) => line.includes("lock store refuses writes"));
    expect(faultLines.length).toBeGreaterThanOrEqual(1);
    // Bounded: one line on the 1st, 2nd, 4th, 8th … failed attempt, never one per attempt.
    const attempts = faultLines.map((line) => (JSON.parse(line) as { attempts: number }).attempts);
    expect(attempts).toEqual(attempts.map((_, index) => 2 ** index));
    expect(faultLines.length).toBeLessThanOrEqual(8);
    expect(lock.stdout.some((line) => /bolt=thrown/.test(line) && /FAULT/.test(line))).toBe(true);
    expect(fleet.states.get(deviceId)?.some((state) => state.bolt === "jammed")).toBe(false);
    expect(fleet.alarms(deviceId).some((a) => a.kind === "lockJammed")).toBe(false);

    // Power cut while the disk is still full; space comes back; the lock starts again.
    await lock.stop("SIGKILL");
    freeDisk();
    const before = records().length;
    lock = new SimLock(["--data", dataDir, "--auto-open", "1h"]);
    await lock.waitForLine(/fleet=online/);
    await until("the fault on record after the restart", () =>
      records()
        .slice(before)
        .find((r) => r.kind === "lock.fault" && r.data.recordedAfterRestart === true),
    );
    await until("the storage fault cleared at the fleet", () =>
      fleet.alarms(deviceId).find((a) => a.kind === "storageFault" && a.clearedAt !== null),
    );
    await sleep(3000);
    const afterRestart = records().slice(before);
    // The cycle that was running when the lock failed secure does not come back.
    expect(
      afterRestart.some((r) => r.kind === "cycle.delayStarted" && r.data.restarted === true),
    ).toBe(false);
    expect(afterRestart.find((r) => r.kind === "cycle.expired")?.data).toMatchObject({
      reason: "failSecure",
    });
    expect(fleet.states.get(deviceId)?.at(-1)?.cycle.phase).toBe("idle");
    expect(records().some((r) => r.kind === "alarm.raised" && r.data.alarm === "lockJammed")).toBe(
      false,
    );

    // Full again while running; space returns while it runs: on record and cleared in place.
    const seen = records().length;
    fillDisk();
    await until(
      "a second storage fault at the fleet",
      () =>
        (fleet.alarms(deviceId).find((a) => a.kind === "storageFault")?.lastSeenAt ?? "") >
          fault.lastSeenAt ||
        fleet.alarms(deviceId).filter((a) => a.kind === "storageFault").length > 1,
      20_000,
    );
    freeDisk();
    const restored = await until("storage.restored at the fleet", () =>
      records()
        .slice(seen)
        .find((r) => r.kind === "storage.restored"),
    );
    const kinds = records()
      .slice(seen)
      .map((r) =>
        r.kind === "alarm.raised" || r.kind === "alarm.cleared"
          ? `${r.kind}:${String(r.data.alarm)}`
          : r.kind,
      );
    expect(kinds.slice(0, 2)).toEqual(["lock.fault", "alarm.raised:storageFault"]);
    expect(kinds).toContain("alarm.cleared:storageFault");
    expect(restored.data.attempts).toBeGreaterThanOrEqual(1);
    await until("the fleet's storageFault alarm cleared", () =>
      fleet
        .alarms(deviceId)
        .filter((a) => a.kind === "storageFault")
        .every((a) => a.clearedAt !== null),
    );
    await lock.stop("SIGTERM");
    expect((await lock.exited).code).toBe(0);
  }, 240_000);
});
