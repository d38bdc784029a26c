/**
 * A lock core on a manual clock with virtual outputs: hours of lock time in milliseconds.
 * Used by the core's tests and by the scenario runner; production wires the system clock and
 * the Johnny-Five hardware layer instead.
 */

import { randomBytes } from "node:crypto";
import { ed25519, x25519 } from "@lockfleet/protocol";
import { LockError } from "../errors.js";
import type { LockStore } from "../store/lock-store.js";
import { type FactorySetup, LockCore, type LockCoreOptions } from "./lock-core.js";
import type { BoltPosition, BuzzerSound, Clock, DeviceIdentity, LockOutputs } from "./ports.js";

export class ManualClock implements Clock {
  #wall: number;
  #mono = 0;

  constructor(startWallTime: number) {
    this.#wall = startWallTime;
  }

  now(): number {
    return this.#wall;
  }

  monotonic(): number {
    return this.#mono;
  }

  advance(ms: number): void {
    if (ms < 0) throw new LockError("E_CLOCK", "a manual clock only moves forward");
    this.#wall += ms;
    this.#mono += ms;
  }

  /** Sets the real-time clock only (as a wrong RTC would be); monotonic time is unaffected. */
  setWallTime(wallTime: number): void {
    this.#wall = wallTime;
  }
}

/** Records what the lock drives; the bolt sensor follows the actuator unless the bolt is jammed. */
export class VirtualOutputs implements LockOutputs {
  displayLines: readonly [string, string] = ["", ""];
  lastBuzzer: BuzzerSound = "off";
  buzzerLog: BuzzerSound[] = [];
  displayLog: string[] = [];
  silentAlarmPulses = 0;
  boltDriven: BoltPosition | undefined;
  /** The bolt is stuck: drives are not confirmed by the sensor. */
  jammed = false;
  pendingSensor: BoltPosition | undefined;

  driveBolt(position: BoltPosition): void {
    this.boltDriven = position;
    if (!this.jammed) this.pendingSensor = position;
  }

  display(lines: readonly [string, string]): void {
    this.displayLines = lines;
    this.displayLog.push(lines.join(" | "));
  }

  buzzer(sound: BuzzerSound): void {
    this.lastBuzzer = sound;
    this.buzzerLog.push(sound);
  }

  pulseSilentAlarm(): void {
    this.silentAlarmPulses += 1;
  }
}

export function generateDeviceIdentity(deviceId: string, org: string): DeviceIdentity {
  const encryption = x25519.generateKeyPair();
  return {
    deviceId,
    org,
    signing: ed25519.generateKeyPair(),
    signingKeyId: `${deviceId}-k1`,
    encryptionSecretKey: encryption.secretKey,
    codeHashKey: randomBytes(32),
  };
}

export interface HarnessOptions {
  store: LockStore;
  identity: DeviceIdentity;
  clock: ManualClock;
  factory?: FactorySetup;
  outputs?: VirtualOutputs;
  core?: Partial<Pick<LockCoreOptions, "boltSensorTimeoutMs" | "checkpointEvery">>;
}

/** Bolt travel time of the virtual actuator. */
export const VIRTUAL_BOLT_TRAVEL_MS = 200;

export class LockHarness {
  readonly core: LockCore;
  readonly clock: ManualClock;
  readonly outputs: VirtualOutputs;
  #sensorDueAt: number | undefined;

  constructor(options: HarnessOptions) {
    this.clock = options.clock;
    this.outputs = options.outputs ?? new VirtualOutputs();
    this.core = LockCore.open({
      store: options.store,
      clock: options.clock,
      outputs: this.outputs,
      identity: options.identity,
      ...(options.factory === undefined ? {} : { factory: options.factory }),
      ...options.core,
    });
    this.#settle();
  }

  /** Schedules the sensor answer for a drive the core just made. */
  #settle(): void {
    if (this.outputs.pendingSensor !== undefined && this.#sensorDueAt === undefined) {
      this.#sensorDueAt = this.clock.monotonic() + VIRTUAL_BOLT_TRAVEL_MS;
    }
  }

  press(keys: string): void {
    for (const key of keys) {
      this.core.pressKey(key);
      this.#settle();
    }
  }

  door(open: boolean): void {
    this.core.setDoor(open);
    this.#settle();
  }

  tamper(active: boolean): void {
    this.core.setTamper(active);
    this.#settle();
  }

  command(envelope: string): ReturnType<LockCore["receiveCommand"]> {
    const result = this.core.receiveCommand(envelope);
    this.#settle();
    return result;
  }

  /** Lets `ms` of time pass, handling every deadline of the core and the bolt on the way. */
  advance(ms: number): void {
    const target = this.clock.monotonic() + ms;
    for (;;) {
      // The core's deadline is read before the clock moves: the once-a-second display refresh
      // is always "the next whole second", so asked again at that instant it names a later one.
      const coreDeadline = this.core.nextDeadline() ?? Infinity;
      const next = Math.min(coreDeadline, this.#sensorDueAt ?? Infinity);
      if (next > target) break;
      this.clock.advance(Math.max(0, next - this.clock.monotonic()));
      if (this.#sensorDueAt !== undefined && this.#sensorDueAt <= this.clock.monotonic()) {
        const position = this.outputs.pendingSensor;
        this.#sensorDueAt = undefined;
        this.outputs.pendingSensor = undefined;
        if (position !== undefined) this.core.boltSensed(position);
      }
      if (coreDeadline <= this.clock.monotonic()) this.core.tick();
      this.#settle();
    }
    this.clock.advance(target - this.clock.monotonic());
  }
}
