/**
 * Preload for the clock-fault tests (`node --import <this file>`): the process's wall clock —
 * `Date.now()` and `new Date()` — runs at the system clock plus an offset in milliseconds read
 * from the file named by LOCKFLEET_TEST_CLOCK_FILE (re-read every 50 ms, so a test moves it
 * while the process runs). Monotonic time (performance.now, timers) is left alone: a real-time
 * clock that jumps does not make a process's timers jump either. Inherited by forked children
 * through execArgv, so a lock console's device process gets it too.
 */
import { readFileSync } from "node:fs";

const file = process.env.LOCKFLEET_TEST_CLOCK_FILE;
if (file !== undefined && file !== "") {
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  let offsetMs = 0;
  const read = () => {
    try {
      const value = Number(readFileSync(file, "utf8").trim());
      if (Number.isFinite(value)) offsetMs = value;
    } catch {
      // no file yet: no offset
    }
  };
  read();
  setInterval(read, 50).unref();
  class SkewedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(realNow() + offsetMs);
      else super(...args);
    }
    static now() {
      return realNow() + offsetMs;
    }
  }
  globalThis.Date = SkewedDate;
}
