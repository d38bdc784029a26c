/**
 * A second virtual build for the other half of the hardware layer: a motor-driven bolt, a key
 * matrix wired straight to pins, a passive piezo, active-low relay outputs and no tamper or
 * power-fail inputs.
 */
import type { HardwareProfile } from "../schema.js";

export default {
  id: "virtual-matrix",
  name: "Virtual lock with a motor bolt and a pin-scanned key matrix",
  io: { plugin: "virtual", pinCount: 40 },
  i2c: { sda: 2, scl: 3 },
  parts: {
    boltActuator: {
      kind: "motor",
      pwmPin: 12,
      dirPin: 13,
      retractDirection: "low",
      speed: 180,
      runMs: 400,
    },
    boltSensor: { pin: 22, activeLow: true },
    doorContact: { pin: 23, activeLow: false },
    keypad: {
      kind: "pinMatrix",
      rows: [5, 6, 7, 8],
      cols: [9, 10, 11],
      activeLow: true,
      scanMs: 4,
      keys: ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"],
    },
    display: { kind: "i2cLcd", controller: "PCF8574", address: 0x27, rows: 2, cols: 16 },
    buzzer: { kind: "piezo", pin: 18 },
    silentAlarmRelay: { pin: 27, activeLow: true, pulseMs: 300 },
  },
  timings: { debounceMs: 10, boltSensorTimeoutMs: 1000, alarmSoundMs: 5000 },
  capacities: { users: 100, auditEvents: 1_000_000 },
  features: ["silentAlarm", "localSounder"],
} satisfies HardwareProfile;
