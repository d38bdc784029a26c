/**
 * A switch input (bolt sensor, door contact, tamper loop, power-fail) read through a
 * Johnny-Five Switch and debounced with the profile's debounce time. `active` follows the
 * profile's meaning of the part (bolt thrown, door closed, housing closed, power good).
 */
import type { DigitalInput } from "@lockfleet/hardware-profiles";
import { DebouncedLevel } from "./debounce.js";
import { type J5Board, type J5Switch, johnnyFive } from "./johnny-five.js";

export class SwitchInput {
  readonly #switch: J5Switch;
  readonly #debounced: DebouncedLevel;
  readonly #listeners = new Set<(active: boolean) => void>();
  readonly #firstReading: Promise<void>;
  /** Raw (undebounced) reading, for the self-test. */
  #raw: boolean | undefined;
  #closed = false;

  constructor(board: J5Board, input: DigitalInput, debounceMs: number) {
    const five = johnnyFive();
    let resolveFirst: () => void = () => {};
    this.#firstReading = new Promise((resolve) => {
      resolveFirst = resolve;
    });
    this.#debounced = new DebouncedLevel(debounceMs, (active) => {
      resolveFirst();
      for (const listener of this.#listeners) listener(active);
    });
    // An active-low input is a switch to ground: Johnny-Five's "NO" type turns the pull-up on.
    this.#switch = new five.Switch({
      board,
      pin: input.pin,
      type: input.activeLow ? "NO" : "NC",
      invert: input.activeLow,
    });
    const onLevel = (): void => {
      if (this.#closed) return;
      this.#raw = this.#switch.isClosed;
      this.#debounced.feed(this.#raw);
    };
    this.#switch.on("open", onLevel);
    this.#switch.on("close", onLevel);
  }

  get pin(): number {
    return this.#switch.pin;
  }

  /** Debounced: true while the part reads its active level; undefined before the first reading. */
  get active(): boolean | undefined {
    return this.#debounced.level;
  }

  get raw(): boolean | undefined {
    return this.#raw;
  }

  onChange(listener: (active: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves with the first reading, or after `timeoutMs` without one. */
  async firstReading(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const read = this.#firstReading.then(() => true as const);
    try {
      return await Promise.race([read, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.#closed = true;
    this.#listeners.clear();
    this.#debounced.stop();
  }
}
