/** What the fleet tells outside systems about an alarm, and the shape of a forwarder. */
import type { FleetAlarm } from "../alarm.js";

/** `cleared`: only for alarms the fleet raises about itself (fleetStorage) when they end. */
export type ForwardedEvent = "raised" | "escalated" | "acknowledged" | "cleared";

export interface AlarmNotice {
  event: ForwardedEvent;
  alarm: FleetAlarm;
  /** When the fleet sent this notice. */
  sentAt: string;
}

export interface AlarmForwarder {
  /** Names the target in the alarm's history: `webhook https://…`, `syslog tcp 10.0.0.5:6514`. */
  readonly name: string;
  /** Resolves once the target took the notice; rejects with `E_FORWARD_*` after giving up. */
  forward(notice: AlarmNotice): Promise<void>;
  close?(): Promise<void>;
}
