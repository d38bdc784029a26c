/**
 * Arduino Uno running StandardFirmata over USB serial: a DC-motor bolt on an H-bridge
 * (PWM on D5, direction on D4), switches to ground with pull-ups, a passive piezo, and the
 * I2C keypad backpack and LCD on A4/A5. No power-fail input on this build.
 */
import type { HardwareProfile } from "../schema.js";

export default {
  id: "arduino-firmata",
  name: "Arduino Uno (StandardFirmata), motor bolt, I2C keypad and LCD",
  io: { plugin: "firmata", port: "/dev/ttyACM0", board: "uno" },
  i2c: { sda: "A4", scl: "A5" },
  parts: {
    boltActuator: {
      kind: "motor",
      pwmPin: 5,
      dirPin: 4,
      retractDirection: "high",
      speed: 200,
      runMs: 1500,
    },
    boltSensor: { pin: 2, activeLow: true },
    doorContact: { pin: 7, activeLow: true },
    tamperSwitch: { pin: 8, activeLow: true },
    keypad: {
      kind: "i2cMatrix",
      controller: "3X4_I2C_NANO_BACKPACK",
      address: 0x0a,
      keys: ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"],
    },
    display: { kind: "i2cLcd", controller: "PCF8574", address: 0x27, rows: 2, cols: 16 },
    buzzer: { kind: "piezo", pin: 9 },
    silentAlarmRelay: { pin: 12, activeLow: false, pulseMs: 1000 },
  },
  timings: { debounceMs: 20, boltSensorTimeoutMs: 3000, alarmSoundMs: 60_000 },
  capacities: { users: 100, auditEvents: 1_000_000 },
  features: ["silentAlarm", "tamper", "localSounder"],
} satisfies HardwareProfile;
