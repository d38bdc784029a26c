/** A fleet database on disk with a bank, a CIT company and enrolled locks, for alarm tests. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Alarm } from "@lockfleet/protocol";
import type { Database } from "better-sqlite3";
import { openDatabase } from "../../src/storage/db.js";

export interface AlarmFixture {
  db: Database;
  dir: string;
  close(): void;
}

export function openFixtureDatabase(): AlarmFixture {
  const dir = mkdtempSync(join(tmpdir(), "lockfleet-alarms-"));
  const db = openDatabase(join(dir, "fleet.db"));
  return {
    db,
    dir,
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Enrols a lock row directly (the device part's enrolment is not under test here). */
export function insertDevice(
  db: Database,
  device: { deviceId: string; orgId: string; containerId: string },
): void {
  db.prepare(
    `INSERT INTO devices (device_id, org_id, container_id, signing_public_key, encryption_public_key,
       mqtt_username, mqtt_password_hash, hardware_profile, firmware, enrolled_at)
     VALUES (?, ?, ?, 'sig', 'enc', ?, 'hash', 'virtual', '0.1.0', '2026-11-01T00:00:00.000Z')`,
  ).run(device.deviceId, device.orgId, device.containerId, device.deviceId);
}

export function lockAlarm(
  deviceId: string,
  alarm: Alarm["alarm"],
  auditSeq: number,
  at = "2026-11-23T10:00:00.000Z",
): Alarm {
  return {
    deviceId,
    alarm,
    priority: alarm === "forcedUser" || alarm === "doorForcedOpen" ? "critical" : "medium",
    at,
    auditSeq,
    actor: null,
    data: {},
  };
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.parse("2026-11-23T10:00:00.000Z")) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}
