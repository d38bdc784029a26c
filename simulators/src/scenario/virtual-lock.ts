/**
 * One virtual lock for a scenario: the real LockCore on a manual clock with virtual outputs,
 * its store, and a fleet that holds the signing key installed at factory set-up. Inputs are
 * the ones the hardware layer and the fleet would give; what it observes is what a person at
 * the lock (display, buzzer, bolt, door) and the alarm system (silent-alarm relay) would see.
 */

import {
  type DeviceIdentity,
  type FactorySetup,
  generateDeviceIdentity,
  LockHarness,
  ManualClock,
  VirtualOutputs,
} from "@lockfleet/edge";
import {
  type AuditRecord,
  type CommandResult,
  type CommandType,
  ed25519,
  encodeEnvelope,
  fromHex,
  type LockState,
  type SealedSecret,
  sealSecret,
  signEnvelope,
  toBase64url,
  x25519,
} from "@lockfleet/protocol";
import { SimulatorError } from "../errors.js";
import type { ClearSecret, ScenarioLock } from "./schema.js";
import type { ScenarioStore } from "./stores.js";

export const SCENARIO_FLEET_KEY_ID = "scenario-fleet";
const DEFAULT_DEVICE_ID = "scenario-lock";
const DEFAULT_ORG = "scenario-bank";
const DEFAULT_COMMAND_VALIDITY_MS = 10 * 60_000;
/**
 * A (re)start takes this long: the bolt sensor confirms the throw and trusted time arrives.
 * A whole second, so countdowns on the display tick on the scenario's whole seconds.
 */
export const BOOT_MS = 1000;

export interface VirtualLockOptions {
  lock: ScenarioLock;
  /** Opens the store for a device id; the lock is set up from the scenario when it is new. */
  openStore: (deviceId: string) => ScenarioStore;
}

export class VirtualLock {
  readonly deviceId: string;
  readonly clock: ManualClock;
  readonly outputs = new VirtualOutputs();
  readonly #identity: DeviceIdentity;
  readonly #lockPublicKey: Uint8Array;
  readonly #fleet = ed25519.generateKeyPair();
  readonly #store: ScenarioStore;
  readonly #timeSync: NonNullable<ScenarioLock["timeSync"]>;
  #harness: LockHarness;
  #seq = 0;
  #doorOpen = false;
  #tamper = false;

  constructor(options: VirtualLockOptions) {
    const { lock } = options;
    this.deviceId = lock.deviceId ?? DEFAULT_DEVICE_ID;
    // Powered up one boot time before `start`, so the lock is settled when step 1 runs.
    this.clock = new ManualClock(Date.parse(lock.start) - BOOT_MS);
    this.#identity = generateDeviceIdentity(this.deviceId, lock.org ?? DEFAULT_ORG);
    this.#lockPublicKey = x25519.keyPairFromSecretKey(this.#identity.encryptionSecretKey).publicKey;
    this.#timeSync = lock.timeSync ?? "always";
    this.#store = options.openStore(this.deviceId);
    this.#harness = new LockHarness({
      store: this.#store.current,
      identity: this.#identity,
      clock: this.clock,
      outputs: this.outputs,
      factory: factorySetup(lock, toBase64url(this.#fleet.publicKey)),
    });
    this.#afterBoot(this.#timeSync !== "never");
  }

  /** "memory" or the file store's path. */
  get storeDescription(): string {
    return this.#store.description;
  }

  get harness(): LockHarness {
    return this.#harness;
  }

  /** The bolt reports its position, then the fleet sends trusted time (as when a lock comes online). */
  #afterBoot(syncTime: boolean): void {
    this.#harness.advance(BOOT_MS);
    if (syncTime) {
      const result = this.command("time.sync", { time: new Date(this.clock.now()).toISOString() });
      if (result.status !== "ok") {
        throw new SimulatorError(
          "E_TIME_SYNC",
          `the lock refused trusted time: ${result.error?.message}`,
        );
      }
    }
  }

  press(keys: string): void {
    this.#harness.press(keys.replaceAll(" ", ""));
  }

  advance(ms: number): void {
    this.#harness.advance(ms);
  }

  door(open: boolean): void {
    this.#doorOpen = open;
    this.#harness.door(open);
  }

  tamper(active: boolean): void {
    this.#tamper = active;
    this.#harness.tamper(active);
  }

  /** A stuck bolt: drives from now on are not confirmed by the bolt sensor. */
  jam(stuck: boolean): void {
    this.outputs.jammed = stuck;
  }

  /**
   * Power lost and back after `offMs`: no clean shutdown, the lock restarts from what its
   * store holds and is settled BOOT_MS later. The hardware layer reports the door contact and
   * tamper switch at start.
   */
  powerCycle(offMs: number): void {
    this.outputs.pendingSensor = undefined;
    this.clock.advance(offMs);
    this.#harness = new LockHarness({
      store: this.#store.restartUnclean(),
      identity: this.#identity,
      clock: this.clock,
      outputs: this.outputs,
    });
    if (this.#doorOpen) this.#harness.door(true);
    if (this.#tamper) this.#harness.tamper(true);
    this.#afterBoot(this.#timeSync === "always");
  }

  /** Signs a command with the fleet key and hands it to the lock as received over MQTT. */
  command(
    type: CommandType,
    body: Record<string, unknown>,
    options: { seq?: number; expiresInMs?: number } = {},
  ): CommandResult {
    const seq = options.seq ?? this.#seq + 1;
    this.#seq = Math.max(this.#seq, seq);
    const issuedAt = this.clock.now();
    const envelope = signEnvelope(
      {
        type,
        deviceId: this.deviceId,
        id: `cmd-${seq}`,
        seq,
        issuedAt,
        expiresAt: issuedAt + (options.expiresInMs ?? DEFAULT_COMMAND_VALIDITY_MS),
        keyId: SCENARIO_FLEET_KEY_ID,
        body,
      },
      this.#fleet.secretKey,
    );
    return this.#harness.command(encodeEnvelope(envelope));
  }

  /** Seals a secret to this lock's own X25519 key, as the fleet does for a PIN letter. */
  seal(secret: ClearSecret): SealedSecret {
    const bytes = "clear" in secret ? new TextEncoder().encode(secret.clear) : fromHex(secret.hex);
    return sealSecret(bytes, this.#lockPublicKey);
  }

  state(): LockState {
    return this.#harness.core.state();
  }

  /** Audit records after `afterSeq`, in order. */
  auditAfter(afterSeq: number): AuditRecord[] {
    const store = this.#store.current;
    const head = store.auditHead().seq;
    return head <= afterSeq ? [] : store.auditRange(afterSeq + 1, head, head - afterSeq);
  }

  close(): void {
    this.#store.close();
  }
}

function factorySetup(lock: ScenarioLock, fleetPublicKey: string): FactorySetup {
  return {
    timeZone: lock.timeZone,
    ...(lock.policy === undefined ? {} : { policy: lock.policy }),
    ...(lock.weekly === undefined ? {} : { weekly: lock.weekly }),
    ...(lock.holidays === undefined ? {} : { holidays: lock.holidays }),
    ...(lock.factoryMasterCode === undefined ? {} : { factoryMasterCode: lock.factoryMasterCode }),
    fleetKeys: { [SCENARIO_FLEET_KEY_ID]: fleetPublicKey },
    users: (lock.users ?? []).map(({ enabled, ...user }) => ({
      ...user,
      enabled: enabled ?? true,
    })),
  };
}
