/**
 * DeviceHub: everything the fleet says to and hears from its locks (SPEC §4, §5), as one
 * facade over its jobs, each in its own file:
 *
 * - broker-link.ts: broker start-up (embedded or external) and the fleet's MQTT client;
 * - message-intake.ts: every message from a lock, admitted and routed by kind;
 * - enrolment.ts: enrolment tokens, enrolment, lock credentials and per-lock secrets;
 * - command-dispatch.ts: signed commands with a per-lock sequence, group commit, results;
 * - presence.ts: online/offline, the offline alarm, what a lock gets on connect;
 * - clock-sync.ts: drift measurement, the clockDrift alarm, signed time sync;
 * - audit-intake.ts: audit records and checkpoints, acks after durable storage, gaps;
 * - key-rotation.ts: the fleet key ring rotation that never strands a lock;
 * - write-behind.ts: batched writes of presence, results, trusted keys, security events;
 * - hub-context.ts: what they share (live locks, settings, refusals and fleet alarms).
 *
 * Every message from a lock is refused unread when too large, validated against its protocol
 * schema, and checked against the lock it claims to come from; each refusal is stored as a
 * security event and emitted as "rejected".
 */
import { EventEmitter } from "node:events";
import {
  type Alarm,
  type AlarmKind,
  type AuditRecord,
  type CommandBody,
  type CommandResult,
  type CommandType,
  type EnrolmentRequest,
  type EnrolmentResponse,
  type LockState,
  MAX_DEVICE_MESSAGE_BYTES,
  type SealedSecret,
} from "@lockfleet/protocol";
import type { FastifyBaseLogger } from "fastify";
import type { BrokerLimits } from "../broker/index.js";
import type { BrokerTlsOptions } from "../broker/tls.js";
import type { SecretBox } from "../secrets.js";
import type { FleetStore } from "../storage/fleet-store.js";
import { AuditIntake } from "./audit-intake.js";
import { type HubLink, startBrokerLink } from "./broker-link.js";
import { ClockSync } from "./clock-sync.js";
import { CommandDispatch } from "./command-dispatch.js";
import type { CommandRow, DeviceRow, SecurityEvent } from "./device-repository.js";
import { Enrolment } from "./enrolment.js";
import { HubContext } from "./hub-context.js";
import { type FleetKeyRotation, KeyRotation } from "./key-rotation.js";
import { MessageIntake } from "./message-intake.js";
import { Presence } from "./presence.js";

export type { FleetKeyRotation };

export interface DeviceHubOptions {
  store: FleetStore;
  dataDir: string;
  /**
   * Embedded broker on `port` (0 picks a free one), or an external broker by `url`
   * (`deviceUrl` is what locks are told, when they reach it by another address). On an
   * external Mosquitto, `dynsecUrl` (its dynamic-security admin account) lets the fleet create
   * each lock's broker account and ACL itself.
   *
   * The embedded broker serves mqtts:// with `tls` (or, with "self-signed", a certificate it
   * makes once in `<dataDir>/mqtt-tls`), or plain MQTT only when `plain` says so (demo, tests);
   * `limits` tunes its connection limits. An external broker's `ca` is the CA
   * certificate the fleet and its locks trust for it (handed to locks and pinned at enrolment).
   */
  mqtt:
    | ({ port?: number; host?: string; deviceUrl?: string; limits?: Partial<BrokerLimits> } & (
        | { tls: BrokerTlsOptions | "self-signed"; plain?: false }
        | { plain: true; tls?: undefined }
      ))
    | { url: string; deviceUrl?: string; dynsecUrl?: string; ca?: string };
  clock?: () => number;
  log: FastifyBaseLogger;
  /** A lock that stays offline this long raises a lockOffline alarm (default 2 min). */
  offlineGraceMs?: number;
  /** Lock time further than this from fleet time raises clockDrift and a time sync (30 s). */
  clockDriftToleranceMs?: number;
  /** Signed time sync to every online lock this often (default 6 h; 0 turns it off). */
  timeSyncIntervalMs?: number;
  /** Default validity of a command envelope (5 min). */
  commandTtlMs?: number;
  /**
   * When a lock's state claims audit records the fleet has not stored, they are requested
   * after this long (10 s), unless they arrived meanwhile.
   */
  auditHeadCheckMs?: number;
  /**
   * Audit batches arriving within this long of the first one, from any locks, are stored in
   * one transaction (one fsync) and acknowledged after it commits (2 ms).
   */
  auditGroupCommitMs?: number;
  /** How long a key rotation waits for each lock to confirm the new key (10 s). */
  keyInstallWaitMs?: number;
  /** Key-encryption for secrets at rest; default from LOCKFLEET_KEK or `<dataDir>/kek`. */
  secrets?: SecretBox;
  /**
   * After the broker's last will says a lock went offline (a hint only: anyone who may publish
   * on the lock's topic can send it), the fleet asks the lock for a signed answer and takes it
   * as offline when none comes within this long (10 s).
   */
  presenceProbeWaitMs?: number;
  /**
   * A message from a lock delivered again this soon after the fleet accepted it counts as a
   * QoS 1 redelivery (recorded, no alarm); later, as a replay (alarmed). Default 2 min.
   */
  redeliveryWindowMs?: number;
  /** Benchmark baseline only: aedes' flat retained store instead of the indexed one. */
  unindexedRetainedStore?: boolean;
}

export interface DeviceSummary {
  deviceId: string;
  orgId: string;
  containerId: string;
  hardwareProfile: string;
  firmware: string;
  enrolledAt: string;
  status: "active" | "retired";
  availability: "unknown" | "online" | "offline";
  availabilityAt: string | null;
  /**
   * The broker's last will, when it says "offline" and nothing the lock signed has confirmed
   * it yet: shown as a hint, never taken as evidence.
   */
  availabilityHint: { status: "offline"; at: string } | null;
  state: LockState | null;
  auditHeadSeq: number;
  clockDriftMs: number | null;
  trustedKeyIds: string[];
}

export interface StoredCommand {
  id: string;
  deviceId: string;
  seq: number;
  type: string;
  keyId: string;
  issuedAt: string;
  expiresAt: string;
  status: "sent" | "ok" | "error";
  result: CommandResult | null;
}

export interface DeviceHubEventMap {
  audit: [deviceId: string, records: AuditRecord[]];
  alarm: [deviceId: string, alarm: Alarm];
  state: [deviceId: string, state: LockState];
  availability: [deviceId: string, status: "online" | "offline"];
  result: [deviceId: string, result: CommandResult];
  rejected: [deviceId: string | undefined, reason: string];
  /** A condition the fleet raised an alarm for is over (clockDrift: the lock's clock is right again). */
  alarmCleared: [deviceId: string, kind: AlarmKind];
  /** A write of the hub failed (audit ingest, presence, results): the storage watch probes. */
  writeFailed: [error: unknown];
}

/** Larger device messages are refused before they are parsed (an audit batch of 500 fits). */
export { MAX_DEVICE_MESSAGE_BYTES };

export class DeviceHub extends EventEmitter<DeviceHubEventMap> {
  readonly brokerUrl: string;
  readonly #ctx: HubContext;
  readonly #dispatch: CommandDispatch;
  readonly #clockSync: ClockSync;
  readonly #keyRotation: KeyRotation;
  readonly #presence: Presence;
  readonly #audit: AuditIntake;
  readonly #intake: MessageIntake;
  readonly #enrolment: Enrolment;

  private constructor(options: DeviceHubOptions, brokerUrl: string) {
    super();
    this.brokerUrl = brokerUrl;
    this.#ctx = new HubContext(options, this);
    this.#dispatch = new CommandDispatch(this.#ctx);
    this.#clockSync = new ClockSync(this.#ctx, this.#dispatch);
    this.#keyRotation = new KeyRotation(this.#ctx, this.#dispatch);
    this.#presence = new Presence(this.#ctx, this.#dispatch, this.#clockSync, this.#keyRotation);
    this.#audit = new AuditIntake(this.#ctx, this.#dispatch);
    this.#intake = new MessageIntake(
      this.#ctx,
      this.#presence,
      this.#clockSync,
      this.#audit,
      this.#dispatch,
      this.#keyRotation,
    );
    this.#enrolment = new Enrolment(this.#ctx, brokerUrl);
  }

  /** SHA-256 pin (base64url) of the CA locks trust for the broker; absent on plain MQTT. */
  get brokerPin(): string | undefined {
    return this.#ctx.lockTrust?.pin;
  }

  static async start(options: DeviceHubOptions): Promise<DeviceHub> {
    return startBrokerLink(options, (brokerUrl) => {
      const hub = new DeviceHub(options, brokerUrl);
      return { hub, link: hub.#link() };
    });
  }

  #link(): HubLink {
    return {
      ctx: this.#ctx,
      authenticate: (username, password, clientId) =>
        this.#enrolment.authenticate(username, password, clientId),
      onBrokerRejection: (rejection) => this.#ctx.onBrokerRejection(rejection),
      onDeviceDisconnected: (identity) => this.#presence.onDeviceDisconnected(identity),
      onMessage: (topic, payload, packet) => this.#intake.onMessage(topic, payload, packet),
      syncAllClocks: () => this.#clockSync.syncAllClocks(),
      setAvailability: (device, status) => this.#presence.setAvailability(device, status),
      close: () => this.close(),
    };
  }

  // --- enrolment ---

  createEnrolmentToken(input: Parameters<Enrolment["createEnrolmentToken"]>[0]): {
    token: string;
    expiresAt: string;
  } {
    return this.#enrolment.createEnrolmentToken(input);
  }

  /**
   * Enrols a lock: the claim must be signed by the key it names (proof of possession), the
   * token unused and unexpired (enrolment.ts).
   */
  enrol(request: EnrolmentRequest): Promise<EnrolmentResponse> {
    return this.#enrolment.enrol(request);
  }

  // --- secrets for one lock ---

  sealForDevice(deviceId: string, secret: Uint8Array): SealedSecret {
    return this.#enrolment.sealForDevice(deviceId, secret);
  }

  /** The per-lock one-time-code secret, opened in memory only; the caller wipes it after use. */
  otpSecret(deviceId: string): Uint8Array {
    return this.#enrolment.otpSecret(deviceId);
  }

  reserveOtpCounters(deviceId: string, count: number): number {
    return this.#enrolment.reserveOtpCounters(deviceId, count);
  }

  // --- reading ---

  lockState(deviceId: string): LockState | undefined {
    return this.#ctx.devices.get(deviceId)?.state;
  }

  devices(orgId: string): DeviceSummary[] {
    return this.#ctx.repository.devicesOfOrg(orgId).map((row) => this.#summary(row));
  }

  device(deviceId: string): DeviceSummary | undefined {
    const row = this.#ctx.repository.device(deviceId);
    return row === undefined ? undefined : this.#summary(row);
  }

  auditRecords(deviceId: string, afterSeq: number, limit: number): AuditRecord[] {
    return this.#ctx.repository.auditPage(deviceId, afterSeq, limit);
  }

  commands(deviceId: string, limit: number): StoredCommand[] {
    this.#ctx.writes.flush();
    return this.#ctx.repository.commandsOf(deviceId, limit).map(toStoredCommand);
  }

  command(commandId: string): StoredCommand | undefined {
    this.#ctx.writes.flush();
    const row = this.#ctx.repository.command(commandId);
    return row === undefined ? undefined : toStoredCommand(row);
  }

  securityEvents(deviceId?: string): SecurityEvent[] {
    this.#ctx.writes.flush();
    return this.#ctx.repository.securityEvents(deviceId);
  }

  fleetPublicKeys(): Array<{ keyId: string; publicKey: string }> {
    return this.#ctx.keys
      .published()
      .map((key) => ({ keyId: key.keyId, publicKey: key.publicKey }));
  }

  #summary(row: DeviceRow): DeviceSummary {
    const live = this.#ctx.devices.get(row.device_id);
    return {
      deviceId: row.device_id,
      orgId: row.org_id,
      containerId: row.container_id,
      hardwareProfile: row.hardware_profile,
      firmware: row.firmware,
      enrolledAt: row.enrolled_at,
      status: row.status,
      availability: live?.availability ?? row.availability,
      availabilityAt: live?.availabilityAt ?? row.availability_at,
      availabilityHint: live?.availabilityHint ?? null,
      state: live?.state ?? null,
      auditHeadSeq: row.audit_head_seq,
      clockDriftMs: live?.clockDriftMs ?? row.clock_drift_ms,
      trustedKeyIds: live?.trustedKeyIds ?? (JSON.parse(row.trusted_key_ids) as string[]),
    };
  }

  // --- commands ---

  /**
   * Signs and sends a command: the next per-lock seq is persisted before the envelope leaves,
   * the envelope is stored in device_commands, and with `waitMs` the lock's result is awaited
   * (undefined when it does not answer in time).
   */
  sendCommand<T extends CommandType>(
    deviceId: string,
    type: T,
    body: CommandBody<T>,
    options: { ttlMs?: number; waitMs?: number } = {},
  ): Promise<CommandResult | undefined> {
    return this.#dispatch.sendCommand(deviceId, type, body, options);
  }

  /** As sendCommand, also naming the command (for callers that follow it up later). */
  issueCommand<T extends CommandType>(
    deviceId: string,
    type: T,
    body: CommandBody<T>,
    options: { ttlMs?: number; waitMs?: number } = {},
  ): Promise<{ commandId: string; result: CommandResult | undefined }> {
    return this.#dispatch.issueCommand(deviceId, type, body, options);
  }

  // --- fleet keys ---

  /**
   * Creates a new fleet signing key, installs it on every active lock and then signs with it
   * only (key-rotation.ts); the answer counts confirmed and pending locks per organisation.
   */
  rotateFleetKey(): Promise<FleetKeyRotation> {
    return this.#keyRotation.rotateFleetKey();
  }

  // --- shutdown ---

  async close(): Promise<void> {
    const ctx = this.#ctx;
    if (ctx.closed) return;
    // Audit batches already verified are stored and acknowledged before the link goes.
    if (ctx.store.open) this.#audit.commit();
    ctx.closed = true;
    if (ctx.timeSyncTimer !== undefined) clearInterval(ctx.timeSyncTimer);
    for (const device of ctx.devices.values()) {
      if (device.offlineTimer !== undefined) clearTimeout(device.offlineTimer);
      if (device.headCheckTimer !== undefined) clearTimeout(device.headCheckTimer);
      if (device.connectTimer !== undefined) clearTimeout(device.connectTimer);
    }
    this.#dispatch.close();
    if (ctx.client !== undefined) await ctx.client.endAsync(true).catch(() => undefined);
    if (ctx.accounts !== undefined) await ctx.accounts.close();
    if (ctx.broker !== undefined) await ctx.broker.close();
    try {
      if (ctx.store.open) ctx.writes.flush();
    } catch {
      // the database went away with the app; presence is only a cache of what locks report
    }
  }
}

function toStoredCommand(row: CommandRow): StoredCommand {
  return {
    id: row.id,
    deviceId: row.device_id,
    seq: row.seq,
    type: row.type,
    keyId: row.key_id,
    issuedAt: row.issued_at,
    expiresAt: row.expires_at,
    status: row.status,
    result: row.result === null ? null : (JSON.parse(row.result) as CommandResult),
  };
}
