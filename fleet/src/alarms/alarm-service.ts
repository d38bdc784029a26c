/**
 * The alarm service: takes alarms from locks (through the device hub) and from the fleet's
 * own checks, keeps one open alarm per lock and kind (repeats count on it), lets a person
 * acknowledge with a comment, escalates what stays unacknowledged and forwards raised,
 * escalated and acknowledged alarms to webhooks and syslog.
 */
import { EventEmitter } from "node:events";
import { Alarm, type AuditRecord, auditDataOf, isValid, type LockState } from "@lockfleet/protocol";
import { FleetError, notFound } from "../errors.js";
import { newId } from "../ids.js";
import type { FleetStore } from "../storage/fleet-store.js";
import type { Page, PageRequest } from "../storage/pagination.js";
import {
  type AlarmChange,
  type AlarmFilter,
  type AlarmHistoryEntry,
  type AlarmKind,
  type AlarmScope,
  type AlarmSource,
  alarmPriority,
  alarmRank,
  alarmVisibleTo,
  type FleetAlarm,
  isAlarmKind,
} from "./alarm.js";
import type { AlarmRepository } from "./alarm-repository.js";
import {
  DEFAULT_ESCALATION,
  type EscalationPolicy,
  nextEscalationAt,
  validateEscalationPolicy,
} from "./escalation.js";
import type { AlarmForwarder, ForwardedEvent } from "./forwarding/forwarder.js";

export const MAX_ACK_COMMENT = 2000;

export interface RaiseAlarm {
  deviceId: string;
  kind: AlarmKind;
  source: AlarmSource;
  at: string;
  /** The lock's audit record that is the evidence (lock alarms). */
  auditSeq?: number | null;
  actor?: string | null;
  data?: Record<string, unknown>;
  /** When the caller knows it; otherwise looked up from the enrolled lock. */
  orgId?: string;
  containerId?: string | null;
}

export interface RaiseOutcome {
  alarm: FleetAlarm;
  outcome: "raised" | "repeated" | "duplicate";
}

export interface FleetCheckOptions {
  /** A lock offline longer than this raises `lockOffline`. */
  offlineGraceMs: number;
  /** Lock time further than this from fleet time raises `clockDrift`. */
  clockDriftLimitMs: number;
}

export const DEFAULT_FLEET_CHECKS: FleetCheckOptions = {
  offlineGraceMs: 60_000,
  clockDriftLimitMs: 120_000,
};

interface Logger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

export interface AlarmServiceOptions {
  store: FleetStore;
  clock?: () => number;
  escalation?: EscalationPolicy;
  forwarders?: AlarmForwarder[];
  checks?: Partial<FleetCheckOptions>;
  log?: Logger;
  /** How often escalation is checked once `start()` was called. */
  tickMs?: number;
  /**
   * Run the fleet's own offline, clock-drift and audit-continuity checks on the hub's events.
   * Off when the device hub raises these alarms itself (it does: presence, drift, gaps).
   */
  ownChecks?: boolean;
  /** Where a lock sits (the device hub knows); defaults to the enrolled-lock table. */
  locate?: (deviceId: string) => { orgId: string; containerId: string | null } | undefined;
}

/** Emitted as `"alarm"` with every change, for live views (SSE) and tests. */
export interface AlarmEvent {
  change: AlarmChange;
  alarm: FleetAlarm;
}

/** What the device hub emits that the alarm service listens to (DeviceHub satisfies it). */
export interface AlarmSourceHub {
  on(event: "alarm", listener: (deviceId: string, alarm: Alarm) => void): unknown;
  on(
    event: "availability",
    listener: (deviceId: string, status: "online" | "offline") => void,
  ): unknown;
  on(event: "state", listener: (deviceId: string, state: LockState) => void): unknown;
  on(event: "audit", listener: (deviceId: string, records: AuditRecord[]) => void): unknown;
  /** A condition the hub raised an alarm for is over (clockDrift: the clock is right again). */
  on(event: "alarmCleared", listener: (deviceId: string, kind: AlarmKind) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
}

/** The events of an `AlarmSourceHub`, for typed emitters (`new EventEmitter<AlarmSourceEvents>()`). */
export interface AlarmSourceEvents {
  alarm: [deviceId: string, alarm: Alarm];
  availability: [deviceId: string, status: "online" | "offline"];
  state: [deviceId: string, state: LockState];
  audit: [deviceId: string, records: AuditRecord[]];
  alarmCleared: [deviceId: string, kind: AlarmKind];
}

/** The hub marks the alarms it raises itself (offline, drift, gap) with `data.source`. */
function sourceOf(alarm: Alarm): AlarmSource {
  return alarm.data.source === "fleet" ? "fleet" : "device";
}

const silent: Logger = { info() {}, warn() {}, error() {} };

export class AlarmService extends EventEmitter<{ alarm: [AlarmEvent] }> {
  readonly repository: AlarmRepository;
  readonly #clock: () => number;
  readonly #escalation: EscalationPolicy;
  readonly #forwarders: AlarmForwarder[];
  readonly #checks: FleetCheckOptions;
  readonly #log: Logger;
  readonly #tickMs: number;
  readonly #ownChecks: boolean;
  readonly #locate: (deviceId: string) => { orgId: string; containerId: string | null } | undefined;
  #ticker: NodeJS.Timeout | undefined;
  readonly #offlineTimers = new Map<string, NodeJS.Timeout>();
  readonly #auditHeads = new Map<string, number>();
  readonly #pendingForwards = new Set<Promise<void>>();
  #detach: (() => void) | undefined;

  constructor(options: AlarmServiceOptions) {
    super();
    this.repository = options.store.alarms;
    this.#clock = options.clock ?? Date.now;
    this.#escalation = options.escalation ?? DEFAULT_ESCALATION;
    validateEscalationPolicy(this.#escalation);
    this.#forwarders = options.forwarders ?? [];
    this.#checks = { ...DEFAULT_FLEET_CHECKS, ...options.checks };
    this.#log = options.log ?? silent;
    this.#tickMs = options.tickMs ?? 5_000;
    this.#ownChecks = options.ownChecks ?? true;
    this.#locate = options.locate ?? ((deviceId) => this.repository.locateDevice(deviceId));
  }

  #now(): string {
    return new Date(this.#clock()).toISOString();
  }

  /**
   * Raises an alarm, or counts a repeat on the open one of the same lock and kind. A lock's
   * report seen before (same lock, kind and audit record) is dropped as a duplicate; the
   * fleet's own alarms have no such evidence and only count on the open alarm.
   */
  raise(input: RaiseAlarm): RaiseOutcome {
    const auditSeq = input.source === "device" ? (input.auditSeq ?? null) : null;
    const result = this.repository.transaction((): RaiseOutcome | undefined => {
      if (auditSeq !== null) {
        const seen = this.repository.reportSeen(input.deviceId, input.kind, auditSeq);
        if (seen !== undefined) {
          return { alarm: this.repository.mustGet(seen), outcome: "duplicate" };
        }
      }
      const open = this.repository.openOf(input.deviceId, input.kind);
      if (open !== undefined) {
        this.repository.repeat(open.id, input.at, input.data ?? open.data);
        if (auditSeq !== null) {
          this.repository.markReportSeen(input.deviceId, input.kind, auditSeq, open.id);
        }
        this.repository.addHistory(open.id, {
          at: this.#now(),
          event: "repeated",
          actor: input.actor ?? null,
          data: { at: input.at, auditSeq },
        });
        return { alarm: this.repository.mustGet(open.id), outcome: "repeated" };
      }
      const place =
        input.orgId !== undefined
          ? { orgId: input.orgId, containerId: input.containerId ?? null }
          : this.#locate(input.deviceId);
      if (place === undefined) return undefined;
      const priority = alarmPriority(input.kind);
      const id = newId("alm");
      const alarm = this.repository.insert({
        id,
        orgId: place.orgId,
        deviceId: input.deviceId,
        containerId: input.containerId ?? place.containerId,
        kind: input.kind,
        priority,
        rank: alarmRank(input.kind),
        source: input.source,
        at: input.at,
        auditSeq: input.auditSeq ?? null,
        actor: input.actor ?? null,
        data: input.data ?? {},
        nextEscalationAt: nextEscalationAt(this.#escalation, priority, 0, this.#clock()),
      });
      if (auditSeq !== null)
        this.repository.markReportSeen(input.deviceId, input.kind, auditSeq, id);
      this.repository.addHistory(id, {
        at: this.#now(),
        event: "raised",
        actor: input.actor ?? null,
        data: { source: input.source, at: input.at, auditSeq },
      });
      return { alarm, outcome: "raised" };
    });
    if (result === undefined) {
      throw new FleetError(
        "E_UNKNOWN_DEVICE",
        `alarm ${input.kind} from ${input.deviceId}, a lock this fleet has not enrolled`,
        404,
      );
    }
    if (result.outcome !== "duplicate") {
      this.#log.warn(
        { alarmId: result.alarm.id, kind: result.alarm.kind, deviceId: input.deviceId },
        `alarm ${result.outcome}`,
      );
      this.emit("alarm", { change: result.outcome, alarm: result.alarm });
    }
    if (result.outcome === "raised") this.#forward("raised", result.alarm);
    return result;
  }

  /** Marks the open alarm of this kind on the lock as cleared (the condition ended). */
  clear(deviceId: string, kind: AlarmKind): FleetAlarm | undefined {
    const open = this.repository.openOf(deviceId, kind);
    if (open === undefined || open.clearedAt !== null) return undefined;
    const at = this.#now();
    this.repository.clear(open.id, at);
    this.repository.addHistory(open.id, { at, event: "cleared", actor: null });
    const alarm = this.repository.mustGet(open.id);
    this.emit("alarm", { change: "cleared", alarm });
    return alarm;
  }

  /** A person takes charge of the alarm; the comment says what they did or will do. */
  acknowledge(id: string, scope: AlarmScope, by: string, comment: string): FleetAlarm {
    const text = comment.trim();
    if (text === "") {
      throw new FleetError("E_ACK_COMMENT_REQUIRED", "an acknowledgement needs a comment");
    }
    if (text.length > MAX_ACK_COMMENT) {
      throw new FleetError(
        "E_ACK_COMMENT_TOO_LONG",
        `the comment has ${text.length} characters, at most ${MAX_ACK_COMMENT} are kept`,
      );
    }
    const alarm = this.get(id, scope);
    if (alarm.status === "acknowledged") {
      throw new FleetError(
        "E_ALARM_ACKNOWLEDGED",
        `alarm ${id} was acknowledged by ${alarm.acknowledgedBy} at ${alarm.acknowledgedAt}`,
        409,
      );
    }
    const at = this.#now();
    const done = this.repository.transaction(() => {
      const changed = this.repository.acknowledge(id, { at, by, comment: text });
      if (changed)
        this.repository.addHistory(id, {
          at,
          event: "acknowledged",
          actor: by,
          data: { comment: text },
        });
      return changed;
    });
    if (!done) {
      throw new FleetError("E_ALARM_ACKNOWLEDGED", `alarm ${id} was acknowledged meanwhile`, 409);
    }
    const acknowledged = this.repository.mustGet(id);
    this.emit("alarm", { change: "acknowledged", alarm: acknowledged });
    this.#forward("acknowledged", acknowledged);
    return acknowledged;
  }

  get(id: string, scope: AlarmScope): FleetAlarm {
    const alarm = this.repository.get(id);
    if (alarm === undefined || !alarmVisibleTo(alarm, scope)) throw notFound("alarm", id);
    return alarm;
  }

  history(id: string, scope: AlarmScope): AlarmHistoryEntry[] {
    this.get(id, scope);
    return this.repository.history(id);
  }

  list(scope: AlarmScope, filter: AlarmFilter = {}, page: PageRequest = {}): Page<FleetAlarm> {
    return this.repository.list(scope, filter, page);
  }

  /** Climbs one level on every open alarm whose escalation is due; returns those escalated. */
  escalateDue(): FleetAlarm[] {
    const now = this.#clock();
    const at = new Date(now).toISOString();
    const escalated: FleetAlarm[] = [];
    for (const due of this.repository.dueForEscalation(at)) {
      const level = due.escalationLevel + 1;
      const next = nextEscalationAt(this.#escalation, due.priority, level, now);
      this.repository.transaction(() => {
        this.repository.escalate(due.id, { at, level, next });
        this.repository.addHistory(due.id, {
          at,
          event: "escalated",
          actor: null,
          data: { level, unacknowledgedSince: due.raisedAt },
        });
      });
      const alarm = this.repository.mustGet(due.id);
      escalated.push(alarm);
      this.#log.warn({ alarmId: alarm.id, level }, "alarm escalated");
      this.emit("alarm", { change: "escalated", alarm });
      this.#forward("escalated", alarm);
    }
    return escalated;
  }

  #forward(event: ForwardedEvent, alarm: FleetAlarm): void {
    for (const forwarder of this.#forwarders) {
      const sent = forwarder
        .forward({ event, alarm, sentAt: this.#now() })
        .then(
          () => this.#recordForward(alarm.id, "forwarded", forwarder.name, event),
          (error: unknown) => {
            const reason = error instanceof Error ? error.message : String(error);
            this.#log.error({ alarmId: alarm.id, target: forwarder.name }, reason);
            this.#recordForward(alarm.id, "forwardFailed", forwarder.name, event, reason);
          },
        )
        .finally(() => this.#pendingForwards.delete(sent));
      this.#pendingForwards.add(sent);
    }
  }

  #recordForward(
    alarmId: string,
    change: "forwarded" | "forwardFailed",
    target: string,
    event: ForwardedEvent,
    reason?: string,
  ): void {
    try {
      this.repository.addHistory(alarmId, {
        at: this.#now(),
        event: change,
        actor: null,
        data: { target, event, ...(reason === undefined ? {} : { reason }) },
      });
    } catch (error) {
      // the database may already be closed at shutdown; the log keeps the outcome
      this.#log.error({ alarmId, target, err: error }, `could not record ${change}`);
    }
  }

  /** Resolves when every forward started so far has succeeded or given up. */
  async flushForwards(): Promise<void> {
    while (this.#pendingForwards.size > 0) await Promise.allSettled([...this.#pendingForwards]);
  }

  // --- the device hub and the fleet's own checks ---

  /** Takes over alarms the hub stored while nobody listened, then listens to the hub. */
  attach(hub: AlarmSourceHub): void {
    this.drainInbox();
    const onAlarm = (deviceId: string, alarm: Alarm) => {
      // the hub stores each alarm in its inbox before telling; taking the inbox in order
      // handles every alarm once, and the event itself only if it never reached the inbox
      let taken = 0;
      this.#safely(() => {
        taken = this.drainInbox();
      });
      if (taken === 0) this.#safely(() => this.#fromDevice(deviceId, alarm, sourceOf(alarm)));
    };
    const onAvailability = (deviceId: string, status: "online" | "offline") =>
      this.#safely(() => this.#availability(deviceId, status));
    const onState = (deviceId: string, state: LockState) => {
      if (this.#ownChecks) this.#safely(() => this.checkClockDrift(deviceId, state));
    };
    const onAudit = (deviceId: string, records: AuditRecord[]) => {
      this.#safely(() => this.fromAudit(deviceId, records));
      if (this.#ownChecks) this.#safely(() => this.checkAuditContinuity(deviceId, records));
    };
    hub.on("alarm", onAlarm);
    hub.on("availability", onAvailability);
    hub.on("state", onState);
    hub.on("audit", onAudit);
    const onCleared = (deviceId: string, kind: AlarmKind) =>
      this.#safely(() => this.clear(deviceId, kind));
    hub.on("alarmCleared", onCleared);
    this.#detach = () => {
      hub.off("alarm", onAlarm);
      hub.off("availability", onAvailability);
      hub.off("state", onState);
      hub.off("audit", onAudit);
      hub.off("alarmCleared", onCleared);
    };
  }

  #safely(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.#log.error({ err: error }, "alarm intake failed");
    }
  }

  #fromDevice(deviceId: string, alarm: Alarm, source: AlarmSource): void {
    if (alarm.deviceId !== deviceId) {
      this.#log.warn({ deviceId, claimed: alarm.deviceId }, "alarm names another lock; ignored");
      return;
    }
    this.raise({
      deviceId,
      kind: alarm.alarm,
      source,
      at: alarm.at,
      auditSeq: alarm.auditSeq,
      actor: alarm.actor,
      data: alarm.data,
    });
  }

  /** Alarms in the hub's inbox (`device_alarms`) after the last one taken over. */
  drainInbox(): number {
    let taken = 0;
    try {
      for (;;) {
        const rows = this.repository.inboxAfter(this.repository.inboxPosition());
        if (rows.length === 0) return taken;
        // one transaction per batch: an alarm storm (a branch's power cut) costs one disk
        // sync per batch, not two per alarm; each alarm is still a savepoint of its own
        this.repository.transaction(() => {
          for (const row of rows) {
            const stored: unknown = JSON.parse(row.alarm_json);
            if (isValid(Alarm, stored) && isAlarmKind(stored.alarm)) {
              const source = row.source === "fleet" ? "fleet" : sourceOf(stored);
              this.#safely(() => this.#fromDevice(stored.deviceId, stored, source));
            } else {
              this.#log.error({ inboxId: row.id }, "stored alarm does not match the Alarm schema");
            }
            this.repository.setInboxPosition(row.id);
            taken++;
          }
        });
      }
    } catch (error) {
      // a fleet without the hub's inbox table (tests of the alarm service alone)
      if (error instanceof Error && /no such table: device_alarms/.test(error.message))
        return taken;
      throw error;
    }
  }

  #availability(deviceId: string, status: "online" | "offline"): void {
    const pending = this.#offlineTimers.get(deviceId);
    if (pending !== undefined) {
      clearTimeout(pending);
      this.#offlineTimers.delete(deviceId);
    }
    if (status === "online") {
      this.clear(deviceId, "lockOffline");
      return;
    }
    if (!this.#ownChecks) return;
    const since = this.#now();
    const timer = setTimeout(() => {
      this.#offlineTimers.delete(deviceId);
      this.#safely(() => this.raiseOffline(deviceId, since));
    }, this.#checks.offlineGraceMs);
    timer.unref();
    this.#offlineTimers.set(deviceId, timer);
  }

  /** The lock has been offline since `since` for longer than the grace period. */
  raiseOffline(deviceId: string, since: string): RaiseOutcome {
    return this.raise({
      deviceId,
      kind: "lockOffline",
      source: "fleet",
      at: this.#now(),
      data: { offlineSince: since, graceMs: this.#checks.offlineGraceMs },
    });
  }

  /**
   * The lock's verified audit, in order: each `alarm.raised` record raises its alarm (a notice
   * lost on the way — raised while the lock booted, or sent just before a power cut — is
   * recovered from the audit; one already reported by notice is dropped as a duplicate, being
   * the same lock, kind and audit record), each `alarm.cleared` ends the open alarm's condition.
   */
  fromAudit(deviceId: string, records: readonly AuditRecord[]): void {
    for (const record of records) {
      if (record.kind !== "alarm.raised" && record.kind !== "alarm.cleared") continue;
      const read = auditDataOf(record, record.kind);
      if (!read.ok) continue;
      const kind = read.value.alarm;
      if (record.kind === "alarm.raised") {
        this.#safely(() =>
          this.raise({
            deviceId,
            kind,
            source: "device",
            at: record.at,
            auditSeq: record.seq,
            actor: record.actor,
            data: record.data,
          }),
        );
      } else if (record.kind === "alarm.cleared") {
        this.clear(deviceId, kind);
      }
    }
  }

  /** The lock's verified `alarm.cleared` records mark the open alarm's condition as ended. */
  clearFromAudit(deviceId: string, records: readonly AuditRecord[]): void {
    for (const record of records) {
      const cleared = auditDataOf(record, "alarm.cleared");
      if (cleared.ok) this.clear(deviceId, cleared.value.alarm);
    }
  }

  /** Lock time against fleet time, from the `at` of a freshly published state. */
  checkClockDrift(deviceId: string, state: LockState): RaiseOutcome | undefined {
    const driftMs = Date.parse(state.at) - this.#clock();
    if (Math.abs(driftMs) <= this.#checks.clockDriftLimitMs) {
      this.clear(deviceId, "clockDrift");
      return undefined;
    }
    return this.raise({
      deviceId,
      kind: "clockDrift",
      source: "fleet",
      at: this.#now(),
      data: { driftMs, limitMs: this.#checks.clockDriftLimitMs, lockTime: state.at },
    });
  }

  /**
   * Verified audit batches must follow each other without a hole; a batch that starts past
   * the next expected record means records went missing on the way.
   */
  checkAuditContinuity(
    deviceId: string,
    records: readonly AuditRecord[],
  ): RaiseOutcome | undefined {
    let outcome: RaiseOutcome | undefined;
    let head = this.#auditHeads.get(deviceId);
    for (const record of records) {
      if (head !== undefined && record.seq > head + 1) {
        outcome = this.raise({
          deviceId,
          kind: "auditGap",
          source: "fleet",
          at: this.#now(),
          data: { missingFrom: head + 1, missingTo: record.seq - 1 },
        });
      }
      if (head === undefined || record.seq > head) head = record.seq;
    }
    if (head !== undefined) this.#auditHeads.set(deviceId, head);
    return outcome;
  }

  start(): void {
    if (this.#ticker !== undefined) return;
    this.#ticker = setInterval(() => this.#safely(() => void this.escalateDue()), this.#tickMs);
    this.#ticker.unref();
  }

  async close(): Promise<void> {
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#ticker = undefined;
    this.#detach?.();
    this.#detach = undefined;
    for (const timer of this.#offlineTimers.values()) clearTimeout(timer);
    this.#offlineTimers.clear();
    // closing first cuts waiting retries short; what was under way is then recorded
    for (const forwarder of this.#forwarders) await forwarder.close?.();
    await this.flushForwards();
  }
}
