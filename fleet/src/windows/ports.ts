/**
 * What the windows, rights and policy parts need from the rest of the fleet, by the names of
 * ARCHITECTURE.md: the DeviceHub (commands, sealed secrets, one-time-code secrets, audit
 * events), the admin log and the clock. The real DeviceHub and AdminLog satisfy these; the
 * parts depend on nothing more.
 */
import type {
  AuditRecord,
  CommandBody,
  CommandResult,
  CommandType,
  SealedSecret,
} from "@lockfleet/protocol";

export interface LockHub {
  sendCommand<T extends CommandType>(
    deviceId: string,
    type: T,
    body: CommandBody<T>,
    options?: { ttlMs?: number; waitMs?: number },
  ): Promise<CommandResult | undefined>;
  sealForDevice(deviceId: string, secret: Uint8Array): SealedSecret;
  otpSecret(deviceId: string): Uint8Array;
  reserveOtpCounters(deviceId: string, count: number): number;
  /** The locks of an organisation, with their container and reachability. */
  devices(orgId: string): LockSummary[];
  device(deviceId: string): LockSummary | undefined;
  on(event: "audit", listener: (deviceId: string, records: AuditRecord[]) => void): unknown;
  on(
    event: "availability",
    listener: (deviceId: string, status: "online" | "offline") => void,
  ): unknown;
  off(event: "audit", listener: (deviceId: string, records: AuditRecord[]) => void): unknown;
  off(
    event: "availability",
    listener: (deviceId: string, status: "online" | "offline") => void,
  ): unknown;
}

export interface LockSummary {
  deviceId: string;
  orgId: string;
  containerId: string;
  status: "active" | "retired";
  availability: "unknown" | "online" | "offline";
}

/** A lock fitted to a container, and whether it is reachable now. */
export interface ContainerLock {
  deviceId: string;
  online: boolean;
}

/** The locks of a container (from the DeviceHub's device list). */
export type LockDirectory = (container: { id: string; orgId: string }) => ContainerLock[];

export interface AdminLogPort {
  append(input: {
    actor: string;
    action: string;
    target?: string | undefined;
    orgId?: string | undefined;
    data?: Record<string, unknown> | undefined;
  }): unknown;
}

/** How long the fleet waits for a lock's answer before recording "sent, not yet confirmed". */
export const COMMAND_WAIT_MS = 5_000;
