/**
 * The fleet killed with SIGKILL and started again on the same data directory and ports, over
 * real processes and sockets: one `lockfleet-fleet serve` (its embedded broker goes down and
 * comes back with it) and two `lockfleet-sim lock --auto-open` processes that keep opening,
 * so audit records are in flight whenever the fleet dies. One world runs through the faults
 * in sequence: killed while ingesting (live, then again while the locks' backlog is being
 * caught up), during a window's second approval, during a key rotation.
 *
 * Checked afterwards, from both sides' SQLite files: every record the lock holds as
 * acknowledged is stored at the fleet exactly once and unchanged, the fleet's copy verifies as
 * one hash chain, every command the lock accepted was accepted once and in rising seq, the
 * bolt is thrown, the window is either still awaiting its second officer or approved with its
 * grant installed on the lock — never approved without a grant on its way.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AuditRecord } from "@lockfleet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkLedgers,
  FleetDb,
  FleetProcess,
  freePort,
  lockLedger,
  type SeededFleet,
  seedFleet,
} from "./fleet-world.js";
import { SimLock, sleep, until } from "./processes.js";

const work = mkdtempSync(join(tmpdir(), "lockfleet-faults-fleet-"));

interface Lock {
  name: string;
  dataDir: string;
  deviceId: string;
  process: SimLock;
}

describe("the fleet killed and restarted on its data directory", () => {
  let seed: SeededFleet;
  let fleet: FleetProcess;
  let db: FleetDb;
  const locks: Lock[] = [];

  const startLock = (lock: Omit<Lock, "process" | "deviceId">, args: string[]) =>
    new SimLock(["--data", lock.dataDir, ...args]);
  /** The lock's own view says its link is up again after `fromLine` of its output. */
  const onlineAgain = (lock: Lock, fromLine: number) =>
    until(`${lock.name} online again`, () => {
      const views = lock.process.stdout.slice(fromLine).filter((line) => / fleet=/.test(line));
      return (
        views.some((line) => / fleet=offline/.test(line)) &&
        / fleet=online/.test(views.at(-1) ?? "")
      );
    });
  const relocks = (deviceId: string) =>
    db.audit(deviceId).filter((record) => record.kind === "lock.relocked").length;

  beforeAll(async () => {
    seed = await seedFleet(1);
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    fleet = await FleetProcess.start({ dataDir: seed.dataDir, httpPort, mqttPort });
    db = new FleetDb(seed.dataDir);
    // A opens the container whose windows need two officers; B another one.
    const containers = [seed.windowContainer, seed.containers[0] as string];
    await Promise.all(
      containers.map(async (containerId, index) => {
        const name = index === 0 ? "A" : "B";
        const dataDir = join(work, `lock-${name}`);
        const token = await fleet.enrolmentToken(seed, containerId);
        const process = startLock({ name, dataDir }, [
          "--fleet",
          fleet.url,
          "--token",
          token,
          "--auto-open",
          "2s",
        ]);
        await process.waitForLine(/fleet=online/);
        // by index, not by who came online first: A must be the window container's lock
        locks[index] = { name, dataDir, deviceId: process.deviceId as string, process };
      }),
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all(locks.map((lock) => lock.process.stop("SIGKILL")));
    await fleet?.kill();
    db?.close();
    seed?.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("killed while ingesting, and again while the locks' backlog comes in: nothing lost, nothing twice", async () => {
    for (const lock of locks) {
      await until(
        `a sealed opening of ${lock.name} at the fleet`,
        () => relocks(lock.deviceId) >= 1,
      );
    }
    await fleet.kill("SIGKILL");
    const storedAtKill = new Map(
      locks.map((lock) => [lock.deviceId, db.audit(lock.deviceId).length]),
    );
    const relocksAtKill = new Map(locks.map((lock) => [lock.deviceId, relocks(lock.deviceId)]));
    // The locks keep opening without a fleet (and without a broker): a backlog builds up.
    await sleep(2500);
    fleet = await fleet.restart();
    // Killed again while the backlog is being ingested.
    await sleep(300);
    await fleet.kill("SIGKILL");
    fleet = await fleet.restart();
    for (const lock of locks) {
      await until(
        `${lock.name}'s backlog and new openings at the fleet`,
        () => relocks(lock.deviceId) >= (relocksAtKill.get(lock.deviceId) ?? 0) + 1,
        60_000,
      );
      expect(db.audit(lock.deviceId).length).toBeGreaterThan(storedAtKill.get(lock.deviceId) ?? 0);
      // The lock saw its fleet go and come back: a running lock never raised anything itself.
      expect(lock.process.stdout.some((line) => /fleet=offline/.test(line))).toBe(true);
    }
  }, 120_000);

  // A record batch lost with the fleet reaches it again when the lock's acknowledgement
  // timeout (60 s) sends the unacknowledged tail again: the waits below allow for it.
  it("killed during a window's second approval: afterwards the window is awaiting it, or approved with its grant on the lock", async () => {
    const a = locks[0] as Lock;
    const now = Date.now();
    const requested = await fleet.api<{ id: string; approvalsRequired: number }>(
      "POST",
      "/windows",
      seed.tokens.citDispatcher,
      {
        containerId: seed.windowContainer,
        crew: [seed.crewPersonId],
        notBefore: new Date(now + 60_000).toISOString(),
        notAfter: new Date(now + 3 * 3600_000).toISOString(),
        purpose: "ATM refill",
      },
    );
    expect(requested.status).toBe(201);
    expect(requested.body.approvalsRequired).toBe(2);
    const windowId = requested.body.id;
    const first = await fleet.api(
      "POST",
      `/windows/${windowId}/approve`,
      seed.tokens.securityAdmin,
    );
    expect(first.status).toBe(200);
    // The second officer's approval, and the fleet dies while it is being handled.
    const second = fleet
      .api("POST", `/windows/${windowId}/approve`, seed.tokens.secondOfficer)
      .catch((error: unknown) => error);
    await sleep(15);
    await fleet.kill("SIGKILL");
    await second;
    fleet = await fleet.restart();
    const window = () =>
      fleet.api<{ status: string; approvedBy: string[]; grantId: string | null }>(
        "GET",
        `/windows/${windowId}`,
        seed.tokens.securityAdmin,
      );
    let after = (await window()).body;
    if (after.status === "requested") {
      // Not half-approved: one approval on record, no grant; the second officer approves again.
      expect(after.approvedBy).toHaveLength(1);
      expect(after.grantId).toBeNull();
      const again = await fleet.api(
        "POST",
        `/windows/${windowId}/approve`,
        seed.tokens.secondOfficer,
      );
      expect(again.status).toBe(200);
      after = (await window()).body;
    }
    // "active" once its time has come (the restarts take a while on a loaded machine)
    expect(["approved", "active"]).toContain(after.status);
    expect(after.approvedBy).toHaveLength(2);
    const grantId = after.grantId;
    expect(grantId).not.toBeNull();
    const installed = (record: AuditRecord) =>
      record.kind === "grant.installed" && record.data.grantId === grantId;
    await until(
      "the window's grant installed on the lock",
      () => db.audit(a.deviceId).filter(installed).length === 1,
      90_000,
    ).catch(async (error: unknown) => {
      const seen = (await window()).body;
      throw new Error(
        `${String(error)}\nwindow: ${JSON.stringify(seen)}\nfleet: ${fleet.lines.join("\n")}`,
      );
    });
    // Exactly once on the lock, even if the fleet sent it before and after its death.
    await sleep(1000);
    expect(db.audit(a.deviceId).filter(installed)).toHaveLength(1);
  }, 120_000);

  it("killed during a key rotation: the locks take commands afterwards, and the next rotation completes", async () => {
    const linesAtKill = locks.map((lock) => lock.process.stdout.length);
    const rotation = fleet
      .api("POST", "/fleet-keys/rotate", seed.tokens.securityAdmin)
      .catch((error: unknown) => error);
    await sleep(20);
    await fleet.kill("SIGKILL");
    await rotation;
    fleet = await fleet.restart();
    const selfTest = async (deviceId: string) => {
      const sent = await fleet.api<{ status: string }>(
        "POST",
        `/devices/${deviceId}/commands`,
        seed.tokens.securityAdmin,
        { type: "time.sync", waitMs: 10_000 },
      );
      return sent.body.status;
    };
    for (const [index, lock] of locks.entries()) {
      await onlineAgain(lock, linesAtKill[index] ?? 0);
      expect(await selfTest(lock.deviceId)).toBe("ok");
    }
    const rotated = await fleet.api<{ keyId: string; confirmed: number; pending: number }>(
      "POST",
      "/fleet-keys/rotate",
      seed.tokens.securityAdmin,
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ confirmed: 2, pending: 0 });
    for (const lock of locks) expect(await selfTest(lock.deviceId)).toBe("ok");
  }, 120_000);

  it("afterwards: every acknowledged record stored once, chains verify, commands applied once, bolts thrown", async () => {
    // The locks stop opening (started again with an opening an hour away) and catch up.
    const before = new Map<string, number>();
    await Promise.all(
      locks.map(async (lock) => {
        await lock.process.stop("SIGTERM");
        before.set(lock.deviceId, db.audit(lock.deviceId).length);
        lock.process = startLock(lock, ["--auto-open", "1h"]);
        await lock.process.waitForLine(/fleet=online/);
      }),
    );
    for (const lock of locks) {
      await until(
        `${lock.name}'s restart at the fleet with the bolt thrown`,
        () => {
          const since = db.audit(lock.deviceId).slice(before.get(lock.deviceId));
          const state = db.device(lock.deviceId).state;
          return (
            since.some((record) => record.kind === "device.started") &&
            state?.bolt === "thrown" &&
            state.door === "closed"
          );
        },
        30_000,
      );
    }
    await Promise.all(locks.map((lock) => lock.process.stop("SIGTERM")));
    for (const lock of locks) {
      const ledger = lockLedger(lock.dataDir, lock.deviceId);
      const figures = checkLedgers(ledger, db.audit(lock.deviceId));
      // Everything up to the lock's own shutdown record reached the fleet.
      expect(figures.acknowledged).toBeGreaterThanOrEqual(ledger.records.length - 2);
      expect(figures.commandsAccepted).toBeGreaterThanOrEqual(4);
      const kinds = ledger.records.map((record) => record.kind);
      expect(kinds.filter((kind) => kind === "lock.relocked").length).toBeGreaterThanOrEqual(2);
      expect(
        ledger.records.some(
          (record) =>
            record.kind === "alarm.raised" &&
            ["lockJammed", "doorForced", "storageFault"].includes(String(record.data.alarm)),
        ),
      ).toBe(false);
    }
  }, 120_000);
});
