/**
 * The virtual LCD decodes what a PCF8574 backpack puts on an HD44780's pins: nibbles latched
 * on the falling edge of EN, 8-bit start-up until the function set, row addresses.
 */
import { describe, expect, it } from "vitest";
import { Hd44780Backpack, VirtualIo } from "../../src/index.js";

const EN = 0x04;
const RS = 0x01;
const BACKLIGHT = 0x08;

/** One nibble as a backpack sends it: data lines set, EN high, EN low. */
function nibble(lcd: Hd44780Backpack, value: number, data: boolean): void {
  const port = ((value & 0x0f) << 4) | (data ? RS : 0) | BACKLIGHT;
  lcd.write([port, port | EN, port]);
}
function send(lcd: Hd44780Backpack, value: number, data = false): void {
  nibble(lcd, value >> 4, data);
  nibble(lcd, value, data);
}
function start(lcd: Hd44780Backpack): void {
  for (const value of [0x3, 0x3, 0x3, 0x2]) nibble(lcd, value, false);
  send(lcd, 0x28); // 4-bit, two lines
  send(lcd, 0x0c); // display on
  send(lcd, 0x06); // entry: increment
  send(lcd, 0x01); // clear
}
function print(lcd: Hd44780Backpack, text: string): void {
  for (const character of text) send(lcd, character.charCodeAt(0), true);
}

describe("virtual HD44780 behind a PCF8574", () => {
  it("shows characters written after the 4-bit start-up at the row addresses", () => {
    const lcd = new Hd44780Backpack(4, 20);
    start(lcd);
    expect(lcd.displayOn).toBe(true);
    expect(lcd.backlight).toBe(true);
    print(lcd, "OPEN");
    send(lcd, 0x80 | 0x40);
    print(lcd, "line 2");
    send(lcd, 0x80 | 0x54);
    print(lcd, "line 4");
    expect(lcd.text()).toEqual([
      "OPEN".padEnd(20),
      "line 2".padEnd(20),
      "".padEnd(20),
      "line 4".padEnd(20),
    ]);
  });

  it("clear empties the display and returns to the first character", () => {
    const lcd = new Hd44780Backpack(2, 16);
    start(lcd);
    print(lcd, "ABC");
    send(lcd, 0x01);
    print(lcd, "Z");
    expect(lcd.text()).toEqual(["Z".padEnd(16), "".padEnd(16)]);
  });

  it("nothing is latched without a falling edge of EN", () => {
    const lcd = new Hd44780Backpack(2, 16);
    start(lcd);
    const port = (0x4 << 4) | RS | BACKLIGHT;
    lcd.write([port, port, port]);
    expect(lcd.text()[0]).toBe("".padEnd(16));
  });

  it("custom character patterns do not land on the display", () => {
    const lcd = new Hd44780Backpack(2, 16);
    start(lcd);
    send(lcd, 0x40);
    print(lcd, "\x1f\x11");
    send(lcd, 0x80);
    print(lcd, "X");
    expect(lcd.text()[0]).toBe("X".padEnd(16));
  });

  it("the bus routes writes to the device at their address and captures them on request", () => {
    const io = new VirtualIo({ pinCount: 8 });
    const lcd = new Hd44780Backpack(2, 16);
    io.attachI2cDevice(0x27, lcd);
    io.captureI2cWrites = true;
    io.i2cWrite(0x27, [BACKLIGHT]);
    io.i2cWrite(0x3f, [0xff]);
    expect(lcd.backlight).toBe(true);
    expect(io.i2cWrites).toEqual([
      { address: 0x27, bytes: [BACKLIGHT] },
      { address: 0x3f, bytes: [0xff] },
    ]);
    io.close();
  });
});
