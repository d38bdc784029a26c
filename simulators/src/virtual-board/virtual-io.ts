/**
 * A virtual Johnny-Five IO plugin: the same surface a Firmata board or raspi-io gives
 * Johnny-Five (pins with modes and values, digital and analog reads reported on change,
 * digital and PWM writes, I2C configuration, writes and reads), held in memory. Johnny-Five
 * drives it exactly as it drives a real board; tests set input levels, attach virtual I2C
 * devices and observe what was written.
 */
import { EventEmitter } from "node:events";
import { RASPBERRY_PI_HEADER } from "@lockfleet/hardware-profiles";
import { SimulatorError } from "../errors.js";

export const VIRTUAL_MODES = {
  INPUT: 0x00,
  OUTPUT: 0x01,
  ANALOG: 0x02,
  PWM: 0x03,
  SERVO: 0x04,
  I2C: 0x06,
  UNKNOWN: 0x10,
} as const;

export interface VirtualPin {
  supportedModes: number[];
  mode: number;
  value: number;
  report: number;
  analogChannel: number;
}

/** A device on the virtual I2C bus: answers reads; sees writes (writes are also captured on the bus). */
export interface VirtualI2cDevice {
  read?(register: number | undefined, length: number): number[];
  write?(bytes: readonly number[]): void;
}

export interface I2cWrite {
  address: number;
  bytes: number[];
}

type ReadCallback = (value: number) => void;
type I2cCallback = (bytes: number[]) => void;

interface ContinuousI2cRead {
  address: number;
  register: number | undefined;
  length: number;
  callback: I2cCallback;
}

export interface VirtualIoOptions {
  /** Digital pins 0..pinCount-1 [40]. */
  pinCount?: number;
  /** How many of the highest pins are also analog inputs A0..; [0]. */
  analogCount?: number;
}

export class VirtualIo extends EventEmitter {
  readonly name = "VirtualIo";
  readonly defaultLed = 13;
  readonly MODES = VIRTUAL_MODES;
  readonly HIGH = 1;
  readonly LOW = 0;
  readonly RESOLUTION = { ADC: 1023, DAC: null, PWM: 255 };
  readonly pins: VirtualPin[];
  readonly analogPins: number[];
  isReady = false;
  /** Every I2C write, in order (address and bytes as the bus saw them), while captureI2cWrites. */
  readonly i2cWrites: I2cWrite[] = [];
  /**
   * Keep every I2C write in i2cWrites; off by default, since a long-running simulated lock
   * writes 64 bytes per LCD line update (the decoded text is always on the LCD device).
   */
  captureI2cWrites = false;
  /**
   * Fail a write to an address where no device answers, as raspi-io does (EIO). Off by
   * default, as on a Firmata board, which never learns that a write went nowhere.
   */
  failWritesToAbsentDevices = false;
  readonly i2cConfigs: unknown[] = [];
  readonly #digitalReaders = new Map<number, Set<ReadCallback>>();
  readonly #analogReaders = new Map<number, Set<ReadCallback>>();
  readonly #i2cDevices = new Map<number, VirtualI2cDevice>();
  readonly #i2cReads: ContinuousI2cRead[] = [];
  /** Pins held at a level whatever is written or applied (a short, a welded relay). */
  readonly #stuck = new Map<number, number>();
  #closed = false;

  constructor(options: VirtualIoOptions = {}) {
    super();
    const pinCount = options.pinCount ?? 40;
    const analogCount = options.analogCount ?? 0;
    this.analogPins = [];
    this.pins = Array.from({ length: pinCount }, (_, index) => {
      const analogChannel =
        index >= pinCount - analogCount ? index - (pinCount - analogCount) : 127;
      if (analogChannel !== 127) this.analogPins.push(index);
      return {
        supportedModes: [
          VIRTUAL_MODES.INPUT,
          VIRTUAL_MODES.OUTPUT,
          VIRTUAL_MODES.PWM,
          ...(analogChannel === 127 ? [] : [VIRTUAL_MODES.ANALOG]),
        ],
        mode: VIRTUAL_MODES.UNKNOWN,
        value: 0,
        report: 0,
        analogChannel,
      };
    });
    // Like a real plugin, readiness comes after construction, once Johnny-Five listens.
    setImmediate(() => {
      if (this.#closed) return;
      this.isReady = true;
      this.emit("connect");
      this.emit("ready");
    });
  }

  /** Pin names as the profiles write them: 17, "17", "D17", "GPIO17", "P1-11" (physical), "A0". */
  normalize(pin: number | string): number {
    if (typeof pin === "number") return pin;
    const text = pin.trim();
    let match = /^(?:D|GPIO)?(\d+)$/.exec(text);
    if (match?.[1] !== undefined) return Number(match[1]);
    match = /^P1-(\d+)$/.exec(text);
    if (match?.[1] !== undefined) return RASPBERRY_PI_HEADER[Number(match[1])] ?? -1;
    match = /^A(\d+)$/.exec(text);
    if (match?.[1] !== undefined) return this.analogPins[Number(match[1])] ?? -1;
    return -1;
  }

  #pin(pin: number): VirtualPin {
    const state = this.pins[pin];
    if (state === undefined)
      throw new SimulatorError("E_VIRTUAL_PIN", `the virtual board has no pin ${pin}`);
    return state;
  }

  pinMode(pin: number, mode: number): this {
    this.#pin(pin).mode = mode;
    return this;
  }

  digitalWrite(pin: number, value: number | boolean): this {
    const state = this.#pin(pin);
    const level = value ? 1 : 0;
    // On an input, a write only sets the pull-up (as on Firmata); the level stays the outside world's.
    if (state.mode === VIRTUAL_MODES.INPUT) return this;
    if (state.mode === VIRTUAL_MODES.UNKNOWN) state.mode = VIRTUAL_MODES.OUTPUT;
    state.value = this.#stuck.get(pin) ?? level;
    this.emit("digital-write", pin, level);
    return this;
  }

  analogWrite(pin: number, value: number): this {
    const state = this.#pin(pin);
    state.value = this.#stuck.get(pin) ?? value;
    this.emit("analog-write", pin, value);
    return this;
  }

  pwmWrite(pin: number, value: number): this {
    return this.analogWrite(pin, value);
  }

  servoWrite(pin: number, value: number): this {
    return this.analogWrite(pin, value);
  }

  digitalRead(pin: number, callback: ReadCallback): this {
    return this.#startReporting(this.#digitalReaders, pin, callback);
  }

  analogRead(pin: number, callback: ReadCallback): this {
    return this.#startReporting(this.#analogReaders, this.analogPins[pin] ?? pin, callback);
  }

  #startReporting(
    readersByPin: Map<number, Set<ReadCallback>>,
    pin: number,
    callback: ReadCallback,
  ): this {
    const state = this.#pin(pin);
    state.report = 1;
    let readers = readersByPin.get(pin);
    if (readers === undefined) {
      readers = new Set();
      readersByPin.set(pin, readers);
    }
    readers.add(callback);
    // A board reports the current value as soon as reporting is enabled.
    setImmediate(() => {
      if (!this.#closed) callback(state.value);
    });
    return this;
  }

  queryPinState(pin: number, callback: () => void): this {
    this.#pin(pin);
    setImmediate(callback);
    return this;
  }

  setSamplingInterval(_ms: number): this {
    return this;
  }

  reportDigitalPin(pin: number, value: number): this {
    this.#pin(pin).report = value;
    return this;
  }

  // ------------------------------------------------------------------ I2C

  i2cConfig(options: unknown): this {
    this.i2cConfigs.push(options);
    return this;
  }

  /** i2cWrite(address, bytes) | i2cWrite(address, byte) | i2cWrite(address, register, bytes | byte). */
  i2cWrite(address: number, registerOrData: number | number[], data?: number | number[]): this {
    const bytes =
      data === undefined
        ? Array.isArray(registerOrData)
          ? [...registerOrData]
          : [registerOrData]
        : [registerOrData as number, ...(Array.isArray(data) ? data : [data])];
    const write = { address, bytes: bytes.map((byte) => byte & 0xff) };
    if (this.failWritesToAbsentDevices && !this.#i2cDevices.has(address))
      throw new Error(`EIO: no I2C device answers at 0x${address.toString(16).padStart(2, "0")}`);
    if (this.captureI2cWrites) this.i2cWrites.push(write);
    this.#i2cDevices.get(address)?.write?.(write.bytes);
    this.emit("i2c-write", write);
    return this;
  }

  i2cWriteReg(address: number, register: number, byte: number): this {
    return this.i2cWrite(address, register, [byte]);
  }

  /** Continuous read: i2cRead(address, [register,] length, callback). Answers on every device change. */
  i2cRead(
    address: number,
    registerOrLength: number,
    lengthOrCallback: number | I2cCallback,
    maybeCallback?: I2cCallback,
  ): this {
    const read = this.#readArguments(address, registerOrLength, lengthOrCallback, maybeCallback);
    this.#i2cReads.push(read);
    setImmediate(() => this.#answer(read));
    return this;
  }

  i2cReadOnce(
    address: number,
    registerOrLength: number,
    lengthOrCallback: number | I2cCallback,
    maybeCallback?: I2cCallback,
  ): this {
    const read = this.#readArguments(address, registerOrLength, lengthOrCallback, maybeCallback);
    setImmediate(() => this.#answer(read));
    return this;
  }

  #readArguments(
    address: number,
    registerOrLength: number,
    lengthOrCallback: number | I2cCallback,
    maybeCallback?: I2cCallback,
  ): ContinuousI2cRead {
    if (typeof lengthOrCallback === "function") {
      return { address, register: undefined, length: registerOrLength, callback: lengthOrCallback };
    }
    if (maybeCallback === undefined)
      throw new SimulatorError("E_VIRTUAL_I2C", "i2cRead needs a callback");
    return {
      address,
      register: registerOrLength,
      length: lengthOrCallback,
      callback: maybeCallback,
    };
  }

  #answer(read: ContinuousI2cRead): void {
    if (this.#closed) return;
    const device = this.#i2cDevices.get(read.address);
    if (device?.read === undefined) return; // nobody answers at that address: no data
    read.callback(device.read(read.register, read.length));
  }

  // ------------------------------------------------------------------ the outside world

  /** Puts a device on the virtual I2C bus. */
  attachI2cDevice(address: number, device: VirtualI2cDevice): void {
    this.#i2cDevices.set(address, device);
  }

  /** Takes a device off the bus: it no longer sees writes nor answers reads. */
  detachI2cDevice(address: number): void {
    this.#i2cDevices.delete(address);
  }

  /** A device changed what it would answer: continuous readers get the new bytes now. */
  i2cDeviceChanged(address: number): void {
    for (const read of this.#i2cReads) if (read.address === address) this.#answer(read);
  }

  /**
   * Holds a pin at a level (a short to ground or supply, a welded relay) until released with
   * undefined: writes and outside levels no longer change it.
   */
  stickPin(pin: number, level: 0 | 1 | undefined): void {
    const state = this.#pin(pin);
    if (level === undefined) {
      this.#stuck.delete(pin);
      return;
    }
    this.#stuck.set(pin, level);
    if (state.value === level) return;
    state.value = level;
    for (const reader of this.#digitalReaders.get(pin) ?? []) reader(level);
  }

  /** The outside world drives an input pin to a level; readers are told on a change. */
  setInput(pin: number, level: 0 | 1): void {
    const state = this.#pin(pin);
    if (this.#stuck.has(pin) || state.value === level) return;
    state.value = level;
    for (const reader of this.#digitalReaders.get(pin) ?? []) reader(level);
  }

  /** The outside world puts a value on an analog input. */
  setAnalog(pin: number, value: number): void {
    const state = this.#pin(pin);
    state.value = value;
    for (const reader of this.#analogReaders.get(pin) ?? []) reader(value);
  }

  /** Current level of a pin (what the board drives on an output, what it reads on an input). */
  level(pin: number): number {
    return this.#pin(pin).value;
  }

  close(): void {
    this.#closed = true;
    this.emit("close");
  }
}
