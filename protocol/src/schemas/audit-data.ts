/**
 * The `data` of each audit record kind (as matter.js types each LockOperation event): the lock
 * writes it through these types, the fleet reads it through `auditDataOf`, and neither probes
 * fields with `typeof`.
 *
 * Unlike the protocol's messages these objects stay open to fields they do not name: a record
 * is evidence signed into the lock's hash chain, kept for years and written by whichever
 * firmware ran then. A newer firmware's extra field must not make an older fleet reject the
 * record (the chain already proves it was not altered); the fields named here are required
 * and typed.
 */
import { type Static, type TObject, type TProperties, type TSchema, Type } from "@sinclair/typebox";
import { type AuditDataErrorCode, fail, type Result, succeed } from "../errors.js";
import { isValid } from "../validate.js";
import { ALARM_PRIORITIES, AlarmKindSchema, type AuditEventKind } from "./audit.js";
import { Instant } from "./common.js";
import { LockPolicy, TimeLockSchedule, UserRole } from "./lock.js";
import { UpdateAuditData } from "./release.js";
import { ReleaseKeysAuditData } from "./release-keys.js";
import { CommandRefusal, MessageRefusal, SelfTestReport } from "./result.js";

/** Why the lock refused a code at the keypad: the `reason` of a `code.rejected` record. */
export const CODE_REFUSALS = [
  // a wrong entry, counted towards the wrong-code lockout
  "format",
  "wrongCode",
  "oneTimeCode",
  // a right code that may not open now
  "fault",
  "alreadyOpen",
  "delayRunning",
  "blocked",
  "timeLocked",
  "disabled",
  "notYetValid",
  "expired",
  "masterMayNotOpen",
  "outsideTimeProfile",
  "samePerson",
  "mixedPartiesRequired",
  // programming and code change
  "containerClosed",
  "unknownFunction",
  "outOfRange",
  "newCodeRefused",
  "repeatMismatch",
] as const;
export type CodeRefusal = (typeof CODE_REFUSALS)[number];

/** Why the lock refused a one-time code: the `reason` of an `otp.rejected` record. */
export const OTP_REFUSALS = [
  "noSecretInstalled",
  "noMatch",
  "samePerson",
  "mixedPartiesRequired",
] as const;
export type OtpRefusal = (typeof OTP_REFUSALS)[number];

function Open<T extends TProperties>(properties: T): TObject<T> {
  return Type.Object(properties, { additionalProperties: true });
}

const Opt = Type.Optional;
const Count = Type.Integer({ minimum: 0 });
const Slot = Type.Integer({ minimum: 0, maximum: 99 });
const Persons = Type.Array(Type.String());
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const PowerSource = Type.Union([Type.Literal("powerFailInput"), Type.Literal("startUp")]);
const TimeCommand = Type.Union([Type.Literal("time.sync"), Type.Literal("time.set")]);
const CyclePhase = Type.Union(
  ["collecting", "delay", "window", "released", "open"].map((phase) => Type.Literal(phase)),
);
const Via = Type.Union(["code", "grant", "otp", "centralRelease"].map((via) => Type.Literal(via)));
const CycleEnd = Open({ phase: Opt(CyclePhase), reason: Type.String() });
const Unblocked = Open({ approvedBy: Persons });
const ScheduleChange = Open({
  schedule: TimeLockSchedule,
  approvedBy: Persons,
  heldUntil: Opt(Instant),
});
const TimeMove = {
  command: TimeCommand,
  from: Instant,
  to: Instant,
  jumpMs: Type.Number(),
  confirmJumpSec: Opt(Type.Number()),
  approvedBy: Opt(Persons),
};

/** The data schema of every audit record kind. */
export const AUDIT_DATA = {
  "device.started": Open({
    firmware: Type.String(),
    factorySetUp: Type.Boolean(),
    cleanShutdown: Type.Boolean(),
  }),
  "power.lost": Open({}),
  "power.failed": Open({ source: PowerSource }),
  "power.restored": Open({ source: PowerSource }),
  /** A code was right: for an opening (`via`), a code change, programming or a prompt. */
  "code.accepted": Open({
    slot: Nullable(Slot),
    purpose: Opt(Type.Union([Type.Literal("codeChange"), Type.Literal("programming")])),
    forced: Opt(Type.Boolean()),
    awaiting: Opt(Type.Literal("oneTimeCode")),
    via: Opt(Via),
    round: Opt(Type.Union([Type.Literal(1), Type.Literal(2)])),
    given: Opt(Count),
    required: Opt(Count),
    grantId: Opt(Type.String()),
  }),
  /** `slot` as typed (two digits, possibly no user) for a wrong code, else the user's slot. */
  "code.rejected": Open({
    slot: Type.Union([Slot, Type.String(), Type.Null()]),
    reason: Type.Union(CODE_REFUSALS.map((reason) => Type.Literal(reason))),
    consecutiveWrong: Opt(Count),
    purpose: Opt(Type.String()),
  }),
  "code.changed": Open({ slot: Slot, wasInitialCode: Type.Boolean() }),
  "cycle.started": Open({ via: Via }),
  "cycle.delayStarted": Open({
    minutes: Type.Number(),
    endsAt: Instant,
    restarted: Opt(Type.Literal(true)),
  }),
  "cycle.windowOpened": Open({ minutes: Type.Number() }),
  /** The bolt is released: opening `openingNumber` of this lock, by `persons`. */
  "cycle.confirmed": Open({
    openingNumber: Count,
    persons: Persons,
    confirmedBy: Opt(Persons),
  }),
  "cycle.cancelled": CycleEnd,
  "cycle.expired": CycleEnd,
  "bolt.retracted": Open({}),
  "bolt.thrown": Open({}),
  "door.opened": Open({ openingNumber: Opt(Count), continuesOpening: Opt(Type.Literal(true)) }),
  "door.closed": Open({}),
  /** The opening ended locked; `closeSeal` proves it (protocol close-seal.ts). */
  "lock.relocked": Open({
    openingNumber: Count,
    closeSeal: Type.String(),
    afterRestart: Opt(Type.Literal(true)),
  }),
  /** The alarm and its priority; the rest is the alarm's own detail. */
  "alarm.raised": Open({
    alarm: AlarmKindSchema,
    priority: Type.Union(ALARM_PRIORITIES.map((priority) => Type.Literal(priority))),
  }),
  /** The alarm's condition ended; for powerLoss with where that was seen and the mains state. */
  "alarm.cleared": Open({
    alarm: AlarmKindSchema,
    source: Opt(PowerSource),
    mains: Opt(Type.Literal("restored")),
  }),
  "penalty.started": Open({
    minutes: Type.Number(),
    lockout: Opt(Count),
    restarted: Opt(Type.Literal(true)),
  }),
  "penalty.ended": Open({}),
  "user.added": Open({
    slot: Slot,
    personId: Type.String(),
    role: UserRole,
    tenantId: Nullable(Type.String()),
  }),
  "user.changed": Open({ slot: Slot, personId: Type.String(), changed: Type.Array(Type.String()) }),
  "user.deleted": Open({ slot: Slot, personId: Type.String() }),
  /** At factory set-up (`reason`), by a fleet command (`approvedBy`) or at the keypad (`via`). */
  "policy.changed": Open({
    policy: LockPolicy,
    reason: Opt(Type.String()),
    users: Opt(Count),
    approvedBy: Opt(Persons),
    via: Opt(Type.Literal("keypad")),
    /** The programming function changed at the keypad. */
    changed: Opt(Type.String()),
    weakenings: Opt(Type.Array(Type.String())),
  }),
  "timeLock.scheduleChanged": ScheduleChange,
  "timeLock.holidaysChanged": ScheduleChange,
  "timeLock.immediate": Open({ minutes: Type.Number(), until: Instant }),
  "remote.blocked": Open({ reason: Type.String() }),
  "remote.unblocked": Unblocked,
  "remote.centralRelease": Open({ approvedBy: Persons, reason: Type.String(), until: Instant }),
  "grant.installed": Open({
    grantId: Type.String(),
    persons: Nullable(Persons),
    tenantRole: Nullable(Open({ role: UserRole, tenantId: Type.String() })),
    notBefore: Instant,
    notAfter: Instant,
    maxOpenings: Count,
    dualControlRequired: Type.Boolean(),
  }),
  "grant.used": Open({ grantId: Type.String(), openings: Count, maxOpenings: Count }),
  "grant.revoked": Open({ grantId: Type.String() }),
  "otp.secretInstalled": Open({ counter: Count, source: Opt(Type.String()) }),
  "otp.accepted": Open({ counter: Count, notBefore: Instant, notAfter: Instant }),
  /** A one-time code refused; `counterSpent` when the lock took the code but opened nothing. */
  "otp.rejected": Open({
    reason: Type.Union(OTP_REFUSALS.map((reason) => Type.Literal(reason))),
    counter: Opt(Count),
    notBefore: Opt(Instant),
    notAfter: Opt(Instant),
    counterSpent: Opt(Type.Literal(true)),
  }),
  "command.accepted": Open({ id: Type.String(), type: Type.String(), seq: Count }),
  /** Refused by its envelope (no `type` then) or by the lock's own rules. */
  "command.rejected": Open({
    id: Type.String(),
    type: Opt(Type.String()),
    code: Type.Union([MessageRefusal, CommandRefusal]),
    reason: Type.String(),
  }),
  "time.changed": Open({ ...TimeMove, reason: Opt(Type.String()) }),
  "time.rejected": Open({
    ...TimeMove,
    reason: Type.String(),
    usedMs: Opt(Type.Number()),
    budgetMs: Opt(Type.Number()),
  }),
  "fleetKey.installed": Open({ keyId: Type.String(), retired: Nullable(Type.String()) }),
  "fleetKey.retired": Open({ keyId: Type.String() }),
  "selfTest.completed": Open({
    hardwareProfile: SelfTestReport.properties.hardwareProfile,
    parts: SelfTestReport.properties.parts,
  }),
  "hardware.partFault": Open({ part: Type.String(), code: Type.String(), error: Type.String() }),
  "hardware.partRestored": Open({ part: Type.String() }),
  "lock.fault": Open({ error: Type.String(), code: Opt(Type.String()) }),
  "storage.restored": Open({ since: Instant }),
  /** The background whole-chain check: `ok`, the range checked, else the code and sentence. */
  "audit.verified": Open({
    ok: Type.Boolean(),
    fromSeq: Count,
    toSeq: Count,
    code: Opt(Type.String()),
    message: Opt(Type.String()),
  }),
  "audit.checkpoint": Open({}),
  /** Acknowledgements and gap requests received since the record before (edge AckSection). */
  "audit.acknowledged": Open({
    commands: Count,
    firstId: Type.String(),
    lastId: Type.String(),
    since: Instant,
    at: Instant,
    upToSeq: Opt(Count),
  }),
  /** The steps of a software update, one data shape for all of them. */
  "update.offered": UpdateAuditData,
  "update.refused": UpdateAuditData,
  "update.downloading": UpdateAuditData,
  "update.verified": UpdateAuditData,
  "update.installed": UpdateAuditData,
  "update.switched": UpdateAuditData,
  "update.healthy": UpdateAuditData,
  "update.rolledBack": UpdateAuditData,
  /** A signed release-key set taken (with the key ids it revoked) or refused (with the code). */
  "update.keysAccepted": ReleaseKeysAuditData,
  "update.keysRefused": ReleaseKeysAuditData,
} as const satisfies Record<AuditEventKind, TObject>;

/** The `data` of an audit record of kind `K`. */
export type AuditData<K extends AuditEventKind> = Static<(typeof AUDIT_DATA)[K]>;

/**
 * The typed `data` of `record` when it is of kind `kind` and its data matches the kind's
 * schema; a coded error otherwise (another kind, or data that does not read as this kind).
 */
export function auditDataOf<K extends AuditEventKind>(
  record: { kind: string; data: unknown; seq: number },
  kind: K,
): Result<AuditData<K>, AuditDataErrorCode> {
  if (record.kind !== kind) {
    return fail("E_AUDIT_KIND", `audit record ${record.seq} is ${record.kind}, not ${kind}`);
  }
  const data = record.data;
  if (!isValid<(typeof AUDIT_DATA)[K]>(AUDIT_DATA[kind], data)) {
    return fail("E_AUDIT_DATA", `audit record ${record.seq} (${kind}) has data of another shape`);
  }
  return succeed(data);
}
