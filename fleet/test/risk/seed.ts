/**
 * Behaviour of a CIT provider written where the owning parts keep it: access windows and their
 * openings (windows part's tables), a lock and its verified audit (devices part's tables),
 * alarms through the alarms service. Times are UTC ISO instants.
 */
import { randomBytes } from "node:crypto";
import type { Fixture } from "../fixtures.js";

let counter = 0;
const hex = (bytes: number) => randomBytes(bytes).toString("hex");

export interface SeedWindow {
  notBefore: string;
  notAfter: string;
  status?: "approved" | "active" | "closed" | "revoked" | "expired";
  closedAt?: string | null;
  revokedAt?: string | null;
  containerId?: string;
}

export function seedWindow(f: Fixture, window: SeedWindow): string {
  const id = `win_${hex(8)}`;
  f.app.db
    .prepare(
      `INSERT INTO access_windows (id, bank_org_id, cit_org_id, contract_id, container_id, crew,
         not_before, not_after, purpose, max_openings, status, approvals_required, requested_by,
         requested_at, decided_at, decided_by, closed_at, revoked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'ATM refill', 2, ?, 1, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      id,
      f.bank.id,
      f.cit.id,
      f.contract.id,
      window.containerId ?? f.container.id,
      JSON.stringify([f.accounts.citCrew.person.id]),
      window.notBefore,
      window.notAfter,
      window.status ?? "closed",
      f.accounts.citDispatcher.person.id,
      window.notBefore,
      window.notBefore,
      f.accounts.securityAdmin.person.id,
      window.closedAt ?? null,
      window.revokedAt ?? null,
    );
  return id;
}

export function seedOpening(
  f: Fixture,
  opening: {
    windowId: string;
    deviceId: string;
    at: string;
    sealStatus?: "open" | "verified" | "refused";
    sealedAt?: string | null;
  },
): number {
  counter += 1;
  const result = f.app.db
    .prepare(
      `INSERT INTO access_window_openings (window_id, device_id, via, audit_seq, person_id, at,
         seal_status, sealed_at) VALUES (?, ?, 'grant', ?, ?, ?, ?, ?)`,
    )
    .run(
      opening.windowId,
      opening.deviceId,
      counter,
      f.accounts.citCrew.person.id,
      opening.at,
      opening.sealStatus ?? "verified",
      opening.sealedAt ?? null,
    );
  return Number(result.lastInsertRowid);
}

export function seedSealRefusal(
  f: Fixture,
  windowId: string,
  deviceId: string,
  at: string,
): number {
  const result = f.app.db
    .prepare(
      `INSERT INTO access_window_seal_refusals (window_id, device_id, source, code, reason, at)
       VALUES (?, ?, 'http', 'E_SEAL_MISMATCH', 'seal does not verify', ?)`,
    )
    .run(windowId, deviceId, at);
  return Number(result.lastInsertRowid);
}

export function seedLock(f: Fixture, containerId = f.container.id, orgId = f.bank.id): string {
  const deviceId = `lock-${hex(6)}`;
  f.app.db
    .prepare(
      `INSERT INTO devices (device_id, org_id, container_id, signing_public_key,
         encryption_public_key, mqtt_username, mqtt_password_hash, hardware_profile, firmware,
         enrolled_at) VALUES (?, ?, ?, 'test', 'test', ?, ?, 'virtual', 'test', ?)`,
    )
    .run(deviceId, orgId, containerId, deviceId, hex(32), new Date(f.clock.now()).toISOString());
  return deviceId;
}

export function seedAudit(
  f: Fixture,
  record: {
    deviceId: string;
    seq: number;
    at: string;
    kind: string;
    actor: string | null;
    data?: Record<string, unknown>;
  },
): void {
  const full = { ...record, data: record.data ?? {}, prevHash: "0".repeat(64), hash: hex(32) };
  f.app.db
    .prepare(
      `INSERT INTO device_audit (device_id, seq, at, kind, actor, hash, record, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      record.deviceId,
      record.seq,
      record.at,
      record.kind,
      record.actor,
      full.hash,
      JSON.stringify(full),
      record.at,
    );
}

/** A lock alarm through the alarms part's own intake. */
export function seedAlarm(
  f: Fixture,
  alarm: {
    deviceId: string;
    kind: "doorForcedOpen" | "doorAjar" | "lockJammed" | "forcedUser" | "tamper";
    at: string;
    containerId?: string;
  },
): string {
  counter += 1;
  return f.app.alarms.raise({
    deviceId: alarm.deviceId,
    kind: alarm.kind,
    source: "device",
    at: alarm.at,
    auditSeq: counter,
    orgId: f.bank.id,
    containerId: alarm.containerId ?? f.container.id,
  }).alarm.id;
}
