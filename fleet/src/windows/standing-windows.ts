/**
 * Standing route windows of a contract (SPEC §5): weekly periods in the branch's local time in
 * which a CIT company's requests are approved without a bank officer. A request qualifies only
 * when its whole time range lies inside one occurrence of one period.
 */
import { type Static, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { FleetError } from "../errors.js";
import { addDays, type LocalDate, localParts, localToUtc, minuteOfDay } from "./time-zone.js";

const Weekday = Type.Integer({ minimum: 1, maximum: 7 });
const Time = Type.String({ pattern: "^(([01]\\d|2[0-3]):[0-5]\\d|24:00)$" });
const ContainerIds = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 500 });

/** `{startDay, startTime, endDay, endTime}`: from a weekday and time forward to another. */
export const StandingPeriod = Type.Object({
  startDay: Weekday,
  startTime: Time,
  endDay: Weekday,
  endTime: Time,
  /** Only for these containers of the contract; absent: all of them. */
  containerIds: Type.Optional(ContainerIds),
});
/** `{days: [1, 2, 3], from: "06:00", until: "09:00"}`: the same hours on several days. */
export const StandingDaily = Type.Object({
  days: Type.Array(Weekday, { minItems: 1, maxItems: 7, uniqueItems: true }),
  from: Time,
  until: Time,
  containerIds: Type.Optional(ContainerIds),
});
export const StandingWindow = Type.Union([StandingPeriod, StandingDaily]);
export type StandingWindow = Static<typeof StandingWindow>;

export interface WeeklyPeriodSpec {
  startDay: number;
  startMinute: number;
  endDay: number;
  endMinute: number;
  containerIds?: readonly string[];
}

/** Both notations as weekly periods; anything else in the contract is a configuration error. */
export function normaliseStandingWindows(raw: unknown): WeeklyPeriodSpec[] {
  if (!Array.isArray(raw)) {
    throw new FleetError("E_STANDING_WINDOWS", "a contract's standing windows are a list");
  }
  const periods: WeeklyPeriodSpec[] = [];
  for (const [index, entry] of raw.entries()) {
    const scope =
      typeof entry === "object" && entry !== null && "containerIds" in entry
        ? { containerIds: (entry as { containerIds: string[] }).containerIds }
        : {};
    if (Value.Check(StandingPeriod, entry)) {
      periods.push({
        startDay: entry.startDay,
        startMinute: minuteOfDay(entry.startTime),
        endDay: entry.endDay,
        endMinute: minuteOfDay(entry.endTime),
        ...scope,
      });
    } else if (Value.Check(StandingDaily, entry)) {
      const from = minuteOfDay(entry.from);
      const until = minuteOfDay(entry.until);
      for (const day of entry.days) {
        // "22:00–02:00" runs into the next day.
        const endDay = until > from ? day : (day % 7) + 1;
        periods.push({ startDay: day, startMinute: from, endDay, endMinute: until, ...scope });
      }
    } else {
      throw new FleetError(
        "E_STANDING_WINDOWS",
        `standing window ${index} is neither {startDay,startTime,endDay,endTime} nor {days,from,until}`,
      );
    }
  }
  return periods;
}

/** Occurrences (UTC) of a weekly period that start within the 8 local days up to `at`. */
function occurrencesAround(
  period: WeeklyPeriodSpec,
  at: number,
  timeZone: string,
): Array<{ start: number; end: number }> {
  const today: LocalDate = localParts(at, timeZone);
  let spanDays = (period.endDay - period.startDay + 7) % 7;
  if (spanDays === 0 && period.endMinute <= period.startMinute) spanDays = 7;
  const occurrences: Array<{ start: number; end: number }> = [];
  for (let back = 8; back >= 0; back--) {
    const day = addDays(today, -back);
    const weekday = localParts(localToUtc(day, 12 * 60, timeZone), timeZone).weekday;
    if (weekday !== period.startDay) continue;
    occurrences.push({
      start: localToUtc(day, period.startMinute, timeZone),
      end: localToUtc(addDays(day, spanDays), period.endMinute, timeZone),
    });
  }
  return occurrences;
}

/**
 * Whether [notBefore, notAfter) lies wholly inside one occurrence of a standing window that
 * applies to `containerId`, evaluated in `timeZone` (the branch's).
 */
export function insideStandingWindow(
  request: { containerId: string; notBefore: number; notAfter: number },
  windows: readonly WeeklyPeriodSpec[],
  timeZone: string,
): boolean {
  for (const period of windows) {
    if (period.containerIds !== undefined && !period.containerIds.includes(request.containerId)) {
      continue;
    }
    for (const occurrence of occurrencesAround(period, request.notBefore, timeZone)) {
      if (occurrence.start <= request.notBefore && request.notAfter <= occurrence.end) return true;
    }
  }
  return false;
}
