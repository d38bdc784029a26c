/**
 * A storage fault told as what it is (lock/storage-fault.ts): the storageFault alarm from
 * memory, a bounded retry log, no bolt jam, the fault on record and cleared once writes
 * succeed, and the lock working again. Real disk-full runs over processes are in
 * simulators/test/faults/.
 */
import type { AuditRecord } from "@lockfleet/protocol";
import { describe, expect, it } from "vitest";
import type { StorageFaultReport } from "../../src/lock/storage-fault.js";
import { LockStoreError, type StoreCommit } from "../../src/store/lock-store.js";
import { MemoryLockStore } from "../../src/store/memory-store.js";
import { alarmsOf, DEVICE, entry, MINUTE, SECOND, setup, USERS } from "./fixtures.js";

/** A memory store that refuses writes as a full disk does (E_STORAGE from the store). */
class FullStore extends MemoryLockStore {
  full = false;
  refused = 0;
  override commit(change: StoreCommit): AuditRecord[] {
    if (this.full) {
      this.refused += 1;
      throw new LockStoreError(
        "E_STORAGE",
        "lock store /data/lock.sqlite commit failed: database or disk is full",
      );
    }
    return super.commit(change);
  }
}

function faultyLock(policy = {}) {
  const store = new FullStore(DEVICE);
  const t = setup({ store, policy });
  const alarms: Array<{ kind: string; auditSeq: number; data: Record<string, unknown> }> = [];
  const reports: StorageFaultReport[] = [];
  const faults: string[] = [];
  t.lock.core.on("alarm", (alarm) => alarms.push(alarm));
  t.lock.core.on("storageFault", (report) => reports.push(report));
  t.lock.core.on("fault", (error) => faults.push(error.message));
  return { t, store, alarms, reports, faults };
}

describe("storage fault", () => {
  it("a full disk is a storageFault alarm sent from memory, never a bolt jam", () => {
    const { t, store, alarms } = faultyLock({ timeDelayMin: 1 });
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben));
    expect(t.lock.core.state().cycle.phase).toBe("delay");
    // The bolt is thrown and stays where it is: a real actuator driven to where the bolt
    // already is reports nothing, so nothing must wait for the sensor.
    t.outputs.jammed = true;
    store.full = true;
    t.lock.advance(10 * SECOND);
    t.lock.advance(5 * MINUTE);
    const state = t.lock.core.state();
    expect(state.bolt).toBe("thrown");
    expect(state.cycle.phase).toBe("idle");
    expect(t.display()).toBe("FAULT | LOCKED");
    expect(alarms.map((alarm) => alarm.kind)).toEqual(["storageFault"]);
    expect(alarms[0]?.data).toMatchObject({ code: "E_STORAGE", fromMemory: true });
    expect(alarms[0]?.auditSeq).toBe(t.head());
    expect(state.activeAlarms).not.toContain("lockJammed");
    expect(alarmsOf(t.records())).not.toContain("lockJammed");
    // The store still holds the cycle until it writes again; then the fail-secure state is on
    // record and no restart can bring the cycle back.
    expect(store.readSection("cycle")).toBeDefined();
    store.full = false;
    t.lock.advance(2 * MINUTE);
    expect(store.readSection("cycle")).toBeUndefined();
    const restarted = t.restart(true);
    restarted.advance(2 * SECOND);
    expect(restarted.core.state().cycle.phase).toBe("idle");
    expect(alarmsOf(t.records())).not.toContain("lockJammed");
  });

  it("the retry log is bounded: attempts 1, 2, 4, 8 … and no line per second", () => {
    const { t, store, reports, faults } = faultyLock({ timeDelayMin: 1 });
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben));
    t.outputs.jammed = true;
    store.full = true;
    t.lock.advance(SECOND);
    t.lock.advance(60 * MINUTE);
    // Retries back off from 1 s to 60 s: about 60 attempts in an hour, not 3,600.
    expect(store.refused).toBeGreaterThan(20);
    expect(store.refused).toBeLessThan(100);
    expect(reports.map((report) => report.attempts)).toEqual(
      [1, 2, 4, 8, 16, 32, 64].filter((n) => n <= store.refused),
    );
    expect(faults).toHaveLength(1);
  });

  it("the first write that succeeds puts the fault on record, clears it and the lock works again", () => {
    const { t, store, reports } = faultyLock({ timeDelayMin: 0 });
    t.outputs.jammed = true;
    store.full = true;
    t.lock.press(entry(USERS.anna)); // refused: the fault begins with this key
    t.lock.advance(3 * SECOND);
    const head = t.head();
    store.full = false;
    t.lock.advance(2 * MINUTE);
    const records = t.since(head);
    expect(records.map((record) => record.kind).slice(0, 3)).toEqual([
      "lock.fault",
      "alarm.raised",
      "storage.restored",
    ]);
    expect(records[1]?.data).toMatchObject({ alarm: "storageFault", code: "E_STORAGE" });
    expect(records.find((record) => record.kind === "alarm.cleared")?.data).toEqual({
      alarm: "storageFault",
    });
    expect(reports.at(-1)?.state).toBe("restored");
    expect(t.lock.core.activeAlarms).not.toContain("storageFault");
    expect(t.display()).not.toBe("FAULT | LOCKED");
    // The lock opens again for a completed cycle.
    t.outputs.jammed = false;
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben));
    t.lock.advance(SECOND);
    expect(t.lock.core.state().bolt).toBe("retracted");
  });

  it("a door forced while the store refuses writes reaches the fleet from memory and goes on record later", () => {
    const { t, store, alarms } = faultyLock();
    t.outputs.jammed = true;
    store.full = true;
    t.lock.door(true);
    expect(alarms.map((alarm) => alarm.kind)).toEqual(["storageFault", "doorForcedOpen"]);
    expect(alarms[1]?.data).toMatchObject({ fromMemory: true });
    store.full = false;
    t.lock.advance(2 * MINUTE);
    const forced = t.records().find((record) => record.data.alarm === "doorForcedOpen");
    expect(forced?.data).toMatchObject({ whileStorageFailed: true });
  });

  it("another internal error still locks the lock until restart (not a storage fault)", () => {
    const store = new FullStore(DEVICE);
    const t = setup({ store });
    const alarms: string[] = [];
    t.lock.core.on("alarm", (alarm) => alarms.push(alarm.kind));
    const original = store.commit.bind(store);
    store.commit = () => {
      throw new Error("E_INTERNAL: something else");
    };
    t.lock.press(entry(USERS.anna));
    store.commit = original;
    t.lock.advance(2 * MINUTE);
    expect(t.display()).toBe("FAULT | LOCKED");
    expect(alarms).not.toContain("storageFault");
  });
});
