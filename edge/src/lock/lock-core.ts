/**
 * The lock core: decides whether the bolt may move (SPEC §3). It owns no timers, files or
 * sockets: time comes from the injected Clock, persistence from the LockStore, and the
 * hardware is driven through LockOutputs. Every input (key, door, bolt sensor, tamper,
 * command, tick) runs as one unit of work: state changes and audit events are committed in
 * one transaction, and only then are outputs driven — so the bolt never moves on an opening
 * that is not on record. Any internal error leaves the bolt thrown (fail-secure).
 *
 * This file is the facade: it owns the unit of work and the fail-secure path, and hands each
 * input to the part that decides on it — keypad-entry.ts (entry modes), opening-cycle.ts
 * (round, delay, window, release, relock), sensors.ts (door, bolt, tamper),
 * hardware-reports.ts, command-intake.ts; screen.ts and state-view.ts derive what is shown
 * and published; deadlines.ts holds what runs on the monotonic clock.
 */

import {
  ALARM_PRIORITY,
  type AlarmKind,
  type AuditRecord,
  type Checkpoint,
  type CommandResult,
  formatInstant,
  type LockPolicy,
  type LockState,
  peekEnvelopeId,
  signCheckpoint,
} from "@lockfleet/protocol";
import { LockError, LockStoreError } from "../errors.js";
import type { ChainVerification } from "../store/chain-verification.js";
import type { FailSecureMark, LockStore } from "../store/lock-store.js";
import { CommandIntake } from "./command-intake.js";
import { isDue, MINUTE } from "./deadlines.js";
import { DISPLAY, type DisplayLines } from "./display.js";
import { type FactorySetup, initialiseStore } from "./factory-setup.js";
import { type HardwareEvent, HardwareReports } from "./hardware-reports.js";
import { KeypadEntry } from "./keypad-entry.js";
import { LockContext, type Work } from "./lock-context.js";
import { type LockCoreEvents, LockEventHub } from "./lock-events.js";
import { OpeningCycle } from "./opening-cycle.js";
import type { BoltPosition, Clock, DeviceIdentity, LockOutputs } from "./ports.js";
import { deriveScreen } from "./screen.js";
import { Sensors } from "./sensors.js";
import { applyStartInputs, type StartInputs } from "./start-up.js";
import { FIRMWARE_VERSION, lockStateView } from "./state-view.js";
import { alarmFromMemory, isStorageFailure, recordsOfFailSecureMark } from "./storage-fault.js";

export type { FactorySetup, SeedUser } from "./factory-setup.js";
export type { HardwareEvent } from "./hardware-reports.js";
export type { LockCoreEvents } from "./lock-events.js";
export { FIRMWARE_VERSION } from "./state-view.js";

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

export class LockCore {
  readonly deviceId: string;
  readonly #ctx: LockContext;
  readonly #checkpointEvery: number;
  readonly #cycle: OpeningCycle;
  readonly #keypad: KeypadEntry;
  readonly #sensors: Sensors;
  readonly #hardware: HardwareReports;
  readonly #commands: CommandIntake;
  readonly #events = new LockEventHub();
  #lastDisplay: DisplayLines | undefined;
  #sinceCheckpoint = 0;

  private constructor(options: LockCoreOptions) {
    this.deviceId = options.identity.deviceId;
    if (options.store.deviceId !== this.deviceId) {
      throw new LockStoreError(
        "E_STORE_DEVICE_MISMATCH",
        `store belongs to ${options.store.deviceId}, not ${this.deviceId}`,
      );
    }
    this.#ctx = new LockContext({
      store: options.store,
      clock: options.clock,
      outputs: options.outputs,
      identity: options.identity,
      boltSensorTimeoutMs: options.boltSensorTimeoutMs ?? 3000,
    });
    this.#checkpointEvery = options.checkpointEvery ?? 100;
    this.#cycle = new OpeningCycle(this.#ctx, () => this.#keypad.endProgramming());
    this.#keypad = new KeypadEntry(this.#ctx, this.#cycle);
    this.#sensors = new Sensors(this.#ctx, this.#cycle);
    this.#hardware = new HardwareReports(this.#ctx, this.#sensors);
    this.#commands = new CommandIntake(this.#ctx, this.#cycle, {
      auditResend: (fromSeq, toSeq) => this.#emit("auditResend", fromSeq, toSeq),
      selfTest: () => this.#emit("selfTestRequested"),
    });
  }

  /** Opens the lock from its store (setting it up from `factory` when the store is new) and boots it. */
  static open(options: LockCoreOptions): LockCore {
    const isNew = options.store.readSection("policy") === undefined;
    if (isNew) initialiseStore(options.store, options.clock, options.identity, options.factory);
    const core = new LockCore(options);
    core.#boot(isNew);
    if (options.startInputs !== undefined) applyStartInputs(core, options.startInputs);
    return core;
  }

  // ---------------------------------------------------------------- events

  on<K extends keyof LockCoreEvents>(event: K, listener: LockCoreEvents[K]): () => void {
    return this.#events.on(event, listener);
  }

  #emit<K extends keyof LockCoreEvents>(event: K, ...args: Parameters<LockCoreEvents[K]>): void {
    this.#events.emit(event, ...args);
  }

  // ---------------------------------------------------------------- unit of work

  #run<T>(work: () => T): T | undefined {
    const ctx = this.#ctx;
    if (ctx.work !== undefined)
      throw new LockError("E_REENTRANT", "lock core input while another is being handled");
    const unit: Work = { sections: {}, events: [], alarms: [], outputs: [], after: [] };
    ctx.work = unit;
    let result: T;
    try {
      result = work();
      this.#refreshDisplay();
      this.#commit();
    } catch (error) {
      ctx.work = undefined;
      this.#failSecure(error instanceof Error ? error : new Error(String(error)), unit);
      return undefined;
    }
    const pending = ctx.pendingFault;
    if (pending !== undefined && !(pending.afterCycle && ctx.s.cycle)) {
      ctx.pendingFault = undefined;
      if (!ctx.faulted) this.#failSecure(pending.error);
    }
    return result;
  }

  #commit(): void {
    const ctx = this.#ctx;
    const work = ctx.work;
    if (work === undefined) return;
    ctx.work = undefined;
    const acks = ctx.s.acks;
    if (acks && work.events.length > 0) {
      // Acknowledgements received since the last record go on record ahead of this one.
      work.events.unshift({
        at: acks.at,
        kind: "audit.acknowledged",
        actor: "fleet",
        data: { ...acks, since: formatInstant(acks.since), at: formatInstant(acks.at) },
      });
      for (const alarm of work.alarms) alarm.index += 1;
      ctx.s.acks = undefined;
      work.sections.acks = null;
    }
    // During a storage fault a write is tried when this unit has something to write, or when
    // the retry is due (tick); a unit that changes nothing does not hammer a full disk.
    const retryAt = ctx.storageFault.retryAt;
    const attempt =
      retryAt !== undefined &&
      (retryAt <= ctx.mono() || Object.keys(work.sections).length > 0 || work.events.length > 0);
    const recovery = attempt ? ctx.storageFault.recoveryRecords(ctx.lockTime()) : [];
    if (recovery.length > 0) {
      // The store takes writes again: the fault and the fail-secure state go on record first.
      work.events.unshift(...recovery);
      for (const alarm of work.alarms) alarm.index += recovery.length;
      if (!("cycle" in work.sections) && !ctx.s.cycle) work.sections.cycle = null;
    }
    const records =
      Object.keys(work.sections).length > 0 || work.events.length > 0
        ? ctx.store.commit({ sections: work.sections, events: work.events })
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
    if (this.#sinceCheckpoint >= this.#checkpointEvery) this.checkpoint();
  }

  /** Any internal error: bolt thrown, cycle ended, fault on the display and on record. */
  #failSecure(error: Error, failed?: Work): void {
    const ctx = this.#ctx;
    const storage = isStorageFailure(error);
    if (!storage) ctx.faulted = true;
    // Whatever the failed unit of work changed in memory is dropped: no release, no relock
    // timer, and the bolt command the sensor is checked against is "thrown".
    ctx.deadlines.clearCycle();
    ctx.deadlines.relock = undefined;
    this.#keypad.reset();
    ctx.message = undefined;
    // A bolt the sensor reports thrown already gets no new confirmation: waiting for one would
    // turn every fault of a locked lock into a false bolt jam.
    ctx.boltCommand =
      ctx.bolt === "thrown"
        ? undefined
        : { position: "thrown", by: ctx.mono() + ctx.boltSensorTimeoutMs };
    try {
      ctx.outputs.driveBolt("thrown");
      this.#lastDisplay = DISPLAY.fault();
      ctx.outputs.display(DISPLAY.fault());
      ctx.outputs.buzzer("alarm");
    } catch {
      // The hardware itself failing is reported below with the original error.
    }
    if (storage) {
      this.#storageFailed(error, failed);
      return;
    }
    let faultRecords: AuditRecord[] = [];
    try {
      ctx.reload();
      ctx.s.cycle = undefined;
      faultRecords = ctx.store.commit({
        sections: { cycle: null },
        events: [
          {
            at: ctx.lockTime(),
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
    const ctx = this.#ctx;
    const first = !ctx.storageFault.active;
    const report = ctx.storageFault.failed(error, ctx.lockTime(), ctx.mono());
    const refusedAlarms = (failed?.alarms ?? []).flatMap((alarm) => {
      const event = failed?.events[alarm.index];
      return event === undefined ? [] : [{ kind: alarm.kind, event }];
    });
    for (const alarm of refusedAlarms) ctx.storageFault.keep(alarm.event);
    if (first) {
      try {
        ctx.reload();
      } catch {
        // Reading failed too: the sections in memory stay as they were.
      }
    }
    const cycle = ctx.s.cycle;
    ctx.s.cycle = undefined;
    let headSeq = 0;
    try {
      headSeq = ctx.store.auditHead().seq;
    } catch {
      // unreadable: the alarm below names no record
    }
    if (cycle) {
      try {
        const mark: FailSecureMark = { at: ctx.lockTime(), headSeq, error: error.message };
        ctx.store.markFailSecure?.(mark);
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
      this.#emit("alarm", alarmFromMemory(alarm.kind, headSeq, alarm.event.data ?? {}));
    }
    if (report !== undefined) this.#emit("storageFault", report);
    if (first) this.#emit("fault", error);
  }

  /** The recovery records are on record: the fault is over, the lock works again. */
  #storageRestored(): void {
    const report = this.#ctx.storageFault.restored();
    try {
      this.#ctx.store.clearFailSecureMark?.();
    } catch {
      // A mark left behind only ends a cycle that is already over.
    }
    if (report !== undefined) this.#emit("storageFault", report);
  }

  #refreshDisplay(): void {
    const screen = this.#screen();
    const last = this.#lastDisplay;
    if (last !== undefined && last[0] === screen[0] && last[1] === screen[1]) return;
    this.#lastDisplay = screen;
    this.#ctx.output(() => this.#ctx.outputs.display(screen));
  }

  #screen(): DisplayLines {
    return deriveScreen(this.#ctx, this.#keypad);
  }

  // ---------------------------------------------------------------- boot

  #boot(isNew: boolean): void {
    const ctx = this.#ctx;
    this.#run(() => {
      ctx.audit("device.started", null, {
        firmware: FIRMWARE_VERSION,
        factorySetUp: isNew,
        cleanShutdown: ctx.store.previousShutdownWasClean,
      });
      if (!isNew && !ctx.store.previousShutdownWasClean) {
        ctx.audit("power.lost", null, {});
        ctx.raise("powerLoss", null, {});
      }
      const penalty = ctx.s.penalty;
      if (penalty.runningMs !== undefined) {
        // The lockout runs again in full: a power cut never shortens it.
        ctx.deadlines.penaltyUntil = ctx.mono() + penalty.runningMs;
        ctx.audit("penalty.started", null, {
          minutes: penalty.runningMs / MINUTE,
          restarted: true,
        });
      }
      const mark = ctx.store.failSecureMark?.();
      if (mark !== undefined) {
        // The lock failed secure and the store could not take it (fail-secure-mark.ts): the
        // fault goes on record now that it writes, and the cycle it ended stays ended.
        ctx.required().events.push(...recordsOfFailSecureMark(mark, ctx.lockTime()));
        ctx.required().after.push(() => ctx.store.clearFailSecureMark?.());
      }
      this.#cycle.resumeAtBoot(mark);
      ctx.driveBolt("thrown");
    });
  }

  /** Marks a clean shutdown; the bolt stays as it is (thrown unless a cycle is open). */
  shutdown(): void {
    this.#ctx.store.close();
  }

  // ---------------------------------------------------------------- inputs

  /** One key of the keypad: digits, '#' (enter) or '*' (clear; cancel; on an idle lock: change code). */
  pressKey(key: string): void {
    this.#run(() => this.#keypad.press(key));
  }

  setDoor(open: boolean): void {
    this.#run(() => this.#sensors.door(open));
  }

  /** The bolt position sensor reports. */
  boltSensed(position: BoltPosition): void {
    this.#run(() => this.#sensors.bolt(position));
  }

  setTamper(active: boolean): void {
    this.#run(() => this.#sensors.tamper(active));
  }

  /**
   * A report of the lock hardware other than its inputs (see HardwareEvent); each goes on
   * record through the core's single write path, so the hash chain and checkpoints stay the
   * core's.
   */
  recordHardwareEvent(event: HardwareEvent): void {
    this.#run(() => this.#hardware.record(event));
  }

  /**
   * The outcome of the background whole-chain verification (store/chain-verification.ts), on
   * record for the fleet; a broken chain or a damaged file raises storageFault.
   */
  recordChainVerification(result: ChainVerification): void {
    this.#run(() => this.#hardware.chainVerified(result));
  }

  /** A signed envelope from the fleet as received; returns the result to publish on cmd/result. */
  receiveCommand(received: Uint8Array | string): CommandResult {
    let result: CommandResult | undefined;
    this.#run(() => {
      result = this.#commands.handle(received);
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

  // ---------------------------------------------------------------- time passing

  /** Earliest monotonic instant at which tick() has something to do. */
  nextDeadline(): number | undefined {
    const ctx = this.#ctx;
    return ctx.deadlines.next(ctx.mono(), [
      ctx.boltCommand?.by,
      ctx.message?.until,
      ctx.storageFault.retryAt,
    ]);
  }

  tick(): void {
    const ctx = this.#ctx;
    // While the store refuses writes the lock stays fault-locked; the next unit of work is the
    // retry, which puts the fault on record when it succeeds (#commit).
    const retryAt = ctx.storageFault.retryAt;
    if (retryAt !== undefined && retryAt > ctx.mono()) return;
    this.#run(() => {
      const now = ctx.mono();
      const deadlines = ctx.deadlines;
      if (isDue(ctx.message?.until, now)) ctx.message = undefined;
      if (isDue(deadlines.entry, now)) this.#keypad.abandon();
      if (isDue(deadlines.penaltyUntil, now)) {
        deadlines.penaltyUntil = undefined;
        const { runningMs: _ended, ...rest } = ctx.s.penalty;
        ctx.set("penalty", rest);
        ctx.audit("penalty.ended", null, {});
        ctx.clear("wrongCodeEntryLimit");
        ctx.message = undefined;
      }
      this.#cycle.tick(now);
      this.#sensors.tick(now);
      const central = ctx.s.remote.centralRelease;
      if (central !== undefined && central.expiresAt <= ctx.lockTime() && !ctx.s.cycle) {
        ctx.set("remote", { ...ctx.s.remote, centralRelease: undefined });
      }
    });
  }

  // ---------------------------------------------------------------- audit checkpoints

  /** Signs the current chain head with the device key and keeps it with the log. */
  checkpoint(): Checkpoint {
    const ctx = this.#ctx;
    const head = ctx.store.auditHead();
    const checkpoint = signCheckpoint(
      {
        deviceId: this.deviceId,
        seq: head.seq,
        headHash: head.hash,
        at: formatInstant(this.lockTime()),
        keyId: ctx.identity.signingKeyId,
      },
      ctx.identity.signing.secretKey,
    );
    ctx.store.saveCheckpoint(checkpoint);
    this.#sinceCheckpoint = 0;
    this.#emit("checkpoint", checkpoint);
    return checkpoint;
  }

  // ---------------------------------------------------------------- observation

  /** The lock's notion of now: real-time clock plus the offset set by trusted time. */
  lockTime(): number {
    return this.#ctx.lockTime();
  }

  /** Time-locked now? Without trusted time since boot, a container with any time lock stays locked. */
  isTimeLocked(): boolean {
    return this.#ctx.isTimeLocked();
  }

  get trustedTime(): boolean {
    return this.#ctx.trustedTime;
  }

  get activeAlarms(): readonly AlarmKind[] {
    const active = new Set(this.#ctx.activeAlarms);
    if (this.#ctx.storageFault.active) active.add("storageFault");
    return [...active];
  }

  get display(): DisplayLines {
    return this.#screen();
  }

  get policy(): LockPolicy {
    return this.#ctx.s.policy;
  }

  /** The retained `state` message. Never reveals a duress alarm. */
  state(org = this.#ctx.identity.org): LockState {
    return lockStateView(this.#ctx, org, this.activeAlarms);
  }
}
