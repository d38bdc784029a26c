/**
 * Time locks (SPEC §3): weekly lock periods, holidays and the immediate time lock.
 *
 * Pure: no timers and no Date.now(); every function takes the instant it is asked about, in
 * epoch milliseconds. Periods and holidays are read against the local wall clock of the
 * container's IANA time zone, whose rules come from the platform's IANA data via Intl only.
 *
 * Daylight saving, as a lock user sees it:
 * - A weekly period or holiday applies whenever the local wall clock reads a time inside it.
 * - Clocks going forward skip wall times. A period 02:30–03:30 on the spring-forward night
 *   locks from 03:00 (the first minute that exists) until 03:30; a period lying wholly inside
 *   the skipped hour does not lock that night.
 * - Clocks going back repeat wall times, and each reading is evaluated like any other: both
 *   passes through 02:xx are inside a period 02:00–03:00 (it locks for two real hours).
 * - Clocks going back never open a lock: a container locked at the moment the clock is set
 *   back stays locked until the wall clock again reads the time it was set back from, even
 *   where the repeated readings lie before the period's start (a period 02:30–05:00 holds
 *   through the second 02:00–02:30). A period ending inside the repeated hour does lock again
 *   for the repeated readings it covers.
 */

import { CodedError, WallClock } from "@lockfleet/protocol";

/** ISO weekday: 1 = Monday … 7 = Sunday. Times are local wall-clock "HH:MM" (00:00–23:59; an end of "24:00" is allowed). */
export interface WeeklyLockPeriod {
  startDay: number;
  startTime: string;
  endDay: number;
  endTime: string;
}

/** Whole local days from..to inclusive ("YYYY-MM-DD"); yearlyRepeat ignores the year (from/to may wrap the new year, e.g. 12-24..01-01). */
export interface Holiday {
  from: string;
  to: string;
  yearlyRepeat: boolean;
  name?: string;
}

export interface TimeLockSchedule {
  timeZone: string;
  weekly: WeeklyLockPeriod[];
  holidays: Holiday[];
}

export interface TimeLockError {
  code: "E_TIME_LOCK_INVALID";
  message: string;
}

/** Thrown where a bad schedule or duration cannot be returned as a TimeLockError. */
export class TimeLockInvalidError
  extends CodedError<"E_TIME_LOCK_INVALID">
  implements TimeLockError
{
  constructor(readonly reason: string) {
    super("E_TIME_LOCK_INVALID", reason);
    this.name = "TimeLockInvalidError";
  }
}

/** Why the container is time-locked; index is the position in schedule.weekly / schedule.holidays. */
export type TimeLockReason =
  | { kind: "weekly"; index: number }
  | { kind: "holiday"; index: number }
  | { kind: "immediate"; until: number };

/** Accepted maxima (SPEC §3 asks for at least 28 weekly periods and 64 holidays). */
export const MAX_WEEKLY_PERIODS = 28;
export const MAX_HOLIDAYS = 64;

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const DAY_MINUTES = 24 * 60;
const WEEK_MINUTES = 7 * DAY_MINUTES;

export const IMMEDIATE_TIME_LOCK_MIN_MS = MINUTE_MS;
export const IMMEDIATE_TIME_LOCK_MAX_MS = 144 * HOUR_MS;

/** A lock stretch longer than this is reported as never ending (Infinity). */
const STRETCH_HORIZON_MINUTES = 400 * 366 * DAY_MINUTES;

const WEEKDAY_NAMES = [
  "Monday",
  "Tuesday",
  "Wednesday",
  "Thursday",
  "Friday",
  "Saturday",
  "Sunday",
];

// ---------------------------------------------------------------------------------------------
// Validation

export function validateSchedule(schedule: TimeLockSchedule): TimeLockError | undefined {
  const problem = scheduleProblem(schedule);
  return problem === undefined ? undefined : { code: "E_TIME_LOCK_INVALID", message: problem };
}

function scheduleProblem(schedule: TimeLockSchedule): string | undefined {
  const zoneProblem = timeZoneProblem(schedule.timeZone);
  if (zoneProblem !== undefined) return zoneProblem;
  if (!Array.isArray(schedule.weekly)) return "weekly must be a list of lock periods";
  if (!Array.isArray(schedule.holidays)) return "holidays must be a list of date ranges";
  if (schedule.weekly.length > MAX_WEEKLY_PERIODS) {
    return `${schedule.weekly.length} weekly periods given; a lock holds at most ${MAX_WEEKLY_PERIODS}`;
  }
  if (schedule.holidays.length > MAX_HOLIDAYS) {
    return `${schedule.holidays.length} holidays given; a lock holds at most ${MAX_HOLIDAYS}`;
  }
  for (const [index, period] of schedule.weekly.entries()) {
    const problem = weeklyPeriodProblem(period);
    if (problem !== undefined) return `weekly period ${index + 1}: ${problem}`;
  }
  for (const [index, holiday] of schedule.holidays.entries()) {
    const problem = holidayProblem(holiday);
    if (problem !== undefined) return `${holidayLabel(holiday, index)}: ${problem}`;
  }
  // A container that can never be opened is a configuration mistake, not a policy.
  if (coversWholeWeek(schedule.weekly.map(weekSpanOf))) {
    return "the weekly periods together cover every minute of the week; the container could never be opened";
  }
  if (coversWholeYear(schedule.holidays.filter((h) => h.yearlyRepeat).map(holidayRuleOf))) {
    return "the yearly holidays together cover every day of the year; the container could never be opened";
  }
  return undefined;
}

function timeZoneProblem(timeZone: unknown): string | undefined {
  if (typeof timeZone !== "string" || timeZone === "")
    return "timeZone must name an IANA time zone";
  // Newer platforms accept "+01:00" as a zone; a fixed offset ignores daylight saving.
  if (/^[+-]\d/.test(timeZone)) {
    return `time zone ${timeZone} is a fixed UTC offset, not an IANA time zone such as Europe/Berlin`;
  }
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return undefined;
  } catch (error) {
    if (error instanceof RangeError) {
      return `time zone ${timeZone} is not an IANA time zone known to this platform`;
    }
    throw error;
  }
}

function weeklyPeriodProblem(period: WeeklyLockPeriod): string | undefined {
  for (const field of ["startDay", "endDay"] as const) {
    const day = period[field];
    if (!Number.isInteger(day) || day < 1 || day > 7) {
      return `${field} ${day} is not an ISO weekday (1 = Monday … 7 = Sunday)`;
    }
  }
  if (minutesOfTime(period.startTime, false) === undefined) {
    return `startTime ${period.startTime} is not a time of day (HH:MM, 00:00–23:59)`;
  }
  if (minutesOfTime(period.endTime, true) === undefined) {
    return `endTime ${period.endTime} is not a time of day (HH:MM, 00:00–23:59, or 24:00 as an end)`;
  }
  const span = weekSpanOf(period);
  if (span.start === span.end) {
    return `starts and ends at ${nameOfWeekMinute(span.start)}, which would lock the whole week`;
  }
  return undefined;
}

function holidayProblem(holiday: Holiday): string | undefined {
  if (typeof holiday.yearlyRepeat !== "boolean") return "yearlyRepeat must be true or false";
  if (holiday.name !== undefined && typeof holiday.name !== "string") return "name must be text";
  for (const field of ["from", "to"] as const) {
    const date = parseDate(holiday[field]);
    // The year of a yearly holiday is ignored, so its Feb 29 is checked against a leap year.
    const year = holiday.yearlyRepeat ? 2000 : date?.year;
    if (date === undefined || year === undefined || date.day > daysInMonth(year, date.month)) {
      return `${field} ${holiday[field]} is not a date (YYYY-MM-DD)`;
    }
  }
  if (!holiday.yearlyRepeat && holiday.from > holiday.to) {
    return `from ${holiday.from} is after to ${holiday.to}; only a yearly holiday may wrap the new year`;
  }
  return undefined;
}

function holidayLabel(holiday: Holiday, index: number): string {
  return typeof holiday.name === "string"
    ? `holiday ${index + 1} (${JSON.stringify(holiday.name)})`
    : `holiday ${index + 1}`;
}

function coversWholeWeek(spans: WeekSpan[]): boolean {
  const locked = new Uint8Array(WEEK_MINUTES);
  for (const { start, end } of spans) {
    if (start < end) locked.fill(1, start, end);
    else locked.fill(1, start).fill(1, 0, end);
  }
  return locked.every((minute) => minute === 1);
}

/** True when every day of a common year is a yearly holiday (a lock would open only on leap days). */
function coversWholeYear(rules: HolidayRule[]): boolean {
  const firstDay = dayNumberOf(2001, 1, 1);
  for (let day = firstDay; day < firstDay + 365; day++) {
    if (!rules.some((rule) => holidayCovers(rule, day))) return false;
  }
  return rules.length > 0;
}

// ---------------------------------------------------------------------------------------------
// Immediate time lock

export function validateImmediateTimeLock(durationMs: number): TimeLockError | undefined {
  if (!Number.isFinite(durationMs)) {
    return {
      code: "E_TIME_LOCK_INVALID",
      message: `immediate time lock of ${durationMs} ms is not a duration`,
    };
  }
  if (durationMs < IMMEDIATE_TIME_LOCK_MIN_MS || durationMs > IMMEDIATE_TIME_LOCK_MAX_MS) {
    return {
      code: "E_TIME_LOCK_INVALID",
      message: `immediate time lock of ${describeDuration(durationMs)} is outside 1 min–144 h`,
    };
  }
  return undefined;
}

/**
 * Until when an immediate time lock of `durationMs` started at `now` locks. It never shortens a
 * running one: the later of `currentUntil` and now + duration wins.
 * @throws TimeLockInvalidError when the duration is outside 1 min–144 h.
 */
export function immediateTimeLockUntil(
  now: number,
  durationMs: number,
  currentUntil?: number,
): number {
  const error = validateImmediateTimeLock(durationMs);
  if (error !== undefined) throw new TimeLockInvalidError(error.message);
  const until = now + durationMs;
  return currentUntil !== undefined && currentUntil > until ? currentUntil : until;
}

function describeDuration(ms: number): string {
  if (ms % HOUR_MS === 0) return `${ms / HOUR_MS} h`;
  if (ms % MINUTE_MS === 0) return `${ms / MINUTE_MS} min`;
  return `${ms / 1000} s`;
}

// ---------------------------------------------------------------------------------------------
// A running time lock cannot be shortened

/**
 * When the schedule changes while a time lock runs, the instant until which the lock must still
 * be held (the core keeps it as an immediate-lock hold): the old lock's end, if the new schedule
 * would release earlier. Undefined when no lock runs at `now` or the new schedule holds as long.
 * @throws TimeLockInvalidError when either schedule is invalid.
 */
export function holdOnScheduleChange(
  oldSchedule: TimeLockSchedule,
  newSchedule: TimeLockSchedule,
  now: number,
): number | undefined {
  const oldEnd = new TimeLockEvaluator(oldSchedule).lockedUntil(now);
  if (oldEnd === undefined) return undefined;
  const newEnd = new TimeLockEvaluator(newSchedule).lockedUntil(now) ?? now;
  return newEnd < oldEnd ? oldEnd : undefined;
}

// ---------------------------------------------------------------------------------------------
// The evaluator

/**
 * Answers time-lock questions for one schedule. Every method takes the instant it is asked
 * about and, optionally, the end of a running immediate time lock (or schedule-change hold),
 * which then counts as a lock too.
 */
export class TimeLockEvaluator {
  readonly schedule: TimeLockSchedule;
  readonly #zone: ZoneClock;
  readonly #wall: WallClockSchedule;

  /** @throws TimeLockInvalidError when the schedule does not pass validateSchedule. */
  constructor(schedule: TimeLockSchedule) {
    const error = validateSchedule(schedule);
    if (error !== undefined) throw new TimeLockInvalidError(error.message);
    this.schedule = schedule;
    this.#zone = new ZoneClock(schedule.timeZone);
    this.#wall = new WallClockSchedule(
      schedule.weekly.map(weekSpanOf),
      schedule.holidays.map(holidayRuleOf),
    );
  }

  isLocked(at: number, immediateLockUntil?: number): boolean {
    return this.reasonAt(at, immediateLockUntil) !== undefined;
  }

  /** The first weekly period, else the first holiday, that locks at `at` (immediate lock first of all). */
  reasonAt(at: number, immediateLockUntil?: number): TimeLockReason | undefined {
    if (immediateLockUntil !== undefined && at < immediateLockUntil) {
      return { kind: "immediate", until: immediateLockUntil };
    }
    return this.#scheduleReasonAt(at);
  }

  /**
   * The first instant after `at` at which nothing locks any more: the end of the whole locked
   * stretch, with touching or overlapping periods, holidays and the immediate lock chained.
   * Undefined when not locked at `at`; Infinity when the stretch outlasts 400 years.
   */
  lockedUntil(at: number, immediateLockUntil?: number): number | undefined {
    if (!this.isLocked(at, immediateLockUntil)) return undefined;
    let until = at;
    for (;;) {
      const heldUntil = Math.max(
        immediateLockUntil ?? Number.NEGATIVE_INFINITY,
        this.#scheduleHoldsUntil(until) ?? Number.NEGATIVE_INFINITY,
      );
      if (heldUntil <= until || heldUntil === Number.POSITIVE_INFINITY) {
        return Math.max(until, heldUntil);
      }
      until = heldUntil;
    }
  }

  /**
   * The first instant at or after `at` at which the container is time-locked (`at` itself when
   * it is locked now); undefined when the schedule never locks again.
   */
  nextLockStart(at: number, immediateLockUntil?: number): number | undefined {
    let from = at;
    for (;;) {
      if (this.isLocked(from, immediateLockUntil)) return from;
      const wallStart = this.#wall.startOfNextLock(this.#zone.wallMinuteAt(from));
      const start =
        wallStart === undefined ? undefined : this.#zone.firstInstantReading(wallStart, from);
      // Clocks set back replay wall times already passed, which may lie inside a lock period.
      const setBack = this.#zone.setBackAhead(from);
      if (setBack !== undefined && (start === undefined || start >= setBack)) {
        from = setBack;
        continue;
      }
      if (start === undefined) return undefined;
      // The start may have fallen into skipped wall time; look again from where the clock went on.
      from = start;
    }
  }

  #scheduleReasonAt(at: number): TimeLockReason | undefined {
    const reason = this.#wall.reasonAt(this.#zone.wallMinuteAt(at));
    if (reason !== undefined) return reason;
    // Clocks going back never open a lock: what held just before the set-back still holds.
    const setBack = this.#zone.setBackBefore(at);
    return setBack === undefined ? undefined : this.#scheduleReasonAt(setBack - MINUTE_MS);
  }

  /** If the schedule locks at `at`, an instant after `at` until which it certainly does. */
  #scheduleHoldsUntil(at: number): number | undefined {
    const wallMinute = this.#zone.wallMinuteAt(at);
    if (this.#wall.reasonAt(wallMinute) !== undefined) {
      const end = this.#wall.endOfLockedStretch(wallMinute);
      return end === Number.POSITIVE_INFINITY ? end : this.#zone.firstInstantReading(end, at);
    }
    const setBack = this.#zone.setBackBefore(at);
    if (setBack === undefined || this.#scheduleReasonAt(setBack - MINUTE_MS) === undefined) {
      return undefined;
    }
    // Held across the set-back until the wall clock reads the minute it was set back from.
    const setBackFrom = this.#zone.wallMinuteAt(setBack - MINUTE_MS) + 1;
    return this.#zone.firstInstantReading(setBackFrom, at);
  }
}

// ---------------------------------------------------------------------------------------------
// The schedule on a local wall clock, free of time zones

/** Minutes since 1970-01-01 00:00 as read on a local wall clock (not an instant). */
type WallMinute = number;

/** A weekly period as minutes of the ISO week (0 = Monday 00:00); end is exclusive and wraps the week when below start. */
interface WeekSpan {
  start: number;
  end: number;
}

/** Days are counted from 1970-01-01; month-days are keyed month * 100 + day (Dec 24 = 1224). */
type HolidayRule =
  | { yearly: false; firstDay: number; lastDay: number }
  | { yearly: true; from: number; to: number };

function weekSpanOf(period: WeeklyLockPeriod): WeekSpan {
  const minuteOfWeek = (day: number, minutes: number) =>
    ((day - 1) * DAY_MINUTES + minutes) % WEEK_MINUTES;
  return {
    start: minuteOfWeek(period.startDay, minutesOfTime(period.startTime, false) ?? 0),
    end: minuteOfWeek(period.endDay, minutesOfTime(period.endTime, true) ?? 0),
  };
}

function weekSpanCovers(span: WeekSpan, minuteOfWeek: number): boolean {
  return span.start < span.end
    ? span.start <= minuteOfWeek && minuteOfWeek < span.end
    : minuteOfWeek >= span.start || minuteOfWeek < span.end;
}

function holidayRuleOf(holiday: Holiday): HolidayRule {
  const from = parseDate(holiday.from) ?? { year: 1970, month: 1, day: 1 };
  const to = parseDate(holiday.to) ?? from;
  return holiday.yearlyRepeat
    ? { yearly: true, from: from.month * 100 + from.day, to: to.month * 100 + to.day }
    : {
        yearly: false,
        firstDay: dayNumberOf(from.year, from.month, from.day),
        lastDay: dayNumberOf(to.year, to.month, to.day),
      };
}

function holidayCovers(rule: HolidayRule, day: number): boolean {
  if (!rule.yearly) return rule.firstDay <= day && day <= rule.lastDay;
  const key = monthDayKeyOf(day);
  return rule.from <= rule.to
    ? rule.from <= key && key <= rule.to
    : key >= rule.from || key <= rule.to;
}

/** The day after the occurrence of `rule` that covers `day`. */
function holidayEndAfter(rule: HolidayRule, day: number): number {
  if (!rule.yearly) return rule.lastDay + 1;
  const { year } = civilDateOf(day);
  const wrapsIntoNextYear = rule.from > rule.to && monthDayKeyOf(day) >= rule.from;
  const endYear = wrapsIntoNextYear ? year + 1 : year;
  const month = Math.floor(rule.to / 100);
  // A yearly holiday ending on Feb 29 ends on Feb 28 in common years.
  const lastDay = dayNumberOf(endYear, month, Math.min(rule.to % 100, daysInMonth(endYear, month)));
  return lastDay + 1;
}

/** The first day after `day` on which an occurrence of `rule` starts, if any. */
function holidayStartAfter(rule: HolidayRule, day: number): number | undefined {
  if (!rule.yearly) return rule.firstDay > day ? rule.firstDay : undefined;
  const { year } = civilDateOf(day);
  // Feb 29 may be eight years away (2096 → 2104); Feb 29 of a common year rolls over to Mar 1.
  for (let candidateYear = year; candidateYear <= year + 8; candidateYear++) {
    const start = dayNumberOf(candidateYear, Math.floor(rule.from / 100), rule.from % 100);
    if (start > day && holidayCovers(rule, start)) return start;
  }
  return undefined;
}

class WallClockSchedule {
  readonly #weekly: WeekSpan[];
  readonly #holidays: HolidayRule[];

  constructor(weekly: WeekSpan[], holidays: HolidayRule[]) {
    this.#weekly = weekly;
    this.#holidays = holidays;
  }

  reasonAt(wallMinute: WallMinute): TimeLockReason | undefined {
    const minuteOfWeek = minuteOfWeekOf(wallMinute);
    const weeklyIndex = this.#weekly.findIndex((span) => weekSpanCovers(span, minuteOfWeek));
    if (weeklyIndex >= 0) return { kind: "weekly", index: weeklyIndex };
    const day = Math.floor(wallMinute / DAY_MINUTES);
    const holidayIndex = this.#holidays.findIndex((rule) => holidayCovers(rule, day));
    if (holidayIndex >= 0) return { kind: "holiday", index: holidayIndex };
    return undefined;
  }

  /** The first wall minute at or after `from` that nothing locks (Infinity beyond the horizon). */
  endOfLockedStretch(from: WallMinute): WallMinute {
    let end = from;
    for (;;) {
      const further = this.#latestEndOfLocksAt(end);
      if (further === undefined) return end;
      if (further - from > STRETCH_HORIZON_MINUTES) return Number.POSITIVE_INFINITY;
      end = further;
    }
  }

  /** The first wall minute at or after `from` that something locks; undefined if none ever does. */
  startOfNextLock(from: WallMinute): WallMinute | undefined {
    if (this.reasonAt(from) !== undefined) return from;
    const minuteOfWeek = minuteOfWeekOf(from);
    const day = Math.floor(from / DAY_MINUTES);
    let start: WallMinute | undefined;
    for (const span of this.#weekly) {
      start = earlier(start, from + ((span.start - minuteOfWeek + WEEK_MINUTES) % WEEK_MINUTES));
    }
    for (const rule of this.#holidays) {
      const startDay = holidayStartAfter(rule, day);
      if (startDay !== undefined) start = earlier(start, startDay * DAY_MINUTES);
    }
    return start;
  }

  /** The latest end among the periods and holidays locking at `wallMinute`; undefined if none. */
  #latestEndOfLocksAt(wallMinute: WallMinute): WallMinute | undefined {
    const minuteOfWeek = minuteOfWeekOf(wallMinute);
    const day = Math.floor(wallMinute / DAY_MINUTES);
    let end: WallMinute | undefined;
    for (const span of this.#weekly) {
      if (weekSpanCovers(span, minuteOfWeek)) {
        end = later(end, wallMinute + ((span.end - minuteOfWeek + WEEK_MINUTES) % WEEK_MINUTES));
      }
    }
    for (const rule of this.#holidays) {
      if (holidayCovers(rule, day)) end = later(end, holidayEndAfter(rule, day) * DAY_MINUTES);
    }
    return end;
  }
}

function earlier(a: number | undefined, b: number): number {
  return a === undefined ? b : Math.min(a, b);
}

function later(a: number | undefined, b: number): number {
  return a === undefined ? b : Math.max(a, b);
}

// ---------------------------------------------------------------------------------------------
// Local wall time ↔ instants, from the platform's IANA data

/** One time zone's wall clock, read in whole minutes, with the transitions a time lock must place. */
class ZoneClock extends WallClock {
  wallMinuteAt(at: number): WallMinute {
    return Math.floor(this.wallTimeAt(at) / MINUTE_MS);
  }

  /** The instants at which the wall clock reads `wallMinute`: none (skipped), one, or two (repeated). */
  instantsReading(wallMinute: WallMinute): number[] {
    const wallTime = wallMinute * MINUTE_MS;
    // Offsets a day either side are the only candidates: no zone changes twice within two days.
    const candidates = [
      ...new Set([DAY_MS, -DAY_MS].map((d) => wallTime - this.offsetAt(wallTime - d))),
    ];
    return candidates.filter((at) => this.wallMinuteAt(at) === wallMinute).sort((a, b) => a - b);
  }

  /** The instant the wall clock reads `wallMinute`: the earlier or later one when read twice, the first existing minute after it when skipped. */
  instantOf(wallMinute: WallMinute, overlap: "earlier" | "later"): number {
    const instants = this.instantsReading(wallMinute);
    const chosen = overlap === "earlier" ? instants[0] : instants[instants.length - 1];
    return chosen ?? this.#endOfSkip(wallMinute);
  }

  /** The first instant after `after` at which the wall clock reads `wallMinute`, or the first existing minute after it when skipped. */
  firstInstantReading(wallMinute: WallMinute, after: number): number {
    const instants = this.instantsReading(wallMinute);
    const first =
      instants.length === 0 ? this.#endOfSkip(wallMinute) : instants.find((at) => at > after);
    if (first === undefined || first <= after) {
      throw new Error(
        `wall time ${new Date(wallMinute * MINUTE_MS).toISOString()} in ${this.timeZone} does not follow ${new Date(after).toISOString()}`,
      );
    }
    return first;
  }

  /** If `at` lies in the first pass of wall time that the clock is about to repeat: the instant it is set back. */
  setBackAhead(at: number): number | undefined {
    const repeat = this.#repetitionOf(at);
    return repeat !== undefined && at < repeat.secondPass ? repeat.setBack : undefined;
  }

  /** If `at` lies in the second pass of repeated wall time: the instant the clock was set back. */
  setBackBefore(at: number): number | undefined {
    const repeat = this.#repetitionOf(at);
    return repeat !== undefined && at >= repeat.secondPass ? repeat.setBack : undefined;
  }

  /** For a reading that occurs twice: where its second pass reads it, and when the clock was set back. */
  #repetitionOf(at: number): { secondPass: number; setBack: number } | undefined {
    const [firstPass, secondPass] = this.instantsReading(this.wallMinuteAt(at));
    if (firstPass === undefined || secondPass === undefined) return undefined;
    const offsetAfter = this.offsetAt(secondPass);
    const setBack = firstMinuteFrom(firstPass, secondPass, (t) => this.offsetAt(t) === offsetAfter);
    return { secondPass, setBack };
  }

  /** Where the clock goes on after skipping `wallMinute` (the transition instant). */
  #endOfSkip(wallMinute: WallMinute): number {
    const wallTime = wallMinute * MINUTE_MS;
    const [low, high] = [DAY_MS, -DAY_MS]
      .map((d) => wallTime - this.offsetAt(wallTime - d))
      .sort((a, b) => a - b);
    const readsAtOrAfter = (at: number) => this.wallMinuteAt(at) >= wallMinute;
    if (low === undefined || high === undefined || readsAtOrAfter(low) || !readsAtOrAfter(high)) {
      throw new Error(
        `cannot place wall time ${new Date(wallTime).toISOString()} in ${this.timeZone}`,
      );
    }
    return firstMinuteFrom(low, high, readsAtOrAfter);
  }
}

/** Binary search over whole minutes from `low` (fails) to `high` (holds) for the first that holds. */
function firstMinuteFrom(low: number, high: number, holds: (at: number) => boolean): number {
  let [failing, holding] = [low, high];
  while (holding - failing > MINUTE_MS) {
    const middle = failing + Math.floor((holding - failing) / 2 / MINUTE_MS) * MINUTE_MS;
    if (holds(middle)) holding = middle;
    else failing = middle;
  }
  return holding;
}

const zoneClocks = new Map<string, ZoneClock>();

function zoneClockOf(timeZone: string): ZoneClock {
  let clock = zoneClocks.get(timeZone);
  if (clock === undefined) {
    clock = new ZoneClock(timeZone);
    zoneClocks.set(timeZone, clock);
  }
  return clock;
}

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  weekday: number;
  hour: number;
  minute: number;
}

/** The local wall-clock reading at `at` in `timeZone` (seconds dropped). */
export function localParts(at: number, timeZone: string): LocalParts {
  const wallMinute = zoneClockOf(timeZone).wallMinuteAt(at);
  const day = Math.floor(wallMinute / DAY_MINUTES);
  const minuteOfDay = wallMinute - day * DAY_MINUTES;
  return {
    ...civilDateOf(day),
    weekday: isoWeekdayOf(day),
    hour: Math.floor(minuteOfDay / 60),
    minute: minuteOfDay % 60,
  };
}

/**
 * The instant at which the wall clock in `timeZone` reads the given local time (hour 24 is
 * midnight of the next day). Wall time skipped by clocks going forward resolves to the first
 * existing minute after it (the moment of the change); wall time repeated by clocks going back
 * resolves to the earlier instant unless `overlap` asks for the later one.
 */
export function instantOfLocal(
  timeZone: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  overlap: "earlier" | "later" = "earlier",
): number {
  const wallMinute = dayNumberOf(year, month, day) * DAY_MINUTES + hour * 60 + minute;
  return zoneClockOf(timeZone).instantOf(wallMinute, overlap);
}

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, days counted from 1970-01-01)

/** Minutes since midnight of "HH:MM"; "24:00" only where an end of day is allowed. */
function minutesOfTime(text: unknown, endOfDayAllowed: boolean): number | undefined {
  const match = typeof text === "string" ? /^(\d{2}):(\d{2})$/.exec(text) : null;
  if (match === null) return undefined;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (endOfDayAllowed && hours === 24 && minutes === 0) return DAY_MINUTES;
  return hours <= 23 && minutes <= 59 ? hours * 60 + minutes : undefined;
}

/** "YYYY-MM-DD" with month 1–12 and day 1–31; whether the day exists is the caller's question. */
function parseDate(text: unknown): { year: number; month: number; day: number } | undefined {
  const match = typeof text === "string" ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(text) : null;
  if (match === null) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 ? { year, month, day } : undefined;
}

/** Days since 1970-01-01; days past the month's end roll over (Feb 29, 2031 is Mar 1). */
function dayNumberOf(year: number, month: number, day: number): number {
  return Date.UTC(year, month - 1, day) / DAY_MS;
}

function civilDateOf(day: number): { year: number; month: number; day: number } {
  const date = new Date(day * DAY_MS);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function monthDayKeyOf(day: number): number {
  const date = civilDateOf(day);
  return date.month * 100 + date.day;
}

/** 1970-01-01 was a Thursday (ISO weekday 4). */
function isoWeekdayOf(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

function minuteOfWeekOf(wallMinute: WallMinute): number {
  const day = Math.floor(wallMinute / DAY_MINUTES);
  return (isoWeekdayOf(day) - 1) * DAY_MINUTES + (wallMinute - day * DAY_MINUTES);
}

function nameOfWeekMinute(minuteOfWeek: number): string {
  const minuteOfDay = minuteOfWeek % DAY_MINUTES;
  const time = `${String(Math.floor(minuteOfDay / 60)).padStart(2, "0")}:${String(minuteOfDay % 60).padStart(2, "0")}`;
  return `${WEEKDAY_NAMES[Math.floor(minuteOfWeek / DAY_MINUTES)]} ${time}`;
}
