/**
 * The device runtime: the lock core wired to real time, the lock hardware and the fleet.
 *
 * - Time: the system clock, and one timer (DeadlineScheduler) calling `core.tick()` at the
 *   core's next deadline, re-armed after every input.
 * - Hardware: keypad, door, bolt sensor and tamper events become core inputs; the core drives
 *   bolt, display, buzzer and silent alarm through the same object (LockHardware).
 * - Fleet: retained `state` and `availability` (last will offline), signed commands on `cmd`
 *   and `sync` verified by the core (every rejection answered on `cmd/result` and audited),
 *   audit records at least once and in order on `event` (AuditSync), self-test reports.
 *   Everything published except the last will is signed with the device key
 *   (DeviceMessageSigner): only the lock speaks for the lock.
 *
 * The lock never waits for the network: inputs are handled whether the link is up or not,
 * and the audit backlog waits in the store until the fleet acknowledges it.
 */

import { join } from "node:path";
import type { HardwareProfile } from "@lockfleet/hardware-profiles";
import {
  type Alarm,
  type CommandResult,
  type DeviceEventMessage,
  formatInstant,
  type LockState,
  type SelfTestReport,
  topics,
} from "@lockfleet/protocol";
import type { LockHardware } from "../hardware/types.js";
import { LockCore, type SeedUser } from "../lock/lock-core.js";
import type { Clock, DeviceIdentity } from "../lock/ports.js";
import type { LockStore } from "../store/lock-store.js";
import { SqliteLockStore } from "../store/sqlite-store.js";
import { answerUpdateOffer, updaterFor } from "../update/runtime-updates.js";
import type { SoftwareUpdater, UpdateOptions } from "../update/updater.js";
import { AuditSync, type AuditSyncOptions } from "./audit-sync.js";
import { startBackgroundChecks } from "./background-checks.js";
import { SystemClock } from "./clock.js";
import { type DataDirLock, lockDataDir } from "./data-dir-lock.js";
import {
  type DeviceConfig,
  dataPaths,
  openPassword,
  readConfig,
  readIdentity,
} from "./device-files.js";
import { RuntimeError } from "./errors.js";
import { type RuntimeLog, silentLog } from "./log.js";
import { DeviceMessageSigner, MESSAGE_SEQ_FILE } from "./message-signer.js";
import { MqttLink } from "./mqtt-link.js";
import { resolveProfile } from "./profile.js";
import { DeadlineScheduler } from "./scheduler.js";
import { loadKek, locateKek } from "./secrets.js";
import { reportRefusedStore } from "./store-refused.js";

export type HardwareOpener = (profile: HardwareProfile) => Promise<LockHardware>;

export interface DeviceRuntimeOptions {
  /** The provisioned data directory (identity.json, config.json, lock.sqlite). */
  dataDir: string;
  /** The key-encryption key; when absent it is read from `kekFile`, the systemd credential or /etc/lockfleet/kek. */
  kek?: Uint8Array;
  kekFile?: string;
  /** The profile the operator expects (`--profile`); must be the one the device was provisioned with. */
  profile?: string;
  /** The lock hardware, opened already, or a function that opens it for the resolved profile. */
  hardware: LockHardware | HardwareOpener;
  clock?: Clock;
  log?: RuntimeLog;
  /** Installed only when the lock store is created on the first start (demo and test set-ups). */
  firstStart?: { users?: SeedUser[]; factoryMasterCode?: string };
  mqtt?: {
    /** false: run without a fleet link (bench, bench-top tests). Default true. */
    enabled?: boolean;
    /** Overrides the provisioned broker URL (e.g. a local test broker). */
    url?: string;
    persistentSession?: boolean;
    keepaliveSec?: number;
    reconnectMinMs?: number;
    reconnectMaxMs?: number;
  };
  audit?: Pick<AuditSyncOptions, "batchSize" | "ackTimeoutMs">;
  /** Sign a checkpoint over the chain head this often while records keep coming. Default 1 h. */
  checkpointIntervalMs?: number;
  /** Signed software updates into an A/B install root (absent: this lock refuses update offers). */
  update?: UpdateOptions;
  /**
   * Called when the lock must restart into another software version (after a switch or a
   * rollback): the command line stops the runtime and exits for the launcher to start again.
   */
  onRestartRequested?: (reason: string) => void;
}

interface RuntimeParts {
  config: DeviceConfig;
  identity: DeviceIdentity;
  profile: HardwareProfile;
  store: SqliteLockStore;
  core: LockCore;
  hardware: LockHardware;
  clock: Clock;
  log: RuntimeLog;
  options: DeviceRuntimeOptions;
  dirLock: DataDirLock;
}

export class DeviceRuntime {
  readonly config: DeviceConfig;
  readonly profile: HardwareProfile;
  readonly core: LockCore;
  readonly store: SqliteLockStore;
  readonly hardware: LockHardware;
  readonly #log: RuntimeLog;
  readonly #scheduler: DeadlineScheduler;
  readonly #audit: AuditSync;
  readonly #signer: DeviceMessageSigner;
  #link: MqttLink | undefined;
  readonly #unsubscribe: Array<() => void> = [];
  readonly #topics: { state: string; event: string; result: string };
  #statePublishScheduled = false;
  #lastStateText: string | undefined;
  #checkpointTimer: NodeJS.Timeout | undefined;
  #selfTestRequested = false;
  #stopped = false;
  #onlineWaiters: Array<() => void> = [];
  readonly #dirLock: DataDirLock;
  readonly #checkpointKey: Uint8Array;
  #updater: SoftwareUpdater | undefined;

  /**
   * Opens the provisioned device in `dataDir` and starts it. Resolves once the lock core has
   * booted and the hardware is wired (the lock is usable); the fleet link keeps connecting in
   * the background with backoff.
   */
  static async start(options: DeviceRuntimeOptions): Promise<DeviceRuntime> {
    const log = options.log ?? silentLog;
    const config = readConfig(options.dataDir);
    const kek = options.kek ?? loadKek(locateKek(options.kekFile));
    if (options.profile !== undefined && options.profile !== config.profile) {
      resolveProfile(options.profile); // an unknown id says so first
      throw new RuntimeError(
        "E_PROFILE_MISMATCH",
        `this device was provisioned with hardware profile "${config.profile}", not "${options.profile}"`,
      );
    }
    const profile = resolveProfile(config.profile);
    const identity = readIdentity(options.dataDir, kek);
    if (identity.deviceId !== config.deviceId) {
      throw new RuntimeError(
        "E_CONFIG",
        `identity (${identity.deviceId}) and configuration (${config.deviceId}) name different devices`,
      );
    }
    const clock = options.clock ?? new SystemClock();
    // One runtime per data directory: a second one refuses here, before it touches anything.
    const dirLock = lockDataDir(options.dataDir);
    // After an unclean shutdown the chain is verified from the latest checkpoint, and that
    // checkpoint must carry this device's signature (a log rewritten on disk is refused).
    let store: SqliteLockStore;
    try {
      store = openStore(options.dataDir, config.deviceId, identity, log);
    } catch (error) {
      // The lock does not run, but the fleet hears why (a storageFault alarm from memory).
      if (options.mqtt?.enabled !== false) {
        await reportRefusedStore({
          config,
          identity,
          dataDir: options.dataDir,
          kek,
          error,
          log,
          ...(options.mqtt?.url === undefined ? {} : { url: options.mqtt.url }),
        });
      }
      dirLock.release();
      throw error;
    }
    let hardware: LockHardware | undefined;
    try {
      installEnrolmentSecret(store, config, clock);
      hardware =
        typeof options.hardware === "function" ? await options.hardware(profile) : options.hardware;
      if (hardware.profileId !== profile.id) {
        throw new RuntimeError(
          "E_PROFILE_MISMATCH",
          `the hardware was opened with profile "${hardware.profileId}", the device runs "${profile.id}"`,
        );
      }
      // Every input is read before the core decides anything (start-up.ts).
      const startInputs = hardware.readInputs();
      const core = LockCore.open({
        store,
        clock,
        outputs: hardware,
        identity,
        startInputs,
        boltSensorTimeoutMs: profile.timings.boltSensorTimeoutMs,
        factory: {
          timeZone: config.timeZone,
          policy: config.policy,
          fleetKeys: Object.fromEntries(config.fleetKeys.map((key) => [key.keyId, key.publicKey])),
          ...(options.firstStart?.users === undefined ? {} : { users: options.firstStart.users }),
          ...(options.firstStart?.factoryMasterCode === undefined
            ? {}
            : { factoryMasterCode: options.firstStart.factoryMasterCode }),
        },
      });
      const runtime = new DeviceRuntime({
        config,
        identity,
        profile,
        store,
        core,
        hardware,
        clock,
        log,
        options,
        dirLock,
      });
      runtime.#begin(kek, options);
      return runtime;
    } catch (error) {
      await hardware?.close().catch(() => {});
      store.close();
      dirLock.release();
      throw error;
    }
  }

  private constructor(parts: RuntimeParts) {
    this.config = parts.config;
    this.profile = parts.profile;
    this.core = parts.core;
    this.store = parts.store;
    this.hardware = parts.hardware;
    this.#log = parts.log;
    this.#dirLock = parts.dirLock;
    this.#checkpointKey = parts.identity.signing.publicKey;
    const { org, deviceId } = parts.config;
    this.#topics = {
      state: topics.state(org, deviceId),
      event: topics.event(org, deviceId),
      result: topics.cmdResult(org, deviceId),
    };
    this.#signer = new DeviceMessageSigner(
      this.store,
      {
        deviceId,
        keyId: parts.identity.signingKeyId,
        secretKey: parts.identity.signing.secretKey,
      },
      () => this.core.lockTime(),
      join(parts.options.dataDir, MESSAGE_SEQ_FILE),
    );
    this.#scheduler = new DeadlineScheduler(this.core, parts.clock, () => this.#afterInput());
    this.#audit = new AuditSync({
      store: this.store,
      publish: (message) => this.#publishEvent(message),
      log: this.#log,
      ...parts.options.audit,
    });
  }

  get deviceId(): string {
    return this.config.deviceId;
  }

  get org(): string {
    return this.config.org;
  }

  /** True while the fleet link is up. */
  get online(): boolean {
    return this.#link?.online ?? false;
  }

  /** How many times the link came up (first connect and every reconnect). */
  get connects(): number {
    return this.#link?.connects ?? 0;
  }

  /** The audit sync (sent and published counters, for status and tests). */
  get auditSync(): AuditSync {
    return this.#audit;
  }

  /** The retained state message as it is published. */
  state(): LockState {
    return {
      ...this.core.state(this.config.org),
      hardwareProfile: this.profile.id,
      // The version of the slot running, as the release that installed it names it.
      ...(this.#updater === undefined
        ? {}
        : { firmware: `lockfleet-edge/${this.#updater.runningVersion}` }),
    };
  }

  /** The software updater, when the lock runs from an A/B install root. */
  get updater(): SoftwareUpdater | undefined {
    return this.#updater;
  }

  /** Resolves when the fleet link is up (rejects after `timeoutMs`). */
  waitOnline(timeoutMs = 10_000): Promise<void> {
    if (this.online) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#onlineWaiters = this.#onlineWaiters.filter((waiter) => waiter !== done);
        reject(
          new RuntimeError("E_FLEET_UNREACHABLE", `broker not reached within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#onlineWaiters.push(done);
    });
  }

  /**
   * Runs the hardware self-test and records it in the audit trail (`selfTest.completed`, which
   * reaches the fleet with the audit sync); returns the report.
   */
  async selfTest(): Promise<SelfTestReport> {
    const report = await this.hardware.selfTest(this.deviceId);
    if (this.#stopped) return report;
    this.core.recordHardwareEvent({ kind: "selfTest", report });
    this.#afterInput();
    const faults = report.parts.filter((part) => part.result === "fault").map((part) => part.part);
    this.#log[faults.length === 0 ? "info" : "warn"]("self-test completed", {
      faults,
      parts: report.parts.length,
    });
    return report;
  }

  /** Drops the fleet link without a clean disconnect, as a pulled cable would (tests). */
  severLink(): void {
    this.#link?.sever();
  }

  /** Stops cleanly: availability offline, hardware released, store closed (clean shutdown). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#updater?.stop();
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#scheduler.stop();
    this.#audit.stop();
    if (this.#checkpointTimer !== undefined) clearInterval(this.#checkpointTimer);
    if (this.#link !== undefined) {
      if (this.#link.online) await this.#publishState(true).catch(() => {});
      await this.#link.stop();
    }
    await this.hardware
      .close()
      .catch((error: Error) =>
        this.#log.warn("hardware did not close cleanly", { err: error.message }),
      );
    try {
      this.core.shutdown();
    } finally {
      this.#dirLock.release();
    }
    this.#log.info("stopped", { deviceId: this.deviceId });
  }

  // ------------------------------------------------------------------ wiring

  #begin(kek: Uint8Array, options: DeviceRuntimeOptions): void {
    const core = this.core;
    const hardware = this.hardware;
    const input = (action: () => void) => () => {
      if (this.#stopped) return;
      action();
      this.#scheduler.rearm();
      this.#afterInput();
    };
    this.#unsubscribe.push(
      hardware.on("key", (key) => input(() => core.pressKey(key))()),
      hardware.on("door", (open) => input(() => core.setDoor(open))()),
      hardware.on("bolt", (position) => input(() => core.boltSensed(position))()),
      hardware.on("tamper", (active) => input(() => core.setTamper(active))()),
      hardware.on("powerFail", (failing) => {
        this.#log.warn(failing ? "mains power failed; running on reserve" : "mains power back");
        input(() => core.recordHardwareEvent({ kind: "powerFail", failing }))();
      }),
      // Jams and faults surface while the core drives an output: they are handed to the core
      // once the unit of work that drove it is complete.
      hardware.on("boltJam", (expected) => {
        this.#log.warn("actuator reports the bolt did not move", { expected });
        queueMicrotask(input(() => core.recordHardwareEvent({ kind: "boltJam", expected })));
      }),
      hardware.on("fault", (part, error) => {
        this.#log.error("hardware part failed", { part, err: error.message });
        queueMicrotask(input(() => core.recordHardwareEvent({ kind: "partFault", part, error })));
      }),
      core.on("audit", () => this.#audit.recordsAppended()),
      core.on("alarm", (alarm) => {
        const notice: Alarm = {
          deviceId: this.deviceId,
          alarm: alarm.kind,
          priority: alarm.priority as Alarm["priority"],
          at: formatInstant(core.lockTime()),
          auditSeq: alarm.auditSeq,
          actor: alarm.actor,
          data: alarm.data,
        };
        this.#audit.alarm(notice);
      }),
      core.on("checkpoint", (checkpoint) => this.#audit.checkpoint(checkpoint)),
      core.on("auditResend", (fromSeq, toSeq) => this.#audit.resend(fromSeq, toSeq)),
      core.on("selfTestRequested", () => {
        this.#selfTestRequested = true;
      }),
      core.on("fault", (error) =>
        this.#log.error("lock fault; bolt thrown", { err: error.message }),
      ),
      // Bounded: the core reports a storage fault's attempts 1, 2, 4, 8 … and its end.
      core.on("storageFault", (report) => {
        const detail = { attempts: report.attempts, err: report.error };
        if (report.state === "restored") this.#log.warn("lock store writes again", detail);
        else this.#log.error("lock store refuses writes; lock fault-locked, retrying", detail);
      }),
    );
    this.#scheduler.rearm();
    this.#afterInput();
    this.#unsubscribe.push(
      startBackgroundChecks({
        store: this.store,
        core,
        checkpointPublicKey: this.#checkpointKey,
        log: this.#log,
        afterInput: () => {
          this.#scheduler.rearm();
          this.#afterInput();
        },
      }),
    );
    const interval = options.checkpointIntervalMs ?? 3_600_000;
    this.#checkpointTimer = setInterval(() => this.#checkpointIfBehind(), interval);
    this.#checkpointTimer.unref();
    this.#log.info("lock started", {
      deviceId: this.deviceId,
      profile: this.profile.id,
      auditHead: this.store.auditHead().seq,
    });
    if (options.update !== undefined) {
      this.#updater = updaterFor(options.update, {
        org: this.config.org,
        hardwareProfile: this.profile.id,
        core,
        store: this.store,
        checkpointPublicKey: this.#checkpointKey,
        log: this.#log,
        stopped: () => this.#stopped,
        recordsAppended: () => {
          this.#audit.recordsAppended();
          this.#afterInput();
        },
        selfTest: () => this.selfTest(),
        waitOnline: (ms) => this.waitOnline(ms),
        ...(options.onRestartRequested === undefined
          ? {}
          : { onRestartRequested: options.onRestartRequested }),
      });
    }
    const mqttOptions = options.mqtt ?? {};
    if (mqttOptions.enabled === false) {
      this.#resumeUpdate();
      return;
    }
    const { org, deviceId } = this.config;
    this.#link = new MqttLink(
      {
        url: mqttOptions.url ?? this.config.broker.url,
        org,
        deviceId,
        username: this.config.broker.username,
        password: openPassword(this.config, kek),
        ...(this.config.broker.tls === undefined ? {} : { tls: this.config.broker.tls }),
        signAvailability: (availability) => this.#signer.sign("availability", availability),
        ...pick(mqttOptions, [
          "persistentSession",
          "keepaliveSec",
          "reconnectMinMs",
          "reconnectMaxMs",
        ]),
        log: this.#log,
      },
      {
        connected: () => this.#connected(),
        disconnected: () => this.#audit.disconnected(),
        command: (payload) => this.#command(payload),
      },
    );
    this.#link.start();
    this.#resumeUpdate();
  }

  /** An update in progress continues; a broken install root never keeps the lock from running. */
  #resumeUpdate(): void {
    try {
      this.#updater?.start();
    } catch (error) {
      this.#log.error("software update not resumed", {
        err: error instanceof Error ? error.message : String(error),
      });
    }
  }

  #afterInput(): void {
    if (this.#statePublishScheduled) return;
    this.#statePublishScheduled = true;
    setImmediate(() => {
      this.#statePublishScheduled = false;
      if (!this.#stopped) void this.#publishState(false).catch(() => {});
    });
  }

  async #publishState(force: boolean): Promise<void> {
    if (this.#link === undefined || !this.#link.online) return;
    const state = this.state();
    // Only a change of the lock itself is news; the audit head travels with it (records go on `event`).
    const { at: _at, auditHead: _auditHead, ...comparable } = state;
    const text = JSON.stringify(comparable);
    if (!force && text === this.#lastStateText) return;
    this.#lastStateText = text;
    await this.#link.publish(this.#topics.state, this.#signer.sign("state", state), {
      retain: true,
    });
  }

  /** One signature per message: an audit batch is signed once, its records stay chained. */
  #publishEvent(message: DeviceEventMessage): Promise<void> {
    if (this.#link === undefined)
      return Promise.reject(new RuntimeError("E_MQTT_CLOSED", "no fleet link"));
    let text: string;
    try {
      text =
        message.type === "audit"
          ? this.#signer.sign("audit", { records: message.records })
          : message.type === "alarm"
            ? this.#signer.sign("alarm", message.alarm)
            : this.#signer.sign("checkpoint", message.checkpoint);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#link.publish(this.#topics.event, text);
  }

  #connected(): void {
    this.#publishState(true).catch((error: Error) =>
      this.#log.warn("state not published", { err: error.message }),
    );
    this.#checkpointIfBehind();
    this.#audit.connected();
    for (const waiter of this.#onlineWaiters.splice(0)) waiter();
  }

  #checkpointIfBehind(): void {
    if (this.#stopped) return;
    try {
      const head = this.store.auditHead();
      const latest = this.store.latestCheckpoint();
      if (head.seq > 0 && (latest === undefined || latest.seq < head.seq)) this.core.checkpoint();
    } catch (error) {
      // A store that refuses the checkpoint is a storage fault the core reports on its next write.
      this.#log.warn("checkpoint not written", {
        err: error instanceof Error ? error.message : String(error),
      });
    }
  }

  #command(payload: Buffer): void {
    if (this.#stopped) return;
    const acknowledgedBefore = this.store.acknowledgedSeq();
    this.#selfTestRequested = false;
    const result = this.core.receiveCommand(payload);
    this.#scheduler.rearm();
    this.#afterInput();
    this.#log.info("command", {
      id: result.id,
      status: result.status,
      ...(result.error === undefined ? {} : { code: result.error.code }),
    });
    if (this.store.acknowledgedSeq() !== acknowledgedBefore) this.#audit.acknowledged();
    if (result.status === "ok" && typeof result.data?.updateOffered === "string") {
      this.#publishResult(answerUpdateOffer(this.#updater, payload, result));
      return;
    }
    if (this.#selfTestRequested) {
      // The answer to a self-test request is its report, once the parts have been exercised.
      this.#selfTestRequested = false;
      this.selfTest().then(
        (report) => this.#publishResult({ ...result, data: { ...result.data, selfTest: report } }),
        (error: Error) =>
          this.#publishResult({
            ...result,
            status: "error",
            error: {
              code: "E_SELF_TEST_FAILED",
              message: `the self-test could not run: ${error.message}`.slice(0, 1000),
            },
          }),
      );
      return;
    }
    this.#publishResult(result);
  }

  #publishResult(result: CommandResult): void {
    const link = this.#link;
    if (link === undefined) return;
    Promise.resolve()
      .then(() => link.publish(this.#topics.result, this.#signer.sign("result", result)))
      .catch((error: Error) => this.#log.warn("result not published", { err: error.message }));
  }
}

/**
 * Appends a self-test report to the audit trail of a lock that is not running (the offline
 * `lockfleet-edge selftest`); a running lock records it through its core
 * (`LockCore.recordHardwareEvent`).
 */
export function recordSelfTest(store: LockStore, report: SelfTestReport, lockTime: number): void {
  store.commit({
    events: [
      {
        at: lockTime,
        kind: "selfTest.completed",
        actor: null,
        data: { hardwareProfile: report.hardwareProfile, parts: report.parts },
      },
    ],
  });
}

/**
 * Opens the lock store with the device's checkpoint key. A store that fails the check stays
 * shut, and so does the lock: the runtime does not start, the bolt is never driven and stays
 * thrown (fail-secure), and the reason is logged and thrown with its code.
 */
function openStore(
  dataDir: string,
  deviceId: string,
  identity: DeviceIdentity,
  log: RuntimeLog,
): SqliteLockStore {
  try {
    return SqliteLockStore.open(dataPaths(dataDir).store, deviceId, {
      checkpointPublicKey: identity.signing.publicKey,
    });
  } catch (error) {
    log.error("lock store refused; the lock does not run and the bolt stays thrown", {
      err: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
}

/**
 * The one-time-code secret from the enrolment, installed with the lock store on first start
 * (still sealed to the device's X25519 key; the core opens it only to check a code).
 */
function installEnrolmentSecret(store: SqliteLockStore, config: DeviceConfig, clock: Clock): void {
  if (store.readSection("policy") !== undefined || store.readSection("otp") !== undefined) return;
  store.commit({
    sections: { otp: { sealed: config.otpSecret, highest: 0, used: [] } },
    events: [
      {
        at: clock.now(),
        kind: "otp.secretInstalled",
        actor: null,
        data: { counter: 0, source: "enrolment" },
      },
    ],
  });
}

function pick<T extends object, K extends keyof T>(
  object: T,
  keys: readonly K[],
): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (object[key] !== undefined) picked[key] = object[key];
  return picked;
}
