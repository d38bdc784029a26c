/**
 * Raspberry Pi (3B+/4/5, 40-pin header) through raspi-io: a relay-driven motorised bolt
 * module, reed contacts with the Pi's pull-ups, an I2C keypad backpack and a 16×2 I2C LCD on
 * the Pi's I2C bus. Pins are named as raspi-io names them ("GPIO17" or "P1-11").
 */
import type { HardwareProfile } from "../schema.js";

export default {
  id: "raspberry-pi",
  name: "Raspberry Pi, relay bolt actuator, I2C keypad and LCD",
  io: { plugin: "raspi-io" },
  i2c: { sda: "GPIO2", scl: "GPIO3" },
  parts: {
    boltActuator: { kind: "relay", pin: "GPIO17", contacts: "NO", activeLow: true },
    boltSensor: { pin: "GPIO22", activeLow: true },
    doorContact: { pin: "GPIO23", activeLow: true },
    tamperSwitch: { pin: "GPIO24", activeLow: true },
    keypad: {
      kind: "i2cMatrix",
      controller: "3X4_I2C_NANO_BACKPACK",
      address: 0x0a,
      keys: ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"],
    },
    display: { kind: "i2cLcd", controller: "PCF8574", address: 0x27, rows: 2, cols: 16 },
    buzzer: { kind: "active", pin: "P1-12" },
    silentAlarmRelay: { pin: "GPIO27", activeLow: true, pulseMs: 1000 },
    powerFail: { pin: "GPIO25", activeLow: false },
  },
  timings: { debounceMs: 20, boltSensorTimeoutMs: 3000, alarmSoundMs: 60_000 },
  capacities: { users: 100, auditEvents: 1_000_000 },
  features: ["silentAlarm", "tamper", "powerFailInput", "localSounder"],
} satisfies HardwareProfile;
