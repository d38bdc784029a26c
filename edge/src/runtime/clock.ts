/**
 * The device's real clocks for the lock core: wall time from the real-time clock (corrected by
 * the core with signed fleet time), monotonic time from performance.now(), which never jumps.
 */
import { performance } from "node:perf_hooks";
import type { Clock } from "../lock/ports.js";

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  monotonic(): number {
    return performance.now();
  }
}
