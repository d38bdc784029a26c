/**
 * What every part of the lock core shares: the sections on record, what the hardware last
 * reported, and the write primitives of the running unit of work. The parts (keypad entry,
 * opening cycle, sensors) change state only through these primitives, so every change and its
 * audit record land in the same store transaction, and outputs wait until it is committed —
 * the unit of work itself (run, commit, fail-secure) belongs to the LockCore facade.
 */
import {
  ALARM_PRIORITY,
  type AlarmKind,
  type AuditData,
  type AuditEventKind,
  type LockPolicy,
} from "@lockfleet/protocol";
import { LockError } from "../errors.js";
import type { AuditAppend, LockStore } from "../store/lock-store.js";
import { Deadlines, SECOND } from "./deadlines.js";
import type { DisplayLines } from "./display.js";
import { codesRequired } from "./dual-control.js";
import { NO_PENALTY } from "./penalty.js";
import type { BoltPosition, BuzzerSound, Clock, DeviceIdentity, LockOutputs } from "./ports.js";
import type { Authorisation, LockSections, SectionMap, SectionName } from "./state.js";
import { StorageFault } from "./storage-fault.js";
import { TimeLockEvaluator } from "./time-lock.js";

/** One input being handled: what it changes, records, raises and drives once committed. */
export interface Work {
  sections: Partial<Record<SectionName, unknown>>;
  events: AuditAppend[];
  alarms: Array<{ index: number; kind: AlarmKind }>;
  outputs: Array<() => void>;
  after: Array<() => void>;
}

export type BoltState = "thrown" | "retracted" | "jammed" | "unknown";

/** How long a transient message (WRONG CODE, CANCELLED…) stays over the derived screen. */
const MESSAGE_MS = 3 * SECOND;

export interface LockContextOptions {
  store: LockStore;
  clock: Clock;
  outputs: LockOutputs;
  identity: DeviceIdentity;
  boltSensorTimeoutMs: number;
}

export class LockContext {
  readonly deviceId: string;
  readonly store: LockStore;
  readonly clock: Clock;
  readonly outputs: LockOutputs;
  readonly identity: DeviceIdentity;
  readonly boltSensorTimeoutMs: number;
  readonly deadlines = new Deadlines();
  readonly storageFault = new StorageFault();

  s: LockSections;
  evaluator: TimeLockEvaluator;
  /** The unit of work being handled; state changes outside one are a bug. */
  work: Work | undefined;

  // What the hardware reports, volatile.
  bolt: BoltState = "unknown";
  /** The drive the bolt sensor must confirm by `by` (monotonic), or the bolt counts as jammed. */
  boltCommand: { position: BoltPosition; by: number } | undefined;
  doorOpen = false;
  doorForced = false;
  tamper = false;

  activeAlarms = new Set<AlarmKind>();
  trustedTime = false;
  /** An internal error: the lock opens no more until it restarts. */
  faulted = false;
  /** A lock fault waiting to take effect (after a running duress-capable cycle, see partFault). */
  pendingFault: { error: Error; afterCycle: boolean } | undefined;
  /**
   * A message over the derived screen: shown while the cycle stays in the phase it was shown
   * in, and for MESSAGE_MS unless it is a prompt or the close seal (until the next key).
   */
  message: { lines: DisplayLines; phase: string; until: number | undefined } | undefined;

  constructor(options: LockContextOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.outputs = options.outputs;
    this.identity = options.identity;
    this.deviceId = options.identity.deviceId;
    this.boltSensorTimeoutMs = options.boltSensorTimeoutMs;
    this.s = this.#readSections();
    this.evaluator = new TimeLockEvaluator(this.s.timeLock.schedule);
  }

  /** Drops what memory holds and reads the sections on record again. */
  reload(): void {
    this.s = this.#readSections();
    this.evaluator = new TimeLockEvaluator(this.s.timeLock.schedule);
  }

  #readSections(): LockSections {
    const read = <K extends SectionName>(name: K): SectionMap[K] | undefined =>
      this.store.readSection<SectionMap[K]>(name);
    const policy = read("policy");
    const timeLock = read("timeLock");
    if (policy === undefined || timeLock === undefined)
      throw new LockError("E_STORE_CORRUPT", "lock policy or time-lock section missing");
    return {
      policy,
      users: read("users") ?? {},
      penalty: read("penalty") ?? NO_PENALTY,
      timeLock,
      remote: read("remote") ?? { blocked: false },
      grants: read("grants") ?? {},
      otp: read("otp"),
      trust: read("trust") ?? { fleetKeys: {}, highestSeq: 0 },
      time: read("time") ?? { offsetMs: 0 },
      cycle: read("cycle"),
      openings: read("openings") ?? { counter: 0 },
      acks: read("acks"),
    };
  }

  // ---------------------------------------------------------------- write primitives

  required(): Work {
    if (this.work === undefined)
      throw new LockError("E_INTERNAL", "lock state changed outside a unit of work");
    return this.work;
  }

  /** Changes a section in memory and in the running unit of work (undefined deletes it). */
  set<K extends SectionName>(name: K, value: SectionMap[K] | undefined): void {
    // Every section may be written as undefined (deleted); only the optional ones ever are.
    (this.s as Partial<SectionMap>)[name] = value;
    this.required().sections[name] = value ?? null;
  }

  /** An audit record of `kind`, its data typed by the protocol's schema for that kind. */
  audit<K extends AuditEventKind>(kind: K, actor: string | null, data: AuditData<K>): void {
    this.required().events.push({ at: this.lockTime(), kind, actor, data });
  }

  raise(kind: AlarmKind, actor: string | null, data: Record<string, unknown> = {}): void {
    const work = this.required();
    work.alarms.push({ index: work.events.length, kind });
    if (kind !== "forcedUser") this.activeAlarms.add(kind);
    this.audit("alarm.raised", actor, { alarm: kind, priority: ALARM_PRIORITY[kind], ...data });
  }

  clear(kind: AlarmKind): void {
    if (this.activeAlarms.delete(kind)) this.audit("alarm.cleared", null, { alarm: kind });
  }

  /** An output driven once the unit of work is committed. */
  output(action: () => void): void {
    this.required().outputs.push(action);
  }

  driveBolt(position: BoltPosition): void {
    this.boltCommand = { position, by: this.mono() + this.boltSensorTimeoutMs };
    this.output(() => this.outputs.driveBolt(position));
  }

  buzz(sound: BuzzerSound): void {
    this.output(() => this.outputs.buzzer(sound));
  }

  show(lines: DisplayLines, sticky = false): void {
    this.message = {
      lines,
      phase: this.phase(),
      until: sticky ? undefined : this.mono() + MESSAGE_MS,
    };
  }

  // ---------------------------------------------------------------- derived

  phase(): string {
    return this.s.cycle ? this.s.cycle.phase : "idle";
  }

  /** The lock's notion of now: real-time clock plus the offset set by trusted time. */
  lockTime(): number {
    return this.clock.now() + (this.s.time?.offsetMs ?? 0);
  }

  mono(): number {
    return this.clock.monotonic();
  }

  codesRequired(authorisations: readonly Authorisation[]): number {
    return codesRequired(this.s.policy, authorisations);
  }

  #hasTimeLock(): boolean {
    const { schedule, immediateUntil } = this.s.timeLock;
    return (
      schedule.weekly.length > 0 ||
      schedule.holidays.length > 0 ||
      (immediateUntil ?? 0) > this.lockTime()
    );
  }

  /** Time-locked now? Without trusted time since boot, a container with any time lock stays locked. */
  isTimeLocked(): boolean {
    if (!this.trustedTime && this.#hasTimeLock()) return true;
    return this.evaluator.isLocked(this.lockTime(), this.s.timeLock.immediateUntil);
  }

  get policy(): LockPolicy {
    return this.s.policy;
  }
}
