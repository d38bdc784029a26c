/**
 * Runtime check of a hardware profile: the schema, then the rules the schema cannot say —
 * no pin used twice (the I2C bus pins and the plugin's own pins count), every part the lock
 * and its configured features need is present, timings that fit together.
 */
import { fail, type Result, succeed } from "@lockfleet/protocol";
import { TypeCompiler, type ValueError } from "@sinclair/typebox/compiler";
import { canonicalPin, fixedI2cPins, pwmCapable, reservedPins } from "./pins.js";
import {
  FEATURE_PARTS,
  HardwareProfile,
  type HardwareProfile as HardwareProfileType,
  IO_PLUGINS,
  type PartName,
  type PinName,
  REQUIRED_PARTS,
} from "./schema.js";

export const PROFILE_ERROR_CODES = [
  /** The profile does not have the shape of a hardware profile. */
  "E_PROFILE_SCHEMA",
  /** Two parts (or a part and the bus or the plugin's own link) share a pin or an I2C address. */
  "E_PROFILE_PIN_REUSED",
  /** A part every lock needs, or a part a configured feature needs, is missing. */
  "E_PROFILE_MISSING_PART",
  /** A polarity, timing, speed or key map is outside what the part allows. */
  "E_PROFILE_RANGE",
  /** The profile names an IO plugin the edge cannot drive. */
  "E_PROFILE_UNKNOWN_IO_PLUGIN",
  /** No shipped profile has the id asked for. */
  "E_PROFILE_UNKNOWN",
] as const;
export type ProfileErrorCode = (typeof PROFILE_ERROR_CODES)[number];

export type ProfileResult<T> = Result<T, ProfileErrorCode>;

/** Every pin a profile uses, with the part (and role) that uses it. */
export function pinUses(profile: HardwareProfileType): Array<{ user: string; pin: PinName }> {
  const uses: Array<{ user: string; pin: PinName }> = [];
  const { parts } = profile;
  const actuator = parts.boltActuator;
  if (parts.keypad?.kind === "pinMatrix") {
    parts.keypad.rows.forEach((pin, row) => {
      uses.push({ user: `keypad.row${row + 1}`, pin });
    });
    parts.keypad.cols.forEach((pin, col) => {
      uses.push({ user: `keypad.col${col + 1}`, pin });
    });
  }
  if (actuator?.kind === "relay") uses.push({ user: "boltActuator", pin: actuator.pin });
  if (actuator?.kind === "motor") {
    uses.push({ user: "boltActuator.pwm", pin: actuator.pwmPin });
    uses.push({ user: "boltActuator.dir", pin: actuator.dirPin });
  }
  for (const name of ["boltSensor", "doorContact", "tamperSwitch", "powerFail"] as const) {
    const input = parts[name];
    if (input !== undefined) uses.push({ user: name, pin: input.pin });
  }
  if (parts.buzzer !== undefined) uses.push({ user: "buzzer", pin: parts.buzzer.pin });
  if (parts.silentAlarmRelay !== undefined)
    uses.push({ user: "silentAlarmRelay", pin: parts.silentAlarmRelay.pin });
  if (profile.i2c !== undefined) {
    uses.push({ user: "i2c.sda", pin: profile.i2c.sda });
    uses.push({ user: "i2c.scl", pin: profile.i2c.scl });
  }
  return uses;
}

function i2cParts(profile: HardwareProfileType): Array<{ part: PartName; address: number }> {
  const devices: Array<{ part: PartName; address: number }> = [];
  if (profile.parts.keypad?.kind === "i2cMatrix")
    devices.push({ part: "keypad", address: profile.parts.keypad.address });
  if (profile.parts.display !== undefined)
    devices.push({ part: "display", address: profile.parts.display.address });
  return devices;
}

function hex(address: number): string {
  return `0x${address.toString(16).padStart(2, "0")}`;
}

const profileChecker = TypeCompiler.Compile(HardwareProfile);

/** Schema paths whose violation means "out of range" rather than "wrong shape". */
const RANGE_PATH =
  /^\/(timings|capacities)\/|\/(activeLow|contacts|retractDirection|speed|runMs|pulseMs|scanMs|rows|cols|address|pinCount)$/;

/**
 * For a value that matches no member of a union (an actuator, a keypad, the IO plugin), the
 * error of the member it was meant to be (the one whose `kind`/`plugin` tag matched, else the
 * one with fewest errors), so the message names the field that is wrong.
 */
function innermost(error: ValueError | undefined): ValueError | undefined {
  if (error === undefined || error.errors.length === 0) return error;
  const variants = error.errors.map((iterator) => [...iterator]);
  const tagged = variants.filter(
    (errors) =>
      !errors.some((e) => /\/(kind|plugin)$/.test(e.path) && e.path.startsWith(error.path)),
  );
  const pool = tagged.length > 0 ? tagged : variants;
  const best = pool.reduce((a, b) => (b.length < a.length ? b : a));
  return innermost(best[0]) ?? error;
}

function schemaFailure(profile: unknown, id: string): ProfileResult<never> {
  const io =
    typeof profile === "object" && profile !== null && "io" in profile
      ? (profile as { io: unknown }).io
      : undefined;
  const plugin =
    typeof io === "object" && io !== null && "plugin" in io
      ? (io as { plugin: unknown }).plugin
      : undefined;
  if (plugin !== undefined && !(IO_PLUGINS as readonly unknown[]).includes(plugin))
    return fail(
      "E_PROFILE_UNKNOWN_IO_PLUGIN",
      `profile ${id} names IO plugin ${JSON.stringify(plugin)}; the edge drives ${IO_PLUGINS.join(", ")}`,
    );
  const first = innermost(profileChecker.Errors(profile).First());
  const where = first?.path ? first.path : "/";
  const what = first?.message ?? "does not match the hardware profile schema";
  const value = first === undefined ? "" : ` (${JSON.stringify(first.value) ?? "missing"})`;
  return fail(
    RANGE_PATH.test(where) ? "E_PROFILE_RANGE" : "E_PROFILE_SCHEMA",
    `hardware profile ${id} is not valid at ${where}${value}: ${what}`,
  );
}

export function checkProfile(profile: unknown): ProfileResult<HardwareProfileType> {
  const id =
    typeof profile === "object" && profile !== null && "id" in profile
      ? String((profile as { id: unknown }).id)
      : "(no id)";
  if (!profileChecker.Check(profile)) return schemaFailure(profile, id);
  const checked = profile as HardwareProfileType;
  const { io, parts } = checked;

  for (const part of REQUIRED_PARTS) {
    if (parts[part] === undefined)
      return fail("E_PROFILE_MISSING_PART", `profile ${id} lacks the ${part} every lock needs`);
  }
  for (const feature of checked.features) {
    for (const part of FEATURE_PARTS[feature]) {
      if (parts[part] === undefined)
        return fail(
          "E_PROFILE_MISSING_PART",
          `profile ${id} lists feature ${feature}, which needs the ${part} part`,
        );
    }
  }
  const devices = i2cParts(checked);
  if (devices.length > 0 && checked.i2c === undefined)
    return fail(
      "E_PROFILE_MISSING_PART",
      `profile ${id} has I2C parts (${devices.map((d) => d.part).join(", ")}) but no i2c bus pins`,
    );

  const taken = new Map<string, string>();
  for (const reserved of reservedPins(io)) taken.set(reserved.pin, reserved.by);
  for (const use of pinUses(checked)) {
    const pin = canonicalPin(io, use.pin);
    if (pin === undefined)
      return fail(
        "E_PROFILE_SCHEMA",
        `profile ${id}: ${use.user} uses pin ${JSON.stringify(use.pin)}, which ${io.plugin} does not have`,
      );
    const holder = taken.get(pin);
    if (holder !== undefined)
      return fail(
        "E_PROFILE_PIN_REUSED",
        `profile ${id}: ${use.user} uses ${pin} (${JSON.stringify(use.pin)}), already used by ${holder}`,
      );
    taken.set(pin, use.user);
  }
  const fixed = fixedI2cPins(io);
  if (fixed !== undefined && checked.i2c !== undefined) {
    const sda = canonicalPin(io, checked.i2c.sda);
    const scl = canonicalPin(io, checked.i2c.scl);
    if (sda !== fixed.sda || scl !== fixed.scl)
      return fail(
        "E_PROFILE_RANGE",
        `profile ${id}: the ${io.plugin} I2C bus is SDA ${fixed.sda} / SCL ${fixed.scl}, not ${sda} / ${scl}`,
      );
  }
  const addresses = new Map<number, PartName>();
  for (const device of devices) {
    const holder = addresses.get(device.address);
    if (holder !== undefined)
      return fail(
        "E_PROFILE_PIN_REUSED",
        `profile ${id}: ${device.part} uses I2C address ${hex(device.address)}, already used by ${holder}`,
      );
    addresses.set(device.address, device.part);
  }

  const pwmPins: Array<{ user: string; pin: PinName }> = [];
  if (parts.boltActuator?.kind === "motor")
    pwmPins.push({ user: "boltActuator.pwm", pin: parts.boltActuator.pwmPin });
  if (parts.buzzer?.kind === "piezo")
    pwmPins.push({ user: "buzzer (piezo)", pin: parts.buzzer.pin });
  for (const use of pwmPins) {
    const pin = canonicalPin(io, use.pin) ?? String(use.pin);
    if (!pwmCapable(io, pin))
      return fail(
        "E_PROFILE_RANGE",
        `profile ${id}: ${use.user} needs a PWM pin, and ${pin} (${JSON.stringify(use.pin)}) cannot do PWM on ${io.plugin}`,
      );
  }

  const { timings } = checked;
  if (timings.debounceMs * 4 > timings.boltSensorTimeoutMs)
    return fail(
      "E_PROFILE_RANGE",
      `profile ${id}: debounce ${timings.debounceMs} ms is too long for a bolt sensor timeout of ${timings.boltSensorTimeoutMs} ms (at most a quarter)`,
    );
  const actuator = parts.boltActuator;
  if (
    actuator?.kind === "motor" &&
    actuator.runMs + timings.debounceMs >= timings.boltSensorTimeoutMs
  )
    return fail(
      "E_PROFILE_RANGE",
      `profile ${id}: the motor runs ${actuator.runMs} ms (+${timings.debounceMs} ms debounce), not shorter than the bolt sensor timeout of ${timings.boltSensorTimeoutMs} ms`,
    );
  const keypad = parts.keypad;
  if (keypad !== undefined) {
    const size =
      keypad.kind === "pinMatrix"
        ? keypad.rows.length * keypad.cols.length
        : keypad.controller === "3X4_I2C_NANO_BACKPACK"
          ? 12
          : 16;
    const what = keypad.kind === "pinMatrix" ? "the pin matrix" : `a ${keypad.controller}`;
    if (keypad.keys.length !== size)
      return fail(
        "E_PROFILE_RANGE",
        `profile ${id}: ${what} has ${size} keys, the key map lists ${keypad.keys.length}`,
      );
    for (const key of ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "#", "*"]) {
      if (!keypad.keys.includes(key))
        return fail("E_PROFILE_RANGE", `profile ${id}: the key map has no "${key}" key`);
    }
    if (new Set(keypad.keys).size !== keypad.keys.length)
      return fail("E_PROFILE_RANGE", `profile ${id}: the key map lists a key twice`);
  }
  return succeed(checked);
}
