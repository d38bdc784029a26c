import type { AuditRecord } from "@lockfleet/protocol";
import { describe, expect, it } from "vitest";
import {
  generateDeviceIdentity,
  LockHarness,
  ManualClock,
  VirtualOutputs,
} from "../../src/lock/harness.js";
import { LockCore } from "../../src/lock/lock-core.js";
import type { StoreCommit } from "../../src/store/lock-store.js";
import { MemoryLockStore } from "../../src/store/memory-store.js";
import { DEVICE, entry, ORG, SECOND, START, setup, USERS } from "./fixtures.js";

/** A memory store whose next commits fail, as a full or broken flash card would. */
class FailingStore extends MemoryLockStore {
  failing = false;
  override commit(change: StoreCommit): AuditRecord[] {
    if (this.failing) throw new Error("E_STORAGE: disk I/O error");
    return super.commit(change);
  }
}

/** Outputs whose bolt actuator fails when driven to "retracted". */
class FailingActuator extends VirtualOutputs {
  override driveBolt(position: "thrown" | "retracted"): void {
    if (position === "retracted") throw new Error("E_HARDWARE: actuator driver not responding");
    super.driveBolt(position);
  }
}

describe("fail-secure", () => {
  it("a storage failure while releasing leaves the bolt thrown and is reported", () => {
    const store = new FailingStore(DEVICE);
    const t = setup({ store });
    const faults: string[] = [];
    t.lock.core.on("fault", (error) => faults.push(error.message));
    t.lock.press(entry(USERS.anna));
    store.failing = true;
    t.lock.press(entry(USERS.ben));
    t.lock.advance(SECOND);
    expect(t.outputs.boltDriven).toBe("thrown");
    expect(t.lock.core.state().bolt).toBe("thrown");
    // Every unit of work that cannot be stored is reported again, never silently dropped.
    expect(faults.length).toBeGreaterThanOrEqual(1);
    expect(new Set(faults)).toEqual(new Set(["E_STORAGE: disk I/O error"]));
    expect(t.display()).toBe("FAULT | LOCKED");
  });

  it("after an internal error the lock opens no more until it has restarted", () => {
    const store = new FailingStore(DEVICE);
    const t = setup({ store, policy: { dualControl: "single" } });
    store.failing = true;
    t.lock.press(entry(USERS.anna));
    store.failing = false;
    t.lock.press(entry(USERS.anna));
    t.lock.advance(SECOND);
    expect(t.lock.core.state().bolt).toBe("thrown");
    expect(
      t
        .records()
        .filter((r) => r.kind === "code.rejected")
        .at(-1)?.data,
    ).toMatchObject({
      reason: "fault",
    });
    const lock = t.restart(false);
    lock.press(entry(USERS.anna));
    lock.advance(SECOND);
    expect(lock.core.state().bolt).toBe("retracted");
  });

  it("a hardware error while releasing throws the bolt again and records the fault", () => {
    const outputs = new FailingActuator();
    const clock = new ManualClock(START);
    const store = new MemoryLockStore(DEVICE);
    const identity = generateDeviceIdentity(DEVICE, ORG);
    const lock = new LockHarness({
      store,
      identity,
      clock,
      outputs,
      factory: {
        timeZone: "Europe/Berlin",
        policy: { dualControl: "single", timeDelayMin: 0 },
        users: [{ ...USERS.anna }],
      },
    });
    lock.advance(SECOND);
    const reported: string[] = [];
    lock.core.on("audit", (records) => reported.push(...records.map((r) => r.kind)));
    lock.press(entry(USERS.anna));
    lock.advance(SECOND);
    expect(outputs.boltDriven).toBe("thrown");
    // The release that is on record is reported too, then the fault.
    expect(reported).toEqual(expect.arrayContaining(["cycle.confirmed", "lock.fault"]));
    expect(lock.core.display).toEqual(["FAULT", "LOCKED"]);
    expect(store.auditRange(1, 1e9, 1e9).find((r) => r.kind === "lock.fault")).toMatchObject({
      kind: "lock.fault",
      data: { error: "E_HARDWARE: actuator driver not responding" },
    });
  });

  it("bad configuration is refused clearly: an unknown time zone", () => {
    expect(() => setup({ factory: { timeZone: "Europe/Nowhere" } })).toThrow(/E_TIME_LOCK_INVALID/);
  });

  it("bad configuration is refused clearly: a policy outside its ranges", () => {
    expect(() => setup({ policy: { codeLength: 9 } })).toThrow(/E_BAD_CONFIG/);
    expect(() => setup({ policy: { wrongCodeLimit: 1 } })).toThrow(/E_BAD_CONFIG/);
  });

  it("a seeded code of the wrong length is refused", () => {
    expect(() =>
      setup({
        factory: {
          users: [{ slot: 1, personId: "p-x", role: "user", enabled: true, code: "123" }],
        },
      }),
    ).toThrow(/E_BAD_CONFIG/);
  });

  it("an empty store without factory set-up is refused, not opened as an empty lock", () => {
    expect(() =>
      LockCore.open({
        store: new MemoryLockStore(DEVICE),
        clock: new ManualClock(START),
        outputs: new VirtualOutputs(),
        identity: generateDeviceIdentity(DEVICE, ORG),
      }),
    ).toThrow(/E_NOT_PROVISIONED/);
  });

  it("a store of another lock is refused", () => {
    expect(() =>
      LockCore.open({
        store: new MemoryLockStore("safe-2"),
        clock: new ManualClock(START),
        outputs: new VirtualOutputs(),
        identity: generateDeviceIdentity(DEVICE, ORG),
        factory: { timeZone: "Europe/Berlin" },
      }),
    ).toThrow(/E_STORE_DEVICE_MISMATCH/);
  });

  it("an unknown key on the keypad is a fault that leaves the bolt thrown", () => {
    const t = setup({ policy: { dualControl: "single" } });
    const faults: Error[] = [];
    t.lock.core.on("fault", (error) => faults.push(error));
    t.lock.core.pressKey("A");
    expect(faults[0]?.message).toMatch(/^E_BAD_KEY/);
    expect(t.outputs.boltDriven).toBe("thrown");
  });
});
