/**
 * A storage fault as what it is (SPEC §3 "Fail-secure": storage failure is reported clearly,
 * never silently ignored). When the lock store refuses a write (disk full, I/O error), the core
 * fails secure — bolt thrown, FAULT LOCKED, the running cycle ended — and this tracker keeps
 * what could not be written:
 *
 * - the `storageFault` alarm goes to the fleet from memory at once (the store cannot take its
 *   record), and the alarms of units of work that failed meanwhile go the same way;
 * - writes are retried with a growing interval (1 s doubling to 60 s), and the failure is
 *   logged on the 1st, 2nd, 4th, 8th … attempt only, so a full disk never floods the log;
 * - the first write that succeeds puts the fault on record (`lock.fault`, `alarm.raised
 *   storageFault` at the time it began, the alarms kept meanwhile, `storage.restored`,
 *   `alarm.cleared storageFault`) together with the fail-secure state (no cycle), and the lock
 *   works again.
 *
 * Nothing here is a bolt jam: a drive to where the bolt already is needs no confirmation.
 */
import { ALARM_PRIORITY, type AlarmKind, formatInstant } from "@lockfleet/protocol";
import type { AuditAppend, FailSecureMark } from "../store/lock-store.js";
import { LockStoreError } from "../store/lock-store.js";

export const STORAGE_RETRY_MIN_MS = 1000;
export const STORAGE_RETRY_MAX_MS = 60_000;
/** Alarm records kept in memory while the store refuses writes; the oldest give way. */
const MAX_KEPT_RECORDS = 100;

/** True for a store that failed to write or read (not a refusal by the lock's own rules). */
export function isStorageFailure(error: unknown): error is LockStoreError {
  return error instanceof LockStoreError && error.code === "E_STORAGE";
}

export interface StorageFaultReport {
  state: "failed" | "retryFailed" | "restored";
  /** Write attempts that failed in this fault so far. */
  attempts: number;
  error: string;
  /** Lock time the fault began, epoch ms. */
  since: number;
}

interface Episode {
  since: number;
  error: string;
  attempts: number;
  delayMs: number;
  retryAt: number;
  kept: AuditAppend[];
}

export class StorageFault {
  #episode: Episode | undefined;

  get active(): boolean {
    return this.#episode !== undefined;
  }

  /** Monotonic instant of the next write attempt while the fault lasts. */
  get retryAt(): number | undefined {
    return this.#episode?.retryAt;
  }

  /**
   * A write failed at lock time `at` (monotonic `mono`). Returns the report to log, or
   * undefined when this attempt is not worth a log line (bounded: attempts 1, 2, 4, 8 …).
   */
  failed(error: Error, at: number, mono: number): StorageFaultReport | undefined {
    const message = error.message.slice(0, 300);
    let episode = this.#episode;
    if (episode === undefined) {
      episode = {
        since: at,
        error: message,
        attempts: 0,
        delayMs: STORAGE_RETRY_MIN_MS,
        retryAt: mono + STORAGE_RETRY_MIN_MS,
        kept: [],
      };
      this.#episode = episode;
    } else {
      episode.delayMs = Math.min(STORAGE_RETRY_MAX_MS, episode.delayMs * 2);
      episode.retryAt = mono + episode.delayMs;
    }
    episode.attempts += 1;
    const attempts = episode.attempts;
    if ((attempts & (attempts - 1)) !== 0) return undefined;
    return {
      state: attempts === 1 ? "failed" : "retryFailed",
      attempts,
      error: message,
      since: episode.since,
    };
  }

  /** Keeps an alarm record of a unit of work the store refused, for the record once it writes. */
  keep(record: AuditAppend): void {
    const episode = this.#episode;
    if (episode === undefined) return;
    episode.kept.push({ ...record, data: { ...record.data, whileStorageFailed: true } });
    if (episode.kept.length > MAX_KEPT_RECORDS) episode.kept.shift();
  }

  /** What goes on record with the first write that succeeds. */
  recoveryRecords(at: number): AuditAppend[] {
    const episode = this.#episode;
    if (episode === undefined) return [];
    const detail = { code: "E_STORAGE", error: episode.error };
    return [
      { at: episode.since, kind: "lock.fault", actor: null, data: detail },
      {
        at: episode.since,
        kind: "alarm.raised",
        actor: null,
        data: { alarm: "storageFault", priority: "high", ...detail },
      },
      ...episode.kept,
      {
        at,
        kind: "storage.restored",
        actor: null,
        data: { since: new Date(episode.since).toISOString(), attempts: episode.attempts },
      },
      { at, kind: "alarm.cleared", actor: null, data: { alarm: "storageFault" } },
    ];
  }

  /** The recovery records are on record: the fault is over. */
  restored(): StorageFaultReport | undefined {
    const episode = this.#episode;
    this.#episode = undefined;
    if (episode === undefined) return undefined;
    return {
      state: "restored",
      attempts: episode.attempts,
      error: episode.error,
      since: episode.since,
    };
  }
}

/**
 * An alarm notice for an alarm the store could not take: `auditSeq` names the last record the
 * store holds (the fleet dedups by lock, kind and seq, so a repeat of it is dropped).
 */
export function alarmFromMemory(kind: AlarmKind, headSeq: number, data: Record<string, unknown>) {
  return {
    kind,
    priority: ALARM_PRIORITY[kind],
    auditSeq: Math.max(1, headSeq),
    actor: null,
    data: { ...data, fromMemory: true },
  };
}

/**
 * What a start that finds the fail-secure mark puts on record (the store writes again): the
 * fault as it was, its end, and the storageFault alarm cleared.
 */
export function recordsOfFailSecureMark(mark: FailSecureMark, at: number): AuditAppend[] {
  const since = formatInstant(mark.at);
  return [
    {
      at,
      kind: "lock.fault",
      actor: null,
      data: {
        code: "E_STORAGE",
        error: mark.error.slice(0, 300),
        at: since,
        recordedAfterRestart: true,
      },
    },
    { at, kind: "storage.restored", actor: null, data: { since, afterRestart: true } },
    { at, kind: "alarm.cleared", actor: null, data: { alarm: "storageFault" } },
  ];
}
