/**
 * A time zone's wall clock, read from the platform's own IANA data (`Intl`), never from offset
 * tables: "Monday 06:00 at the branch" is a different UTC instant in summer and winter. The
 * lock's time locks and the fleet's standing windows both read local time through this one
 * definition, so the two sides cannot disagree about what the clock on the wall shows.
 */
export class WallClock {
  readonly #format: Intl.DateTimeFormat;

  /** Throws a `RangeError` when the platform does not know `timeZone`. */
  constructor(readonly timeZone: string) {
    // Built once per zone: building a DateTimeFormat is far slower than using one.
    this.#format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
  }

  /** The wall-clock reading at `at` (whole seconds), as milliseconds on the wall clock's own 1970 epoch. */
  wallTimeAt(at: number): number {
    const reading = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
    for (const part of this.#format.formatToParts(at)) {
      if (part.type in reading) reading[part.type as keyof typeof reading] = Number(part.value);
    }
    return Date.UTC(
      reading.year,
      reading.month - 1,
      reading.day,
      reading.hour,
      reading.minute,
      reading.second,
    );
  }

  /** The UTC offset in force at `at`, in milliseconds (wall time minus instant, whole seconds). */
  offsetAt(at: number): number {
    return this.wallTimeAt(at) - Math.floor(at / 1000) * 1000;
  }
}
