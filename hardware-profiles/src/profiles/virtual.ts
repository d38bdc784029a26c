/**
 * The virtual board of the simulators: a Johnny-Five IO plugin in memory, wired like the
 * Raspberry Pi build (pin numbers are the Pi's BCM numbers) so that tests exercise every
 * part and both input polarities.
 */
import type { HardwareProfile } from "../schema.js";

export default {
  id: "virtual",
  name: "Virtual lock on the simulators' Johnny-Five board",
  io: { plugin: "virtual", pinCount: 40 },
  i2c: { sda: 2, scl: 3 },
  parts: {
    boltActuator: { kind: "relay", pin: 17, contacts: "NO", activeLow: false },
    boltSensor: { pin: 22, activeLow: false },
    doorContact: { pin: 23, activeLow: true },
    tamperSwitch: { pin: 24, activeLow: true },
    keypad: {
      kind: "i2cMatrix",
      controller: "3X4_I2C_NANO_BACKPACK",
      address: 0x0a,
      keys: ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"],
    },
    display: { kind: "i2cLcd", controller: "PCF8574", address: 0x27, rows: 2, cols: 16 },
    buzzer: { kind: "active", pin: 18 },
    silentAlarmRelay: { pin: 27, activeLow: false, pulseMs: 300 },
    powerFail: { pin: 25, activeLow: false },
  },
  timings: { debounceMs: 10, boltSensorTimeoutMs: 1000, alarmSoundMs: 5000 },
  capacities: { users: 100, auditEvents: 1_000_000 },
  features: ["silentAlarm", "tamper", "powerFailInput", "localSounder"],
} satisfies HardwareProfile;
