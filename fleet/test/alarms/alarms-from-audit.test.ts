/**
 * Alarms from a lock's verified audit: an `alarm.raised` record raises its alarm when the
 * notice never came (raised while the lock booted, or lost to a power cut), the notice and
 * the record of the same report count once, and the lock's storageFault is handled like any
 * other alarm kind (raised from memory, repeated by its record, cleared by the lock).
 */
import { EventEmitter } from "node:events";
import type { AuditRecord } from "@lockfleet/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AlarmScope } from "../../src/alarms/alarm.js";
import { AlarmService, type AlarmSourceEvents } from "../../src/alarms/alarm-service.js";
import { FleetStore } from "../../src/storage/fleet-store.js";
import {
  type AlarmFixture,
  insertDevice,
  lockAlarm,
  manualClock,
  openFixtureDatabase,
} from "./fixtures.js";

const BANK: AlarmScope = { kind: "bank", orgId: "org_bank" };
const LOCK = "lock-aaaaaaaaaaaa";

let fixture: AlarmFixture;
let alarms: AlarmService;
let hub: EventEmitter<AlarmSourceEvents>;

beforeEach(() => {
  fixture = openFixtureDatabase();
  insertDevice(fixture.db, { deviceId: LOCK, orgId: "org_bank", containerId: "ctr_atm" });
  alarms = new AlarmService({
    store: new FleetStore(fixture.db),
    clock: manualClock().now,
    forwarders: [],
    checks: { offlineGraceMs: 30_000, clockDriftLimitMs: 60_000 },
  });
  hub = new EventEmitter<AlarmSourceEvents>();
  alarms.attach(hub);
});

afterEach(async () => {
  await alarms.close();
  fixture.close();
});

function record(seq: number, kind: string, data: Record<string, unknown>): AuditRecord {
  return {
    deviceId: LOCK,
    seq,
    at: "2026-11-23T10:00:00.000Z",
    kind,
    actor: null,
    data,
    prevHash: "0".repeat(64),
    hash: "0".repeat(64),
  } as AuditRecord;
}

describe("alarms from the lock's audit", () => {
  it("a powerLoss raised while the lock booted reaches the inbox from its audit record", () => {
    hub.emit("audit", LOCK, [
      record(1, "device.started", {}),
      record(2, "power.lost", {}),
      record(3, "alarm.raised", { alarm: "powerLoss", priority: "low" }),
    ]);
    const [powerLoss] = alarms.list(BANK).items;
    expect(powerLoss).toMatchObject({ kind: "powerLoss", auditSeq: 3, source: "device" });
  });

  it("the notice and the record of the same report count once, in either order", () => {
    hub.emit("alarm", LOCK, lockAlarm(LOCK, "tamper", 7));
    hub.emit("audit", LOCK, [record(7, "alarm.raised", { alarm: "tamper", priority: "high" })]);
    hub.emit("audit", LOCK, [record(8, "alarm.raised", { alarm: "doorAjar", priority: "medium" })]);
    hub.emit("alarm", LOCK, lockAlarm(LOCK, "doorAjar", 8));
    const items = alarms.list(BANK).items;
    expect(items.map((alarm) => [alarm.kind, alarm.occurrences]).sort()).toEqual([
      ["doorAjar", 1],
      ["tamper", 1],
    ]);
  });

  it("a storageFault sent from memory, then on record, then cleared by the lock", () => {
    hub.emit("alarm", LOCK, {
      ...lockAlarm(LOCK, "storageFault", 40),
      priority: "high",
      data: { code: "E_STORAGE", error: "database or disk is full", fromMemory: true },
    });
    hub.emit("audit", LOCK, [
      record(41, "lock.fault", { code: "E_STORAGE" }),
      record(42, "alarm.raised", { alarm: "storageFault", priority: "high", code: "E_STORAGE" }),
      record(43, "storage.restored", { attempts: 3 }),
      record(44, "alarm.cleared", { alarm: "storageFault" }),
    ]);
    const [fault] = alarms.list(BANK).items;
    expect(fault).toMatchObject({ kind: "storageFault", priority: "high", occurrences: 2 });
    expect(fault?.clearedAt).not.toBeNull();
    expect(fault?.status).toBe("open");
    expect(alarms.history(fault?.id ?? "", BANK).map((h) => h.event)).toEqual([
      "raised",
      "repeated",
      "cleared",
    ]);
  });
});
