import { join } from "node:path";
import type { AuditRecord } from "@lockfleet/protocol";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditGroupCommit } from "../../src/devices/audit-group-commit.js";
import { openDatabase } from "../../src/storage/db.js";
import { FleetStore } from "../../src/storage/fleet-store.js";
import { createWorld, enrolLock, type TestWorld } from "./helpers.js";
import type { SimulatedLock } from "./simulated-lock.js";

let world: TestWorld;
let locks: SimulatedLock[];
/** Enrolled, not connected: what is stored for them comes from the groups built by hand. */
let quiet: SimulatedLock[];
/** A second connection: it sees only what the hub's connection has committed. */
let reader: Database.Database;

beforeAll(async () => {
  world = await createWorld();
  locks = [];
  quiet = [];
  for (let i = 0; i < 3; i++) locks.push(await enrolLock(world));
  for (let i = 0; i < 3; i++) quiet.push(await enrolLock(world, { connect: false }));
  reader = new Database(join(world.dir, "fleet.db"), { readonly: true });
});
afterAll(async () => {
  reader.close();
  await world.close();
});

function committedSeqs(deviceId: string): number[] {
  return (
    reader
      .prepare("SELECT seq FROM device_audit WHERE device_id = ? ORDER BY seq")
      .all(deviceId) as Array<{ seq: number }>
  ).map((row) => row.seq);
}

function append(lock: SimulatedLock, count: number): AuditRecord[] {
  return Array.from({ length: count }, (_, i) => lock.appendAudit("code.rejected", { n: i }));
}

/** Records stored beyond `seq`, at most `limit` of them. */
function tail(lock: SimulatedLock, seq: number): number[] {
  return committedSeqs(lock.deviceId).filter((stored) => stored > seq);
}

describe("audit group commit across locks", () => {
  it("batches of several locks arriving together are stored exactly once, each acked only after commit", async () => {
    const acksBeforeCommit: string[] = [];
    const batches = locks.map((lock) => ({
      lock,
      first: append(lock, 40),
      second: append(lock, 40),
    }));
    // Every lock sends two batches back to back, all at once: the second continues the first
    // while it still waits for the commit.
    await Promise.all(
      batches.map(async ({ lock, first, second }) => {
        await Promise.all([lock.publishAudit(first), lock.publishAudit(second)]);
      }),
    );
    await Promise.all(
      locks.map((lock) =>
        lock.until(
          () => {
            // Checked on every command the lock receives: whatever it is acked is committed.
            const committed = committedSeqs(lock.deviceId);
            if (lock.ackedUpTo > (committed[committed.length - 1] ?? 0)) {
              acksBeforeCommit.push(`${lock.deviceId} acked ${lock.ackedUpTo}`);
            }
            return lock.ackedUpTo >= 80;
          },
          5_000,
          "ack of both batches",
        ),
      ),
    );
    expect(acksBeforeCommit).toEqual([]);
    for (const lock of locks) {
      expect(committedSeqs(lock.deviceId).slice(0, 80)).toEqual(
        Array.from({ length: 80 }, (_, i) => i + 1),
      );
    }
    // Resent (an ack lost on the way): deduplicated by seq, acked again, stored once.
    const resent = locks.map((lock) => lock.commandsOfType("audit.ack").length);
    await Promise.all(locks.map((lock, i) => lock.publishAudit(batches[i]?.first ?? [])));
    await Promise.all(
      locks.map((lock, i) =>
        lock.until(
          () => lock.commandsOfType("audit.ack").length > (resent[i] ?? 0),
          5_000,
          "ack of the resend",
        ),
      ),
    );
    for (const lock of locks) {
      const seqs = committedSeqs(lock.deviceId);
      expect(new Set(seqs).size).toBe(seqs.length);
    }
    expect(world.hub.securityEvents().filter((event) => event.kind.startsWith("audit."))).toEqual(
      [],
    );
  });

  it("one transaction for all locks; a store closed mid-group acks nothing and stores nothing", async () => {
    // A second writer on the same file, so closing it leaves the hub's connection alone.
    const db = openDatabase(join(world.dir, "fleet.db"), {
      migrationsDir: join(world.dir, "migrations"),
    });
    const repository = new FleetStore(db).devices;
    const settled: Array<{ deviceId: string; stored: boolean; visible: number[] }> = [];
    const group = new AuditGroupCommit({
      repository,
      windowMs: 60_000, // committed by hand below, never by the timer
      receivedAt: () => new Date().toISOString(),
      onError: () => undefined,
    });
    const addAll = (count: number) => {
      for (const lock of quiet) {
        const head = group.head(lock.deviceId);
        const records = append(lock, count);
        expect(records[0]?.prevHash).toBe(head.hash);
        group.add(lock.deviceId, records, (stored) =>
          settled.push({ deviceId: lock.deviceId, stored, visible: tail(lock, head.seq) }),
        );
      }
    };
    const before = quiet.map((lock) => committedSeqs(lock.deviceId).length);

    addAll(5);
    expect(quiet.map((lock) => group.pending(lock.deviceId))).toEqual([true, true, true]);
    expect(quiet.map((lock) => committedSeqs(lock.deviceId).length)).toEqual(before);
    group.commit();
    // Each lock's follow-up saw its own records committed, and all arrived in one transaction.
    expect(settled.map((entry) => [entry.stored, entry.visible.length])).toEqual([
      [true, 5],
      [true, 5],
      [true, 5],
    ]);
    const receivedAt = reader
      .prepare(
        `SELECT DISTINCT received_at FROM device_audit WHERE device_id IN (${quiet.map(() => "?").join(",")})
         AND seq > ?`,
      )
      .all(...quiet.map((lock) => lock.deviceId), Math.min(...before));
    expect(receivedAt).toHaveLength(1);

    // The store goes away while a group waits: no lock is told its records are safe.
    settled.length = 0;
    const stored = quiet.map((lock) => committedSeqs(lock.deviceId).length);
    addAll(5);
    db.close();
    group.commit();
    expect(settled.map((entry) => entry.stored)).toEqual([false, false, false]);
    expect(quiet.map((lock) => committedSeqs(lock.deviceId).length)).toEqual(stored);
    // Those records were never acked: the chain continues from the stored head again.
    for (const lock of quiet) lock.records.splice(-5, 5);
  });

  it("a lock whose stored head moved under the group loses only its own part (exactly once)", () => {
    const db = openDatabase(join(world.dir, "fleet.db"), {
      migrationsDir: join(world.dir, "migrations"),
    });
    try {
      const repository = new FleetStore(db).devices;
      const results = new Map<string, boolean>();
      const group = new AuditGroupCommit({
        repository,
        windowMs: 60_000,
        receivedAt: () => new Date().toISOString(),
        onError: () => undefined,
      });
      const counts = quiet.map((lock) => committedSeqs(lock.deviceId).length);
      for (const lock of quiet) {
        group.add(lock.deviceId, append(lock, 3), (stored) => results.set(lock.deviceId, stored));
      }
      // Another writer stores the first lock's records first (a second fleet process).
      const [racer] = quiet;
      if (racer === undefined) throw new Error("no lock");
      repository.appendAudit(racer.deviceId, racer.records.slice(-3), new Date().toISOString());
      group.commit();
      expect(quiet.map((lock) => results.get(lock.deviceId))).toEqual([false, true, true]);
      expect(quiet.map((lock) => committedSeqs(lock.deviceId).length)).toEqual(
        counts.map((count) => count + 3),
      );
    } finally {
      db.close();
    }
  });
});
