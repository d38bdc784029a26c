/**
 * The character display: an HD44780 LCD behind a PCF8574 I2C backpack, driven by Johnny-Five's
 * LCD component. Only lines that changed are rewritten, padded to the full width so that no
 * clear (and no flicker) is needed.
 */
import type { Display } from "@lockfleet/hardware-profiles";
import { type J5Board, type J5Lcd, johnnyFive } from "./johnny-five.js";

/** The display's character ROM has printable ASCII; anything else shows as "?". */
export function toLcdText(line: string, cols: number): string {
  const printable = Array.from(line, (character) =>
    character >= " " && character <= "~" ? character : "?",
  ).join("");
  return printable.slice(0, cols).padEnd(cols, " ");
}

export class CharacterDisplay {
  readonly #lcd: J5Lcd;
  readonly #shown: string[];

  constructor(
    private readonly board: J5Board,
    private readonly display: Display,
  ) {
    const five = johnnyFive();
    this.#lcd = new five.LCD({
      board,
      controller: display.controller,
      address: display.address,
      rows: display.rows,
      cols: display.cols,
    });
    this.#shown = Array.from({ length: display.rows }, () => "");
  }

  show(lines: readonly string[]): void {
    for (let row = 0; row < this.display.rows; row++) {
      const text = toLcdText(lines[row] ?? "", this.display.cols);
      if (this.#shown[row] === text) continue;
      this.#lcd.setCursor(0, row).print(text, { dontProcessSpecials: true });
      this.#shown[row] = text;
    }
  }

  /** What the display was last told to show. */
  get lines(): readonly string[] {
    return this.#shown;
  }

  /** Reads the backpack's port back: a PCF8574 that answers is on the bus. */
  answers(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.board.io.i2cReadOnce(this.display.address, 1, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
