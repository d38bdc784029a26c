/**
 * What the lock console (the person and the mechanics around the lock) and the lock device
 * process (the controller board with the virtual Johnny-Five IO plugin) say to each other.
 * The device runs in a process of its own so that a power cut is a real one: the process is
 * killed, and the next start finds its store as a crash leaves it.
 */
import type { AuditRecord, SelfTestReport } from "@lockfleet/protocol";

export interface DeviceStartOptions {
  dataDir: string;
  profile: string;
  /** Enrol at this fleet with this one-time token when the data directory is not provisioned. */
  fleet?: { url: string; token: string };
  /** The highest audit seq the console has shown; later ones of the start are sent. */
  shownSeq: number;
  /** The world as it stands when the lock powers up. */
  world: { door: boolean; tamper: boolean; jammed: boolean };
  /** Open automatically this often (auto-open.ts); the simulator users are installed on first start. */
  autoOpenMs?: number;
  /** Reach the broker here instead of at the provisioned address. */
  brokerUrl?: string;
}

export type ConsoleToDevice =
  | { op: "start"; options: DeviceStartOptions }
  | { op: "key"; id: number; key: string }
  | { op: "door"; id: number; open: boolean }
  | { op: "tamper"; id: number; active: boolean }
  | { op: "jam"; id: number; jammed: boolean }
  | { op: "selfTest"; id: number }
  | { op: "stop"; id: number };

/** What a person at the lock sees and hears, and what the alarm system gets. */
export interface LockView {
  lcd: [string, string];
  /** Where the bolt mechanically is, and what the lock believes. */
  bolt: string;
  door: string;
  buzzer: boolean;
  /** Silent-alarm relay pulses since this power-up. */
  silentAlarmPulses: number;
  cycle: string;
  /** "online", "offline" or "none" (a bench-top lock without a fleet). */
  fleet: "online" | "offline" | "none";
}

export type DeviceToConsole =
  | {
      op: "started";
      deviceId: string;
      org: string;
      mode: "fleet" | "bench";
      /** Set when this start enrolled the device. */
      enrolled: boolean;
      cleanStart: boolean;
    }
  | { op: "view"; view: LockView }
  | { op: "audit"; records: AuditRecord[] }
  | { op: "selfTest"; report: SelfTestReport }
  | { op: "note"; text: string }
  | { op: "done"; id: number; error?: string }
  | { op: "failed"; message: string };
