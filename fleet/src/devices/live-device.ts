/**
 * What the hub keeps in memory per lock (the database row is the durable copy), and how it is
 * read from that row.
 */
import { fromBase64url, LockState, validate } from "@lockfleet/protocol";
import type { DeviceRow } from "./device-repository.js";

export interface LiveDevice {
  deviceId: string;
  orgId: string;
  containerId: string;
  status: "active" | "retired";
  signingPublicKey: Uint8Array;
  encryptionPublicKey: Uint8Array;
  passwordHash: Buffer;
  trustedKeyIds: string[];
  /** Highest envelope seq issued to this lock (persisted with each command). */
  commandSeq: number;
  availability: "unknown" | "online" | "offline";
  availabilityAt: string | null;
  state: LockState | undefined;
  clockDriftMs: number | null;
  offlineTimer: NodeJS.Timeout | undefined;
  headCheckTimer: NodeJS.Timeout | undefined;
  connectTimer: NodeJS.Timeout | undefined;
  offlineAlarmRaised: boolean;
  driftAlarmRaised: boolean;
  /** No in-tolerance measurement since start: a clockDrift from before may still be open. */
  driftClearPending: boolean;
  /** Fleet time of the last drift measured from a live state (0: none since start). */
  driftMeasuredAt: number;
  /**
   * The embedded broker's generation of the connection the drift was measured on (undefined:
   * an external broker, or a message relayed after its connection had ended).
   */
  driftConnection: number | undefined;
  /** The on-connect time sync waits for a drift measured on this connection. */
  syncOnState: boolean;
  /** Fleet time the lock last refused a backward sync beyond its daily bound. */
  backwardRefusedAt: number;
  gapOpen: boolean;
  lastGapRequest: { key: string; at: number } | undefined;
  lastTimeSyncAt: number;
  /** Highest audit head the lock itself reported (signed state). */
  reportedHead: number;
  regressionAlarmRaised: boolean;
  availabilityHint: { status: "offline"; at: string } | null;
  probing: boolean;
}

export type PresenceUpdate =
  | { deviceId: string; availability: "online" | "offline"; at: string }
  | { deviceId: string; stateJson: string; at: string; clockDriftMs: number | null };

export function toLive(row: DeviceRow): LiveDevice {
  let state: LockState | undefined;
  if (row.state !== null) {
    try {
      const parsed: unknown = JSON.parse(row.state);
      const checked = validate(LockState, parsed);
      state = checked.ok ? checked.value : undefined;
    } catch {
      state = undefined; // a state the current schema cannot read is simply not shown
    }
  }
  return {
    deviceId: row.device_id,
    orgId: row.org_id,
    containerId: row.container_id,
    status: row.status,
    signingPublicKey: fromBase64url(row.signing_public_key),
    encryptionPublicKey: fromBase64url(row.encryption_public_key),
    passwordHash: Buffer.from(row.mqtt_password_hash, "hex"),
    trustedKeyIds: JSON.parse(row.trusted_key_ids) as string[],
    commandSeq: row.command_seq,
    availability: row.availability,
    availabilityAt: row.availability_at,
    state,
    clockDriftMs: row.clock_drift_ms,
    offlineTimer: undefined,
    headCheckTimer: undefined,
    connectTimer: undefined,
    offlineAlarmRaised: false,
    driftAlarmRaised: false,
    driftClearPending: true,
    driftMeasuredAt: 0,
    driftConnection: undefined,
    syncOnState: false,
    backwardRefusedAt: 0,
    gapOpen: false,
    lastGapRequest: undefined,
    lastTimeSyncAt: 0,
    reportedHead: state?.auditHead.seq ?? 0,
    regressionAlarmRaised: false,
    availabilityHint: null,
    probing: false,
  };
}
