/**
 * A fleet database on disk with two banks, a CIT company under contract, locks with verified
 * audit records, an access window and admin log entries: the material reports are made of.
 */
import { sha256Hex } from "@lockfleet/protocol";
import type { Database } from "better-sqlite3";
import { AdminLog } from "../../src/admin-log.js";
import { insertDevice } from "../alarms/fixtures.js";

export const T0 = Date.parse("2026-11-20T08:00:00.000Z");
export const iso = (offsetMinutes: number) => new Date(T0 + offsetMinutes * 60_000).toISOString();

export const IDS = {
  bank: "org_bank000000000001",
  otherBank: "org_bank000000000002",
  cit: "org_cit0000000000001",
  branch: "br_0000000000000001",
  otherBranch: "br_0000000000000002",
  atm: "ctr_atm0000000000001",
  vault: "ctr_vault00000000001",
  otherSafe: "ctr_safe00000000001",
  atmLock: "lock-a00000000001",
  vaultLock: "lock-b00000000001",
  otherLock: "lock-c00000000001",
  alice: "per_alice000000001",
  bob: "per_bob00000000001",
  crew: "per_crew0000000001",
  officer: "per_officer0000001",
  stranger: "per_stranger000001",
  window: "win_0000000000000001",
} as const;

function insertOrg(
  db: Database,
  id: string,
  kind: "bank" | "cit",
  name: string,
  sponsor: string | null,
) {
  db.prepare(
    "INSERT INTO orgs (id, kind, name, sponsor_org_id, created_at) VALUES (?, ?, ?, ?, ?)",
  ).run(id, kind, name, sponsor, iso(-10_000));
}

function insertPerson(db: Database, id: string, orgId: string, name: string) {
  db.prepare(
    "INSERT INTO people (id, org_id, name, created_at, created_by) VALUES (?, ?, ?, ?, 'system')",
  ).run(id, orgId, name, iso(-10_000));
}

let auditSeq = new Map<string, number>();

export function insertAudit(
  db: Database,
  deviceId: string,
  at: string,
  kind: string,
  actor: string | null,
  data: Record<string, unknown>,
): void {
  const seq = (auditSeq.get(deviceId) ?? 0) + 1;
  auditSeq.set(deviceId, seq);
  const record = {
    deviceId,
    seq,
    at,
    kind,
    actor,
    data,
    prevHash: "0".repeat(64),
    hash: sha256Hex(`${deviceId}${seq}`),
  };
  db.prepare(
    "INSERT INTO device_audit (device_id, seq, at, kind, actor, hash, record, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  ).run(deviceId, seq, at, kind, actor, record.hash, JSON.stringify(record), at);
}

export function seedReports(db: Database, clock: () => number): AdminLog {
  auditSeq = new Map();
  insertOrg(db, IDS.bank, "bank", "Musterbank", null);
  insertOrg(db, IDS.otherBank, "bank", "Otherbank", null);
  insertOrg(db, IDS.cit, "cit", "Geldtransport GmbH", IDS.bank);
  const branch = db.prepare(
    "INSERT INTO branches (id, org_id, name, branch_type, time_zone, created_at) VALUES (?, ?, ?, 'branch', 'Europe/Berlin', ?)",
  );
  branch.run(IDS.branch, IDS.bank, "Hauptstelle", iso(-10_000));
  branch.run(IDS.otherBranch, IDS.otherBank, "Elsewhere", iso(-10_000));
  const container = db.prepare(
    "INSERT INTO containers (id, org_id, branch_id, name, type, grade, lock_class, policy, created_at) VALUES (?, ?, ?, ?, ?, 'IV', 'B', '{}', ?)",
  );
  container.run(IDS.atm, IDS.bank, IDS.branch, "ATM 1", "gaa", iso(-10_000));
  container.run(IDS.vault, IDS.bank, IDS.branch, "Vault", "vaultDoor", iso(-10_000));
  container.run(IDS.otherSafe, IDS.otherBank, IDS.otherBranch, "Safe", "safe", iso(-10_000));
  insertPerson(db, IDS.alice, IDS.bank, "Alice Adler");
  insertPerson(db, IDS.bob, IDS.bank, '=HYPERLINK("http://x")');
  insertPerson(db, IDS.crew, IDS.cit, "Carl Crew");
  insertPerson(db, IDS.officer, IDS.bank, "Olga Officer");
  insertPerson(db, IDS.stranger, IDS.otherBank, "Sam Stranger");
  db.prepare(
    "INSERT INTO contracts (id, bank_org_id, cit_org_id, name, container_ids, created_at) VALUES ('con_0000000000000001', ?, ?, 'ATM service', ?, ?)",
  ).run(IDS.bank, IDS.cit, JSON.stringify([IDS.atm]), iso(-10_000));
  insertDevice(db, { deviceId: IDS.atmLock, orgId: IDS.bank, containerId: IDS.atm });
  insertDevice(db, { deviceId: IDS.vaultLock, orgId: IDS.bank, containerId: IDS.vault });
  insertDevice(db, { deviceId: IDS.otherLock, orgId: IDS.otherBank, containerId: IDS.otherSafe });

  // the CIT crew's approved window on the ATM: 10:00–11:00
  db.prepare(
    `INSERT INTO access_windows (id, bank_org_id, cit_org_id, contract_id, container_id, crew, not_before, not_after,
       purpose, max_openings, status, approvals_required, requested_by, requested_at, decided_at, decided_by)
     VALUES (?, ?, ?, 'con_0000000000000001', ?, ?, ?, ?, 'replenish', 2, 'closed', 1, ?, ?, ?, ?)`,
  ).run(
    IDS.window,
    IDS.bank,
    IDS.cit,
    IDS.atm,
    JSON.stringify([IDS.crew]),
    iso(120),
    iso(180),
    IDS.crew,
    iso(0),
    iso(5),
    IDS.officer,
  );

  // openings: ATM inside the window (crew), ATM outside it (alice + bob), vault (alice + bob)
  insertAudit(db, IDS.atmLock, iso(130), "cycle.confirmed", IDS.crew, {
    openingNumber: 1,
    persons: [IDS.crew],
  });
  insertAudit(db, IDS.atmLock, iso(300), "cycle.confirmed", IDS.bob, {
    openingNumber: 2,
    persons: [IDS.alice, IDS.bob],
  });
  insertAudit(db, IDS.vaultLock, iso(60), "cycle.confirmed", IDS.bob, {
    openingNumber: 7,
    persons: [IDS.alice, IDS.bob],
  });
  insertAudit(db, IDS.vaultLock, iso(61), "door.opened", null, {});
  // rights confirmed by the lock
  insertAudit(db, IDS.vaultLock, iso(10), "user.added", "fleet", {
    slot: 3,
    personId: IDS.alice,
    role: "user",
    tenantId: null,
  });
  insertAudit(db, IDS.vaultLock, iso(400), "user.deleted", "fleet", { slot: 4, personId: IDS.bob });
  // the other bank's lock opens too: never in this bank's reports
  insertAudit(db, IDS.otherLock, iso(90), "cycle.confirmed", IDS.stranger, {
    openingNumber: 1,
    persons: [IDS.stranger],
  });

  let now = T0;
  const log = new AdminLog(db, () => now);
  const at = (minutes: number) => {
    now = T0 + minutes * 60_000;
  };
  at(8);
  log.append({
    actor: IDS.officer,
    action: "right.grant",
    target: "rgt_1",
    orgId: IDS.bank,
    data: { personId: IDS.alice, containerId: IDS.vault },
  });
  at(9);
  log.append({ actor: IDS.officer, action: "person.disable", target: IDS.bob, orgId: IDS.bank });
  at(11);
  log.append({ actor: IDS.crew, action: "window.request", target: IDS.window, orgId: IDS.cit });
  at(12);
  log.append({
    actor: IDS.stranger,
    action: "person.disable",
    target: "per_x",
    orgId: IDS.otherBank,
  });
  void clock;
  return log;
}

/**
 * Power, hardware, self-test and time records of both banks' locks, interleaved in time across
 * the two containers so that a per-container order differs from the order of time.
 */
export function seedHardwareEvents(db: Database): void {
  const source = { source: "powerFailInput" };
  insertAudit(db, IDS.vaultLock, iso(20), "power.failed", null, source);
  insertAudit(db, IDS.atmLock, iso(21), "power.lost", null, {});
  insertAudit(db, IDS.atmLock, iso(22), "time.changed", "fleet", {
    command: "time.set",
    from: iso(22),
    to: iso(21),
    jumpMs: -2000,
  });
  insertAudit(db, IDS.vaultLock, iso(25), "power.restored", null, source);
  insertAudit(db, IDS.atmLock, iso(50), "hardware.partFault", null, {
    part: "display",
    code: "E_I2C",
    error: 'bus error, "retry"\nfailed',
  });
  insertAudit(db, IDS.vaultLock, iso(200), "selfTest.completed", null, {
    hardwareProfile: "pi-lock-b",
    parts: [
      { part: "keypad", result: "ok" },
      { part: "bolt", result: "ok" },
      { part: "buzzer", result: "fault", detail: "no current" },
      { part: "display", result: "notFitted" },
    ],
  });
  insertAudit(db, IDS.vaultLock, iso(201), "hardware.partRestored", null, { part: "display" });
  insertAudit(db, IDS.atmLock, iso(210), "lock.fault", null, { error: "=cmd|' /C calc'!A0" });
  insertAudit(db, IDS.atmLock, iso(211), "door.opened", null, {});
  insertAudit(db, IDS.otherLock, iso(30), "power.failed", null, source);
  insertAudit(db, IDS.otherLock, iso(31), "lock.fault", null, { error: "other bank" });
}
