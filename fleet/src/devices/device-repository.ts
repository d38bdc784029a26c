/**
 * Every SQL statement of the devices part (tables of migrations 100–199). The hub and its
 * helpers never see SQL; a PostgreSQL repository can replace this one behind the same methods.
 */

import {
  type AuditRecord,
  CodedError,
  GENESIS_HASH,
  isValid,
  LockPolicy,
} from "@lockfleet/protocol";
import type Database from "better-sqlite3";

type Db = Database.Database;

export interface EnrolmentTokenRow {
  token_hash: string;
  org_id: string;
  container_id: string;
  device_id: string | null;
  created_by: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  used_by_device: string | null;
}

export interface DeviceRow {
  device_id: string;
  org_id: string;
  container_id: string;
  signing_public_key: string;
  encryption_public_key: string;
  mqtt_username: string;
  mqtt_password_hash: string;
  hardware_profile: string;
  firmware: string;
  enrolled_at: string;
  status: "active" | "retired";
  availability: "unknown" | "online" | "offline";
  availability_at: string | null;
  state: string | null;
  state_at: string | null;
  audit_head_seq: number;
  audit_head_hash: string;
  command_seq: number;
  trusted_key_ids: string;
  clock_drift_ms: number | null;
}

export interface FleetKeyRow {
  key_id: string;
  public_key: string;
  sealed_private_key: string;
  created_at: string;
  activated_at: string | null;
  retired_at: string | null;
}

export interface CommandRow {
  id: string;
  device_id: string;
  seq: number;
  type: string;
  body: string;
  key_id: string;
  issued_at: string;
  expires_at: string;
  status: "sent" | "ok" | "error";
  result: string | null;
  answered_at: string | null;
}

export interface ContainerInfo {
  orgId: string;
  policy: LockPolicy | undefined;
  timeZone: string | undefined;
}

export interface NewDevice {
  deviceId: string;
  orgId: string;
  containerId: string;
  signingPublicKey: string;
  encryptionPublicKey: string;
  mqttUsername: string;
  mqttPasswordHash: string;
  hardwareProfile: string;
  firmware: string;
  enrolledAt: string;
  trustedKeyIds: string[];
}

export interface SecurityEvent {
  at: string;
  deviceId?: string | undefined;
  orgId?: string | undefined;
  kind: string;
  clientId?: string | undefined;
  topic?: string | undefined;
  reason: string;
}

export interface MessageMark {
  deviceId: string;
  stream: string;
  seq: number;
  signature: string;
}

/** Audit rows per INSERT statement (8 parameters each, well under SQLite's 32,766). */
const AUDIT_ROWS_PER_INSERT = 50;

function auditRowValues(
  deviceId: string,
  records: readonly AuditRecord[],
  from: number,
  rows: number,
  receivedAt: string,
): unknown[] {
  const values: unknown[] = [];
  for (let index = from; index < from + rows; index++) {
    const record = records[index] as AuditRecord;
    values.push(
      deviceId,
      record.seq,
      record.at,
      record.kind,
      record.actor,
      record.hash,
      JSON.stringify(record),
      receivedAt,
    );
  }
  return values;
}

export class DeviceRepository {
  readonly #hasContainers: boolean;
  readonly #statements = new Map<string, Database.Statement>();

  /** Prepared once per SQL text: preparing is a large part of a cheap statement's cost. */
  #sql(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  constructor(readonly db: Db) {
    const table = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'containers'")
      .get();
    this.#hasContainers = table !== undefined;
  }

  // --- enrolment tokens ---

  insertToken(row: Omit<EnrolmentTokenRow, "used_at" | "used_by_device">): void {
    this.#sql(
      `INSERT INTO enrolment_tokens (token_hash, org_id, container_id, device_id, created_by, created_at, expires_at)
         VALUES (@token_hash, @org_id, @container_id, @device_id, @created_by, @created_at, @expires_at)`,
    ).run(row);
  }

  token(tokenHash: string): EnrolmentTokenRow | undefined {
    return this.#sql("SELECT * FROM enrolment_tokens WHERE token_hash = ?").get(tokenHash) as
      | EnrolmentTokenRow
      | undefined;
  }

  /** Marks the token used unless it already is or has expired; true when this call used it. */
  consumeToken(tokenHash: string, now: string, deviceId: string): boolean {
    const result = this.#sql(
      `UPDATE enrolment_tokens SET used_at = ?, used_by_device = ?
         WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`,
    ).run(now, deviceId, tokenHash, now);
    return result.changes === 1;
  }

  /**
   * The container as the tenancy part stores it, or undefined when it does not exist. When the
   * tenancy tables are not there at all (the devices part running alone), `null`.
   */
  container(containerId: string): ContainerInfo | undefined | null {
    if (!this.#hasContainers) return null;
    const row = this.#sql(
      `SELECT c.org_id AS org_id, c.policy AS policy, b.time_zone AS time_zone
         FROM containers c LEFT JOIN branches b ON b.id = c.branch_id WHERE c.id = ?`,
    ).get(containerId) as
      | { org_id: string; policy: string | null; time_zone: string | null }
      | undefined;
    if (row === undefined) return undefined;
    let policy: LockPolicy | undefined;
    try {
      const parsed: unknown = row.policy === null ? undefined : JSON.parse(row.policy);
      policy = isValid(LockPolicy, parsed) ? parsed : undefined;
    } catch {
      policy = undefined; // not JSON: the lock gets the default policy, never a guessed one
    }
    return { orgId: row.org_id, policy, timeZone: row.time_zone ?? undefined };
  }

  // --- devices ---

  insertDevice(device: NewDevice): void {
    this.#sql(
      `INSERT INTO devices (device_id, org_id, container_id, signing_public_key, encryption_public_key,
           mqtt_username, mqtt_password_hash, hardware_profile, firmware, enrolled_at, trusted_key_ids)
         VALUES (@deviceId, @orgId, @containerId, @signingPublicKey, @encryptionPublicKey,
           @mqttUsername, @mqttPasswordHash, @hardwareProfile, @firmware, @enrolledAt, @trustedKeyIds)`,
    ).run({ ...device, trustedKeyIds: JSON.stringify(device.trustedKeyIds) });
  }

  device(deviceId: string): DeviceRow | undefined {
    return this.#sql("SELECT * FROM devices WHERE device_id = ?").get(deviceId) as
      | DeviceRow
      | undefined;
  }

  deviceByUsername(username: string): DeviceRow | undefined {
    return this.#sql("SELECT * FROM devices WHERE mqtt_username = ?").get(username) as
      | DeviceRow
      | undefined;
  }

  devicesOfOrg(orgId: string): DeviceRow[] {
    return this.#sql("SELECT * FROM devices WHERE org_id = ? ORDER BY device_id").all(
      orgId,
    ) as DeviceRow[];
  }

  activeDevices(): DeviceRow[] {
    return this.#sql(
      "SELECT * FROM devices WHERE status = 'active' ORDER BY device_id",
    ).all() as DeviceRow[];
  }

  onlineDevices(): DeviceRow[] {
    return this.#sql(
      "SELECT * FROM devices WHERE status = 'active' AND availability = 'online'",
    ).all() as DeviceRow[];
  }

  /** Sets availability; returns the previous value, or undefined for an unknown device. */
  setAvailability(
    deviceId: string,
    availability: "online" | "offline",
    at: string,
  ): DeviceRow["availability"] | undefined {
    return this.db.transaction(() => {
      const row = this.#sql("SELECT availability FROM devices WHERE device_id = ?").get(deviceId) as
        | { availability: DeviceRow["availability"] }
        | undefined;
      if (row === undefined) return undefined;
      this.#sql("UPDATE devices SET availability = ?, availability_at = ? WHERE device_id = ?").run(
        availability,
        at,
        deviceId,
      );
      return row.availability;
    })();
  }

  /**
   * Availability and state changes of many locks in one transaction: a reconnect storm of
   * 10,000 locks must not cost 10,000 synchronous commits.
   */
  writePresence(
    updates: ReadonlyArray<
      | { deviceId: string; availability: "online" | "offline"; at: string }
      | { deviceId: string; stateJson: string; at: string; clockDriftMs: number | null }
    >,
  ): void {
    if (updates.length === 0) return;
    const availability = this.#sql(
      "UPDATE devices SET availability = ?, availability_at = ? WHERE device_id = ?",
    );
    const state = this.#sql(
      "UPDATE devices SET state = ?, state_at = ?, clock_drift_ms = COALESCE(?, clock_drift_ms) WHERE device_id = ?",
    );
    this.db.transaction(() => {
      for (const update of updates) {
        if ("availability" in update) {
          availability.run(update.availability, update.at, update.deviceId);
        } else {
          state.run(update.stateJson, update.at, update.clockDriftMs, update.deviceId);
        }
      }
    })();
  }

  setState(deviceId: string, stateJson: string, at: string, clockDriftMs: number | null): void {
    this.#sql(
      "UPDATE devices SET state = ?, state_at = ?, clock_drift_ms = COALESCE(?, clock_drift_ms) WHERE device_id = ?",
    ).run(stateJson, at, clockDriftMs, deviceId);
  }

  setTrustedKeys(deviceId: string, keyIds: readonly string[]): void {
    this.#sql("UPDATE devices SET trusted_key_ids = ? WHERE device_id = ?").run(
      JSON.stringify(keyIds),
      deviceId,
    );
  }

  setTrustedKeysOf(trusted: ReadonlyMap<string, readonly string[]>): void {
    if (trusted.size === 0) return;
    const update = this.#sql("UPDATE devices SET trusted_key_ids = ? WHERE device_id = ?");
    this.db.transaction(() => {
      for (const [deviceId, keyIds] of trusted) update.run(JSON.stringify(keyIds), deviceId);
    })();
  }

  // --- commands ---

  /**
   * Stores issued commands and moves each lock's highest issued seq, all in one transaction:
   * a reconnect storm sends thousands of time syncs, and one synchronous commit each would
   * take longer than the storm itself.
   */
  insertCommands(rows: ReadonlyArray<Omit<CommandRow, "status" | "result" | "answered_at">>): void {
    if (rows.length === 0) return;
    const insert = this.#sql(
      `INSERT INTO device_commands (id, device_id, seq, type, body, key_id, issued_at, expires_at, status)
       VALUES (@id, @device_id, @seq, @type, @body, @key_id, @issued_at, @expires_at, 'sent')`,
    );
    const advance = this.#sql(
      "UPDATE devices SET command_seq = MAX(command_seq, ?) WHERE device_id = ?",
    );
    this.db.transaction(() => {
      for (const row of rows) {
        insert.run(row);
        advance.run(row.seq, row.device_id);
      }
    })();
  }

  /** Records a result for a command this device was sent; false when there is no such command. */
  recordCommandResult(
    deviceId: string,
    commandId: string,
    status: "ok" | "error",
    resultJson: string,
    at: string,
  ): boolean {
    const result = this.#sql(
      `UPDATE device_commands SET status = ?, result = ?, answered_at = ?
         WHERE id = ? AND device_id = ? AND status = 'sent'`,
    ).run(status, resultJson, at, commandId, deviceId);
    return result.changes === 1;
  }

  /** Results of many commands in one transaction; each only if its command is still open. */
  recordCommandResults(
    rows: ReadonlyArray<{
      deviceId: string;
      commandId: string;
      status: "ok" | "error";
      resultJson: string;
      at: string;
    }>,
  ): void {
    if (rows.length === 0) return;
    const update = this.#sql(
      `UPDATE device_commands SET status = ?, result = ?, answered_at = ?
       WHERE id = ? AND device_id = ? AND status = 'sent'`,
    );
    this.db.transaction(() => {
      for (const row of rows) {
        update.run(row.status, row.resultJson, row.at, row.commandId, row.deviceId);
      }
    })();
  }

  command(commandId: string): CommandRow | undefined {
    return this.#sql("SELECT * FROM device_commands WHERE id = ?").get(commandId) as
      | CommandRow
      | undefined;
  }

  commandsOf(deviceId: string, limit: number): CommandRow[] {
    return this.#sql(
      "SELECT * FROM device_commands WHERE device_id = ? ORDER BY seq DESC LIMIT ?",
    ).all(deviceId, limit) as CommandRow[];
  }

  // --- audit ---

  auditHead(deviceId: string): { seq: number; hash: string } {
    const row = this.#sql(
      "SELECT audit_head_seq AS seq, audit_head_hash AS hash FROM devices WHERE device_id = ?",
    ).get(deviceId) as { seq: number; hash: string } | undefined;
    return row ?? { seq: 0, hash: GENESIS_HASH };
  }

  auditHash(deviceId: string, seq: number): string | undefined {
    if (seq === 0) return GENESIS_HASH;
    const row = this.#sql("SELECT hash FROM device_audit WHERE device_id = ? AND seq = ?").get(
      deviceId,
      seq,
    ) as { hash: string } | undefined;
    return row?.hash;
  }

  /** Appends verified records and moves the head, in one transaction. */
  appendAudit(deviceId: string, records: readonly AuditRecord[], receivedAt: string): void {
    const last = records[records.length - 1];
    if (last === undefined) return;
    const insert = this.#sql(
      `INSERT INTO device_audit (device_id, seq, at, kind, actor, hash, record, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const record of records) {
        insert.run(
          deviceId,
          record.seq,
          record.at,
          record.kind,
          record.actor,
          record.hash,
          JSON.stringify(record),
          receivedAt,
        );
      }
      this.#sql(
        "UPDATE devices SET audit_head_seq = ?, audit_head_hash = ? WHERE device_id = ?",
      ).run(last.seq, last.hash, deviceId);
    })();
  }

  /**
   * Appends the verified records of many locks in one transaction (one fsync), each lock's part
   * under its own savepoint: a part whose stored head is no longer the one it was verified
   * against, or whose seq is already stored (primary key), is rolled back alone. Returns the
   * locks whose part failed, with the reason.
   */
  appendAuditGroup(
    parts: ReadonlyArray<{
      deviceId: string;
      expectedHead: { seq: number; hash: string };
      records: readonly AuditRecord[];
    }>,
    receivedAt: string,
  ): Map<string, unknown> {
    const moveHead = this.#sql(
      `UPDATE devices SET audit_head_seq = ?, audit_head_hash = ?
       WHERE device_id = ? AND audit_head_seq = ? AND audit_head_hash = ?`,
    );
    const failed = new Map<string, unknown>();
    const appendPart = this.db.transaction((part: (typeof parts)[number]) => {
      const { deviceId, expectedHead, records } = part;
      // Rows go in AUDIT_ROWS_PER_INSERT at a time: a statement call per row cost about as
      // much as SQLite's own work for it.
      for (let from = 0; from < records.length; from += AUDIT_ROWS_PER_INSERT) {
        const rows = Math.min(AUDIT_ROWS_PER_INSERT, records.length - from);
        this.#auditInsert(rows).run(auditRowValues(deviceId, records, from, rows, receivedAt));
      }
      const last = records[records.length - 1];
      if (last === undefined) return;
      const moved = moveHead.run(
        last.seq,
        last.hash,
        deviceId,
        expectedHead.seq,
        expectedHead.hash,
      );
      if (moved.changes !== 1) {
        throw new Error(
          `E_AUDIT_HEAD_MOVED: the stored audit head of ${deviceId} is no longer seq ${expectedHead.seq}`,
        );
      }
    });
    this.db.transaction(() => {
      for (const part of parts) {
        try {
          appendPart(part);
        } catch (error) {
          failed.set(part.deviceId, error);
        }
      }
    })();
    return failed;
  }

  /** The insert of `rows` audit rows in one statement, prepared once per row count. */
  #auditInsert(rows: number): Database.Statement {
    return this.#sql(
      `INSERT INTO device_audit (device_id, seq, at, kind, actor, hash, record, received_at) VALUES ${Array.from({ length: rows }, () => "(?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`,
    );
  }

  auditPage(deviceId: string, afterSeq: number, limit: number): AuditRecord[] {
    const rows = this.#sql(
      "SELECT record FROM device_audit WHERE device_id = ? AND seq > ? ORDER BY seq LIMIT ?",
    ).all(deviceId, afterSeq, limit) as Array<{ record: string }>;
    return rows.map((row) => JSON.parse(row.record) as AuditRecord);
  }

  upsertCheckpoint(row: {
    device_id: string;
    seq: number;
    head_hash: string;
    at: string;
    key_id: string;
    signature: string;
    received_at: string;
    status: "matched" | "pending" | "mismatch";
  }): void {
    this.#sql(
      `INSERT INTO device_checkpoints (device_id, seq, head_hash, at, key_id, signature, received_at, status)
         VALUES (@device_id, @seq, @head_hash, @at, @key_id, @signature, @received_at, @status)
         ON CONFLICT (device_id, seq) DO UPDATE SET head_hash = excluded.head_hash, at = excluded.at,
           key_id = excluded.key_id, signature = excluded.signature,
           received_at = excluded.received_at, status = excluded.status`,
    ).run(row);
  }

  pendingCheckpoints(deviceId: string, upToSeq: number): Array<{ seq: number; head_hash: string }> {
    return this.#sql(
      "SELECT seq, head_hash FROM device_checkpoints WHERE device_id = ? AND status = 'pending' AND seq <= ?",
    ).all(deviceId, upToSeq) as Array<{ seq: number; head_hash: string }>;
  }

  setCheckpointStatus(deviceId: string, seq: number, status: "matched" | "mismatch"): void {
    this.#sql("UPDATE device_checkpoints SET status = ? WHERE device_id = ? AND seq = ?").run(
      status,
      deviceId,
      seq,
    );
  }

  latestCheckpoint(deviceId: string): { seq: number; at: string; status: string } | undefined {
    return this.#sql(
      "SELECT seq, at, status FROM device_checkpoints WHERE device_id = ? ORDER BY seq DESC LIMIT 1",
    ).get(deviceId) as { seq: number; at: string; status: string } | undefined;
  }

  // --- fleet keys ---

  fleetKeys(): FleetKeyRow[] {
    return this.#sql("SELECT * FROM fleet_keys ORDER BY rowid").all() as FleetKeyRow[];
  }

  insertFleetKey(row: Omit<FleetKeyRow, "retired_at">): void {
    this.#sql(
      `INSERT INTO fleet_keys (key_id, public_key, sealed_private_key, created_at, activated_at)
         VALUES (@key_id, @public_key, @sealed_private_key, @created_at, @activated_at)`,
    ).run(row);
  }

  activateFleetKey(keyId: string, at: string): void {
    this.#sql(
      "UPDATE fleet_keys SET activated_at = ? WHERE key_id = ? AND activated_at IS NULL",
    ).run(at, keyId);
  }

  retireFleetKey(keyId: string, at: string): void {
    this.#sql("UPDATE fleet_keys SET retired_at = ? WHERE key_id = ? AND retired_at IS NULL").run(
      at,
      keyId,
    );
  }

  // --- per-lock secrets ---

  insertSecret(deviceId: string, sealedOtpSecret: string): void {
    this.#sql(
      "INSERT INTO device_secrets (device_id, sealed_otp_secret, otp_counter) VALUES (?, ?, 0)",
    ).run(deviceId, sealedOtpSecret);
  }

  secret(deviceId: string): { sealed_otp_secret: string; otp_counter: number } | undefined {
    return this.#sql(
      "SELECT sealed_otp_secret, otp_counter FROM device_secrets WHERE device_id = ?",
    ).get(deviceId) as { sealed_otp_secret: string; otp_counter: number } | undefined;
  }

  /**
   * Reserves `count` fresh one-time-code counters for the lock (strictly increasing, persisted
   * before any code is derived); returns the first of them.
   */
  reserveOtpCounters(deviceId: string, count: number): number {
    const row = this.#sql(
      "UPDATE device_secrets SET otp_counter = otp_counter + ? WHERE device_id = ? RETURNING otp_counter",
    ).get(count, deviceId) as { otp_counter: number } | undefined;
    if (row === undefined)
      throw new CodedError("E_DEVICE_UNKNOWN", `device ${deviceId} has no OTP secret`);
    return row.otp_counter - count + 1;
  }

  // --- alarms and security events ---

  insertAlarm(row: {
    deviceId: string;
    orgId: string;
    alarm: string;
    priority: string;
    at: string;
    source: "device" | "fleet";
    alarmJson: string;
    receivedAt: string;
  }): void {
    this.#sql(
      `INSERT INTO device_alarms (device_id, org_id, alarm, priority, at, source, alarm_json, received_at)
         VALUES (@deviceId, @orgId, @alarm, @priority, @at, @source, @alarmJson, @receivedAt)`,
    ).run(row);
  }

  alarmsOf(deviceId: string): Array<{ alarm: string; source: string; alarm_json: string }> {
    return this.#sql(
      "SELECT alarm, source, alarm_json FROM device_alarms WHERE device_id = ? ORDER BY id",
    ).all(deviceId) as Array<{ alarm: string; source: string; alarm_json: string }>;
  }

  insertSecurityEvents(events: readonly SecurityEvent[]): void {
    if (events.length === 0) return;
    this.db.transaction(() => {
      for (const event of events) this.insertSecurityEvent(event);
    })();
  }

  insertSecurityEvent(event: SecurityEvent): void {
    this.#sql(
      `INSERT INTO device_security_events (at, device_id, org_id, kind, client_id, topic, reason)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      event.at,
      event.deviceId ?? null,
      event.orgId ?? null,
      event.kind,
      event.clientId ?? null,
      event.topic ?? null,
      event.reason,
    );
  }

  securityEvents(deviceId?: string): SecurityEvent[] {
    const rows = (
      deviceId === undefined
        ? this.#sql("SELECT * FROM device_security_events ORDER BY id").all()
        : this.#sql("SELECT * FROM device_security_events WHERE device_id = ? ORDER BY id").all(
            deviceId,
          )
    ) as Array<{
      at: string;
      device_id: string | null;
      org_id: string | null;
      kind: string;
      client_id: string | null;
      topic: string | null;
      reason: string;
    }>;
    return rows.map((row) => ({
      at: row.at,
      deviceId: row.device_id ?? undefined,
      orgId: row.org_id ?? undefined,
      kind: row.kind,
      clientId: row.client_id ?? undefined,
      topic: row.topic ?? undefined,
      reason: row.reason,
    }));
  }

  // --- device message sequences ---

  /** The highest device sequence accepted per lock and stream, with that message's signature. */
  messageMarks(): MessageMark[] {
    return (
      this.#sql(
        "SELECT device_id, stream, seq, signature FROM device_message_seqs",
      ).all() as Array<{
        device_id: string;
        stream: string;
        seq: number;
        signature: string;
      }>
    ).map((row) => ({
      deviceId: row.device_id,
      stream: row.stream,
      seq: row.seq,
      signature: row.signature,
    }));
  }

  writeMessageMarks(marks: readonly MessageMark[]): void {
    if (marks.length === 0) return;
    const upsert = this.#sql(
      `INSERT INTO device_message_seqs (device_id, stream, seq, signature) VALUES (?, ?, ?, ?)
         ON CONFLICT (device_id, stream) DO UPDATE SET seq = excluded.seq, signature = excluded.signature
         WHERE excluded.seq > device_message_seqs.seq`,
    );
    this.db.transaction(() => {
      for (const mark of marks) upsert.run(mark.deviceId, mark.stream, mark.seq, mark.signature);
    })();
  }

  /** The highest checkpoint seq the stored chain confirmed (0 when none). */
  highestMatchedCheckpoint(deviceId: string): number {
    const row = this.#sql(
      "SELECT MAX(seq) AS seq FROM device_checkpoints WHERE device_id = ? AND status = 'matched'",
    ).get(deviceId) as { seq: number | null };
    return row.seq ?? 0;
  }
}
