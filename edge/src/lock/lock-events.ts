/**
 * What the lock core tells the runtime, after each unit of work is committed: the new audit
 * records, alarms (each with the record that is its evidence), checkpoints, requests of the
 * fleet (re-send audit, self-test), faults and storage-fault reports.
 */
import type { AlarmKind, AuditRecord, Checkpoint } from "@lockfleet/protocol";
import type { StorageFaultReport } from "./storage-fault.js";

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

/** Listeners by event; alarms raised before anyone listened (at boot) wait for the first. */
export class LockEventHub {
  readonly #listeners: Listeners = {
    audit: new Set(),
    alarm: new Set(),
    checkpoint: new Set(),
    auditResend: new Set(),
    selfTestRequested: new Set(),
    fault: new Set(),
    storageFault: new Set(),
  };
  #undeliveredAlarms: AlarmNotice[] = [];

  on<K extends keyof LockCoreEvents>(event: K, listener: LockCoreEvents[K]): () => void {
    this.#listeners[event].add(listener);
    if (event === "alarm") {
      for (const alarm of this.#undeliveredAlarms.splice(0))
        (listener as LockCoreEvents["alarm"])(alarm);
    }
    return () => this.#listeners[event].delete(listener);
  }

  emit<K extends keyof LockCoreEvents>(event: K, ...args: Parameters<LockCoreEvents[K]>): void {
    if (event === "alarm" && this.#listeners.alarm.size === 0) {
      this.#undeliveredAlarms.push(args[0] as AlarmNotice);
      return;
    }
    for (const listener of this.#listeners[event])
      (listener as (...a: Parameters<LockCoreEvents[K]>) => void)(...args);
  }
}
