/**
 * Every signed message from the fleet to a lock (SPEC §3 "Remote functions", §4). Each is the
 * `body` of an envelope whose `type` is the key in COMMAND_BODIES; the lock applies each on
 * top of its own rules, never instead of them.
 */
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import {
  ApprovedBy,
  Hash,
  Id,
  Instant,
  KeyId,
  PersonId,
  PublicKey,
  SealedSecret,
  Seq,
  Strict,
} from "./common.js";
import { AccessGrant } from "./grant.js";
import { Holiday, LockPolicy, LockUser, MAX_HOLIDAYS, TimeLockSchedule, UserSlot } from "./lock.js";
import { UpdateOfferBody } from "./release.js";

/** Adds a user; the initial code is sealed to the lock (a PIN letter the fleet cannot read). */
export const UserAddBody = Strict({
  user: LockUser,
  initialCode: SealedSecret,
  /** Per-user duress code, when the lock's duress mode is "separateCode". */
  duressCode: Type.Optional(SealedSecret),
});

export const UserChangeBody = Strict({
  slot: UserSlot,
  personId: PersonId,
  changes: Type.Partial(Type.Omit(LockUser, ["slot", "personId"]), { additionalProperties: false }),
});

export const UserDeleteBody = Strict({ slot: UserSlot, personId: PersonId });

/** Full policy. A weakening change must name two distinct approvers (checked by the lock too). */
export const PolicyChangeBody = Strict({ policy: LockPolicy, approvedBy: ApprovedBy });

export const TimeLockScheduleBody = Strict({ schedule: TimeLockSchedule, approvedBy: ApprovedBy });

export const HolidaysSetBody = Strict({
  holidays: Type.Array(Holiday, { maxItems: MAX_HOLIDAYS }),
  approvedBy: ApprovedBy,
});

/** "Lock for N minutes from now", 1 min – 144 h. */
export const ImmediateTimeLockBody = Strict({
  minutes: Type.Integer({ minimum: 1, maximum: 144 * 60 }),
});

export const RemoteBlockBody = Strict({ reason: Type.String({ minLength: 1, maxLength: 200 }) });
export const RemoteUnblockBody = Strict({ approvedBy: ApprovedBy });

/** The fleet supplies one authorisation for one cycle, valid until the envelope expires. */
export const CentralReleaseBody = Strict({
  approvedBy: ApprovedBy,
  reason: Type.String({ maxLength: 200 }),
});

export const GrantRevokeBody = Strict({ grantId: Id });

/**
 * Trusted time: the lock sets its clock to `time`. Its validity is checked against the lock's
 * own clock like any envelope's, and it moves the clock back only within the lock's daily
 * bound (`timeBackwardSecPerDay`).
 */
export const TimeSyncBody = Strict({ time: Instant });

/** How far the jump a `time.set` makes may differ from the one its approvers confirmed. */
export const TIME_SET_CONFIRM_TOLERANCE_MS = 60_000;

/**
 * A clock correction beyond what a time sync may make: named by two distinct approvers, and
 * explicitly confirmed — `confirmJumpSec` is the jump they approved (`time` minus the lock's
 * time as last seen), which the lock checks against its own clock before it moves.
 */
export const TimeSetBody = Strict({
  time: Instant,
  confirmJumpSec: Type.Integer({ minimum: -366 * 86_400, maximum: 366 * 86_400 }),
  approvedBy: ApprovedBy,
  reason: Type.String({ minLength: 1, maxLength: 200 }),
});

/** The fleet has stored every audit record up to `upToSeq`; the lock may prune them. */
export const AuditAckBody = Strict({
  upToSeq: Type.Integer({ minimum: 0 }),
  headHash: Hash,
});

/** The fleet misses records fromSeq..toSeq (inclusive) and asks for them again. */
export const AuditGapRequestBody = Strict({ fromSeq: Seq, toSeq: Seq });

export const SelfTestRequestBody = Strict({});

/** Installs the per-lock one-time-code secret, sealed to the lock. */
export const OtpSecretBody = Strict({
  secret: SealedSecret,
  counter: Type.Integer({ minimum: 0 }),
});

/** Adds a fleet signing key (rotation): signed by a key the lock already trusts. */
export const FleetKeyInstallBody = Strict({
  keyId: KeyId,
  publicKey: PublicKey,
  retire: Type.Optional(KeyId),
});

export const COMMAND_BODIES = {
  "user.add": UserAddBody,
  "user.change": UserChangeBody,
  "user.delete": UserDeleteBody,
  "policy.change": PolicyChangeBody,
  "timeLock.schedule": TimeLockScheduleBody,
  "timeLock.holidays": HolidaysSetBody,
  "timeLock.immediate": ImmediateTimeLockBody,
  "remote.block": RemoteBlockBody,
  "remote.unblock": RemoteUnblockBody,
  "remote.centralRelease": CentralReleaseBody,
  grant: AccessGrant,
  "grant.revoke": GrantRevokeBody,
  "time.sync": TimeSyncBody,
  "time.set": TimeSetBody,
  "audit.ack": AuditAckBody,
  "audit.gapRequest": AuditGapRequestBody,
  "selfTest.request": SelfTestRequestBody,
  "otp.secret": OtpSecretBody,
  "fleetKey.install": FleetKeyInstallBody,
  /** A signed release offered to this lock (software update; release-key signature inside). */
  "update.offer": UpdateOfferBody,
} as const satisfies Record<string, TSchema>;

export type CommandType = keyof typeof COMMAND_BODIES;
export const COMMAND_TYPES = Object.keys(COMMAND_BODIES) as CommandType[];
export type CommandBody<T extends CommandType> = Static<(typeof COMMAND_BODIES)[T]>;

export function isCommandType(type: string): type is CommandType {
  return Object.hasOwn(COMMAND_BODIES, type);
}
