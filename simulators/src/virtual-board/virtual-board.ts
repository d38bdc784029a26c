/**
 * A virtual lock on the virtual Johnny-Five board: the IO plugin plus the world around it,
 * wired as a hardware profile says. The edge drives `board.io` through Johnny-Five exactly as
 * it drives a Raspberry Pi or an Arduino; a test (or the lock simulator) plays the person and
 * the mechanics — presses keys, opens the door, breaks the tamper loop, jams the bolt — and
 * reads back what the lock did: relay and buzzer pins, LCD text, silent-alarm pulses.
 */
import {
  type DigitalInput,
  type HardwareProfile,
  inputLevel,
  type PinName,
  relayRetractLevel,
} from "@lockfleet/hardware-profiles";
import { SimulatorError } from "../errors.js";
import { Hd44780Backpack } from "./hd44780.js";
import { VirtualIo } from "./virtual-io.js";

export type MechanicalBoltPosition = "thrown" | "retracted";

export interface VirtualBoardOptions {
  /** Time the bolt takes to travel once its actuator drives it [50 ms]. */
  boltTravelMs?: number;
  /**
   * How long pressKey holds a key down and then waits released [30 ms]; a pin matrix is held
   * for at least three full scans by the edge either way.
   */
  keyHoldMs?: number;
}

export interface VirtualBoard {
  /** The Johnny-Five IO plugin: pass it to the edge as `openHardware(profile, { io })`. */
  readonly io: VirtualIo;
  readonly profile: HardwareProfile;
  /** Presses and releases one key ("0"–"9", "*", "#"); resolves once it is released again. */
  pressKey(key: string): Promise<void>;
  /** Presses each key of `keys` in turn. */
  typeKeys(keys: string): Promise<void>;
  setDoor(open: boolean): void;
  /** true: the housing is open (tamper loop broken). */
  setTamper(active: boolean): void;
  /** true: mains failed. */
  setPowerFail(failing: boolean): void;
  /** Level of a pin as the profile names it (what the edge drives, or what the world applies). */
  pin(pin: PinName): number;
  /** The display's top two rows, trailing spaces removed. */
  lcdLines(): [string, string];
  /** Every row of the display, as shown (full width). */
  lcdRows(): string[];
  /** Times the silent-alarm relay closed since the board was created. */
  silentAlarmPulses(): number;
  /** True while the buzzer sounds. */
  buzzerOn(): boolean;
  /** Times the buzzer started sounding since the board was created. */
  buzzerSoundings(): number;
  /** Where the bolt mechanically is. */
  boltPosition(): MechanicalBoltPosition;
  setBoltTravelMs(ms: number): void;
  /** A jammed bolt no longer follows its actuator (and its sensor keeps reading where it is). */
  jamBolt(jammed: boolean): void;
  /** Takes the keypad or display backpack off the I2C bus (a loose cable), or puts it back. */
  disconnect(part: "keypad" | "display", disconnected: boolean): void;
  /** Holds a pin at a level (a short) until released with undefined. */
  stickPin(pin: PinName, level: 0 | 1 | undefined): void;
  close(): void;
}

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Creates the virtual board for a profile whose IO plugin is "virtual" (a Raspberry Pi or
 * Firmata profile works too: the board then stands in for that hardware, with its pin names).
 */
export function createVirtualBoard(
  profile: HardwareProfile,
  options: VirtualBoardOptions = {},
): VirtualBoard {
  const pinCount = profile.io.plugin === "virtual" ? profile.io.pinCount : 64;
  const io = new VirtualIo({ pinCount, analogCount: profile.io.plugin === "firmata" ? 6 : 0 });
  const { parts } = profile;
  const number = (pin: PinName): number => {
    const index = io.normalize(pin);
    if (index < 0 || index >= io.pins.length)
      throw new SimulatorError(
        "E_VIRTUAL_PIN",
        `the virtual board has no pin ${JSON.stringify(pin)}`,
      );
    return index;
  };

  let boltTravelMs = options.boltTravelMs ?? 50;
  let bolt: MechanicalBoltPosition = "thrown";
  let boltTarget: MechanicalBoltPosition = "thrown";
  let boltTimer: NodeJS.Timeout | undefined;
  let jammed = false;
  let silentAlarmPulses = 0;
  let buzzerSoundings = 0;
  let buzzerWasOn = false;
  let closed = false;

  const setPart = (input: DigitalInput | undefined, active: boolean): void => {
    if (input !== undefined) io.setInput(number(input.pin), inputLevel(input, active));
  };

  // The world at power-up: bolt thrown, door closed, housing closed, mains present.
  setPart(parts.boltSensor, true);
  setPart(parts.doorContact, true);
  setPart(parts.tamperSwitch, true);
  setPart(parts.powerFail, true);

  // ---------------------------------------------------------------- bolt mechanics
  function boltArrives(position: MechanicalBoltPosition): void {
    bolt = position;
    setPart(parts.boltSensor, position === "thrown");
  }

  function driveMechanics(target: MechanicalBoltPosition, moving: boolean): void {
    if (!moving || target === bolt) {
      clearTimeout(boltTimer);
      boltTimer = undefined;
      boltTarget = bolt;
      return;
    }
    if (boltTimer !== undefined && boltTarget === target) return;
    clearTimeout(boltTimer);
    boltTarget = target;
    boltTimer = setTimeout(() => {
      boltTimer = undefined;
      if (!jammed && !closed) boltArrives(target);
    }, boltTravelMs);
  }

  const actuator = parts.boltActuator;
  const actuatorPins = new Set<number>();
  function actuatorChanged(): void {
    if (actuator === undefined) return;
    if (actuator.kind === "relay") {
      const circuitClosed = io.level(number(actuator.pin)) === relayRetractLevel(actuator);
      // A solenoid: it pulls the bolt back while powered; its spring throws it otherwise.
      driveMechanics(circuitClosed ? "retracted" : "thrown", true);
      return;
    }
    const running = io.level(number(actuator.pwmPin)) > 0;
    const retractLevel = actuator.retractDirection === "high" ? 1 : 0;
    const towards = io.level(number(actuator.dirPin)) === retractLevel ? "retracted" : "thrown";
    driveMechanics(towards, running);
  }
  if (actuator?.kind === "relay") actuatorPins.add(number(actuator.pin));
  if (actuator?.kind === "motor") {
    actuatorPins.add(number(actuator.pwmPin));
    actuatorPins.add(number(actuator.dirPin));
  }

  // ---------------------------------------------------------------- outputs observed
  const alarm = parts.silentAlarmRelay;
  const alarmPin = alarm === undefined ? undefined : number(alarm.pin);
  const alarmActive = alarm?.activeLow ? 0 : 1;
  let alarmWasActive = false;
  const buzzerPin = parts.buzzer === undefined ? undefined : number(parts.buzzer.pin);
  const buzzerOn = (): boolean => buzzerPin !== undefined && io.level(buzzerPin) > 0;

  // ---------------------------------------------------------------- keypad
  const keypad = parts.keypad;
  const keysDown = new Set<string>();
  const keypadDevice = {
    read(): number[] {
      let bits = 0;
      keypad?.keys.forEach((key, index) => {
        if (keysDown.has(key)) bits |= 1 << index;
      });
      return [(bits >> 8) & 0xff, bits & 0xff];
    },
  };
  const matrix = keypad?.kind === "pinMatrix" ? keypad : undefined;
  const rowPins = matrix?.rows.map(number) ?? [];
  const colPins = matrix?.cols.map(number) ?? [];
  const matrixActive = matrix?.activeLow === false ? 1 : 0;
  function matrixChanged(): void {
    if (matrix === undefined) return;
    colPins.forEach((colPin, col) => {
      const connected = rowPins.some((rowPin, row) => {
        const key = matrix.keys[row * colPins.length + col];
        return key !== undefined && keysDown.has(key) && io.level(rowPin) === matrixActive;
      });
      io.setInput(colPin, (connected ? matrixActive : 1 - matrixActive) as 0 | 1);
    });
  }
  if (keypad?.kind === "i2cMatrix") io.attachI2cDevice(keypad.address, keypadDevice);
  matrixChanged();
  const rowPinSet = new Set(rowPins);
  const lastRowPin = rowPins.at(-1);
  /** Complete scans of the pin matrix by the edge (the last row returned to idle). */
  let matrixScans = 0;
  const scanWaiters: Array<{ until: number; resolve: () => void }> = [];
  function matrixScanned(): void {
    matrixScans += 1;
    for (const waiter of [...scanWaiters]) {
      if (waiter.until > matrixScans) continue;
      scanWaiters.splice(scanWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
  /** Resolves after the edge has scanned the whole matrix `count` more times (or after 2 s). */
  function scansDone(count: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter = { until: matrixScans + count, resolve: () => {} };
      const timer = setTimeout(() => {
        scanWaiters.splice(scanWaiters.indexOf(waiter), 1);
        resolve();
      }, 2000);
      waiter.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
      scanWaiters.push(waiter);
    });
  }

  // ---------------------------------------------------------------- display
  const display = parts.display;
  const lcd = new Hd44780Backpack(display?.rows ?? 2, display?.cols ?? 16);
  if (display !== undefined) io.attachI2cDevice(display.address, lcd);

  const onWrite = (pin: number): void => {
    if (actuatorPins.has(pin)) actuatorChanged();
    if (rowPinSet.has(pin)) {
      matrixChanged();
      if (pin === lastRowPin && io.level(pin) !== matrixActive) matrixScanned();
    }
    if (pin === alarmPin) {
      const active = io.level(pin) === alarmActive;
      if (active && !alarmWasActive) silentAlarmPulses += 1;
      alarmWasActive = active;
    }
    if (pin === buzzerPin) {
      const on = buzzerOn();
      if (on && !buzzerWasOn) buzzerSoundings += 1;
      buzzerWasOn = on;
    }
  };
  io.on("digital-write", onWrite);
  io.on("analog-write", onWrite);

  const holdMs = options.keyHoldMs ?? 30;

  async function pressKey(key: string): Promise<void> {
    if (keypad === undefined)
      throw new SimulatorError("E_VIRTUAL_PART", `profile ${profile.id} has no keypad`);
    if (!keypad.keys.includes(key))
      throw new SimulatorError(
        "E_VIRTUAL_KEY",
        `the keypad of profile ${profile.id} has no "${key}" key`,
      );
    keysDown.add(key);
    if (keypad.kind === "i2cMatrix") {
      io.i2cDeviceChanged(keypad.address);
      await wait(holdMs);
      keysDown.delete(key);
      io.i2cDeviceChanged(keypad.address);
      await wait(holdMs);
      return;
    }
    // A scanned matrix sees the key only while the edge scans: held for three full scans (the
    // edge counts a key after two agreeing ones), then released for three, however slow the
    // scan runs on a loaded machine.
    matrixChanged();
    await Promise.all([scansDone(3), wait(options.keyHoldMs ?? 0)]);
    keysDown.delete(key);
    matrixChanged();
    await Promise.all([scansDone(3), wait(options.keyHoldMs ?? 0)]);
  }

  return {
    io,
    profile,
    pressKey,
    async typeKeys(keys: string) {
      for (const key of keys) await pressKey(key);
    },
    setDoor(open: boolean) {
      setPart(parts.doorContact, !open);
    },
    setTamper(active: boolean) {
      setPart(parts.tamperSwitch, !active);
    },
    setPowerFail(failing: boolean) {
      setPart(parts.powerFail, !failing);
    },
    pin(pin: PinName) {
      return io.level(number(pin));
    },
    lcdLines() {
      const rows = lcd.text();
      return [(rows[0] ?? "").trimEnd(), (rows[1] ?? "").trimEnd()];
    },
    lcdRows() {
      return lcd.text();
    },
    silentAlarmPulses: () => silentAlarmPulses,
    buzzerOn,
    buzzerSoundings: () => buzzerSoundings,
    boltPosition: () => bolt,
    setBoltTravelMs(ms: number) {
      boltTravelMs = ms;
    },
    jamBolt(jam: boolean) {
      jammed = jam;
      if (!jam) actuatorChanged();
    },
    disconnect(part: "keypad" | "display", disconnected: boolean) {
      const address =
        part === "keypad"
          ? keypad?.kind === "i2cMatrix"
            ? keypad.address
            : undefined
          : display?.address;
      if (address === undefined)
        throw new SimulatorError("E_VIRTUAL_PART", `profile ${profile.id} has no I2C ${part}`);
      if (disconnected) io.detachI2cDevice(address);
      else io.attachI2cDevice(address, part === "keypad" ? keypadDevice : lcd);
    },
    stickPin(pin: PinName, level: 0 | 1 | undefined) {
      io.stickPin(number(pin), level);
    },
    close() {
      closed = true;
      clearTimeout(boltTimer);
      io.removeListener("digital-write", onWrite);
      io.removeListener("analog-write", onWrite);
      io.close();
    },
  };
}
