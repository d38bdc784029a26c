/**
 * Since when a lock has been in the state it shows: the lock time of its newest audit record
 * that changes what the lock is doing (a cycle step, the bolt, the door, a block, a time lock, a
 * penalty, an alarm). Read-only over the verified audit trail, newest first by the primary key.
 */
import type { AuditEventKind } from "@lockfleet/protocol";
import type { Database } from "better-sqlite3";

/** Audit kinds after which a lock shows another state. */
export const STATE_CHANGING_KINDS = [
  "device.started",
  "cycle.started",
  "cycle.delayStarted",
  "cycle.windowOpened",
  "cycle.confirmed",
  "cycle.cancelled",
  "cycle.expired",
  "bolt.retracted",
  "bolt.thrown",
  "door.opened",
  "door.closed",
  "lock.relocked",
  "alarm.raised",
  "alarm.cleared",
  "penalty.started",
  "penalty.ended",
  "remote.blocked",
  "remote.unblocked",
  "timeLock.immediate",
  "lock.fault",
] as const satisfies readonly AuditEventKind[];

export function stateSinceReader(db: Database): (deviceId: string) => string | null {
  const newest = db
    .prepare(
      `SELECT at FROM device_audit
       WHERE device_id = ? AND kind IN (SELECT value FROM json_each(?))
       ORDER BY seq DESC LIMIT 1`,
    )
    .pluck();
  const kinds = JSON.stringify(STATE_CHANGING_KINDS);
  return (deviceId) => (newest.get(deviceId, kinds) as string | undefined) ?? null;
}
