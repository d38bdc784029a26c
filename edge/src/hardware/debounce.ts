/**
 * Debounce of a switch input: a new level counts only once it has held for the profile's
 * debounce time, so contact bounce and short spikes never reach the lock core. The first
 * reading after start-up counts at once (there is nothing to bounce against).
 */
export class DebouncedLevel {
  #stable: boolean | undefined;
  #pending: boolean | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly debounceMs: number,
    private readonly onChange: (level: boolean) => void,
  ) {}

  /** The debounced level; undefined until the first reading. */
  get level(): boolean | undefined {
    return this.#stable;
  }

  /** A raw reading from the pin. */
  feed(level: boolean): void {
    if (this.#stable === undefined) {
      this.#stable = level;
      this.onChange(level);
      return;
    }
    if (level === this.#pending) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = undefined;
    if (level === this.#stable) return;
    if (this.debounceMs === 0) {
      this.#commit(level);
      return;
    }
    this.#pending = level;
    this.#timer = setTimeout(() => this.#commit(level), this.debounceMs);
  }

  #commit(level: boolean): void {
    this.#timer = undefined;
    this.#pending = undefined;
    this.#stable = level;
    this.onChange(level);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = undefined;
  }
}
