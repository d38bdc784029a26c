/**
 * The lock's deadlines, on the monotonic clock (a wrong or corrected real-time clock never
 * moves them). Each is the instant something is due; tick() acts on those that have passed.
 * Volatile by design: after a restart the rules restart them in full (a delay, a lockout),
 * never shorter.
 */

export const SECOND = 1000;
export const MINUTE = 60_000;

export class Deadlines {
  /** A half-typed code or an open prompt is abandoned (policy keyTimeoutSec). */
  entry: number | undefined;
  /** The next code of the round must come by then (policy secondCodeTimeoutSec). */
  secondCode: number | undefined;
  /** The time delay ends and the confirmation window opens. */
  delayEnds: number | undefined;
  /** The confirmation window closes. */
  windowEnds: number | undefined;
  /** The bolt is thrown again (auto relock, relock after close). */
  relock: number | undefined;
  /** The door has stood open too long: doorAjar. */
  ajar: number | undefined;
  /** The wrong-code lockout ends. */
  penaltyUntil: number | undefined;

  /** The deadlines of a cycle that ends (not its relock: an opening still relocks). */
  clearCycle(): void {
    this.secondCode = undefined;
    this.delayEnds = undefined;
    this.windowEnds = undefined;
  }

  /**
   * Earliest instant at which tick() has something to do, with the deadlines kept elsewhere
   * (`others`: bolt confirmation, message, storage retry). A running countdown refreshes the
   * display once a second.
   */
  next(now: number, others: ReadonlyArray<number | undefined>): number | undefined {
    const deadlines = [
      this.entry,
      this.secondCode,
      this.delayEnds,
      this.windowEnds,
      this.relock,
      this.ajar,
      this.penaltyUntil,
      ...others,
    ].filter((deadline): deadline is number => deadline !== undefined);
    if (
      this.delayEnds !== undefined ||
      this.windowEnds !== undefined ||
      this.penaltyUntil !== undefined
    ) {
      deadlines.push(Math.floor(now / SECOND) * SECOND + SECOND);
    }
    return deadlines.length === 0 ? undefined : Math.min(...deadlines);
  }
}

/** Milliseconds left until `deadline` (0 when passed or unset). */
export function remaining(deadline: number | undefined, now: number): number {
  return deadline === undefined ? 0 : Math.max(0, deadline - now);
}

export function isDue(deadline: number | undefined, now: number): boolean {
  return deadline !== undefined && deadline <= now;
}
