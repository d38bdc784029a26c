/**
 * Audit records, alarms and signed checkpoints (SPEC §3 "Audit log", §4 `event` topic).
 *
 * Each record is hash-chained: `hash` = SHA-256 over the canonical JSON of the record without
 * `hash` (so including `prevHash`); the first record's prevHash is 64 zeros. A checkpoint is
 * the device's Ed25519 signature over the chain head.
 */
import { type Static, Type } from "@sinclair/typebox";
import { DeviceId, Hash, Instant, KeyId, PersonId, Seq, Signature, Strict } from "./common.js";

export const AUDIT_EVENT_KINDS = [
  "device.started",
  /** The lock restarted without a clean shutdown (power cut without warning, crash). */
  "power.lost",
  /** The power-fail input reports mains failed; the lock runs on its reserve. */
  "power.failed",
  /** The power-fail input reports mains back. */
  "power.restored",
  "code.accepted",
  "code.rejected",
  "code.changed",
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
  "user.added",
  "user.changed",
  "user.deleted",
  "policy.changed",
  "timeLock.scheduleChanged",
  "timeLock.holidaysChanged",
  "timeLock.immediate",
  "remote.blocked",
  "remote.unblocked",
  "remote.centralRelease",
  "grant.installed",
  "grant.used",
  "grant.revoked",
  "otp.secretInstalled",
  "otp.accepted",
  "otp.rejected",
  "command.accepted",
  "command.rejected",
  "time.changed",
  "time.rejected",
  "fleetKey.installed",
  "fleetKey.retired",
  "selfTest.completed",
  /** A part whose loss leaves the lock working (display, buzzer…) failed; no lock fault. */
  "hardware.partFault",
  /** A self-test found a part that had failed working again. */
  "hardware.partRestored",
  /** The lock failed secure: bolt thrown, FAULT LOCKED. */
  "lock.fault",
  /** The lock store takes writes again after a storage fault (the fault is on record before it). */
  "storage.restored",
  /** The whole audit chain in the lock store was verified after start (result in `data`). */
  "audit.verified",
  "audit.checkpoint",
  "audit.acknowledged",
  /** Software update steps (data: UpdateAuditData in schemas/release.ts). */
  "update.offered",
  "update.refused",
  "update.downloading",
  "update.verified",
  "update.installed",
  "update.switched",
  "update.healthy",
  "update.rolledBack",
  /** Release-key rotation (data: ReleaseKeysAuditData in schemas/release-keys.ts). */
  "update.keysAccepted",
  "update.keysRefused",
] as const;
export type AuditEventKind = (typeof AUDIT_EVENT_KINDS)[number];
export const AuditEventKindSchema = Type.Union(AUDIT_EVENT_KINDS.map((kind) => Type.Literal(kind)));

export const GENESIS_HASH = "0".repeat(64);

export const AuditRecord = Strict({
  deviceId: DeviceId,
  seq: Seq,
  at: Instant,
  kind: AuditEventKindSchema,
  /** Unique id of the person who acted; null when the lock itself or the hardware acted. */
  actor: Type.Union([PersonId, Type.Null()]),
  data: Type.Record(Type.String(), Type.Unknown()),
  prevHash: Hash,
  hash: Hash,
});
export type AuditRecord = Static<typeof AuditRecord>;

/**
 * Alarm kinds: Matter's DoorLockAlarm names where they fit (lockJammed, wrongCodeEntryLimit,
 * doorForcedOpen, doorAjar, forcedUser = duress), extended for what a safe lock and a fleet
 * add.
 */
export const ALARM_KINDS = [
  "forcedUser",
  "doorForcedOpen",
  "doorAjar",
  "lockJammed",
  "tamper",
  "wrongCodeEntryLimit",
  "powerLoss",
  "lockOffline",
  "clockDrift",
  "auditGap",
  "selfTestFault",
  /** The lock store refused a write or failed its check (disk full, damaged file, broken chain). */
  "storageFault",
  /**
   * The fleet refused a message on a lock's topics: unsigned, signed by another key, replayed,
   * naming another lock or on the wrong topic. Someone other than the lock speaks for it.
   */
  "forgedMessage",
  /** A lock's audit head or checkpoint went backwards: its log was rolled back or replaced. */
  "auditRegression",
  /**
   * The fleet's own data directory refused a write (disk full, read-only). Raised by the fleet
   * about itself, never by a lock; forwarded without a database write, stored once cleared.
   */
  "fleetStorage",
] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];
export const AlarmKindSchema = Type.Union(ALARM_KINDS.map((kind) => Type.Literal(kind)));

export const ALARM_PRIORITIES = ["critical", "high", "medium", "low"] as const;
export type AlarmPriority = (typeof ALARM_PRIORITIES)[number];

export const ALARM_PRIORITY: Readonly<Record<AlarmKind, AlarmPriority>> = {
  forcedUser: "critical",
  doorForcedOpen: "critical",
  tamper: "high",
  lockJammed: "high",
  doorAjar: "medium",
  wrongCodeEntryLimit: "medium",
  auditGap: "medium",
  lockOffline: "medium",
  clockDrift: "low",
  powerLoss: "low",
  selfTestFault: "medium",
  storageFault: "high",
  forgedMessage: "high",
  auditRegression: "high",
  fleetStorage: "critical",
};

/** Alarm notice sent ahead of the audit batch; the audit record at `auditSeq` is the evidence. */
export const Alarm = Strict({
  deviceId: DeviceId,
  alarm: AlarmKindSchema,
  priority: Type.Union(ALARM_PRIORITIES.map((priority) => Type.Literal(priority))),
  at: Instant,
  auditSeq: Seq,
  actor: Type.Union([PersonId, Type.Null()]),
  data: Type.Record(Type.String(), Type.Unknown()),
});
export type Alarm = Static<typeof Alarm>;

/** The device-signed statement "my chain up to `seq` ends in `headHash`". */
export const Checkpoint = Strict({
  deviceId: DeviceId,
  seq: Type.Integer({ minimum: 0 }),
  headHash: Hash,
  at: Instant,
  keyId: KeyId,
  signature: Signature,
});
export type Checkpoint = Static<typeof Checkpoint>;

/** What a device publishes on its `event` topic. */
export const DeviceEventMessage = Type.Union([
  Strict({
    type: Type.Literal("audit"),
    records: Type.Array(AuditRecord, { minItems: 1, maxItems: 500 }),
  }),
  Strict({ type: Type.Literal("alarm"), alarm: Alarm }),
  Strict({ type: Type.Literal("checkpoint"), checkpoint: Checkpoint }),
]);
export type DeviceEventMessage = Static<typeof DeviceEventMessage>;
