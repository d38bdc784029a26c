/**
 * The fleet's alarm about its own data directory. Storing an alarm is itself a write, so while
 * the directory refuses writes (disk full, read-only) the alarm goes out only through the
 * forwarders that need no database (webhook, syslog) and the log: once when the refusal
 * begins, once when writes succeed again. When space returns the episode is also offered to
 * `record` so the alarm table keeps it as raised-and-cleared.
 */
import { randomUUID } from "node:crypto";
import type { FleetAlarm } from "../alarms/alarm.js";
import type { AlarmForwarder, ForwardedEvent } from "../alarms/forwarding/forwarder.js";
import { dataDirWriteProblem } from "./writable.js";

export interface StorageWatchOptions {
  dataDir: string;
  forwarders: AlarmForwarder[];
  log: {
    error(object: object, message: string): void;
    info(object: object, message: string): void;
  };
  clock: () => number;
  /** How often the directory is probed without any failed write to prompt it. */
  intervalMs?: number;
  /** Stores the ended episode (raised and cleared) once the directory takes writes again. */
  record?: (alarm: FleetAlarm) => void;
}

/** Errors that mean the directory refuses writes rather than one write being wrong. */
const REFUSALS = /ENOSPC|EROFS|SQLITE_FULL|SQLITE_READONLY|SQLITE_IOERR|disk is full|readonly/i;

export class StorageWatch {
  #episode: FleetAlarm | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #pending = new Set<Promise<void>>();

  constructor(private readonly options: StorageWatchOptions) {}

  /** The alarm of the current episode, or undefined while the directory takes writes. */
  get current(): FleetAlarm | undefined {
    return this.#episode;
  }

  start(): void {
    this.#timer = setInterval(() => this.check(), this.options.intervalMs ?? 2000);
    this.#timer.unref();
  }

  /** Probes the data directory now. */
  check(): void {
    this.observe(dataDirWriteProblem(this.options.dataDir));
  }

  /** A write of the fleet failed: when for lack of space or a read-only disk, probe at once. */
  failedWrite(error: unknown): void {
    const text = `${(error as { code?: unknown })?.code ?? ""} ${String(error)}`;
    if (REFUSALS.test(text)) this.check();
  }

  /** Edge-triggered: a new refusal raises, the first success after one clears. */
  observe(problem: string | undefined): void {
    const now = new Date(this.options.clock()).toISOString();
    if (problem !== undefined && this.#episode === undefined) {
      this.#episode = fleetStorageAlarm(now, problem);
      this.options.log.error({ alarm: "fleetStorage" }, problem);
      this.#forward("raised", this.#episode);
    } else if (problem === undefined && this.#episode !== undefined) {
      const ended: FleetAlarm = { ...this.#episode, clearedAt: now, lastSeenAt: now };
      this.#episode = undefined;
      this.options.log.info({ alarm: "fleetStorage" }, "the data directory takes writes again");
      this.#forward("cleared", ended);
      try {
        this.options.record?.(ended);
      } catch (error) {
        this.options.log.error({ alarm: "fleetStorage" }, `not stored: ${String(error)}`);
      }
    }
  }

  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await Promise.allSettled([...this.#pending]);
  }

  #forward(event: ForwardedEvent, alarm: FleetAlarm): void {
    for (const forwarder of this.options.forwarders) {
      const sent = forwarder
        .forward({ event, alarm, sentAt: new Date(this.options.clock()).toISOString() })
        .catch((error: unknown) => {
          const reason = error instanceof Error ? error.message : String(error);
          this.options.log.error({ alarm: "fleetStorage", target: forwarder.name }, reason);
        })
        .finally(() => this.#pending.delete(sent));
      this.#pending.add(sent);
    }
  }
}

function fleetStorageAlarm(at: string, problem: string): FleetAlarm {
  return {
    id: randomUUID(),
    orgId: "",
    deviceId: "",
    containerId: null,
    kind: "fleetStorage",
    priority: "critical",
    source: "fleet",
    status: "open",
    raisedAt: at,
    lastSeenAt: at,
    occurrences: 1,
    auditSeq: null,
    actor: null,
    data: { error: problem },
    clearedAt: null,
    acknowledgedAt: null,
    acknowledgedBy: null,
    ackComment: null,
    escalationLevel: 0,
    escalatedAt: null,
    nextEscalationAt: null,
  };
}
