/**
 * One name per physical pin, so that "P1-11" and "GPIO17" (the same Raspberry Pi pin) or
 * "A0" and 14 (the same Arduino Uno pin) count as one pin when a profile is checked.
 */
import type { IoPlugin, PinName } from "./schema.js";

/** Raspberry Pi 40-pin header: physical pin → BCM GPIO number (GPIO-capable pins only). */
export const RASPBERRY_PI_HEADER: Readonly<Record<number, number>> = {
  3: 2,
  5: 3,
  7: 4,
  8: 14,
  10: 15,
  11: 17,
  12: 18,
  13: 27,
  15: 22,
  16: 23,
  18: 24,
  19: 10,
  21: 9,
  22: 25,
  23: 11,
  24: 8,
  26: 7,
  27: 0,
  28: 1,
  29: 5,
  31: 6,
  32: 12,
  33: 13,
  35: 19,
  36: 16,
  37: 26,
  38: 20,
  40: 21,
};

const FIRMATA_BOARDS = {
  uno: {
    digital: 14,
    analog: 6,
    i2c: { sda: 18, scl: 19 },
    serial: [0, 1],
    pwm: [3, 5, 6, 9, 10, 11],
  },
  mega: {
    digital: 54,
    analog: 16,
    i2c: { sda: 20, scl: 21 },
    serial: [0, 1],
    pwm: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 44, 45, 46],
  },
} as const;

/** raspi-io drives PWM in hardware on these GPIOs only (software PWM is not enabled). */
const RASPBERRY_PI_PWM = ["GPIO12", "GPIO13", "GPIO18", "GPIO19"];

/** The canonical identity of a pin on this IO plugin, or undefined when it does not exist. */
export function canonicalPin(io: IoPlugin, pin: PinName): string | undefined {
  switch (io.plugin) {
    case "virtual":
      return typeof pin === "number" && pin < io.pinCount ? `pin ${pin}` : undefined;
    case "raspi-io": {
      if (typeof pin !== "string") return undefined; // raspi-io reads bare numbers as WiringPi numbers
      const gpio = /^GPIO(\d{1,2})$/.exec(pin);
      if (gpio?.[1] !== undefined) {
        const bcm = Number(gpio[1]);
        return bcm <= 27 ? `GPIO${bcm}` : undefined;
      }
      const physical = /^P1-(\d{1,2})$/.exec(pin);
      if (physical?.[1] !== undefined) {
        const bcm = RASPBERRY_PI_HEADER[Number(physical[1])];
        return bcm === undefined ? undefined : `GPIO${bcm}`;
      }
      return undefined;
    }
    case "firmata": {
      const board = FIRMATA_BOARDS[io.board];
      if (typeof pin === "number") {
        return pin < board.digital + board.analog ? `D${pin}` : undefined;
      }
      const analog = /^A(\d{1,2})$/.exec(pin);
      if (analog?.[1] !== undefined && Number(analog[1]) < board.analog) {
        return `D${board.digital + Number(analog[1])}`;
      }
      return undefined;
    }
  }
}

/** Pins the plugin itself occupies (the serial link of a Firmata board). */
export function reservedPins(io: IoPlugin): Array<{ pin: string; by: string }> {
  if (io.plugin !== "firmata") return [];
  return FIRMATA_BOARDS[io.board].serial.map((pin) => ({ pin: `D${pin}`, by: "the serial link" }));
}

/** The board's fixed I2C bus pins, canonical; undefined where any pin pair may be used. */
export function fixedI2cPins(io: IoPlugin): { sda: string; scl: string } | undefined {
  switch (io.plugin) {
    case "virtual":
      return undefined;
    case "raspi-io":
      return { sda: "GPIO2", scl: "GPIO3" };
    case "firmata": {
      const { sda, scl } = FIRMATA_BOARDS[io.board].i2c;
      return { sda: `D${sda}`, scl: `D${scl}` };
    }
  }
}

/** Whether a (canonical) pin can put out PWM — a motor's speed or a piezo's carrier. */
export function pwmCapable(io: IoPlugin, canonical: string): boolean {
  switch (io.plugin) {
    case "virtual":
      return true;
    case "raspi-io":
      return RASPBERRY_PI_PWM.includes(canonical);
    case "firmata":
      return (FIRMATA_BOARDS[io.board].pwm as readonly number[]).some(
        (pin) => `D${pin}` === canonical,
      );
  }
}
