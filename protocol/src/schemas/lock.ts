/**
 * What a lock enforces (SPEC §3): roles, users, policy, time-lock schedule. These shapes are
 * the ones the edge core stores and the fleet edits; their ranges and defaults are the
 * SPEC's own.
 */
import { type Static, Type } from "@sinclair/typebox";
import {
  ApprovedBy,
  Instant,
  IsoWeekday,
  LocalDate,
  LocalTime,
  PersonId,
  Strict,
  TenantId,
  TimeZone,
} from "./common.js";

export const USER_ROLES = ["master", "manager", "user", "courier", "service"] as const;
export const UserRole = Type.Union(USER_ROLES.map((role) => Type.Literal(role)));
export type UserRole = Static<typeof UserRole>;

/** Keypad user id: two digits, "00"–"99" as an integer. At least 100 users per lock. */
export const UserSlot = Type.Integer({ minimum: 0, maximum: 99 });

/** A weekly period, local wall time, from (startDay, startTime) forward to (endDay, endTime). */
export const WeeklyPeriod = Strict({
  startDay: IsoWeekday,
  startTime: LocalTime,
  endDay: IsoWeekday,
  endTime: LocalTime,
});
export type WeeklyPeriod = Static<typeof WeeklyPeriod>;

export const MAX_WEEKLY_LOCK_PERIODS = 28;
export const MAX_HOLIDAYS = 64;

export const Holiday = Strict({
  from: LocalDate,
  to: LocalDate,
  yearlyRepeat: Type.Boolean(),
  name: Type.Optional(Type.String({ maxLength: 64 })),
});
export type Holiday = Static<typeof Holiday>;

export const TimeLockSchedule = Strict({
  timeZone: TimeZone,
  weekly: Type.Array(WeeklyPeriod, { maxItems: MAX_WEEKLY_LOCK_PERIODS }),
  holidays: Type.Array(Holiday, { maxItems: MAX_HOLIDAYS }),
});
export type TimeLockSchedule = Static<typeof TimeLockSchedule>;

/** A lock user as the fleet describes it. The code never travels here (see user.add). */
export const LockUser = Strict({
  slot: Type.Integer({ minimum: 0, maximum: 99 }),
  personId: PersonId,
  role: UserRole,
  /** CIT company the person works for; absent for bank staff. */
  tenantId: Type.Optional(TenantId),
  validFrom: Type.Optional(Instant),
  validUntil: Type.Optional(Instant),
  /** Weekly periods in which the user may open; absent means at any time. */
  timeProfile: Type.Optional(Type.Array(WeeklyPeriod, { maxItems: MAX_WEEKLY_LOCK_PERIODS })),
  enabled: Type.Boolean(),
});
export type LockUser = Static<typeof LockUser>;

export const DUAL_CONTROL_MODES = ["single", "dual", "triple"] as const;
export const DURESS_MODES = ["off", "lastDigitPlusOne", "separateCode"] as const;

/** Ranges and defaults of SPEC §3. Durations are in seconds unless the name says otherwise. */
export const POLICY_LIMITS = {
  codeLength: { min: 6, max: 8, default: 8 },
  keyTimeoutSec: { min: 5, max: 60, default: 20 },
  secondCodeTimeoutSec: { min: 10, max: 300, default: 60 },
  timeDelayMin: { min: 0, max: 99, default: 5 },
  confirmationWindowMin: { min: 1, max: 19, default: 3 },
  /** No default: unset, a duress opening runs on the normal delay (SPEC §3). */
  duressDelayMin: { min: 0, max: 99 },
  wrongCodeLimit: { min: 2, max: 10, default: 4 },
  penaltyMin: { min: 1, max: 60, default: 5 },
  penaltyMaxMin: { min: 1, max: 120, default: 20 },
  autoRelockSec: { min: 3, max: 120, default: 10 },
  relockAfterCloseSec: { min: 1, max: 60, default: 3 },
  maxOpenSec: { min: 60, max: 99 * 60 + 59, default: 15 * 60 },
  /** How far signed time syncs may move the lock's clock back within any 24 h. */
  timeBackwardSecPerDay: { min: 0, max: 3600, default: 60 },
} as const;

function limited(
  name: keyof typeof POLICY_LIMITS,
  description: string,
  options: { optional?: boolean } = {},
) {
  const limit: { min: number; max: number; default?: number } = POLICY_LIMITS[name];
  // An optional field states its default in words only: a validator that fills defaults must
  // leave it unset (unset is a setting of its own, e.g. the lock's built-in bound).
  const fill = limit.default !== undefined && options.optional !== true;
  return Type.Integer({
    minimum: limit.min,
    maximum: limit.max,
    ...(fill ? { default: limit.default } : {}),
    description:
      limit.default !== undefined && !fill
        ? `${description} (unset: ${limit.default})`
        : description,
  });
}

export const LockPolicy = Strict({
  codeLength: limited("codeLength", "Digits of a code after the 2-digit user id"),
  keyTimeoutSec: limited(
    "keyTimeoutSec",
    "Code entry abandoned after this long without a key press",
  ),
  dualControl: Type.Union(
    DUAL_CONTROL_MODES.map((mode) => Type.Literal(mode)),
    { default: "dual" },
  ),
  secondCodeTimeoutSec: limited(
    "secondCodeTimeoutSec",
    "The next code must follow within this time",
  ),
  /** Require one bank person and one CIT person among the codes of a cycle. */
  mixedParties: Type.Boolean({ default: false }),
  timeDelayMin: limited("timeDelayMin", "Time delay before the confirmation window"),
  confirmationWindowMin: limited(
    "confirmationWindowMin",
    "Window in which the codes must be entered again",
  ),
  /**
   * A separate, longer delay for a duress opening. Unset by default: a duress opening then
   * runs on the normal delay and is indistinguishable in display, sound and timing.
   */
  duressDelayMin: Type.Optional(
    limited(
      "duressDelayMin",
      "Delay for a duress opening when longer than the time delay; unset: the time delay",
    ),
  ),
  duressMode: Type.Union(
    DURESS_MODES.map((mode) => Type.Literal(mode)),
    { default: "lastDigitPlusOne" },
  ),
  wrongCodeLimit: limited("wrongCodeLimit", "Consecutive wrong codes that start a penalty lockout"),
  penaltyMin: limited("penaltyMin", "First penalty lockout"),
  penaltyMaxMin: limited("penaltyMaxMin", "Longest penalty lockout"),
  autoRelockSec: limited(
    "autoRelockSec",
    "Bolt throws again if the door is not opened within this time",
  ),
  relockAfterCloseSec: limited(
    "relockAfterCloseSec",
    "Bolt throws this long after the door closes",
  ),
  maxOpenSec: limited("maxOpenSec", "Door open longer than this raises door-ajar"),
  /** Master users programme the lock; whether their code may also open it. */
  masterMayOpen: Type.Boolean({ default: false }),
  /**
   * Trusted time may move the clock back by at most this much within any 24 h; a larger
   * correction needs a confirmed `time.set`. Unset: the default (60 s).
   */
  timeBackwardSecPerDay: Type.Optional(
    limited("timeBackwardSecPerDay", "Backward clock correction by time sync, per 24 h", {
      optional: true,
    }),
  ),
});
export type LockPolicy = Static<typeof LockPolicy>;

export const DEFAULT_LOCK_POLICY: LockPolicy = {
  codeLength: POLICY_LIMITS.codeLength.default,
  keyTimeoutSec: POLICY_LIMITS.keyTimeoutSec.default,
  dualControl: "dual",
  secondCodeTimeoutSec: POLICY_LIMITS.secondCodeTimeoutSec.default,
  mixedParties: false,
  timeDelayMin: POLICY_LIMITS.timeDelayMin.default,
  confirmationWindowMin: POLICY_LIMITS.confirmationWindowMin.default,
  duressMode: "lastDigitPlusOne",
  wrongCodeLimit: POLICY_LIMITS.wrongCodeLimit.default,
  penaltyMin: POLICY_LIMITS.penaltyMin.default,
  penaltyMaxMin: POLICY_LIMITS.penaltyMaxMin.default,
  autoRelockSec: POLICY_LIMITS.autoRelockSec.default,
  relockAfterCloseSec: POLICY_LIMITS.relockAfterCloseSec.default,
  maxOpenSec: POLICY_LIMITS.maxOpenSec.default,
  masterMayOpen: false,
};

export { ApprovedBy };
