/**
 * An in-test LockHardware: records what the core drives and lets the test raise inputs. The
 * bolt sensor follows the actuator after a short travel time unless the bolt is jammed. For
 * the real Johnny-Five code path see simulators/test/runtime (virtual board).
 */
import type { SelfTestReport } from "@lockfleet/protocol";
import type { LockHardware, LockHardwareEvents } from "../../src/hardware/types.js";
import type { BoltPosition, BuzzerSound } from "../../src/lock/ports.js";

type Listeners = { [K in keyof LockHardwareEvents]: Set<LockHardwareEvents[K]> };

export class FakeHardware implements LockHardware {
  readonly profileId: string;
  display_: readonly [string, string] = ["", ""];
  readonly displayLog: string[] = [];
  readonly buzzerLog: BuzzerSound[] = [];
  readonly drives: BoltPosition[] = [];
  silentAlarmPulses = 0;
  jammed = false;
  closed = false;
  inputs: { door: boolean; bolt: BoltPosition | "unknown"; tamper: boolean } = {
    door: false,
    bolt: "thrown",
    tamper: false,
  };
  selfTestParts: SelfTestReport["parts"] = [
    { part: "boltActuator", result: "ok" },
    { part: "display", result: "ok" },
  ];
  readonly #listeners: Listeners = {
    key: new Set(),
    door: new Set(),
    bolt: new Set(),
    tamper: new Set(),
    powerFail: new Set(),
    boltJam: new Set(),
    fault: new Set(),
  };

  constructor(
    profileId = "virtual",
    readonly travelMs = 20,
  ) {
    this.profileId = profileId;
  }

  on<K extends keyof LockHardwareEvents>(event: K, listener: LockHardwareEvents[K]): () => void {
    this.#listeners[event].add(listener);
    return () => this.#listeners[event].delete(listener);
  }

  emit<K extends keyof LockHardwareEvents>(
    event: K,
    ...args: Parameters<LockHardwareEvents[K]>
  ): void {
    for (const listener of this.#listeners[event])
      (listener as (...a: typeof args) => void)(...args);
  }

  press(keys: string): void {
    for (const key of keys) this.emit("key", key);
  }

  readInputs() {
    return this.inputs;
  }

  driveBolt(position: BoltPosition): void {
    this.drives.push(position);
    if (this.jammed) return;
    setTimeout(() => {
      this.inputs.bolt = position;
      this.emit("bolt", position);
    }, this.travelMs);
  }

  display(lines: readonly [string, string]): void {
    this.display_ = lines;
    this.displayLog.push(lines.join(" | "));
  }

  buzzer(sound: BuzzerSound): void {
    this.buzzerLog.push(sound);
  }

  pulseSilentAlarm(): void {
    this.silentAlarmPulses += 1;
  }

  async selfTest(deviceId: string): Promise<SelfTestReport> {
    return {
      deviceId,
      at: new Date().toISOString(),
      hardwareProfile: this.profileId,
      parts: this.selfTestParts,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
