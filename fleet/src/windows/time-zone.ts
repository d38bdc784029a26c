/**
 * Wall-clock time in a branch's IANA time zone, from the platform's own time-zone data
 * (`Intl`), never from offset tables: standing route windows are "Monday 06:00–09:00 at the
 * branch", which is a different UTC instant in summer and winter.
 */
import { WallClock } from "@lockfleet/protocol";
import { FleetError } from "../errors.js";

export interface LocalDate {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
}

export interface LocalParts extends LocalDate {
  hour: number;
  minute: number;
  second: number;
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  weekday: number;
}

const wallClocks = new Map<string, WallClock>();

function wallClock(timeZone: string): WallClock {
  let clock = wallClocks.get(timeZone);
  if (clock === undefined) {
    try {
      clock = new WallClock(timeZone);
    } catch {
      throw new FleetError("E_TIME_ZONE", `"${timeZone}" is not an IANA time zone known here`);
    }
    wallClocks.set(timeZone, clock);
  }
  return clock;
}

export function isTimeZone(timeZone: string): boolean {
  try {
    wallClock(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** ISO weekday of a civil date (proleptic Gregorian). */
export function isoWeekday(date: LocalDate): number {
  const day = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
  return day === 0 ? 7 : day;
}

/** The civil date `days` after `date`. */
export function addDays(date: LocalDate, days: number): LocalDate {
  const shifted = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return {
    year: shifted.getUTCFullYear(),
    month: shifted.getUTCMonth() + 1,
    day: shifted.getUTCDate(),
  };
}

export function localParts(at: number, timeZone: string): LocalParts {
  const wall = new Date(wallClock(timeZone).wallTimeAt(at));
  const date = {
    year: wall.getUTCFullYear(),
    month: wall.getUTCMonth() + 1,
    day: wall.getUTCDate(),
  };
  return {
    ...date,
    hour: wall.getUTCHours(),
    minute: wall.getUTCMinutes(),
    second: wall.getUTCSeconds(),
    weekday: isoWeekday(date),
  };
}

/** Local time minus UTC at instant `at`, in milliseconds (whole seconds). */
function offsetAt(at: number, timeZone: string): number {
  return wallClock(timeZone).offsetAt(at);
}

/**
 * The UTC instant at which the wall clock in `timeZone` shows `minuteOfDay` (0–1440) on
 * `date`. In the hour skipped at the start of summer time the instant after the gap is
 * returned; in the repeated autumn hour, the first occurrence.
 */
export function localToUtc(date: LocalDate, minuteOfDay: number, timeZone: string): number {
  const wall = Date.UTC(date.year, date.month - 1, date.day, 0, minuteOfDay);
  // The offsets in force half a day either side cover every transition of a day.
  const before = wall - offsetAt(wall - 12 * 3_600_000, timeZone);
  const after = wall - offsetAt(wall + 12 * 3_600_000, timeZone);
  const exact = [before, after].filter(
    (candidate) => offsetAt(candidate, timeZone) === wall - candidate,
  );
  if (exact.length > 0) return Math.min(...exact);
  // In a gap: the wall time does not exist; the old offset lands just after the gap.
  return before;
}

/** "HH:MM" (with "24:00") → minute of the day. */
export function minuteOfDay(time: string): number {
  const match = /^(\d{2}):(\d{2})$/.exec(time);
  if (match?.[1] === undefined || match[2] === undefined) {
    throw new FleetError("E_LOCAL_TIME", `"${time}" is not a local time HH:MM`);
  }
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  if (minutes > 24 * 60 || Number(match[2]) > 59) {
    throw new FleetError("E_LOCAL_TIME", `"${time}" is not a local time HH:MM`);
  }
  return minutes;
}
