/**
 * The keypad: a Johnny-Five I2C keypad backpack, or a key matrix wired straight to pins and
 * scanned here one row at a time. Both report each key once when it goes down.
 */
import type { Keypad } from "@lockfleet/hardware-profiles";
import { type J5Board, type J5KeypadEvent, johnnyFive } from "./johnny-five.js";
import { pinNumber } from "./pins.js";

export interface KeypadDriver {
  /** Keys that read pressed right now (for the self-test: a stuck key or a short). */
  keysDown(timeoutMs: number): Promise<{ answered: boolean; keys: string[] }>;
  close(): void;
}

/** I2C backpack: reports a bit per key in its scan order. */
class I2cKeypad implements KeypadDriver {
  constructor(
    private readonly board: J5Board,
    private readonly keypad: Extract<Keypad, { kind: "i2cMatrix" }>,
    onKey: (key: string) => void,
  ) {
    const five = johnnyFive();
    const component = new five.Keypad({
      board,
      controller: keypad.controller,
      address: keypad.address,
      keys: [...keypad.keys],
    });
    component.on("press", (event: J5KeypadEvent) => {
      for (const key of event.which) onKey(String(key));
    });
  }

  keysDown(timeoutMs: number): Promise<{ answered: boolean; keys: string[] }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ answered: false, keys: [] }), timeoutMs);
      this.board.io.i2cReadOnce(this.keypad.address, 2, (bytes) => {
        clearTimeout(timer);
        const raw = ((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0);
        const keys = this.keypad.keys.filter((_, index) => (raw & (1 << index)) !== 0);
        resolve({ answered: true, keys });
      });
    });
  }

  close(): void {}
}

/**
 * A matrix on pins: each row in turn is driven to the active level while the others idle; a
 * column reading active then means the key at that row and column is down. A key counts as
 * down (or up) only after two scans agree, which debounces it.
 */
class PinMatrixKeypad implements KeypadDriver {
  readonly #rows: number[];
  readonly #cols: number[];
  readonly #columnLevels: number[];
  readonly #active: number;
  readonly #down = new Set<string>();
  #previousScan = new Set<string>();
  #currentScan = new Set<string>();
  #row = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #scanWaiters: Array<() => void> = [];

  constructor(
    private readonly board: J5Board,
    private readonly keypad: Extract<Keypad, { kind: "pinMatrix" }>,
    private readonly onKey: (key: string) => void,
  ) {
    const { io } = board;
    this.#active = keypad.activeLow ? io.LOW : io.HIGH;
    this.#rows = keypad.rows.map((pin) => pinNumber(io, pin));
    this.#cols = keypad.cols.map((pin) => pinNumber(io, pin));
    this.#columnLevels = this.#cols.map(() => 1 - this.#active);
    for (const row of this.#rows) {
      io.pinMode(row, io.MODES.OUTPUT);
      io.digitalWrite(row, 1 - this.#active);
    }
    this.#cols.forEach((col, index) => {
      io.pinMode(col, io.MODES.INPUT);
      if (keypad.activeLow) io.digitalWrite(col, io.HIGH); // pull-up
      io.digitalRead(col, (level) => {
        this.#columnLevels[index] = level;
      });
    });
    this.#driveRow();
  }

  #driveRow(): void {
    if (this.#closed) return;
    const pin = this.#rows[this.#row];
    if (pin === undefined) return;
    this.board.io.digitalWrite(pin, this.#active);
    this.#timer = setTimeout(() => this.#sampleRow(pin), this.keypad.scanMs);
  }

  #sampleRow(pin: number): void {
    if (this.#closed) return;
    const width = this.#cols.length;
    this.#columnLevels.forEach((level, col) => {
      const key = this.keypad.keys[this.#row * width + col];
      if (level === this.#active && key !== undefined) this.#currentScan.add(key);
    });
    this.board.io.digitalWrite(pin, 1 - this.#active);
    this.#row += 1;
    if (this.#row >= this.#rows.length) this.#scanComplete();
    this.#driveRow();
  }

  #scanComplete(): void {
    const scan = this.#currentScan;
    for (const key of scan) {
      if (this.#previousScan.has(key) && !this.#down.has(key)) {
        this.#down.add(key);
        this.onKey(key);
      }
    }
    for (const key of [...this.#down]) {
      if (!scan.has(key) && !this.#previousScan.has(key)) this.#down.delete(key);
    }
    this.#previousScan = scan;
    this.#currentScan = new Set();
    this.#row = 0;
    const waiters = this.#scanWaiters;
    this.#scanWaiters = [];
    for (const waiter of waiters) waiter();
  }

  keysDown(timeoutMs: number): Promise<{ answered: boolean; keys: string[] }> {
    // Two full scans from now: what both saw is down.
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ answered: false, keys: [] }), timeoutMs);
      const afterFirst = (): void => {
        const first = new Set(this.#previousScan);
        this.#scanWaiters.push(() => {
          clearTimeout(timer);
          resolve({
            answered: true,
            keys: [...this.#previousScan].filter((key) => first.has(key)),
          });
        });
      };
      this.#scanWaiters.push(afterFirst);
    });
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }
}

export function createKeypad(
  board: J5Board,
  keypad: Keypad,
  onKey: (key: string) => void,
): KeypadDriver {
  return keypad.kind === "i2cMatrix"
    ? new I2cKeypad(board, keypad, onKey)
    : new PinMatrixKeypad(board, keypad, onKey);
}
