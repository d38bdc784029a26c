/**
 * A virtual HD44780 character LCD behind a PCF8574 I2C backpack, as the common "LCD1602 IIC"
 * modules wire it: P0 RS, P1 RW, P2 EN, P3 backlight, P4–P7 D4–D7. The controller latches
 * its data lines on the falling edge of EN; it starts in 8-bit mode (only D4–D7 wired) until
 * a function set switches it to 4-bit, after which every byte comes as two nibbles.
 */
import type { VirtualI2cDevice } from "./virtual-io.js";

const RS = 0x01;
const EN = 0x04;
const BACKLIGHT = 0x08;
/** DDRAM address of the first character of each row. */
const ROW_OFFSETS = [0x00, 0x40, 0x14, 0x54] as const;

export class Hd44780Backpack implements VirtualI2cDevice {
  readonly #ddram = new Array<number>(0x80).fill(0x20);
  #port = 0;
  #address = 0;
  #fourBit = false;
  #highNibble: number | undefined;
  #increment = true;
  #cgram = false;
  #displayOn = false;
  /** Number of characters written since start-up (a display update costs as many). */
  charactersWritten = 0;

  constructor(
    readonly rows: number,
    readonly cols: number,
  ) {}

  get backlight(): boolean {
    return (this.#port & BACKLIGHT) !== 0;
  }

  get displayOn(): boolean {
    return this.#displayOn;
  }

  /** A PCF8574 read returns its port: here, what was last written to it. */
  read(): number[] {
    return [this.#port];
  }

  write(bytes: readonly number[]): void {
    for (const byte of bytes) this.#portWrite(byte);
  }

  /** The text of each row as the display shows it. */
  text(): string[] {
    return Array.from({ length: this.rows }, (_, row) => {
      const start = ROW_OFFSETS[row] ?? 0;
      return this.#ddram
        .slice(start, start + this.cols)
        .map((code) => (code >= 0x20 && code <= 0x7e ? String.fromCharCode(code) : "?"))
        .join("");
    });
  }

  #portWrite(byte: number): void {
    const enableWasHigh = (this.#port & EN) !== 0;
    this.#port = byte;
    if (enableWasHigh && (byte & EN) === 0) this.#latch(byte);
  }

  #latch(byte: number): void {
    const register = (byte & RS) !== 0;
    const nibble = byte >> 4;
    if (!this.#fourBit) {
      this.#execute(register, nibble << 4);
      return;
    }
    if (this.#highNibble === undefined) {
      this.#highNibble = nibble;
      return;
    }
    const value = (this.#highNibble << 4) | nibble;
    this.#highNibble = undefined;
    this.#execute(register, value);
  }

  #execute(data: boolean, value: number): void {
    if (data) {
      if (this.#cgram) return; // custom character patterns are not modelled
      this.#ddram[this.#address] = value;
      this.charactersWritten += 1;
      this.#address = (this.#address + (this.#increment ? 1 : 0x7f)) & 0x7f;
      return;
    }
    if (value & 0x80) {
      this.#address = value & 0x7f;
      this.#cgram = false;
    } else if (value & 0x40) {
      this.#cgram = true;
    } else if (value & 0x20) {
      // Function set: DL = 0 switches to 4-bit transfers.
      if ((value & 0x10) === 0) this.#fourBit = true;
    } else if (value & 0x10) {
      // Cursor or display shift: not used by the lock.
    } else if (value & 0x08) {
      this.#displayOn = (value & 0x04) !== 0;
    } else if (value & 0x04) {
      this.#increment = (value & 0x02) !== 0;
    } else if (value & 0x02) {
      this.#address = 0;
      this.#cgram = false;
    } else if (value & 0x01) {
      this.#ddram.fill(0x20);
      this.#address = 0;
      this.#cgram = false;
    }
  }
}
