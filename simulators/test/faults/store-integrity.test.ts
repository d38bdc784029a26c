/**
 * The lock store's integrity over real processes: one runtime per data directory, the whole
 * chain verified in the background after start, a damaged SQLite file told apart from a broken
 * chain, and a store that cannot be opened reported to the fleet.
 */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimLock, TestFleet, until } from "./processes.js";

const work = mkdtempSync(join(tmpdir(), "lockfleet-faults-store-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("lock store integrity", () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await TestFleet.start();
  });
  afterAll(async () => {
    await fleet?.close();
  });

  /** An enrolled lock, run once and stopped cleanly; returns its data directory and id. */
  async function enrolledLock(name: string): Promise<{ dataDir: string; deviceId: string }> {
    const token = await fleet.enrolmentToken(fleet.fixture.container.id);
    const dataDir = join(work, name);
    const lock = new SimLock([
      "--data",
      dataDir,
      "--fleet",
      fleet.url,
      "--token",
      token,
      "--auto-open",
      "1h",
    ]);
    await lock.waitForLine(/fleet=online/);
    const deviceId = lock.deviceId as string;
    // The first start's background verification is on record (and so at the fleet).
    await until("audit.verified at the fleet", () =>
      fleet.records(deviceId).find((r) => r.kind === "audit.verified"),
    );
    await lock.stop("SIGTERM");
    return { dataDir, deviceId };
  }

  it("two runtimes on one data directory: the second refuses with E_DATA_DIR_IN_USE", async () => {
    const { dataDir, deviceId } = await enrolledLock("twice");
    const first = new SimLock(["--data", dataDir, "--auto-open", "1h"]);
    await first.waitForLine(/fleet=online/);
    const connects = fleet.states.get(deviceId)?.length ?? 0;
    const second = new SimLock(["--data", dataDir, "--auto-open", "1h"]);
    const ended = await second.exited;
    expect(ended.code).toBe(1);
    expect(second.stderr.join("\n")).toMatch(/E_DATA_DIR_IN_USE: another lockfleet runtime/);
    // The first one was not knocked off the broker.
    const online = first.stdout.findIndex((line) => /fleet=online/.test(line));
    expect(first.stdout.slice(online).filter((line) => /fleet=offline/.test(line))).toEqual([]);
    expect(fleet.states.get(deviceId)?.length ?? 0).toBeGreaterThanOrEqual(connects);
    await first.stop("SIGTERM");
  }, 120_000);

  it("a record altered before the last checkpoint is found after start and reported to the fleet", async () => {
    const { dataDir, deviceId } = await enrolledLock("altered");
    const db = new Database(join(dataDir, "lock.sqlite"));
    const checkpointSeq = (
      db.prepare("SELECT max(seq) AS seq FROM checkpoints").get() as { seq: number }
    ).seq;
    expect(checkpointSeq).toBeGreaterThan(2);
    // One byte of record 2 changed at rest (its hash no longer matches).
    const row = db.prepare("SELECT data FROM audit WHERE seq = 2").get() as { data: string };
    const altered = row.data.includes("0") ? row.data.replace("0", "1") : `${row.data} `;
    db.prepare("UPDATE audit SET data = ? WHERE seq = 2").run(altered);
    db.close();
    const before = fleet.records(deviceId).length;
    const lock = new SimLock(["--data", dataDir, "--auto-open", "1h"]);
    await lock.waitForLine(/fleet=online/);
    const verified = await until("the verification's result at the fleet", () =>
      fleet
        .records(deviceId)
        .slice(before)
        .find((r) => r.kind === "audit.verified"),
    );
    expect(verified.data).toMatchObject({ ok: false, code: "E_AUDIT_CHAIN_BROKEN", seq: 2 });
    const alarm = await until("storageFault alarm", () =>
      fleet.alarms(deviceId).find((a) => a.kind === "storageFault"),
    );
    expect(alarm.data).toMatchObject({ code: "E_AUDIT_CHAIN_BROKEN", seq: 2 });
    await lock.stop("SIGTERM");
  }, 120_000);

  it("a damaged SQLite page is a malformed store, and the fleet hears it although the lock cannot run", async () => {
    const { dataDir, deviceId } = await enrolledLock("damaged");
    const path = join(dataDir, "lock.sqlite");
    const size = statSync(path).size;
    const pageSize = 4096;
    // Garbage over every page after the first (the schema page stays readable).
    const fd = openSync(path, "r+");
    const garbage = Buffer.alloc(pageSize, 0xa5);
    for (let offset = pageSize; offset < size; offset += pageSize)
      writeSync(fd, garbage, 0, pageSize, offset);
    closeSync(fd);
    const lock = new SimLock(["--data", dataDir, "--auto-open", "1h"]);
    const ended = await lock.exited;
    expect(ended.code).toBe(1);
    const stderr = lock.stderr.join("\n");
    expect(stderr).toMatch(/E_STORE_MALFORMED/);
    expect(stderr).not.toMatch(/records are missing/);
    const alarm = await until("storageFault from a store that cannot open", () =>
      fleet.alarms(deviceId).find((a) => a.kind === "storageFault"),
    );
    expect(alarm.data).toMatchObject({ code: "E_STORE_MALFORMED", storeRefused: true });
  }, 120_000);
});
