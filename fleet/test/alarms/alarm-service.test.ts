import { EventEmitter } from "node:events";
import type { AuditRecord, LockState } from "@lockfleet/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AlarmScope, alarmRank } from "../../src/alarms/alarm.js";
import { AlarmService, type AlarmSourceEvents } from "../../src/alarms/alarm-service.js";
import type { EscalationPolicy } from "../../src/alarms/escalation.js";
import type { AlarmForwarder, AlarmNotice } from "../../src/alarms/forwarding/forwarder.js";
import { FleetStore } from "../../src/storage/fleet-store.js";
import {
  type AlarmFixture,
  insertDevice,
  lockAlarm,
  manualClock,
  openFixtureDatabase,
} from "./fixtures.js";

const BANK: AlarmScope = { kind: "bank", orgId: "org_bank" };
const OTHER_BANK: AlarmScope = { kind: "bank", orgId: "org_other" };
const CIT: AlarmScope = { kind: "cit", orgId: "org_cit", containerIds: ["ctr_atm"] };
const LOCK = "lock-aaaaaaaaaaaa";
const VAULT_LOCK = "lock-bbbbbbbbbbbb";

const MINUTE = 60_000;
const escalation: EscalationPolicy = {
  afterMs: { critical: 2 * MINUTE, high: 5 * MINUTE, medium: 10 * MINUTE, low: 60 * MINUTE },
  repeatMs: 5 * MINUTE,
  maxLevel: 2,
};

/** Keeps what it was given: the unit-level stand-in for a webhook or syslog target. */
class RecordingForwarder implements AlarmForwarder {
  readonly name = "recording";
  readonly notices: AlarmNotice[] = [];
  async forward(notice: AlarmNotice): Promise<void> {
    this.notices.push(notice);
  }
}

let fixture: AlarmFixture;
let clock: ReturnType<typeof manualClock>;
let forwarder: RecordingForwarder;
let alarms: AlarmService;

beforeEach(() => {
  fixture = openFixtureDatabase();
  insertDevice(fixture.db, { deviceId: LOCK, orgId: "org_bank", containerId: "ctr_atm" });
  insertDevice(fixture.db, { deviceId: VAULT_LOCK, orgId: "org_bank", containerId: "ctr_vault" });
  clock = manualClock();
  forwarder = new RecordingForwarder();
  alarms = new AlarmService({
    store: new FleetStore(fixture.db),
    clock: clock.now,
    escalation,
    forwarders: [forwarder],
    checks: { offlineGraceMs: 30, clockDriftLimitMs: 60_000 },
  });
});

afterEach(async () => {
  await alarms.close();
  fixture.close();
});

describe("alarm intake and dedup", () => {
  it("a repeat of the same alarm on the same lock counts on the open alarm", () => {
    const first = alarms.raise({
      deviceId: LOCK,
      kind: "doorAjar",
      source: "device",
      at: "2026-11-23T10:00:00.000Z",
      auditSeq: 5,
    });
    const second = alarms.raise({
      deviceId: LOCK,
      kind: "doorAjar",
      source: "device",
      at: "2026-11-23T10:01:00.000Z",
      auditSeq: 9,
    });
    expect(first.outcome).toBe("raised");
    expect(second.outcome).toBe("repeated");
    expect(second.alarm.id).toBe(first.alarm.id);
    expect(second.alarm.occurrences).toBe(2);
    expect(second.alarm.lastSeenAt).toBe("2026-11-23T10:01:00.000Z");
    expect(alarms.list(BANK).items).toHaveLength(1);
  });

  it("the same lock report delivered twice is recorded once", () => {
    alarms.raise({
      deviceId: LOCK,
      kind: "tamper",
      source: "device",
      at: "2026-11-23T10:00:00.000Z",
      auditSeq: 7,
    });
    const again = alarms.raise({
      deviceId: LOCK,
      kind: "tamper",
      source: "device",
      at: "2026-11-23T10:00:00.000Z",
      auditSeq: 7,
    });
    expect(again.outcome).toBe("duplicate");
    expect(again.alarm.occurrences).toBe(1);
  });

  it("the same kind on another lock is another alarm", () => {
    const a = alarms.raise({
      deviceId: LOCK,
      kind: "lockJammed",
      source: "device",
      at: "2026-11-23T10:00:00.000Z",
    });
    const b = alarms.raise({
      deviceId: VAULT_LOCK,
      kind: "lockJammed",
      source: "device",
      at: "2026-11-23T10:00:00.000Z",
    });
    expect(b.alarm.id).not.toBe(a.alarm.id);
  });

  it("after acknowledgement a new occurrence raises a new alarm", () => {
    const first = alarms.raise({
      deviceId: LOCK,
      kind: "doorForcedOpen",
      source: "device",
      at: "2026-11-23T10:00:00.000Z",
    });
    alarms.acknowledge(first.alarm.id, BANK, "usr_officer", "police called, door secured");
    const next = alarms.raise({
      deviceId: LOCK,
      kind: "doorForcedOpen",
      source: "device",
      at: "2026-11-23T11:00:00.000Z",
    });
    expect(next.outcome).toBe("raised");
    expect(next.alarm.id).not.toBe(first.alarm.id);
  });

  it("the fleet's own alarm raised again after acknowledgement is a new alarm, evidence or not", () => {
    // the hub gives its own alarms the lock's audit head as evidence; that head may not move
    const first = alarms.raise({
      deviceId: LOCK,
      kind: "lockOffline",
      source: "fleet",
      at: "2026-11-23T10:00:00.000Z",
      auditSeq: 10,
    });
    alarms.acknowledge(first.alarm.id, BANK, "usr_o", "power cut at the branch");
    const again = alarms.raise({
      deviceId: LOCK,
      kind: "lockOffline",
      source: "fleet",
      at: "2026-11-23T12:00:00.000Z",
      auditSeq: 10,
    });
    expect(again.outcome).toBe("raised");
    expect(again.alarm.id).not.toBe(first.alarm.id);
  });

  it("an alarm from a lock the fleet never enrolled is refused", () => {
    expect(() =>
      alarms.raise({
        deviceId: "lock-ffffffffffff",
        kind: "tamper",
        source: "device",
        at: "2026-11-23T10:00:00.000Z",
      }),
    ).toThrow(/E_UNKNOWN_DEVICE/);
  });

  it("duress ranks above every other alarm, door forced open included", () => {
    expect(alarmRank("forcedUser")).toBeLessThan(alarmRank("doorForcedOpen"));
    expect(alarmRank("doorForcedOpen")).toBeLessThan(alarmRank("tamper"));
    expect(alarmRank("tamper")).toBeLessThan(alarmRank("doorAjar"));
    expect(alarmRank("doorAjar")).toBeLessThan(alarmRank("clockDrift"));
  });
});

describe("acknowledgement", () => {
  it("needs a comment and records who acknowledged and when", () => {
    const { alarm } = alarms.raise({
      deviceId: LOCK,
      kind: "doorAjar",
      source: "device",
      at: "2026-11-23T10:00:00.000Z",
    });
    expect(() => alarms.acknowledge(alarm.id, BANK, "usr_officer", "   ")).toThrow(
      /E_ACK_COMMENT_REQUIRED/,
    );
    clock.advance(90_000);
    const acknowledged = alarms.acknowledge(
      alarm.id,
      BANK,
      "usr_officer",
      " closed by branch staff ",
    );
    expect(acknowledged).toMatchObject({
      status: "acknowledged",
      acknowledgedBy: "usr_officer",
      acknowledgedAt: "2026-11-23T10:01:30.000Z",
      ackComment: "closed by branch staff",
      nextEscalationAt: null,
    });
    const history = alarms.history(alarm.id, BANK).map((entry) => entry.event);
    expect(history).toEqual(["raised", "acknowledged"]);
  });

  it("a second acknowledgement is refused and keeps the first", () => {
    const { alarm } = alarms.raise({
      deviceId: LOCK,
      kind: "doorAjar",
      source: "device",
      at: "2026-11-23T10:00:00.000Z",
    });
    alarms.acknowledge(alarm.id, BANK, "usr_a", "first");
    expect(() => alarms.acknowledge(alarm.id, BANK, "usr_b", "second")).toThrow(
      /E_ALARM_ACKNOWLEDGED/,
    );
    expect(alarms.get(alarm.id, BANK).acknowledgedBy).toBe("usr_a");
  });

  it("another bank can neither see nor acknowledge the alarm", () => {
    const { alarm } = alarms.raise({
      deviceId: LOCK,
      kind: "tamper",
      source: "device",
      at: "2026-11-23T10:00:00.000Z",
    });
    expect(alarms.list(OTHER_BANK).items).toHaveLength(0);
    expect(() => alarms.acknowledge(alarm.id, OTHER_BANK, "usr_x", "mine now")).toThrow(
      /E_NOT_FOUND/,
    );
    expect(alarms.get(alarm.id, BANK).status).toBe("open");
  });
});

describe("tenant scope", () => {
  it("the duress alarm is never visible to the CIT company, even on its contract's container", () => {
    const duress = alarms.raise({
      deviceId: LOCK,
      kind: "forcedUser",
      source: "device",
      at: "2026-11-23T10:00:00.000Z",
      auditSeq: 3,
    });
    const ajar = alarms.raise({
      deviceId: LOCK,
      kind: "doorAjar",
      source: "device",
      at: "2026-11-23T10:00:00.000Z",
      auditSeq: 4,
    });
    expect(alarms.list(CIT).items.map((a) => a.id)).toEqual([ajar.alarm.id]);
    expect(alarms.list(CIT, { kind: "forcedUser" }).items).toHaveLength(0);
    expect(() => alarms.get(duress.alarm.id, CIT)).toThrow(/E_NOT_FOUND/);
    expect(() => alarms.history(duress.alarm.id, CIT)).toThrow(/E_NOT_FOUND/);
    expect(() => alarms.acknowledge(duress.alarm.id, CIT, "usr_dispatch", "seen")).toThrow(
      /E_NOT_FOUND/,
    );
    expect(
      alarms
        .list(BANK)
        .items.map((a) => a.kind)
        .sort(),
    ).toEqual(["doorAjar", "forcedUser"]);
  });

  it("a CIT company sees alarms only on its contract's containers", () => {
    alarms.raise({
      deviceId: VAULT_LOCK,
      kind: "doorAjar",
      source: "device",
      at: "2026-11-23T10:00:00.000Z",
    });
    expect(alarms.list(CIT).items).toHaveLength(0);
  });

  it("filters by status, kind and container", () => {
    const a = alarms.raise({
      deviceId: LOCK,
      kind: "doorAjar",
      source: "device",
      at: "2026-11-23T10:00:00.000Z",
    });
    alarms.raise({
      deviceId: VAULT_LOCK,
      kind: "tamper",
      source: "device",
      at: "2026-11-23T10:00:00.000Z",
    });
    alarms.acknowledge(a.alarm.id, BANK, "usr_o", "ok");
    expect(alarms.list(BANK, { status: "open" }).items.map((x) => x.kind)).toEqual(["tamper"]);
    expect(alarms.list(BANK, { containerId: "ctr_atm" }).items.map((x) => x.kind)).toEqual([
      "doorAjar",
    ]);
    expect(alarms.list(BANK, { kind: "tamper", status: "acknowledged" }).items).toHaveLength(0);
  });
});

describe("escalation", () => {
  it("an unacknowledged alarm escalates after the configured time, is recorded and forwarded again", async () => {
    const { alarm } = alarms.raise({
      deviceId: LOCK,
      kind: "doorForcedOpen",
      source: "device",
      at: "2026-11-23T10:00:00.000Z",
    });
    clock.advance(2 * MINUTE - 1);
    expect(alarms.escalateDue()).toHaveLength(0);
    clock.advance(1);
    const [escalated] = alarms.escalateDue();
    expect(escalated).toMatchObject({
      id: alarm.id,
      escalationLevel: 1,
      escalatedAt: "2026-11-23T10:02:00.000Z",
    });
    expect(escalated?.nextEscalationAt).toBe("2026-11-23T10:07:00.000Z");
    await alarms.flushForwards();
    expect(forwarder.notices.map((n) => [n.event, n.alarm.escalationLevel])).toEqual([
      ["raised", 0],
      ["escalated", 1],
    ]);
    expect(
      alarms.history(alarm.id, BANK).some((h) => h.event === "escalated" && h.data.level === 1),
    ).toBe(true);
  });

  it("escalation stops at the top level", () => {
    alarms.raise({
      deviceId: LOCK,
      kind: "tamper",
      source: "device",
      at: "2026-11-23T10:00:00.000Z",
    });
    const levels: number[] = [];
    for (let i = 0; i < 10; i++) {
      clock.advance(5 * MINUTE);
      for (const alarm of alarms.escalateDue()) levels.push(alarm.escalationLevel);
    }
    expect(levels).toEqual([1, 2]);
  });

  it("an acknowledged alarm does not escalate", () => {
    const { alarm } = alarms.raise({
      deviceId: LOCK,
      kind: "doorForcedOpen",
      source: "device",
      at: "2026-11-23T10:00:00.000Z",
    });
    clock.advance(MINUTE);
    alarms.acknowledge(alarm.id, BANK, "usr_o", "on site");
    clock.advance(60 * MINUTE);
    expect(alarms.escalateDue()).toHaveLength(0);
  });
});

describe("from the device hub and the fleet's own checks", () => {
  function fakeHub() {
    return new EventEmitter<AlarmSourceEvents>();
  }

  it("takes lock alarms from the hub's events and drops the repeat of the same report", () => {
    const hub = fakeHub();
    alarms.attach(hub);
    hub.emit("alarm", LOCK, lockAlarm(LOCK, "forcedUser", 12));
    hub.emit("alarm", LOCK, lockAlarm(LOCK, "forcedUser", 12));
    const [duress] = alarms.list(BANK).items;
    expect(duress).toMatchObject({
      kind: "forcedUser",
      priority: "critical",
      occurrences: 1,
      auditSeq: 12,
      source: "device",
    });
  });

  it("ignores an alarm whose body names another lock than the one that sent it", () => {
    const hub = fakeHub();
    alarms.attach(hub);
    hub.emit("alarm", LOCK, lockAlarm(VAULT_LOCK, "tamper", 1));
    expect(alarms.list(BANK).items).toHaveLength(0);
  });

  it("takes over alarms the hub stored in its inbox before the service listened", () => {
    fixture.db
      .prepare(
        `INSERT INTO device_alarms (device_id, org_id, alarm, priority, at, source, alarm_json, received_at)
         VALUES (?, 'org_bank', 'lockJammed', 'high', ?, 'device', ?, ?)`,
      )
      .run(
        LOCK,
        "2026-11-23T09:00:00.000Z",
        JSON.stringify(lockAlarm(LOCK, "lockJammed", 4)),
        "2026-11-23T09:00:00.000Z",
      );
    alarms.attach(fakeHub());
    expect(alarms.list(BANK).items.map((a) => a.kind)).toEqual(["lockJammed"]);
    // taken once: a second start does not raise it again
    alarms.drainInbox();
    expect(alarms.list(BANK).items[0]?.occurrences).toBe(1);
  });

  it("a lock offline longer than the grace period raises lock offline; back online clears it", async () => {
    const hub = fakeHub();
    alarms.attach(hub);
    hub.emit("availability", LOCK, "offline");
    hub.emit("availability", VAULT_LOCK, "offline");
    hub.emit("availability", VAULT_LOCK, "online"); // back within the grace period: no alarm
    await new Promise((resolve) => setTimeout(resolve, 80));
    const offline = alarms.list(BANK).items;
    expect(offline.map((a) => [a.deviceId, a.kind, a.source])).toEqual([
      [LOCK, "lockOffline", "fleet"],
    ]);
    hub.emit("availability", LOCK, "online");
    expect(alarms.get(offline[0]?.id ?? "", BANK).clearedAt).not.toBeNull();
  });

  it("lock time further from fleet time than the limit raises clock drift", () => {
    const hub = fakeHub();
    alarms.attach(hub);
    const state = (at: string) => ({ deviceId: LOCK, at }) as LockState;
    hub.emit("state", LOCK, state("2026-11-23T10:00:30.000Z"));
    expect(alarms.list(BANK).items).toHaveLength(0);
    hub.emit("state", LOCK, state("2026-11-23T09:55:00.000Z"));
    const [drift] = alarms.list(BANK).items;
    expect(drift).toMatchObject({ kind: "clockDrift", source: "fleet" });
    expect(drift?.data.driftMs).toBe(-5 * MINUTE);
  });

  it("the lock's alarm.cleared record marks the condition as ended; the alarm still awaits acknowledgement", () => {
    const hub = fakeHub();
    alarms.attach(hub);
    hub.emit("alarm", LOCK, lockAlarm(LOCK, "doorAjar", 20));
    hub.emit("audit", LOCK, [
      {
        deviceId: LOCK,
        seq: 21,
        kind: "alarm.cleared",
        data: { alarm: "doorAjar" },
      } as unknown as AuditRecord,
    ]);
    const [ajar] = alarms.list(BANK).items;
    expect(ajar?.clearedAt).not.toBeNull();
    expect(ajar?.status).toBe("open");
    expect(alarms.history(ajar?.id ?? "", BANK).map((h) => h.event)).toEqual(["raised", "cleared"]);
  });

  it("an audit batch that skips records raises audit gap with the missing range", () => {
    const hub = fakeHub();
    alarms.attach(hub);
    const records = (...seqs: number[]) =>
      seqs.map((seq) => ({ deviceId: LOCK, seq }) as AuditRecord);
    hub.emit("audit", LOCK, records(1, 2, 3));
    hub.emit("audit", LOCK, records(4));
    expect(alarms.list(BANK).items).toHaveLength(0);
    hub.emit("audit", LOCK, records(8, 9));
    const [gap] = alarms.list(BANK).items;
    expect(gap).toMatchObject({ kind: "auditGap", data: { missingFrom: 5, missingTo: 7 } });
  });
});
