/**
 * A lock on a manual clock whose outputs record every call with its monotonic time, restartable
 * on the same store with the same outputs: the ground the property tests walk on.
 */
import {
  type CommandBody,
  type CommandType,
  encodeEnvelope,
  signEnvelope,
  toBase64url,
} from "@lockfleet/protocol";
import type { FactorySetup } from "../../src/index.js";
import {
  generateDeviceIdentity,
  LockHarness,
  ManualClock,
  VirtualOutputs,
} from "../../src/lock/harness.js";
import type { BoltPosition, BuzzerSound, DeviceIdentity } from "../../src/lock/ports.js";
import type { LockStore } from "../../src/store/lock-store.js";
import { DEVICE, fleetKeys, ORG, START, USERS } from "./fixtures.js";

export type OutputCall =
  | { at: number; kind: "bolt"; position: BoltPosition }
  | { at: number; kind: "display"; lines: string }
  | { at: number; kind: "buzzer"; sound: BuzzerSound };

export class RecordingOutputs extends VirtualOutputs {
  readonly calls: OutputCall[] = [];
  onDrive: ((position: BoltPosition) => void) | undefined;

  constructor(readonly clock: ManualClock) {
    super();
  }

  override driveBolt(position: BoltPosition): void {
    this.calls.push({ at: this.clock.monotonic(), kind: "bolt", position });
    this.onDrive?.(position);
    super.driveBolt(position);
  }

  override display(lines: readonly [string, string]): void {
    this.calls.push({ at: this.clock.monotonic(), kind: "display", lines: lines.join(" | ") });
    super.display(lines);
  }

  override buzzer(sound: BuzzerSound): void {
    this.calls.push({ at: this.clock.monotonic(), kind: "buzzer", sound });
    super.buzzer(sound);
  }
}

export interface WorldOptions {
  policy?: FactorySetup["policy"];
  weekly?: FactorySetup["weekly"];
  /** How to reopen the store after a restart (a memory store's copy, a file opened again…). */
  reopen: (store: LockStore, clean: boolean) => LockStore;
  store: LockStore;
  /** Two worlds compared call for call share one identity (the close seal is keyed by it). */
  identity?: DeviceIdentity;
}

export class World {
  readonly clock = new ManualClock(START);
  readonly identity: DeviceIdentity;
  readonly outputs = new RecordingOutputs(this.clock);
  store: LockStore;
  lock: LockHarness;
  #seq = 0;
  readonly #reopen: WorldOptions["reopen"];

  constructor(options: WorldOptions) {
    this.identity = options.identity ?? generateDeviceIdentity(DEVICE, ORG);
    this.store = options.store;
    this.#reopen = options.reopen;
    this.lock = new LockHarness({
      store: this.store,
      identity: this.identity,
      clock: this.clock,
      outputs: this.outputs,
      factory: {
        timeZone: "Europe/Berlin",
        policy: { timeDelayMin: 0, ...options.policy },
        fleetKeys: { "fleet-1": toBase64url(fleetKeys.publicKey) },
        users: Object.values(USERS).map((user) => ({ ...user })),
        ...(options.weekly === undefined ? {} : { weekly: options.weekly }),
      },
    });
    this.lock.advance(1000);
    this.command("time.sync", { time: new Date(this.lock.core.lockTime()).toISOString() });
  }

  command<T extends CommandType>(type: T, body: CommandBody<T>) {
    this.#seq += 1;
    const issuedAt = this.lock.core.lockTime();
    return this.lock.command(
      encodeEnvelope(
        signEnvelope(
          {
            type,
            deviceId: DEVICE,
            id: `c-${this.#seq}`,
            seq: this.#seq,
            issuedAt,
            expiresAt: issuedAt + 10 * 60_000,
            keyId: "fleet-1",
            body,
          },
          fleetKeys.secretKey,
        ),
      ),
    );
  }

  /** Power cycle on the same store and outputs; trusted time comes back by a sync. */
  restart(clean: boolean): void {
    if (clean) this.lock.core.shutdown();
    this.store = this.#reopen(this.store, clean);
    this.outputs.pendingSensor = undefined;
    this.lock = new LockHarness({
      store: this.store,
      identity: this.identity,
      clock: this.clock,
      outputs: this.outputs,
    });
    this.command("time.sync", { time: new Date(this.lock.core.lockTime()).toISOString() });
  }
}
