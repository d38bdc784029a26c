/**
 * Opens the lock hardware a profile describes: checks the profile (the edge refuses one that
 * uses a pin twice or lacks a part), creates or takes the IO plugin, waits for the Johnny-Five
 * board, builds each part and waits for the first reading of every input.
 */
import { checkProfile, type HardwareProfile, type PartName } from "@lockfleet/hardware-profiles";
import { formatInstant } from "@lockfleet/protocol";
import type { BoltPosition, BuzzerSound } from "../lock/ports.js";
import { Bolt } from "./bolt.js";
import { CharacterDisplay } from "./display.js";
import { HardwareError } from "./errors.js";
import { SwitchInput } from "./inputs.js";
import { createIoPlugin } from "./io-plugins.js";
import { connectBoard, type IoPlugin, releaseBoard } from "./johnny-five.js";
import { createKeypad } from "./keypad.js";
import { runSelfTest } from "./self-test.js";
import { SilentAlarmOutput } from "./silent-alarm.js";
import { Sounder } from "./sounder.js";
import type { LockHardware, LockHardwareEvents } from "./types.js";

export interface OpenHardwareOptions {
  /**
   * The Johnny-Five IO plugin to drive (the simulators' virtual board, or one the caller made).
   * Without it the plugin the profile names is created: raspi-io or Firmata over serial.
   */
  io?: IoPlugin;
  /** How long the board may take to report ready [10 s]. */
  readyTimeoutMs?: number;
  /** How long each input may take to give its first reading [1 s]. */
  firstReadingTimeoutMs?: number;
  /** Wall-clock time for the self-test report [Date.now]. */
  now?: () => number;
}

type Listeners = { [K in keyof LockHardwareEvents]: Set<LockHardwareEvents[K]> };

/**
 * Opens the hardware of `profile` (checked again here with `checkProfile`). Throws a
 * `HardwareError` with the profile's E_PROFILE_* code for a refused profile, or an
 * E_HARDWARE_* code when the IO plugin or board is not available.
 */
export async function openHardware(
  profile: HardwareProfile,
  options: OpenHardwareOptions = {},
): Promise<LockHardware> {
  const checked = checkProfile(profile);
  if (!checked.ok) throw new HardwareError(checked.error.code, checked.error.message);
  const { parts, timings } = checked.value;
  const boltActuator = parts.boltActuator;
  const boltSensor = parts.boltSensor;
  const doorContactPart = parts.doorContact;
  if (boltActuator === undefined || boltSensor === undefined || doorContactPart === undefined)
    throw new HardwareError(
      "E_PROFILE_MISSING_PART",
      `profile ${profile.id} lacks a bolt or door part`,
    );

  const io = options.io ?? createIoPlugin(checked.value.io);
  const board = await connectBoard(io, options.readyTimeoutMs ?? 10_000);
  const now = options.now ?? Date.now;

  const listeners: Listeners = {
    key: new Set(),
    door: new Set(),
    bolt: new Set(),
    tamper: new Set(),
    powerFail: new Set(),
    boltJam: new Set(),
    fault: new Set(),
  };
  function emit<K extends keyof LockHardwareEvents>(
    event: K,
    ...args: Parameters<LockHardwareEvents[K]>
  ): void {
    for (const listener of listeners[event]) (listener as (...a: typeof args) => void)(...args);
  }

  // After start-up the board's own failures (a serial link lost, an IO error) become faults;
  // Johnny-Five re-emits them as "error", which would end the process without a listener.
  const boardFault = (what: string) => (error?: unknown) => {
    const reason = error === undefined ? what : `${what}: ${messageOf(error)}`;
    emit(
      "fault",
      "board",
      new HardwareError("E_HARDWARE_BOARD", `the ${io.name ?? "IO"} board ${reason}`),
    );
  };
  const onBoardError = boardFault("failed");
  const onBoardClose = boardFault("closed its link");
  board.on("error", onBoardError);
  board.on("close", onBoardClose);
  board.on("disconnect", onBoardClose);

  /** Builds one part; a failure names the part instead of surfacing a bare plugin error. */
  function setUp<T>(part: PartName, build: () => T): T {
    try {
      return build();
    } catch (error) {
      throw new HardwareError(
        "E_HARDWARE_PART",
        `${part} could not be set up: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
  }
  /** Drives one part; a failure becomes a `fault` event (see LockHardwareEvents.fault). */
  function drive(part: PartName, action: () => void): void {
    try {
      action();
    } catch (error) {
      emit(
        "fault",
        part,
        new HardwareError("E_HARDWARE_PART", `${part} failed: ${messageOf(error)}`, {
          cause: error,
        }),
      );
    }
  }

  const bolt = setUp(
    "boltActuator",
    () =>
      new Bolt(board, boltActuator, boltSensor, timings, {
        position: (position) => emit("bolt", position),
        jam: (expected) => emit("boltJam", expected),
      }),
  );
  const doorContact = setUp(
    "doorContact",
    () => new SwitchInput(board, doorContactPart, timings.debounceMs),
  );
  doorContact.onChange((closed) => emit("door", !closed));
  const tamperPart = parts.tamperSwitch;
  const tamperSwitch =
    tamperPart === undefined
      ? undefined
      : setUp("tamperSwitch", () => new SwitchInput(board, tamperPart, timings.debounceMs));
  tamperSwitch?.onChange((housingClosed) => emit("tamper", !housingClosed));
  const powerPart = parts.powerFail;
  const powerFail =
    powerPart === undefined
      ? undefined
      : setUp("powerFail", () => new SwitchInput(board, powerPart, timings.debounceMs));
  powerFail?.onChange((powerGood) => emit("powerFail", !powerGood));
  const keypadPart = parts.keypad;
  const keypad =
    keypadPart === undefined
      ? undefined
      : setUp("keypad", () => createKeypad(board, keypadPart, (key) => emit("key", key)));
  const displayPart = parts.display;
  const display =
    displayPart === undefined
      ? undefined
      : setUp("display", () => new CharacterDisplay(board, displayPart));
  const buzzerPart = parts.buzzer;
  const sounder =
    buzzerPart === undefined
      ? undefined
      : setUp("buzzer", () => new Sounder(io, buzzerPart, timings.alarmSoundMs));
  const alarmPart = parts.silentAlarmRelay;
  const silentAlarm =
    alarmPart === undefined
      ? undefined
      : setUp("silentAlarmRelay", () => new SilentAlarmOutput(board, alarmPart));

  const inputs = [bolt.sensor, doorContact, tamperSwitch, powerFail].filter(
    (input): input is SwitchInput => input !== undefined,
  );
  const firstReadingMs = options.firstReadingTimeoutMs ?? 1000;
  await Promise.all(inputs.map((input) => input.firstReading(firstReadingMs)));

  let closed = false;
  function open(what: string): void {
    if (closed)
      throw new HardwareError("E_HARDWARE_CLOSED", `${what} after the hardware was closed`);
  }

  const hardware: LockHardware = {
    profileId: checked.value.id,
    on(event, listener) {
      const set = listeners[event] as Set<typeof listener>;
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
    readInputs() {
      // No reading counts as the unsafe condition: door open, housing open.
      return {
        door: doorContact.active !== true,
        bolt: bolt.position,
        tamper: tamperSwitch === undefined ? false : tamperSwitch.active !== true,
        ...(powerFail === undefined ? {} : { powerFail: powerFail.active !== true }),
      };
    },
    driveBolt(position: BoltPosition) {
      open("driveBolt");
      // A failed drive still ends in boltJam: the jam timer runs before the actuator is touched.
      drive("boltActuator", () => bolt.drive(position));
    },
    display(lines: readonly [string, string]) {
      open("display");
      drive("display", () => display?.show(lines));
    },
    buzzer(sound: BuzzerSound) {
      open("buzzer");
      drive("buzzer", () => sounder?.play(sound));
    },
    pulseSilentAlarm() {
      open("pulseSilentAlarm");
      drive("silentAlarmRelay", () => {
        if (silentAlarm === undefined)
          throw new Error(
            `profile ${checked.value.id} has no silent-alarm relay: the duress alarm cannot leave the lock`,
          );
        silentAlarm.pulse();
      });
    },
    async selfTest(deviceId: string) {
      open("selfTest");
      return runSelfTest(
        {
          profile: checked.value,
          io,
          bolt,
          doorContact,
          tamperSwitch,
          powerFail,
          keypad,
          display,
          sounder,
          silentAlarm,
        },
        deviceId,
        formatInstant(now()),
      );
    },
    async close() {
      if (closed) return;
      // Fail-secure on the way out: the actuator is left in its thrown (released) state.
      bolt.drive("thrown");
      closed = true;
      for (const set of Object.values(listeners)) set.clear();
      board.removeListener("close", onBoardClose);
      board.removeListener("disconnect", onBoardClose);
      bolt.close();
      for (const input of inputs) input.close();
      keypad?.close();
      sounder?.close();
      silentAlarm?.close();
      if (options.io === undefined) closeIo(io);
      releaseBoard(board);
    },
  };
  return hardware;
}

/** Releases an IO plugin the edge created (the serial port of a Firmata board). */
function closeIo(io: IoPlugin): void {
  const closable = io as IoPlugin & { transport?: { close?: () => void }; reset?: () => void };
  closable.transport?.close?.();
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
