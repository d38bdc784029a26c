/**
 * What a lock hardware build is (SPEC §6): which IO plugin, which pin drives or reads which
 * part, polarity, timings, capacities and features. A profile is data only — no functions —
 * checked at build time (`satisfies HardwareProfile`) and again at runtime (`checkProfile`).
 *
 * Every input part has one fixed meaning of "active", chosen so that a cut wire or a floating
 * pin reads as the unsafe condition: bolt sensor active = bolt thrown, door contact active =
 * door closed, tamper loop active = housing closed, power-fail input active = power good.
 */
import { Strict } from "@lockfleet/protocol";
import { type Static, Type } from "@sinclair/typebox";

/**
 * A pin as the IO plugin names it: a number (Firmata, virtual board) or a name such as
 * "GPIO17" / "P1-11" (raspi-io) or "A0" (Firmata analog pins).
 */
export const PinName = Type.Union([
  Type.Integer({ minimum: 0, maximum: 255 }),
  Type.String({ pattern: "^[A-Za-z0-9_-]{1,16}$" }),
]);
export type PinName = Static<typeof PinName>;

/** 7-bit I2C address. */
export const I2cAddress = Type.Integer({ minimum: 0x08, maximum: 0x77 });

export const IO_PLUGINS = ["virtual", "raspi-io", "firmata"] as const;

export const IoPlugin = Type.Union([
  Strict({
    plugin: Type.Literal("virtual"),
    /** Pins the virtual board provides (numbered 0..pinCount-1). */
    pinCount: Type.Integer({ minimum: 8, maximum: 128 }),
  }),
  Strict({ plugin: Type.Literal("raspi-io") }),
  Strict({
    plugin: Type.Literal("firmata"),
    /** Serial port of the board running StandardFirmata, e.g. /dev/ttyACM0. */
    port: Type.String({ minLength: 1, maxLength: 128, pattern: "^[^\\s]+$" }),
    board: Type.Union([Type.Literal("uno"), Type.Literal("mega")]),
  }),
]);
export type IoPlugin = Static<typeof IoPlugin>;

/** One digital input; `activeLow`: the part's active condition reads as LOW. */
export const DigitalInput = Strict({
  pin: PinName,
  activeLow: Type.Boolean(),
});
export type DigitalInput = Static<typeof DigitalInput>;

/**
 * Bolt actuator. `relay`: a relay switches the actuator circuit; the bolt retracts while that
 * circuit is closed. With normally-open contacts the circuit closes when the coil is
 * energised, with normally-closed contacts when it is released. `activeLow`: the relay module
 * energises its coil on a LOW pin (most opto-isolated modules do).
 * `motor`: a DC motor on an H-bridge (PWM + direction); it runs for at most `runMs` per drive
 * and stops as soon as the bolt sensor confirms.
 */
export const BoltActuator = Type.Union([
  Strict({
    kind: Type.Literal("relay"),
    pin: PinName,
    contacts: Type.Union([Type.Literal("NO"), Type.Literal("NC")]),
    activeLow: Type.Boolean(),
  }),
  Strict({
    kind: Type.Literal("motor"),
    pwmPin: PinName,
    dirPin: PinName,
    /** Direction pin level that retracts the bolt. */
    retractDirection: Type.Union([Type.Literal("high"), Type.Literal("low")]),
    speed: Type.Integer({ minimum: 30, maximum: 255 }),
    runMs: Type.Integer({ minimum: 50, maximum: 10_000 }),
  }),
]);
export type BoltActuator = Static<typeof BoltActuator>;

const KeyLegend = Type.String({ pattern: "^[0-9#*A-D]$" });

/**
 * Keypad. `i2cMatrix`: one of Johnny-Five's I2C keypad backpacks, which scans a 3×4 or 4×4
 * key matrix itself and reports it over I2C. `pinMatrix`: the key matrix wired straight to
 * pins; the edge drives one row at a time to the active level and reads the columns.
 */
export const Keypad = Type.Union([
  Strict({
    kind: Type.Literal("i2cMatrix"),
    controller: Type.Union([
      Type.Literal("3X4_I2C_NANO_BACKPACK"),
      Type.Literal("4X4_I2C_NANO_BACKPACK"),
    ]),
    address: I2cAddress,
    /** Key legends in the backpack's scan order (row by row). */
    keys: Type.Array(KeyLegend, { minItems: 12, maxItems: 16 }),
  }),
  Strict({
    kind: Type.Literal("pinMatrix"),
    /** Row lines, driven one at a time to the active level while scanning. */
    rows: Type.Array(PinName, { minItems: 4, maxItems: 4 }),
    /** Column lines, read; a pressed key connects its row to its column. */
    cols: Type.Array(PinName, { minItems: 3, maxItems: 4 }),
    /** Rows are driven LOW and columns pulled up (the usual wiring), so a key reads LOW. */
    activeLow: Type.Boolean(),
    /** Time each row stays driven before its columns are read (slow IO links need more). */
    scanMs: Type.Integer({ minimum: 2, maximum: 50 }),
    /** Key legends row by row (rows × cols). */
    keys: Type.Array(KeyLegend, { minItems: 12, maxItems: 16 }),
  }),
]);
export type Keypad = Static<typeof Keypad>;

/** HD44780 character LCD behind a PCF8574 I2C backpack. */
export const Display = Strict({
  kind: Type.Literal("i2cLcd"),
  controller: Type.Union([Type.Literal("PCF8574"), Type.Literal("PCF8574A")]),
  address: I2cAddress,
  rows: Type.Integer({ minimum: 2, maximum: 4 }),
  cols: Type.Integer({ minimum: 16, maximum: 40 }),
});
export type Display = Static<typeof Display>;

/** `active`: a self-oscillating buzzer switched on and off; `piezo`: a passive piezo driven with tones. */
export const Buzzer = Strict({
  kind: Type.Union([Type.Literal("active"), Type.Literal("piezo")]),
  pin: PinName,
});
export type Buzzer = Static<typeof Buzzer>;

/** Relay towards the alarm system; pulsed (contacts closed for `pulseMs`) on duress. */
export const SilentAlarmRelay = Strict({
  pin: PinName,
  activeLow: Type.Boolean(),
  pulseMs: Type.Integer({ minimum: 100, maximum: 10_000 }),
});
export type SilentAlarmRelay = Static<typeof SilentAlarmRelay>;

export const HardwareParts = Strict({
  boltActuator: Type.Optional(BoltActuator),
  /** Active = bolt thrown. */
  boltSensor: Type.Optional(DigitalInput),
  /** Active = door closed. */
  doorContact: Type.Optional(DigitalInput),
  /** Active = housing closed (tamper loop intact). */
  tamperSwitch: Type.Optional(DigitalInput),
  keypad: Type.Optional(Keypad),
  display: Type.Optional(Display),
  buzzer: Type.Optional(Buzzer),
  silentAlarmRelay: Type.Optional(SilentAlarmRelay),
  /** Active = supply power good. */
  powerFail: Type.Optional(DigitalInput),
});
export type HardwareParts = Static<typeof HardwareParts>;
export type PartName = keyof HardwareParts;

export const PART_NAMES = [
  "boltActuator",
  "boltSensor",
  "doorContact",
  "tamperSwitch",
  "keypad",
  "display",
  "buzzer",
  "silentAlarmRelay",
  "powerFail",
] as const satisfies readonly PartName[];

/** Parts every lock needs, whatever its features. */
export const REQUIRED_PARTS = [
  "boltActuator",
  "boltSensor",
  "doorContact",
  "keypad",
  "display",
] as const satisfies readonly PartName[];

/** Optional features and the parts each needs. */
export const FEATURE_PARTS = {
  silentAlarm: ["silentAlarmRelay"],
  tamper: ["tamperSwitch"],
  powerFailInput: ["powerFail"],
  localSounder: ["buzzer"],
} as const satisfies Record<string, readonly PartName[]>;
export type Feature = keyof typeof FEATURE_PARTS;
export const FEATURES = Object.keys(FEATURE_PARTS) as Feature[];

export const HardwareTimings = Strict({
  /** An input must hold its new level this long before it is reported. */
  debounceMs: Type.Integer({ minimum: 0, maximum: 500 }),
  /** The bolt sensor must confirm a drive within this time, or the bolt counts as jammed. */
  boltSensorTimeoutMs: Type.Integer({ minimum: 200, maximum: 30_000 }),
  /** A local alarm sound stops after this time unless silenced earlier. */
  alarmSoundMs: Type.Integer({ minimum: 1000, maximum: 900_000 }),
});
export type HardwareTimings = Static<typeof HardwareTimings>;

export const HardwareCapacities = Strict({
  /** SPEC §3: at least 100 users per lock. */
  users: Type.Integer({ minimum: 100, maximum: 10_000 }),
  /** SPEC §3: at least 1,000,000 audit events. */
  auditEvents: Type.Integer({ minimum: 1_000_000, maximum: 1_000_000_000 }),
});
export type HardwareCapacities = Static<typeof HardwareCapacities>;

export const HardwareProfile = Strict({
  id: Type.String({ pattern: "^[a-z0-9][a-z0-9-]{1,63}$" }),
  name: Type.String({ minLength: 1, maxLength: 120 }),
  io: IoPlugin,
  /** I2C bus pins; needed (and reserved) when any part sits on the bus. */
  i2c: Type.Optional(Strict({ sda: PinName, scl: PinName })),
  parts: HardwareParts,
  timings: HardwareTimings,
  capacities: HardwareCapacities,
  features: Type.Array(Type.Union(FEATURES.map((feature) => Type.Literal(feature))), {
    uniqueItems: true,
    maxItems: 16,
  }),
});

/** The static type written by hand (rather than `Static<>`) keeps the `features` union precise. */
export type HardwareProfile = Omit<Static<typeof HardwareProfile>, "features"> & {
  features: Feature[];
};
