/**
 * Drives the lock core in real time. The core has no timers; it says when it next has
 * something to do (`nextDeadline()`, monotonic). This scheduler keeps exactly one timer armed
 * for that instant, calls `tick()` when it fires, and is re-armed after every input — it is
 * the only timer the controller keeps for the core.
 */
import type { Clock } from "../lock/ports.js";

export interface Tickable {
  nextDeadline(): number | undefined;
  tick(): void;
}

/** setTimeout's longest delay; a later deadline is reached by re-arming. */
const MAX_TIMER_MS = 2_147_483_647;

export class DeadlineScheduler {
  readonly #core: Tickable;
  readonly #clock: Clock;
  readonly #afterTick: () => void;
  #timer: NodeJS.Timeout | undefined;
  #armedFor: number | undefined;
  #stopped = false;

  /** `afterTick` runs after every tick the scheduler makes (e.g. to publish a changed state). */
  constructor(core: Tickable, clock: Clock, afterTick: () => void = () => {}) {
    this.#core = core;
    this.#clock = clock;
    this.#afterTick = afterTick;
  }

  /** Re-reads the core's next deadline and arms the timer for it. Call after every input. */
  rearm(): void {
    if (this.#stopped) return;
    const deadline = this.#core.nextDeadline();
    if (deadline === this.#armedFor && this.#timer !== undefined) return;
    this.#clear();
    if (deadline === undefined) return;
    const delay = Math.min(
      MAX_TIMER_MS,
      Math.max(0, Math.ceil(deadline - this.#clock.monotonic())),
    );
    this.#armedFor = deadline;
    this.#timer = setTimeout(() => this.#fire(), delay);
  }

  /** The deadline the timer is armed for (monotonic), if any. */
  get armedFor(): number | undefined {
    return this.#armedFor;
  }

  stop(): void {
    this.#stopped = true;
    this.#clear();
  }

  #clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = undefined;
  }

  #fire(): void {
    this.#timer = undefined;
    const deadline = this.#armedFor;
    this.#armedFor = undefined;
    if (this.#stopped) return;
    // Timers may fire a little early by the monotonic clock; only tick once the deadline is due.
    if (deadline === undefined || deadline <= this.#clock.monotonic()) {
      this.#core.tick();
      this.#afterTick();
    }
    this.rearm();
  }
}
