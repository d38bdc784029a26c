/**
 * The lock core: decides whether the bolt may move (SPEC §3). It owns no timers, files or
 * sockets: time comes from the injected Clock, persistence from the LockStore, and the
 * hardware is driven through LockOutputs. Every input (key, door, bolt sensor, tamper,
 * command, tick) runs as one unit of work: state changes and audit events are committed in
 * one transaction, and only then are outputs driven — so the bolt never moves on an opening
 * that is not on record. Any internal error leaves the bolt thrown (fail-secure).
 */

import type { SelfTestReport } from "@lockfleet/protocol";
import {
  ALARM_PRIORITY,
  type AlarmKind,
  type AuditRecord,
  type Checkpoint,
  type CommandResult,
  DEFAULT_LOCK_POLICY,
  formatInstant,
  fromBase64url,
  LockPolicy,
  type LockState,
  type LockUser,
  type OpenedCommand,
  openCommand,
  openSealedSecret,
  peekEnvelopeId,
  type ReplayGuard,
  signCheckpoint,
  type TimeLockSchedule,
  validate,
} from "@lockfleet/protocol";
import type { ChainVerification } from "../store/chain-verification.js";
import type { AuditAppend, FailSecureMark, LockStore } from "../store/lock-store.js";
import { openingCloseSeal } from "./close-seal.js";
import { codeBehindDuressEntry, codeMatches, hashCode, isDigits, isTrivialCode } from "./codes.js";
import { applyCommand, type CommandEffects, withAcknowledgement } from "./commands.js";
import { DISPLAY, type DisplayLines } from "./display.js";
import { alreadyCounted, codesRequired, mixedPartiesPossible } from "./dual-control.js";
import { activeGrantFor } from "./grants.js";
import { acceptOneTimeCode } from "./one-time-codes.js";
import { afterWrongCode, NO_PENALTY } from "./penalty.js";
import { policyWeakenings } from "./policy-change.js";
import type { BoltPosition, BuzzerSound, Clock, DeviceIdentity, LockOutputs } from "./ports.js";
import { programPolicy } from "./programming.js";
import { applyStartInputs, type StartInputs } from "./start-up.js";
import type {
  AckSection,
  Authorisation,
  CycleSection,
  SectionMap,
  SectionName,
  StoredGrant,
  StoredUser,
} from "./state.js";
import {
  alarmFromMemory,
  isStorageFailure,
  recordsOfFailSecureMark,
  StorageFault,
  type StorageFaultReport,
} from "./storage-fault.js";
import { delayMinutes } from "./time-delay.js";
import { TimeLockEvaluator } from "./time-lock.js";
import { userRefusal } from "./users.js";

export const FIRMWARE_VERSION = "lockfleet-edge/0.1.0";

/** A user installed with a clear code at factory set-up or by a scenario; hashed at once. */
export type SeedUser = LockUser & { code: string; duressCode?: string; mustChangeCode?: boolean };

export interface FactorySetup {
  timeZone: string;
  policy?: Partial<LockPolicy>;
  weekly?: TimeLockSchedule["weekly"];
  holidays?: TimeLockSchedule["holidays"];
  /** Trusted fleet keys, base64url, by keyId. */
  fleetKeys?: Record<string, string>;
  users?: SeedUser[];
  /** Factory master code (slot 00); it must be changed on first use. */
  factoryMasterCode?: string;
}

export interface LockCoreOptions {
  store: LockStore;
  clock: Clock;
  outputs: LockOutputs;
  identity: DeviceIdentity;
  /** Used only when the store is new. */
  factory?: FactorySetup;
  /** The bolt sensor must confirm a drive within this time, or the bolt counts as jammed. */
  boltSensorTimeoutMs?: number;
  /** Sign a checkpoint after this many new audit records. */
  checkpointEvery?: number;
  /** The inputs as read at power-up, applied right after boot in start-up order (start-up.ts). */
  startInputs?: StartInputs;
}

export interface LockCoreEvents {
  audit: (records: AuditRecord[]) => void;
  alarm: (alarm: {
    kind: AlarmKind;
    priority: string;
    auditSeq: number;
    actor: string | null;
    data: Record<string, unknown>;
  }) => void;
  checkpoint: (checkpoint: Checkpoint) => void;
  auditResend: (fromSeq: number, toSeq: number) => void;
  selfTestRequested: () => void;
  fault: (error: Error) => void;
  /** A storage fault began, is still there (bounded: attempts 1, 2, 4 …) or is over. */
  storageFault: (report: StorageFaultReport) => void;
}

type AlarmNotice = Parameters<LockCoreEvents["alarm"]>[0];

type Listeners = { [K in keyof LockCoreEvents]: Set<LockCoreEvents[K]> };

/**
 * What the lock hardware reports besides its inputs (SPEC §3: every event is on record;
 * unknown hardware and failures are reported, never silently ignored).
 * - `powerFail`: the optional power-fail input; mains failed (`failing`) or back
 *   (`power.failed` / `power.restored`).
 * - `partFault`: a part failed while driven (`part` is a profile part name or "board"):
 *   a lock fault for the parts in LOCK_FAULT_PARTS, else `hardware.partFault`.
 * - `boltJam`: the actuator's own timeout: the bolt sensor did not confirm a drive.
 * - `selfTest`: a completed self-test report.
 */
export type HardwareEvent =
  | { kind: "powerFail"; failing: boolean; source?: "powerFailInput" | "startUp" }
  | { kind: "partFault"; part: string; error: Error }
  | { kind: "boltJam"; expected: BoltPosition }
  | { kind: "selfTest"; report: SelfTestReport };

/**
 * Parts whose failure is a lock fault (fail-secure: bolt thrown, FAULT LOCKED) and which
 * alarm they raise: without them the bolt cannot be driven or confirmed, or a duress opening
 * cannot signal. Any other part's failure is recorded and the lock keeps working.
 */
const LOCK_FAULT_PARTS: Readonly<Record<string, AlarmKind>> = {
  boltActuator: "lockJammed",
  boltSensor: "lockJammed",
  board: "lockJammed",
  silentAlarmRelay: "selfTestFault",
};

/** A refusal by the lock's own rules: stable code, sentence for a person. */
export class LockRuleError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = "LockRuleError";
  }
}

type EntryMode =
  | { kind: "code" }
  | { kind: "oneTimeCode"; user: StoredUser; duress: boolean }
  | { kind: "changeCode"; stage: "identify" }
  | { kind: "program"; user: StoredUser }
  | {
      kind: "changeCode";
      stage: "new" | "repeat";
      user: StoredUser;
      newCodeHash?: string;
      newDuressHash?: string;
    };

interface Work {
  sections: Partial<Record<SectionName, unknown>>;
  events: AuditAppend[];
  alarms: Array<{ index: number; kind: AlarmKind }>;
  outputs: Array<() => void>;
  after: Array<() => void>;
}

/** A person about to join the round: who and for which party; the rest may follow later. */
type CandidateAuthorisation = Pick<Authorisation, "personId" | "party"> & Partial<Authorisation>;

/** The round with a person added, or why the cycle refuses them. */
type Prospect =
  | { refusal: "samePerson" | "mixedPartiesRequired" }
  | { refusal: undefined; cycle: CycleSection; authorisations: Authorisation[]; required: number };

const DEFAULT_FACTORY_MASTER_CODE = "12345678";
const MINUTE = 60_000;
const SECOND = 1000;
/** How long a transient message (WRONG CODE, CANCELLED…) stays over the derived screen. */
const MESSAGE_MS = 3 * SECOND;

export class LockCore {
  readonly deviceId: string;
  readonly #store: LockStore;
  readonly #clock: Clock;
  readonly #outputs: LockOutputs;
  readonly #identity: DeviceIdentity;
  readonly #options: Required<Pick<LockCoreOptions, "boltSensorTimeoutMs" | "checkpointEvery">>;
  readonly #listeners: Listeners = {
    audit: new Set(),
    alarm: new Set(),
    checkpoint: new Set(),
    auditResend: new Set(),
    selfTestRequested: new Set(),
    fault: new Set(),
    storageFault: new Set(),
  };
  /** Alarms raised before anyone listened (at boot): delivered to the first alarm listener. */
  #undeliveredAlarms: AlarmNotice[] = [];
  readonly #storageFault = new StorageFault();

  #s: SectionMap;
  #work: Work | undefined;
  #evaluator: TimeLockEvaluator;

  // Volatile state: what the hardware reports and what runs on the monotonic clock.
  #entry = "";
  #entryDeadline: number | undefined;
  #mode: EntryMode = { kind: "code" };
  /**
   * A message over the derived screen: shown while the cycle stays in the phase it was shown
   * in, and for MESSAGE_MS unless it is a prompt or the close seal (until the next key).
   */
  #message: { lines: DisplayLines; phase: string; until: number | undefined } | undefined;
  #bolt: "thrown" | "retracted" | "jammed" | "unknown" = "unknown";
  #boltCommand: { position: BoltPosition; by: number } | undefined;
  #doorOpen = false;
  #doorForced = false;
  #tamper = false;
  #secondCodeBy: number | undefined;
  #delayEndsAt: number | undefined;
  #windowEndsAt: number | undefined;
  #relockAt: number | undefined;
  #ajarAt: number | undefined;
  #penaltyUntil: number | undefined;
  #trustedTime = false;
  #activeAlarms = new Set<AlarmKind>();
  #lastDisplay: DisplayLines | undefined;
  #sinceCheckpoint = 0;
  #faulted = false;
  /** Parts whose failure is on record already (once per part until a self-test finds it ok). */
  #faultedParts = new Set<string>();
  /** A lock fault waiting to take effect (after a running duress-capable cycle, see partFault). */
  #pendingFault: { error: Error; afterCycle: boolean } | undefined;

  private constructor(options: LockCoreOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#outputs = options.outputs;
    this.#identity = options.identity;
    this.deviceId = options.identity.deviceId;
    if (options.store.deviceId !== this.deviceId) {
      throw new Error(
        `E_STORE_DEVICE_MISMATCH: store belongs to ${options.store.deviceId}, not ${this.deviceId}`,
      );
    }
    this.#options = {
      boltSensorTimeoutMs: options.boltSensorTimeoutMs ?? 3000,
      checkpointEvery: options.checkpointEvery ?? 100,
    };
    this.#s = this.#loadSections();
    this.#evaluator = new TimeLockEvaluator(this.#s.timeLock.schedule);
  }

  /** Opens the lock from its store (setting it up from `factory` when the store is new) and boots it. */
  static open(options: LockCoreOptions): LockCore {
    const isNew = options.store.readSection("policy") === undefined;
    if (isNew) LockCore.#initialise(options);
    const core = new LockCore(options);
    core.#boot(isNew);
    if (options.startInputs !== undefined) applyStartInputs(core, options.startInputs);
    return core;
  }

  static #initialise(options: LockCoreOptions): void {
    const factory = options.factory;
    if (factory === undefined) {
      throw new Error("E_NOT_PROVISIONED: the lock store is empty and no factory set-up was given");
    }
    const policy = { ...DEFAULT_LOCK_POLICY, ...factory.policy };
    const policyCheck = validate(LockPolicy, policy, "policy");
    if (!policyCheck.ok) throw new Error(`E_BAD_CONFIG: ${policyCheck.error.message}`);
    const schedule: TimeLockSchedule = {
      timeZone: factory.timeZone,
      weekly: factory.weekly ?? [],
      holidays: factory.holidays ?? [],
    };
    new TimeLockEvaluator(schedule); // throws E_TIME_LOCK_INVALID on a bad zone or period
    const key = options.identity.codeHashKey;
    const masterCode =
      factory.factoryMasterCode ?? DEFAULT_FACTORY_MASTER_CODE.slice(0, policy.codeLength);
    const users: Record<string, StoredUser> = {
      "0": {
        slot: 0,
        personId: "factory-master",
        role: "master",
        enabled: true,
        codeHash: hashCode(key, 0, masterCode),
        mustChangeCode: true,
      },
    };
    for (const seed of factory.users ?? []) {
      const { code, duressCode, mustChangeCode, ...user } = seed;
      if (!isDigits(code, policy.codeLength)) {
        throw new Error(
          `E_BAD_CONFIG: user ${user.slot} code must have ${policy.codeLength} digits`,
        );
      }
      users[String(user.slot)] = {
        ...user,
        codeHash: hashCode(key, user.slot, code),
        ...(duressCode === undefined
          ? {}
          : { duressCodeHash: hashCode(key, user.slot, duressCode) }),
        mustChangeCode: mustChangeCode ?? false,
      };
    }
    options.store.commit({
      sections: {
        policy,
        users,
        penalty: NO_PENALTY,
        timeLock: { schedule },
        remote: { blocked: false },
        grants: {},
        trust: { fleetKeys: factory.fleetKeys ?? {}, highestSeq: 0 },
        time: { offsetMs: 0 },
        openings: { counter: 0 },
      },
      events: [
        {
          at: options.clock.now(),
          kind: "policy.changed",
          actor: null,
          data: { reason: "factory set-up", policy, users: Object.keys(users).length },
        },
      ],
    });
  }

  #loadSections(): SectionMap {
    const read = <K extends SectionName>(name: K): SectionMap[K] | undefined =>
      this.#store.readSection<SectionMap[K]>(name);
    const policy = read("policy");
    const timeLock = read("timeLock");
    if (policy === undefined || timeLock === undefined)
      throw new Error("E_STORE_CORRUPT: lock policy or time-lock section missing");
    return {
      policy,
      users: read("users") ?? {},
      penalty: read("penalty") ?? NO_PENALTY,
      timeLock,
      remote: read("remote") ?? { blocked: false },
      grants: read("grants") ?? {},
      otp: read("otp") as SectionMap["otp"],
      trust: read("trust") ?? { fleetKeys: {}, highestSeq: 0 },
      time: read("time") ?? { offsetMs: 0 },
      cycle: read("cycle") as SectionMap["cycle"],
      openings: read("openings") ?? { counter: 0 },
      acks: read("acks") as SectionMap["acks"],
    };
  }

  // ---------------------------------------------------------------- events

  on<K extends keyof LockCoreEvents>(event: K, listener: LockCoreEvents[K]): () => void {
    this.#listeners[event].add(listener);
    if (event === "alarm") {
      for (const alarm of this.#undeliveredAlarms.splice(0))
        (listener as LockCoreEvents["alarm"])(alarm);
    }
    return () => this.#listeners[event].delete(listener);
  }

  #emit<K extends keyof LockCoreEvents>(event: K, ...args: Parameters<LockCoreEvents[K]>): void {
    if (event === "alarm" && this.#listeners.alarm.size === 0) {
      this.#undeliveredAlarms.push(args[0] as AlarmNotice);
      return;
    }
    for (const listener of this.#listeners[event])
      (listener as (...a: Parameters<LockCoreEvents[K]>) => void)(...args);
  }

  // ---------------------------------------------------------------- unit of work

  #run<T>(work: () => T): T | undefined {
    if (this.#work !== undefined)
      throw new Error("E_REENTRANT: lock core input while another is being handled");
    const unit: Work = { sections: {}, events: [], alarms: [], outputs: [], after: [] };
    this.#work = unit;
    let result: T;
    try {
      result = work();
      this.#refreshDisplay();
      this.#commit();
    } catch (error) {
      this.#work = undefined;
      this.#failSecure(error instanceof Error ? error : new Error(String(error)), unit);
      return undefined;
    }
    const pending = this.#pendingFault;
    if (pending !== undefined && !(pending.afterCycle && this.#s.cycle)) {
      this.#pendingFault = undefined;
      if (!this.#faulted) this.#failSecure(pending.error);
    }
    return result;
  }

  #commit(): void {
    const work = this.#work;
    if (work === undefined) return;
    this.#work = undefined;
    const acks = this.#s.acks;
    if (acks && work.events.length > 0) {
      // Acknowledgements received since the last record go on record ahead of this one.
      work.events.unshift({
        at: acks.at,
        kind: "audit.acknowledged",
        actor: "fleet",
        data: { ...acks, since: formatInstant(acks.since), at: formatInstant(acks.at) },
      });
      for (const alarm of work.alarms) alarm.index += 1;
      this.#s.acks = undefined as unknown as AckSection;
      work.sections.acks = null;
    }
    // During a storage fault a write is tried when this unit has something to write, or when
    // the retry is due (tick); a unit that changes nothing does not hammer a full disk.
    const retryAt = this.#storageFault.retryAt;
    const attempt =
      retryAt !== undefined &&
      (retryAt <= this.#mono() || Object.keys(work.sections).length > 0 || work.events.length > 0);
    const recovery = attempt ? this.#storageFault.recoveryRecords(this.lockTime()) : [];
    if (recovery.length > 0) {
      // The store takes writes again: the fault and the fail-secure state go on record first.
      work.events.unshift(...recovery);
      for (const alarm of work.alarms) alarm.index += recovery.length;
      if (!("cycle" in work.sections) && !this.#s.cycle) work.sections.cycle = null;
    }
    const records =
      Object.keys(work.sections).length > 0 || work.events.length > 0
        ? this.#store.commit({ sections: work.sections, events: work.events })
        : [];
    if (recovery.length > 0) this.#storageRestored();
    try {
      for (const output of work.outputs) output();
    } finally {
      // What is on record is reported even when the hardware failed driving the outputs (the
      // failure itself then goes the fail-secure way).
      if (records.length > 0) this.#emit("audit", records);
      for (const alarm of work.alarms) {
        const record = records[alarm.index];
        if (record === undefined) continue;
        this.#emit("alarm", {
          kind: alarm.kind,
          priority: ALARM_PRIORITY[alarm.kind],
          auditSeq: record.seq,
          actor: record.actor,
          data: record.data,
        });
      }
    }
    for (const after of work.after) after();
    this.#sinceCheckpoint += records.length;
    if (this.#sinceCheckpoint >= this.#options.checkpointEvery) this.checkpoint();
  }

  /** Any internal error: bolt thrown, cycle ended, fault on the display and on record. */
  #failSecure(error: Error, failed?: Work): void {
    const storage = isStorageFailure(error);
    if (!storage) this.#faulted = true;
    // Whatever the failed unit of work changed in memory is dropped: no release, no relock
    // timer, and the bolt command the sensor is checked against is "thrown".
    this.#clearCycleTimers();
    this.#relockAt = undefined;
    this.#entry = "";
    this.#entryDeadline = undefined;
    this.#mode = { kind: "code" };
    this.#message = undefined;
    // A bolt the sensor reports thrown already gets no new confirmation: waiting for one would
    // turn every fault of a locked lock into a false bolt jam.
    this.#boltCommand =
      this.#bolt === "thrown"
        ? undefined
        : { position: "thrown", by: this.#clock.monotonic() + this.#options.boltSensorTimeoutMs };
    try {
      this.#outputs.driveBolt("thrown");
      this.#lastDisplay = DISPLAY.fault();
      this.#outputs.display(DISPLAY.fault());
      this.#outputs.buzzer("alarm");
    } catch {
      // The hardware itself failing is reported below with the original error.
    }
    if (storage) {
      this.#storageFailed(error, failed);
      return;
    }
    let faultRecords: AuditRecord[] = [];
    try {
      this.#s = this.#loadSections();
      this.#evaluator = new TimeLockEvaluator(this.#s.timeLock.schedule);
      this.#s.cycle = undefined as unknown as CycleSection;
      faultRecords = this.#store.commit({
        sections: { cycle: null },
        events: [
          {
            at: this.lockTime(),
            kind: "lock.fault",
            actor: null,
            data: { error: error.message.slice(0, 300) },
          },
        ],
      });
    } catch {
      // Storage is what failed; the fault event below still reaches the runtime.
    }
    if (faultRecords.length > 0) this.#emit("audit", faultRecords);
    this.#emit("fault", error);
  }

  /**
   * The store refused a write (storage-fault.ts): the cycle is over in memory and by the
   * fail-secure mark (the store may not take it), the storageFault alarm and the alarms of the
   * refused unit of work go to the fleet from memory, and writes are retried from tick().
   */
  #storageFailed(error: Error, failed: Work | undefined): void {
    const first = !this.#storageFault.active;
    const report = this.#storageFault.failed(error, this.lockTime(), this.#mono());
    const refusedAlarms = (failed?.alarms ?? [])
      .map((alarm) => ({ kind: alarm.kind, event: failed?.events[alarm.index] }))
      .filter((alarm) => alarm.event !== undefined);
    for (const alarm of refusedAlarms) this.#storageFault.keep(alarm.event as AuditAppend);
    if (first) {
      try {
        this.#s = this.#loadSections();
        this.#evaluator = new TimeLockEvaluator(this.#s.timeLock.schedule);
      } catch {
        // Reading failed too: the sections in memory stay as they were.
      }
    }
    const cycle = this.#s.cycle;
    this.#s.cycle = undefined as unknown as CycleSection;
    let headSeq = 0;
    try {
      headSeq = this.#store.auditHead().seq;
    } catch {
      // unreadable: the alarm below names no record
    }
    if (cycle) {
      try {
        const mark: FailSecureMark = { at: this.lockTime(), headSeq, error: error.message };
        this.#store.markFailSecure?.(mark);
      } catch {
        // The mark could not be kept either; the retry writes the cycle's end.
      }
    }
    if (first) {
      const detail = { code: "E_STORAGE", error: error.message.slice(0, 300) };
      this.#emit("alarm", alarmFromMemory("storageFault", headSeq, detail));
    }
    for (const alarm of refusedAlarms) {
      if (alarm.kind === "storageFault") continue;
      this.#emit("alarm", alarmFromMemory(alarm.kind, headSeq, alarm.event?.data ?? {}));
    }
    if (report !== undefined) this.#emit("storageFault", report);
    if (first) this.#emit("fault", error);
  }

  /** The recovery records are on record: the fault is over, the lock works again. */
  #storageRestored(): void {
    const report = this.#storageFault.restored();
    try {
      this.#store.clearFailSecureMark?.();
    } catch {
      // A mark left behind only ends a cycle that is already over.
    }
    if (report !== undefined) this.#emit("storageFault", report);
  }

  #set<K extends SectionName>(name: K, value: SectionMap[K] | undefined): void {
    (this.#s as unknown as Record<string, unknown>)[name] = value;
    this.#required().sections[name] = value ?? null;
  }

  #required(): Work {
    if (this.#work === undefined)
      throw new Error("E_INTERNAL: lock state changed outside a unit of work");
    return this.#work;
  }

  #audit(
    kind: AuditAppend["kind"],
    actor: string | null,
    data: Record<string, unknown> = {},
  ): void {
    this.#required().events.push({ at: this.lockTime(), kind, actor, data });
  }

  #raise(kind: AlarmKind, actor: string | null, data: Record<string, unknown> = {}): void {
    const work = this.#required();
    work.alarms.push({ index: work.events.length, kind });
    if (kind !== "forcedUser") this.#activeAlarms.add(kind);
    this.#audit("alarm.raised", actor, { alarm: kind, priority: ALARM_PRIORITY[kind], ...data });
  }

  #clear(kind: AlarmKind): void {
    if (this.#activeAlarms.delete(kind)) this.#audit("alarm.cleared", null, { alarm: kind });
  }

  #output(action: () => void): void {
    this.#required().outputs.push(action);
  }

  #driveBolt(position: BoltPosition): void {
    this.#boltCommand = {
      position,
      by: this.#clock.monotonic() + this.#options.boltSensorTimeoutMs,
    };
    this.#output(() => this.#outputs.driveBolt(position));
  }

  #buzz(sound: BuzzerSound): void {
    this.#output(() => this.#outputs.buzzer(sound));
  }

  #show(lines: DisplayLines, sticky = false): void {
    this.#message = {
      lines,
      phase: this.#phase(),
      until: sticky ? undefined : this.#mono() + MESSAGE_MS,
    };
  }

  #phase(): string {
    return this.#s.cycle ? this.#s.cycle.phase : "idle";
  }

  // ---------------------------------------------------------------- time

  /** The lock's notion of now: real-time clock plus the offset set by trusted time. */
  lockTime(): number {
    return this.#clock.now() + (this.#s.time?.offsetMs ?? 0);
  }

  #mono(): number {
    return this.#clock.monotonic();
  }

  #hasTimeLock(): boolean {
    const { schedule, immediateUntil } = this.#s.timeLock;
    return (
      schedule.weekly.length > 0 ||
      schedule.holidays.length > 0 ||
      (immediateUntil ?? 0) > this.lockTime()
    );
  }

  /** Time-locked now? Without trusted time since boot, a container with any time lock stays locked. */
  isTimeLocked(): boolean {
    if (!this.#trustedTime && this.#hasTimeLock()) return true;
    return this.#evaluator.isLocked(this.lockTime(), this.#s.timeLock.immediateUntil);
  }

  // ---------------------------------------------------------------- boot

  #boot(isNew: boolean): void {
    this.#run(() => {
      this.#audit("device.started", null, {
        firmware: FIRMWARE_VERSION,
        factorySetUp: isNew,
        cleanShutdown: this.#store.previousShutdownWasClean,
      });
      if (!isNew && !this.#store.previousShutdownWasClean) {
        this.#audit("power.lost", null, {});
        this.#raise("powerLoss", null, {});
      }
      const penalty = this.#s.penalty;
      if (penalty.runningMs !== undefined) {
        // The lockout runs again in full: a power cut never shortens it.
        this.#penaltyUntil = this.#mono() + penalty.runningMs;
        this.#audit("penalty.started", null, {
          minutes: penalty.runningMs / MINUTE,
          restarted: true,
        });
      }
      const cycle = this.#s.cycle;
      const mark = this.#store.failSecureMark?.();
      if (mark !== undefined) {
        // The lock failed secure and the store could not take it (fail-secure-mark.ts): the
        // fault goes on record now that it writes, and the cycle it ended stays ended.
        this.#required().events.push(...recordsOfFailSecureMark(mark, this.lockTime()));
        this.#required().after.push(() => this.#store.clearFailSecureMark?.());
      }
      if (mark !== undefined && cycle && cycle.phase !== "released" && cycle.phase !== "open") {
        this.#endCycle("cycle.expired", { reason: "failSecure" });
      } else if (cycle !== undefined && cycle !== null) {
        if ((cycle.phase === "delay" || cycle.phase === "window") && cycle.opening.length > 0) {
          this.#startDelay(
            { ...cycle, phase: "delay", round: 1, authorisations: cycle.opening },
            true,
          );
        } else if (cycle.phase === "released" || cycle.phase === "open") {
          // An opening the power loss cut off was authorised and stays on record as such: the
          // bolt is thrown now (fail-secure), a door found open continues that opening, and
          // the close seal follows once the bolt is confirmed thrown with the door closed.
          this.#set("cycle", { ...cycle, afterRestart: true });
        } else {
          this.#endCycle("cycle.expired", { reason: "restart" });
        }
      }
      this.#driveBolt("thrown");
    });
  }

  /** Marks a clean shutdown; the bolt stays as it is (thrown unless a cycle is open). */
  shutdown(): void {
    this.#store.close();
  }

  // ---------------------------------------------------------------- keypad

  /** One key of the keypad: digits, '#' (enter) or '*' (clear; cancel; on an idle lock: change code). */
  pressKey(key: string): void {
    this.#run(() => {
      if (!/^[0-9#*]$/.test(key))
        throw new LockRuleError("E_BAD_KEY", `"${key}" is not a keypad key`);
      this.#buzz("key");
      this.#message = undefined;
      if (this.#penaltyUntil !== undefined) {
        // Not evaluated during a lockout, so it cannot restart or extend it.
        return;
      }
      if (/\d/.test(key)) {
        if (this.#entry.length < 16) this.#entry += key;
        this.#entryDeadline = this.#mono() + this.#s.policy.keyTimeoutSec * SECOND;
        return;
      }
      const entered = this.#entry;
      this.#entry = "";
      this.#entryDeadline = undefined;
      if (key === "*") this.#star(entered);
      else if (entered.length > 0) this.#enter(entered); // a lone '#' is no attempt at a code
      if (this.#mode.kind !== "code") {
        this.#entryDeadline = this.#mono() + this.#s.policy.keyTimeoutSec * SECOND;
      }
    });
  }

  #star(entered: string): void {
    if (entered.length > 0) return;
    if (this.#mode.kind !== "code") {
      this.#mode = { kind: "code" };
      return;
    }
    const cycle = this.#s.cycle;
    if (
      cycle &&
      (cycle.phase === "collecting" || cycle.phase === "delay" || cycle.phase === "window")
    ) {
      this.#endCycle("cycle.cancelled", { reason: "cancelled at keypad" });
      this.#show(DISPLAY.cancelled());
      return;
    }
    if (!cycle) {
      this.#mode = { kind: "changeCode", stage: "identify" };
      this.#show(DISPLAY.changeCode(), true);
    }
  }

  #enter(entered: string): void {
    const mode = this.#mode;
    if (mode.kind === "oneTimeCode") {
      this.#enterOneTimeCode(mode.user, mode.duress, entered);
      return;
    }
    if (mode.kind === "changeCode" && mode.stage !== "identify") {
      this.#enterNewCode(mode, entered);
      return;
    }
    if (mode.kind === "program") {
      this.#enterProgramming(mode.user, entered);
      return;
    }
    const policy = this.#s.policy;
    if (!isDigits(entered, 2 + policy.codeLength)) {
      this.#wrongCode(entered.slice(0, 2), "format");
      return;
    }
    const slot = Number(entered.slice(0, 2));
    const code = entered.slice(2);
    const user = this.#s.users[String(slot)];
    const match = this.#matchCode(slot, code, user);
    if (user === undefined || match === undefined) {
      this.#wrongCode(entered.slice(0, 2), "wrongCode");
      return;
    }
    const awaitingOneTimeCode =
      mode.kind === "code" &&
      !user.mustChangeCode &&
      (user.role === "courier" || user.role === "service") &&
      this.#activeGrantFor(user) === undefined &&
      this.#otpOfFirstRound(user) === undefined;
    // A code that only leads to the one-time-code prompt ends no series of wrong codes: else
    // one known code would let a person guess one-time codes without ever reaching a lockout.
    if (!awaitingOneTimeCode) this.#correctCode();
    if (match === "duress") this.#duress(user);
    if (mode.kind === "changeCode" || user.mustChangeCode) {
      this.#mode = { kind: "changeCode", stage: "new", user };
      this.#audit("code.accepted", user.personId, {
        slot,
        purpose: "codeChange",
        forced: user.mustChangeCode,
      });
      this.#show(DISPLAY.newCode(), true);
      this.#buzz("accept");
      return;
    }
    if (
      user.role === "master" &&
      match === "normal" &&
      this.#s.cycle?.phase === "open" &&
      !this.#faulted
    ) {
      // Only with the container open may a master programme the lock (SPEC §3).
      this.#mode = { kind: "program", user };
      this.#audit("code.accepted", user.personId, { slot, purpose: "programming" });
      this.#buzz("accept");
      return;
    }
    const refusal = this.#refusal(user);
    if (refusal !== undefined) {
      this.#audit("code.rejected", user.personId, { slot, reason: refusal.reason });
      if (refusal.display !== undefined) this.#show(refusal.display);
      this.#buzz("reject");
      return;
    }
    const grant = this.#activeGrantFor(user);
    const confirmingOtp = this.#otpOfFirstRound(user);
    if (grant === undefined && confirmingOtp !== undefined) {
      // The confirmation after the delay belongs to the same cycle: the one-time code accepted
      // in the first round still counts, inside its window, and is not asked for again.
      this.#authorise({
        personId: user.personId,
        slot,
        party: user.tenantId === undefined ? "bank" : "cit",
        via: "otp",
        duress: match === "duress",
        otp: confirmingOtp,
      });
      return;
    }
    if (grant === undefined && (user.role === "courier" || user.role === "service")) {
      // Couriers and service staff hold something besides their code: a grant or a one-time code.
      // A person the cycle would refuse anyway is refused before the one-time code is asked
      // for, so that no code is keyed in (and spent) for nothing.
      const prospect = this.#prospect({
        personId: user.personId,
        party: user.tenantId === undefined ? "bank" : "cit",
      });
      if (prospect.refusal !== undefined) {
        this.#refuseInCycle({ personId: user.personId, slot }, prospect.refusal);
        return;
      }
      this.#mode = { kind: "oneTimeCode", user, duress: match === "duress" };
      this.#audit("code.accepted", user.personId, { slot, awaiting: "oneTimeCode" });
      this.#show(DISPLAY.oneTimeCode(), true);
      this.#buzz("accept");
      return;
    }
    this.#authorise({
      personId: user.personId,
      slot,
      party: user.tenantId === undefined ? "bank" : "cit",
      via: grant === undefined ? "code" : "grant",
      duress: match === "duress",
      ...(grant === undefined
        ? {}
        : { grantId: grant.grant.grantId, single: !grant.grant.dualControlRequired }),
    });
  }

  #matchCode(
    slot: number,
    code: string,
    user: StoredUser | undefined,
  ): "normal" | "duress" | undefined {
    const key = this.#identity.codeHashKey;
    const mode = this.#s.policy.duressMode;
    // Every comparison is made whatever matches, so timing does not tell which one did.
    const normal = codeMatches(key, slot, code, user?.codeHash);
    const byDigit =
      mode === "lastDigitPlusOne" &&
      codeMatches(key, slot, codeBehindDuressEntry(code), user?.codeHash);
    const separate = mode === "separateCode" && codeMatches(key, slot, code, user?.duressCodeHash);
    if (normal) return "normal";
    if (byDigit || separate) return "duress";
    return undefined;
  }

  #correctCode(): void {
    const penalty = this.#s.penalty;
    if (penalty.consecutiveWrong !== 0 || penalty.lockouts !== 0) this.#set("penalty", NO_PENALTY);
  }

  #wrongCode(slotText: string, reason: string): void {
    this.#mode = { kind: "code" };
    const { state, lockoutMs } = afterWrongCode(this.#s.policy, this.#s.penalty);
    this.#set("penalty", state);
    this.#audit("code.rejected", null, {
      slot: slotText,
      reason,
      consecutiveWrong: state.consecutiveWrong,
    });
    this.#buzz("reject");
    this.#show(DISPLAY.wrongCode());
    if (lockoutMs !== undefined) {
      this.#penaltyUntil = this.#mono() + lockoutMs;
      this.#audit("penalty.started", null, {
        minutes: lockoutMs / MINUTE,
        lockout: state.lockouts,
      });
      this.#raise("wrongCodeEntryLimit", null, { minutes: lockoutMs / MINUTE });
    }
  }

  #duress(user: StoredUser): void {
    // Silent: the relay pulses and the alarm leaves at highest priority; nothing local changes.
    this.#output(() => this.#outputs.pulseSilentAlarm());
    this.#raise("forcedUser", user.personId, { slot: user.slot });
  }

  /** Why this user may not take part in an opening now, if they may not. */
  #refusal(user: StoredUser): { reason: string; display?: DisplayLines } | undefined {
    const now = this.lockTime();
    const cycle = this.#s.cycle;
    // After an internal error the lock opens no more until it has restarted.
    if (this.#faulted || this.#storageFault.active) return { reason: "fault" };
    if (cycle && (cycle.phase === "released" || cycle.phase === "open")) {
      return { reason: "alreadyOpen" }; // the screen already says OPEN DOOR / DOOR OPEN
    }
    if (cycle?.phase === "delay") return { reason: "delayRunning" }; // the countdown stays on the screen
    if (this.#s.remote.blocked) return { reason: "blocked", display: DISPLAY.blocked() };
    if (this.isTimeLocked()) return { reason: "timeLocked", display: DISPLAY.timeLocked() };
    const refusal = userRefusal(user, now, this.#s.policy, this.#s.timeLock.schedule.timeZone);
    return refusal === undefined ? undefined : { reason: refusal, display: DISPLAY.notPermitted() };
  }

  /** In the confirmation window: the one-time code this user gave in the first round, if still in its window. */
  #otpOfFirstRound(user: StoredUser): Authorisation["otp"] {
    const cycle = this.#s.cycle;
    if (cycle?.phase !== "window") return undefined;
    const given = cycle.opening.find((a) => a.personId === user.personId && a.otp !== undefined);
    const now = this.lockTime();
    return given?.otp !== undefined && given.otp.notBefore <= now && now < given.otp.notAfter
      ? given.otp
      : undefined;
  }

  #activeGrantFor(user: StoredUser): StoredGrant | undefined {
    return activeGrantFor(this.#s.grants, user, this.deviceId, this.lockTime());
  }

  #enterOneTimeCode(user: StoredUser, duress: boolean, entered: string): void {
    this.#mode = { kind: "code" };
    const otp = this.#s.otp;
    if (otp === undefined || otp === null) {
      this.#audit("otp.rejected", user.personId, { reason: "noSecretInstalled" });
      this.#show(DISPLAY.notPermitted());
      this.#buzz("reject");
      return;
    }
    if (!isDigits(entered, 8)) {
      this.#wrongCode(String(user.slot).padStart(2, "0"), "oneTimeCode");
      return;
    }
    const accepted = acceptOneTimeCode(otp, this.#identity.encryptionSecretKey, {
      lockId: this.deviceId,
      personId: user.personId,
      code: entered,
      at: this.lockTime(),
    });
    if (accepted === undefined) {
      this.#audit("otp.rejected", user.personId, { reason: "noMatch" });
      this.#wrongCode(String(user.slot).padStart(2, "0"), "oneTimeCode");
      return;
    }
    const { match } = accepted;
    this.#correctCode();
    // The counter is spent whatever follows: a code that has been keyed in may have been seen,
    // and each code is accepted once (SPEC §3).
    this.#set("otp", accepted.next);
    const party = user.tenantId === undefined ? "bank" : "cit";
    const prospect = this.#prospect({ personId: user.personId, party });
    if (prospect.refusal !== undefined) {
      // The rules changed while the code was being keyed in (a policy change, say): the code
      // opens nothing, and the record says that its counter is spent all the same.
      this.#audit("otp.rejected", user.personId, {
        reason: prospect.refusal,
        counter: match.counter,
        notBefore: formatInstant(match.notBefore),
        notAfter: formatInstant(match.notAfter),
        counterSpent: true,
      });
      if (prospect.refusal === "mixedPartiesRequired") this.#show(DISPLAY.notPermitted());
      this.#buzz("reject");
      return;
    }
    this.#audit("otp.accepted", user.personId, {
      counter: match.counter,
      notBefore: formatInstant(match.notBefore),
      notAfter: formatInstant(match.notAfter),
    });
    this.#authorise({
      personId: user.personId,
      slot: user.slot,
      party,
      via: "otp",
      duress,
      otp: { counter: match.counter, notBefore: match.notBefore, notAfter: match.notAfter },
    });
  }

  #enterProgramming(user: StoredUser, entered: string): void {
    if (this.#s.cycle?.phase !== "open") {
      this.#mode = { kind: "code" };
      this.#audit("code.rejected", user.personId, { slot: user.slot, reason: "containerClosed" });
      this.#show(DISPLAY.notPermitted());
      this.#buzz("reject");
      return;
    }
    const result = programPolicy(this.#s.policy, entered);
    if (!result.ok) {
      this.#audit("code.rejected", user.personId, {
        slot: user.slot,
        purpose: "programming",
        reason: result.reason,
      });
      this.#show(DISPLAY.codeRefused());
      this.#buzz("reject");
      return;
    }
    const weakenings = policyWeakenings(this.#s.policy, result.policy);
    this.#set("policy", result.policy);
    this.#audit("policy.changed", user.personId, {
      via: "keypad",
      changed: result.changed,
      policy: result.policy,
      weakenings,
    });
    this.#show(DISPLAY.programmed());
    this.#buzz("accept");
  }

  #enterNewCode(
    mode: Extract<EntryMode, { kind: "changeCode"; stage: "new" | "repeat" }>,
    entered: string,
  ): void {
    const { user } = mode;
    const key = this.#identity.codeHashKey;
    const policy = this.#s.policy;
    if (mode.stage === "new") {
      const refused =
        !isDigits(entered, policy.codeLength) ||
        isTrivialCode(entered) ||
        codeMatches(key, user.slot, entered, user.codeHash) ||
        // A code equal to the person's own duress code would make every opening a duress one.
        codeMatches(key, user.slot, entered, user.duressCodeHash);
      if (refused) {
        this.#mode = { kind: "code" };
        this.#audit("code.rejected", user.personId, { slot: user.slot, reason: "newCodeRefused" });
        this.#show(DISPLAY.codeRefused());
        this.#buzz("reject");
        return;
      }
      this.#mode = { ...mode, stage: "repeat", newCodeHash: hashCode(key, user.slot, entered) };
      this.#show(DISPLAY.repeatCode(), true);
      return;
    }
    this.#mode = { kind: "code" };
    if (!codeMatches(key, user.slot, entered, mode.newCodeHash)) {
      this.#audit("code.rejected", user.personId, { slot: user.slot, reason: "repeatMismatch" });
      this.#show(DISPLAY.codeRefused());
      this.#buzz("reject");
      return;
    }
    const users = {
      ...this.#s.users,
      [String(user.slot)]: { ...user, codeHash: mode.newCodeHash ?? "", mustChangeCode: false },
    };
    this.#set("users", users);
    this.#audit("code.changed", user.personId, {
      slot: user.slot,
      wasInitialCode: user.mustChangeCode,
    });
    this.#show(DISPLAY.codeChanged());
    this.#buzz("accept");
  }

  // ---------------------------------------------------------------- the opening cycle

  #codesRequired(authorisations: readonly Authorisation[]): number {
    return codesRequired(this.#s.policy, authorisations);
  }

  /**
   * What the round would hold with `authorisation` added, or why the cycle refuses this person:
   * the same person never counts twice, and with mixed parties required there must remain room
   * for the missing party.
   */
  #prospect(authorisation: CandidateAuthorisation): Prospect {
    const cycle: CycleSection = this.#s.cycle ?? {
      phase: "collecting",
      round: 1,
      authorisations: [],
      opening: [],
      duress: false,
      openingNumber: 0,
    };
    if (alreadyCounted(cycle.authorisations, authorisation.personId)) {
      return { refusal: "samePerson" };
    }
    const authorisations: Authorisation[] = [
      ...cycle.authorisations,
      { slot: null, via: "code", duress: false, ...authorisation },
    ];
    const central = this.#s.remote.centralRelease;
    if (
      central !== undefined &&
      central.expiresAt > this.lockTime() &&
      !authorisations.some((a) => a.via === "centralRelease")
    ) {
      authorisations.push({
        personId: `fleet:${central.commandId}`,
        slot: null,
        party: "bank",
        via: "centralRelease",
        duress: false,
      });
    }
    const required = this.#codesRequired(authorisations);
    if (!mixedPartiesPossible(this.#s.policy, authorisations, required)) {
      return { refusal: "mixedPartiesRequired" };
    }
    return { refusal: undefined, cycle, authorisations, required };
  }

  /** The cycle refuses a person (same person twice, mixed parties): on record, on the display. */
  #refuseInCycle(
    user: Pick<Authorisation, "personId" | "slot">,
    reason: "samePerson" | "mixedPartiesRequired",
  ): void {
    this.#audit("code.rejected", user.personId, { slot: user.slot, reason });
    if (reason === "mixedPartiesRequired") this.#show(DISPLAY.notPermitted());
    this.#buzz("reject");
  }

  #authorise(authorisation: Authorisation): void {
    const existing = this.#s.cycle;
    const prospect = this.#prospect(authorisation);
    if (prospect.refusal !== undefined) {
      this.#refuseInCycle(authorisation, prospect.refusal);
      return;
    }
    const { cycle, required } = prospect;
    const authorisations = prospect.authorisations.slice(
      0,
      Math.max(required, prospect.authorisations.length),
    );
    const next: CycleSection = {
      ...cycle,
      authorisations,
      duress: cycle.duress || authorisation.duress,
    };
    if (existing === undefined || existing === null)
      this.#audit("cycle.started", authorisation.personId, { via: authorisation.via });
    this.#audit("code.accepted", authorisation.personId, {
      slot: authorisation.slot,
      via: authorisation.via,
      round: next.round,
      given: authorisations.length,
      required,
      ...(authorisation.grantId === undefined ? {} : { grantId: authorisation.grantId }),
    });
    this.#buzz("accept");
    if (authorisations.length < required) {
      this.#set("cycle", next);
      this.#secondCodeBy = this.#mono() + this.#s.policy.secondCodeTimeoutSec * SECOND;
      return;
    }
    this.#secondCodeBy = undefined;
    if (next.round === 1) {
      if (this.isTimeLocked() || this.#s.remote.blocked) {
        this.#endCycle("cycle.cancelled", { reason: "timeLockedOrBlocked" });
        return;
      }
      this.#startDelay({ ...next, opening: authorisations }, false);
    } else {
      this.#release(next, authorisations);
    }
  }

  #startDelay(cycle: CycleSection, afterRestart: boolean): void {
    const policy = this.#s.policy;
    const minutes = delayMinutes(policy, cycle.duress);
    if (minutes === 0 && !afterRestart) {
      this.#release(cycle);
      return;
    }
    if (minutes === 0) {
      // After a restart the codes are always asked for again, even without a delay.
      this.#openWindow({ ...cycle, phase: "delay", round: 1 });
      return;
    }
    this.#set("cycle", { ...cycle, phase: "delay", round: 1 });
    this.#delayEndsAt = this.#mono() + minutes * MINUTE;
    this.#windowEndsAt = undefined;
    this.#audit("cycle.delayStarted", null, {
      minutes,
      endsAt: formatInstant(this.lockTime() + minutes * MINUTE),
      ...(afterRestart ? { restarted: true } : {}),
    });
  }

  /** `confirmedBy`: who confirmed in the window (absent when the delay is zero). */
  #openWindow(cycle: CycleSection): void {
    this.#delayEndsAt = undefined;
    this.#windowEndsAt = this.#mono() + this.#s.policy.confirmationWindowMin * MINUTE;
    this.#set("cycle", { ...cycle, phase: "window", round: 2, authorisations: [] });
    this.#audit("cycle.windowOpened", null, { minutes: this.#s.policy.confirmationWindowMin });
    this.#buzz("accept");
  }

  #release(cycle: CycleSection, confirmedBy?: readonly Authorisation[]): void {
    if (this.isTimeLocked() || this.#s.remote.blocked) {
      this.#endCycle("cycle.cancelled", {
        reason: this.#s.remote.blocked ? "blocked" : "timeLocked",
      });
      return;
    }
    const openingNumber = this.#s.openings.counter + 1;
    this.#set("openings", { counter: openingNumber });
    const grants = { ...this.#s.grants };
    for (const grantId of new Set(
      cycle.opening.flatMap((a) => (a.grantId === undefined ? [] : [a.grantId])),
    )) {
      const stored = grants[grantId];
      if (stored !== undefined) {
        grants[grantId] = { ...stored, openings: stored.openings + 1 };
        this.#audit("grant.used", null, {
          grantId,
          openings: stored.openings + 1,
          maxOpenings: stored.grant.maxOpenings,
        });
      }
    }
    this.#set("grants", grants);
    if (cycle.opening.some((a) => a.via === "centralRelease")) {
      this.#set("remote", { ...this.#s.remote, centralRelease: undefined });
    }
    this.#set("cycle", { ...cycle, phase: "released", openingNumber });
    this.#delayEndsAt = undefined;
    this.#windowEndsAt = undefined;
    this.#relockAt = this.#mono() + this.#s.policy.autoRelockSec * SECOND;
    this.#audit("cycle.confirmed", confirmedBy?.at(-1)?.personId ?? null, {
      openingNumber,
      persons: cycle.opening.map((a) => a.personId),
      ...(confirmedBy === undefined ? {} : { confirmedBy: confirmedBy.map((a) => a.personId) }),
    });
    this.#driveBolt("retracted");
    this.#buzz("release");
  }

  #endCycle(kind: "cycle.cancelled" | "cycle.expired", data: Record<string, unknown>): void {
    const cycle = this.#s.cycle;
    this.#clearCycleTimers();
    if (cycle !== undefined && cycle !== null) {
      this.#set("cycle", undefined);
      this.#audit(kind, null, { phase: cycle.phase, ...data });
    }
  }

  #clearCycleTimers(): void {
    this.#secondCodeBy = undefined;
    this.#delayEndsAt = undefined;
    this.#windowEndsAt = undefined;
  }

  #relocked(): void {
    const cycle = this.#s.cycle;
    // Only an opening ends here: the bolt confirming "thrown" at boot must not end a delay
    // that restarted after a power loss.
    const opening =
      cycle && (cycle.phase === "released" || cycle.phase === "open") ? cycle : undefined;
    // A bolt thrown while the door still stands open (at start-up, after a power loss during
    // the opening) ends nothing yet: the opening ends, and its seal is shown, after the close.
    if (opening !== undefined && this.#doorOpen) return;
    this.#relockAt = undefined;
    this.#ajarAt = undefined;
    if (this.#mode.kind === "program") this.#mode = { kind: "code" };
    if (opening === undefined) return;
    const seal = this.#closeSeal(opening);
    this.#set("cycle", undefined);
    this.#audit("lock.relocked", null, {
      openingNumber: opening.openingNumber,
      closeSeal: seal,
      ...(opening.afterRestart === true ? { afterRestart: true } : {}),
    });
    this.#show(DISPLAY.closeSeal(seal), true);
  }

  /** Proof that this opening ended locked (close-seal.ts). */
  #closeSeal(cycle: CycleSection): string {
    const otp = this.#s.otp;
    const secret = otp
      ? openSealedSecret(otp.sealed, this.#identity.encryptionSecretKey)
      : this.#identity.codeHashKey;
    try {
      return openingCloseSeal(secret, this.deviceId, cycle.openingNumber, cycle.opening);
    } finally {
      if (otp) secret.fill(0);
    }
  }

  // ---------------------------------------------------------------- door, bolt, tamper

  setDoor(open: boolean): void {
    this.#run(() => {
      if (open === this.#doorOpen) return;
      this.#doorOpen = open;
      this.#message = undefined;
      const cycle = this.#s.cycle;
      if (open) {
        const opening = cycle && (cycle.phase === "released" || cycle.phase === "open");
        // An opening that a power loss cut off continues: the bolt was thrown at start-up
        // while the door, opened under the authorised cycle, stood open (SPEC §3: forced is
        // open while thrown, or without an authorised cycle — neither is the case).
        const continued = opening && cycle.afterRestart === true;
        this.#audit(
          "door.opened",
          null,
          continued ? { openingNumber: cycle.openingNumber, continuesOpening: true } : {},
        );
        const authorised = opening && (this.#bolt !== "thrown" || continued);
        if (!authorised) {
          this.#doorForced = true;
          this.#raise("doorForcedOpen", null, { bolt: this.#bolt });
          this.#buzz("alarm");
          return;
        }
        if (cycle.phase === "released") this.#set("cycle", { ...cycle, phase: "open" });
        // Every time the door opens, also again before the relock after a close.
        this.#ajarAt = this.#mono() + this.#s.policy.maxOpenSec * SECOND;
        this.#relockAt = undefined;
        return;
      }
      this.#audit("door.closed", null, {});
      if (this.#doorForced) {
        this.#doorForced = false;
        this.#clear("doorForcedOpen");
      }
      this.#clear("doorAjar");
      this.#ajarAt = undefined;
      if (cycle?.phase === "open")
        this.#relockAt = this.#mono() + this.#s.policy.relockAfterCloseSec * SECOND;
      this.#buzz("off");
    });
  }

  /** The bolt position sensor reports. */
  boltSensed(position: BoltPosition): void {
    this.#run(() => {
      const previous = this.#bolt;
      this.#bolt = position;
      const command = this.#boltCommand;
      if (command !== undefined && command.position === position) {
        this.#boltCommand = undefined;
        if (previous === "jammed") this.#clear("lockJammed");
        this.#audit(position === "thrown" ? "bolt.thrown" : "bolt.retracted", null, {});
        if (position === "thrown") this.#relocked();
        return;
      }
      if (previous !== position && command === undefined && position === "retracted") {
        // The bolt moved although nothing drove it: manipulation.
        this.#raise("tamper", null, { reason: "bolt retracted without a cycle" });
        this.#driveBolt("thrown");
      }
    });
  }

  setTamper(active: boolean): void {
    this.#run(() => {
      if (active === this.#tamper) return;
      this.#tamper = active;
      if (active) {
        this.#raise("tamper", null, { reason: "housing opened" });
        this.#buzz("alarm");
      } else {
        this.#clear("tamper");
      }
    });
  }

  // ---------------------------------------------------------------- time passing

  /** Earliest monotonic instant at which tick() has something to do. */
  nextDeadline(): number | undefined {
    const deadlines = [
      this.#entryDeadline,
      this.#secondCodeBy,
      this.#delayEndsAt,
      this.#windowEndsAt,
      this.#relockAt,
      this.#ajarAt,
      this.#penaltyUntil,
      this.#boltCommand?.by,
      this.#message?.until,
      this.#storageFault.retryAt,
    ].filter((deadline): deadline is number => deadline !== undefined);
    // A running countdown refreshes the display once a second.
    if (
      this.#delayEndsAt !== undefined ||
      this.#windowEndsAt !== undefined ||
      this.#penaltyUntil !== undefined
    ) {
      deadlines.push(Math.floor(this.#mono() / SECOND) * SECOND + SECOND);
    }
    return deadlines.length === 0 ? undefined : Math.min(...deadlines);
  }

  tick(): void {
    // While the store refuses writes the lock stays fault-locked; the next unit of work is the
    // retry, which puts the fault on record when it succeeds (#commit).
    const retryAt = this.#storageFault.retryAt;
    if (retryAt !== undefined && retryAt > this.#mono()) return;
    this.#run(() => {
      const now = this.#mono();
      const due = (deadline: number | undefined): boolean =>
        deadline !== undefined && deadline <= now;
      if (due(this.#message?.until)) this.#message = undefined;
      if (due(this.#entryDeadline)) {
        this.#entry = "";
        this.#entryDeadline = undefined;
        if (this.#mode.kind !== "code") {
          // An abandoned code change or one-time-code prompt ends like a half-typed code.
          this.#mode = { kind: "code" };
          this.#message = undefined;
        }
      }
      if (due(this.#penaltyUntil)) {
        this.#penaltyUntil = undefined;
        const { runningMs: _ended, ...rest } = this.#s.penalty;
        this.#set("penalty", rest);
        this.#audit("penalty.ended", null, {});
        this.#clear("wrongCodeEntryLimit");
        this.#message = undefined;
      }
      const cycle = this.#s.cycle;
      if (cycle && due(this.#secondCodeBy) && cycle.phase === "collecting") {
        this.#endCycle("cycle.expired", { reason: "secondCodeTimeout" });
      }
      if (cycle && due(this.#secondCodeBy) && cycle.phase === "window") {
        this.#secondCodeBy = undefined;
        this.#set("cycle", { ...cycle, authorisations: [] });
      }
      if (cycle && cycle.phase === "delay" && due(this.#delayEndsAt)) this.#openWindow(cycle);
      if (this.#s.cycle?.phase === "window" && due(this.#windowEndsAt)) {
        this.#endCycle("cycle.expired", { reason: "confirmationWindowElapsed" });
      }
      if (due(this.#relockAt)) {
        this.#relockAt = undefined;
        if (this.#s.cycle?.phase === "released")
          this.#audit("cycle.expired", null, { reason: "doorNotOpened" });
        // A continued opening's bolt was thrown at start-up and is confirmed there: driving it
        // again would get no answer from the sensor, so the relock is complete now.
        if (this.#bolt === "thrown" && this.#boltCommand === undefined) this.#relocked();
        else this.#driveBolt("thrown");
      }
      if (due(this.#ajarAt)) {
        this.#ajarAt = undefined;
        this.#raise("doorAjar", null, { maxOpenSec: this.#s.policy.maxOpenSec });
        this.#buzz("alarm");
      }
      if (this.#boltCommand !== undefined && due(this.#boltCommand.by)) {
        this.#jammed("boltSensorTimeout");
      }
      const central = this.#s.remote.centralRelease;
      if (central !== undefined && central.expiresAt <= this.lockTime() && !this.#s.cycle) {
        this.#set("remote", { ...this.#s.remote, centralRelease: undefined });
      }
    });
  }

  /** The bolt did not reach the position it was driven to. */
  #jammed(detectedBy: "boltSensorTimeout" | "actuator"): void {
    const command = this.#boltCommand;
    if (command === undefined) return;
    this.#boltCommand = undefined;
    this.#bolt = "jammed";
    this.#raise("lockJammed", null, { driving: command.position, detectedBy });
    if (command.position === "retracted")
      this.#endCycle("cycle.cancelled", { reason: "boltJammed" });
  }

  // ---------------------------------------------------------------- hardware reports

  /**
   * A report of the lock hardware other than its inputs (see HardwareEvent); each goes on
   * record through the core's single write path, so the hash chain and checkpoints stay the
   * core's.
   */
  recordHardwareEvent(event: HardwareEvent): void {
    this.#run(() => {
      switch (event.kind) {
        case "powerFail":
          return this.#powerFail(event.failing, event.source);
        case "partFault":
          return this.#partFault(event.part, event.error);
        case "boltJam":
          // The actuator's timeout agrees with the core's own: the first one puts it on record.
          if (this.#boltCommand?.position === event.expected) this.#jammed("actuator");
          return;
        case "selfTest":
          return this.#selfTestCompleted(event.report);
      }
    });
  }

  /**
   * The power-fail input: `power.failed` / `power.restored` (never `power.lost`, which is an
   * unclean restart), with the powerLoss alarm raised and cleared through the usual records.
   */
  #powerFail(failing: boolean, source: "powerFailInput" | "startUp" = "powerFailInput"): void {
    const detail = { source };
    if (failing) {
      this.#audit("power.failed", null, detail);
      this.#raise("powerLoss", null, { ...detail, mains: "failed" });
      return;
    }
    this.#audit("power.restored", null, detail);
    // Cleared even when this run of the lock did not raise it: the alarm may date from before
    // a restart and still be open at the fleet.
    this.#activeAlarms.delete("powerLoss");
    this.#audit("alarm.cleared", null, { alarm: "powerLoss", ...detail, mains: "restored" });
  }

  #partFault(part: string, error: Error): void {
    if (this.#faultedParts.has(part)) return;
    this.#faultedParts.add(part);
    const code = /^(E_[A-Z0-9_]+)/.exec(error.message)?.[1] ?? "E_HARDWARE_PART";
    const alarm = LOCK_FAULT_PARTS[part];
    const detail = { part, code, error: error.message.slice(0, 300) };
    if (alarm === undefined) {
      // The lock still decides and drives the bolt without it: recorded, the lock works on.
      this.#audit("hardware.partFault", null, detail);
      return;
    }
    this.#raise(alarm, null, detail);
    // A duress opening must look exactly like a normal one: a failed silent-alarm output
    // (its alarm reaches the fleet with the record above) locks the lock once the cycle is over.
    this.#pendingFault = {
      error: new Error(`E_HARDWARE_PART: ${part} failed: ${error.message}`.slice(0, 300)),
      afterCycle: part === "silentAlarmRelay",
    };
  }

  #selfTestCompleted(report: SelfTestReport): void {
    this.#audit("selfTest.completed", null, {
      hardwareProfile: report.hardwareProfile,
      parts: report.parts,
    });
    const faults = report.parts.filter((part) => part.result === "fault").map((p) => p.part);
    for (const part of report.parts) {
      // A part that had failed while driven and now tests ok is on record as working again.
      if (part.result === "ok" && this.#faultedParts.delete(part.part))
        this.#audit("hardware.partRestored", null, { part: part.part });
    }
    if (faults.length > 0) this.#raise("selfTestFault", null, { parts: faults });
    else this.#clear("selfTestFault");
  }

  /**
   * The outcome of the background whole-chain verification (store/chain-verification.ts), on
   * record for the fleet; a broken chain or a damaged file raises storageFault.
   */
  recordChainVerification(result: ChainVerification): void {
    this.#run(() => {
      this.#audit("audit.verified", null, { ...result });
      if (!result.ok) {
        this.#raise("storageFault", null, {
          code: result.code,
          ...(result.seq === undefined ? {} : { seq: result.seq }),
          error: result.message.slice(0, 300),
        });
      }
    });
  }

  #remaining(deadline: number | undefined): number {
    return deadline === undefined ? 0 : Math.max(0, deadline - this.#mono());
  }

  // ---------------------------------------------------------------- display

  /** What the display should show now, derived from state; transient messages take precedence. */
  #screen(): DisplayLines {
    if (this.#faulted || this.#storageFault.active) return DISPLAY.fault();
    if (this.#penaltyUntil !== undefined)
      return DISPLAY.penalty(this.#remaining(this.#penaltyUntil));
    if (this.#activeAlarms.has("doorAjar")) return DISPLAY.doorAjar();
    const message = this.#message;
    if (
      message !== undefined &&
      message.phase === this.#phase() &&
      (message.until === undefined || this.#mono() < message.until)
    ) {
      return message.lines;
    }
    const cycle = this.#s.cycle;
    if (this.#entry.length > 0) {
      // a second code, or a confirmation, is typed under the prompt that asked for it
      const asking = cycle?.phase === "collecting" || cycle?.phase === "window";
      return DISPLAY.typing(this.#entry.length, asking ? this.#cycleScreen(cycle)[0] : undefined);
    }
    if (this.#mode.kind === "program" && cycle?.phase === "open") return DISPLAY.program();
    return cycle ? this.#cycleScreen(cycle) : DISPLAY.idle();
  }

  /** What a running cycle shows when nothing is being typed. */
  #cycleScreen(cycle: CycleSection): DisplayLines {
    switch (cycle.phase) {
      case "collecting":
        return DISPLAY.nextCode(
          cycle.authorisations.length,
          this.#codesRequired(cycle.authorisations),
        );
      case "delay":
        return DISPLAY.delay(this.#remaining(this.#delayEndsAt));
      case "window":
        return DISPLAY.window(
          this.#remaining(this.#windowEndsAt),
          cycle.authorisations.length,
          this.#codesRequired(cycle.opening),
        );
      case "released":
        return DISPLAY.released();
      case "open":
        // closed again and waiting for the relock: no longer "DOOR OPEN"
        return this.#relockAt === undefined ? DISPLAY.open() : DISPLAY.closing();
    }
  }

  #refreshDisplay(): void {
    const screen = this.#screen();
    const last = this.#lastDisplay;
    if (last !== undefined && last[0] === screen[0] && last[1] === screen[1]) return;
    this.#lastDisplay = screen;
    this.#output(() => this.#outputs.display(screen));
  }

  // ---------------------------------------------------------------- commands from the fleet

  /** A signed envelope from the fleet as received; returns the result to publish on cmd/result. */
  receiveCommand(received: Uint8Array | string): CommandResult {
    let result: CommandResult | undefined;
    this.#run(() => {
      result = this.#handleCommand(received);
    });
    return (
      result ?? {
        id: peekEnvelopeId(received) ?? "unknown",
        deviceId: this.deviceId,
        at: formatInstant(this.lockTime()),
        status: "error",
        error: {
          code: "E_INTERNAL",
          message: "the lock failed while handling the command; the bolt is thrown",
        },
      }
    );
  }

  #handleCommand(received: Uint8Array | string): CommandResult {
    const at = formatInstant(this.lockTime());
    const guard: ReplayGuard = {
      highest: () => this.#s.trust.highestSeq,
      accept: (_sender, seq) => this.#set("trust", { ...this.#s.trust, highestSeq: seq }),
    };
    const keys = (keyId: string) => {
      const key = this.#s.trust.fleetKeys[keyId];
      return key === undefined ? undefined : fromBase64url(key);
    };
    // Every envelope's validity is checked against the lock's own clock, a time sync's too:
    // a delayed one has expired whatever time it carries (the fleet states a sync's validity
    // in the lock's clock as it last measured it, so a lock running behind or ahead accepts it).
    const opened = openCommand(received, {
      deviceId: this.deviceId,
      now: this.lockTime(),
      keys,
      replayGuard: guard,
    });
    if (!opened.ok) {
      const id = peekEnvelopeId(received) ?? "unknown";
      this.#audit("command.rejected", null, {
        id,
        code: opened.error.code,
        reason: opened.error.message,
      });
      return { id, deviceId: this.deviceId, at, status: "error", error: opened.error };
    }
    const command = opened.value;
    try {
      const data = applyCommand(command, this.#commandEffects(command));
      if (command.type === "audit.ack" || command.type === "audit.gapRequest") {
        this.#noteAcknowledgement(command);
      } else {
        this.#audit("command.accepted", "fleet", {
          id: command.id,
          type: command.type,
          seq: command.seq,
        });
      }
      return {
        id: command.id,
        deviceId: this.deviceId,
        at,
        status: "ok",
        ...(data === undefined ? {} : { data }),
      };
    } catch (error) {
      if (!(error instanceof LockRuleError)) throw error;
      this.#audit("command.rejected", "fleet", {
        id: command.id,
        type: command.type,
        code: error.code,
        reason: error.message,
      });
      return {
        id: command.id,
        deviceId: this.deviceId,
        at,
        status: "error",
        error: { code: error.code, message: error.message },
      };
    }
  }

  /**
   * An accepted audit acknowledgement or gap request: kept in the `acks` section (committed
   * with this command) and recorded as one `audit.acknowledged` record ahead of the next
   * record written for any other reason (see AckSection).
   */
  #noteAcknowledgement(command: OpenedCommand): void {
    this.#set("acks", withAcknowledgement(this.#s.acks, command, this.lockTime()));
  }

  #commandEffects(command: OpenedCommand): CommandEffects {
    return {
      deviceId: this.deviceId,
      sections: () => this.#s,
      set: (name, value) => this.#set(name, value),
      audit: (kind, actor, data) => this.#audit(kind, actor, data),
      lockTime: () => this.lockTime(),
      codeHashKey: this.#identity.codeHashKey,
      encryptionSecretKey: this.#identity.encryptionSecretKey,
      setSchedule: (schedule) => {
        this.#evaluator = new TimeLockEvaluator(schedule);
      },
      setTrustedTime: (time) => {
        this.#set("time", time);
        // Trusted only once the new offset is on record.
        this.#required().after.push(() => {
          this.#trustedTime = true;
        });
      },
      endCycle: (reason) => {
        // An opening in progress (bolt retracted, door maybe open) ends with its relock and
        // close seal; only a cycle that has not opened yet is cancelled.
        const phase = this.#s.cycle?.phase;
        if (phase !== "released" && phase !== "open") this.#endCycle("cycle.cancelled", { reason });
      },
      envelopeExpiresAt: command.expiresAt,
      after: (action) => this.#required().after.push(action),
      emitAuditResend: (fromSeq, toSeq) => this.#emit("auditResend", fromSeq, toSeq),
      emitSelfTest: () => this.#emit("selfTestRequested"),
      acknowledge: (upToSeq, headHash) => this.#store.acknowledge(upToSeq, headHash),
    };
  }

  // ---------------------------------------------------------------- audit checkpoints

  /** Signs the current chain head with the device key and keeps it with the log. */
  checkpoint(): Checkpoint {
    const head = this.#store.auditHead();
    const checkpoint = signCheckpoint(
      {
        deviceId: this.deviceId,
        seq: head.seq,
        headHash: head.hash,
        at: formatInstant(this.lockTime()),
        keyId: this.#identity.signingKeyId,
      },
      this.#identity.signing.secretKey,
    );
    this.#store.saveCheckpoint(checkpoint);
    this.#sinceCheckpoint = 0;
    this.#emit("checkpoint", checkpoint);
    return checkpoint;
  }

  // ---------------------------------------------------------------- observation

  get trustedTime(): boolean {
    return this.#trustedTime;
  }

  get activeAlarms(): readonly AlarmKind[] {
    const active = new Set(this.#activeAlarms);
    if (this.#storageFault.active) active.add("storageFault");
    return [...active];
  }

  get display(): DisplayLines {
    return this.#screen();
  }

  get policy(): LockPolicy {
    return this.#s.policy;
  }

  /** The retained `state` message. Never reveals a duress alarm. */
  state(org = this.#identity.org): LockState {
    const now = this.lockTime();
    const toLockTime = (deadline: number | undefined) =>
      deadline === undefined ? undefined : formatInstant(now + (deadline - this.#mono()));
    const cycle = this.#s.cycle;
    const head = this.#store.auditHead();
    const penaltyUntil = toLockTime(this.#penaltyUntil);
    const delayEndsAt = toLockTime(this.#delayEndsAt);
    const windowEndsAt = toLockTime(this.#windowEndsAt);
    const relockAt = toLockTime(this.#relockAt);
    const timeLocked = this.isTimeLocked();
    const until = timeLocked
      ? this.#evaluator.lockedUntil(now, this.#s.timeLock.immediateUntil)
      : undefined;
    return {
      deviceId: this.deviceId,
      org,
      at: formatInstant(now),
      bolt: this.#bolt,
      door: this.#doorForced
        ? "forced"
        : this.#activeAlarms.has("doorAjar")
          ? "ajar"
          : this.#doorOpen
            ? "open"
            : "closed",
      cycle: {
        phase: cycle ? cycle.phase : "idle",
        ...(delayEndsAt === undefined ? {} : { delayEndsAt }),
        ...(windowEndsAt === undefined ? {} : { windowEndsAt }),
        ...(relockAt === undefined ? {} : { relockAt }),
        codesRequired: cycle ? this.#codesRequired(cycle.authorisations) : this.#codesRequired([]),
        codesGiven: cycle ? Math.min(3, cycle.authorisations.length) : 0,
      },
      timeLocked,
      ...(until === undefined || !Number.isFinite(until) || !this.#trustedTime
        ? {}
        : { timeLockedUntil: formatInstant(until) }),
      blocked: this.#s.remote.blocked,
      ...(penaltyUntil === undefined ? {} : { penaltyUntil }),
      activeAlarms: [...this.activeAlarms],
      trustedTime: this.#trustedTime,
      auditHead: { seq: head.seq, hash: head.hash },
      firmware: FIRMWARE_VERSION,
    };
  }
}
