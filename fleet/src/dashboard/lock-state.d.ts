/** Types of lock-state.js (plain ES module served to the browser as it is). */
import type { LockState } from "@lockfleet/protocol";

export type LockStatusName =
  | "locked"
  | "delay"
  | "window"
  | "open"
  | "alarm"
  | "offline"
  | "unknown";

export interface DashboardLock {
  deviceId?: string;
  availability?: "unknown" | "online" | "offline";
  /** The broker's last will, not confirmed by the lock's silence: a hint, not evidence. */
  availabilityHint?: { status: "offline"; at: string } | null;
  state?: LockState | null;
}

export function lockStatus(
  lock: DashboardLock | null | undefined,
  openAlarms?: number,
): { state: LockStatusName; label: string; endsAt?: string };

export function countdown(endsAt: string | undefined, now?: number): string;
