/**
 * DeviceHub: everything the fleet says to and hears from its locks (SPEC §4, §5).
 *
 * Enrolment and device credentials, signed commands with a per-lock sequence, audit ingest
 * (hash chain, checkpoints, dedup, gap requests, acks after durable storage), the lock state
 * cache, presence with an offline alarm, clock drift and signed time sync, and the fleet key
 * ring with a rotation that never leaves a provisioned lock unable to verify commands.
 *
 * The hub speaks MQTT as a client: to the embedded broker it starts itself (default), or to an
 * external one by URL. Every message from a lock is refused unread when too large, validated
 * against its protocol schema, and checked against the lock it claims to come from; each
 * refusal is stored as a security event and emitted as "rejected".
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { EventEmitter } from "node:events";
import {
  ALARM_PRIORITY,
  type Alarm,
  type AlarmKind,
  type AuditRecord,
  type Checkpoint,
  COMMAND_BODIES,
  type CommandBody,
  type CommandResult,
  type CommandType,
  canonicalJson,
  DEFAULT_LOCK_POLICY,
  EnrolmentRequest,
  type EnrolmentResponse,
  ed25519,
  encodeEnvelope,
  fleetSubscription,
  formatInstant,
  fromBase64url,
  isCommandType,
  isTopicSegment,
  LockState,
  MAX_DEVICE_MESSAGE_BYTES,
  type OpenedDeviceMessage,
  type ParsedTopic,
  parseInstant,
  parseTopic,
  pinnedEnrolmentToken,
  type SealedSecret,
  sealSecret,
  sha256Hex,
  signEnvelope,
  topics,
  validate,
} from "@lockfleet/protocol";
import type { Database } from "better-sqlite3";
import type { FastifyBaseLogger } from "fastify";
import { connectAsync, type IPublishPacket, type MqttClient } from "mqtt";
import type {
  BrokerLimits,
  BrokerRejection,
  DeviceIdentity,
  EmbeddedBroker,
} from "../broker/index.js";
import { startBroker } from "../broker/index.js";
import { type BrokerAccounts, MosquittoDynsec } from "../broker/mosquitto-dynsec.js";
import {
  type BrokerTlsOptions,
  embeddedBrokerTls,
  externalLockTrust,
  type LockTrust,
} from "../broker/tls.js";
import { FleetError } from "../errors.js";
import { newDeviceId, newId } from "../ids.js";
import { SecretBox } from "../secrets.js";
import { type AuditHead, judgeCheckpoint, planAuditIngest } from "./audit-ingest.js";
import { type Admission, DeviceMessageGate } from "./device-messages.js";
import {
  type CommandRow,
  DeviceRepository,
  type DeviceRow,
  type SecurityEvent,
} from "./device-repository.js";
import { FleetKeyRing, MAX_TRUSTED_FLEET_KEYS } from "./fleet-keys.js";

export interface DeviceHubOptions {
  db: Database;
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
}

/** Larger device messages are refused before they are parsed (an audit batch of 500 fits). */
export { MAX_DEVICE_MESSAGE_BYTES };

/** Acks, gap requests and time sync go on `sync`; every other command on `cmd`. */
const SYNC_COMMANDS: ReadonlySet<CommandType> = new Set([
  "audit.ack",
  "audit.gapRequest",
  "time.sync",
]);

const DEFAULTS = {
  offlineGraceMs: 120_000,
  clockDriftToleranceMs: 30_000,
  timeSyncIntervalMs: 6 * 60 * 60_000,
  commandTtlMs: 5 * 60_000,
  keyInstallWaitMs: 10_000,
  auditHeadCheckMs: 10_000,
  presenceProbeWaitMs: 10_000,
};
/** A source (lock and topic) of refused messages raises forgedMessage at most this often. */
const FORGERY_ALARM_INTERVAL_MS = 60 * 60_000;
const TIME_SYNC_TTL_MS = 60_000;
/** Commands that set the lock's clock: their validity is stated in that clock (#inLockClock). */
const LOCK_CLOCK_COMMANDS: ReadonlySet<CommandType> = new Set(["time.sync", "time.set"]);
const TIME_SYNC_MIN_INTERVAL_MS = 60_000;
/** A drift measured this shortly before a connect still describes the lock's clock. */
const FRESH_DRIFT_MS = 5_000;
const GAP_RETRY_MS = 10_000;
const PRESENCE_FLUSH_MS = 100;
/** Commands issued within this window share one commit (a storm issues thousands). */
const OUTBOX_COALESCE_MS = 20;
/** Until the window since the last commit has passed; nothing to wait for after a quiet spell. */
function outboxWait(lastFlush: number): number {
  return Math.max(0, lastFlush + OUTBOX_COALESCE_MS - performance.now());
}
/** Above this many locks coming online within a second, the hub is in a reconnect storm. */
const STORM_CONNECTS_PER_SECOND = 100;
/** In a storm, each lock's on-connect time sync is sent at a random point within this. */
const STORM_SPREAD_MS = 30_000;
const MIN_TOKEN_TTL_MS = 1_000;
const MAX_TOKEN_TTL_MS = 30 * 24 * 60 * 60_000;

/** What the hub keeps in memory per lock; the database row is the durable copy. */
/** What a fleet key rotation did: in all, and per organisation owning locks. */
export interface FleetKeyRotation {
  keyId: string;
  confirmed: number;
  pending: number;
  byOrg: ReadonlyMap<string, { confirmed: number; pending: number }>;
}

interface LiveDevice {
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

type PresenceUpdate =
  | { deviceId: string; availability: "online" | "offline"; at: string }
  | { deviceId: string; stateJson: string; at: string; clockDriftMs: number | null };

interface OutgoingCommand {
  row: Omit<CommandRow, "status" | "result" | "answered_at">;
  topic: string;
  payload: string;
  done: { resolve: () => void; reject: (error: unknown) => void };
}

interface ResultWaiter {
  resolve: (result: CommandResult | undefined) => void;
  timer: NodeJS.Timeout;
}

function sha256(bytes: Uint8Array | string): Buffer {
  return createHash("sha256").update(bytes).digest();
}

function toLive(row: DeviceRow): LiveDevice {
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

/**
 * The lock's time as a result shows it: `at` is the lock time when the command arrived, so an
 * accepted time command's jump is added (else the drift would stay the one it corrected).
 */
function lockTimeAfter(result: CommandResult, clockCommand: boolean): number {
  const at = parseInstant(result.at);
  return clockCommand && result.status === "ok" ? at + (Number(result.data?.jumpMs) || 0) : at;
}

export class DeviceHub extends EventEmitter<DeviceHubEventMap> {
  readonly brokerUrl: string;
  readonly #repository: DeviceRepository;
  readonly #keys: FleetKeyRing;
  readonly #secrets: SecretBox;
  readonly #clock: () => number;
  readonly #log: FastifyBaseLogger;
  readonly #settings: typeof DEFAULTS;
  readonly #devices = new Map<string, LiveDevice>();
  readonly #orgs = new Set<string>();
  /** How many active locks trust each fleet key: a key nobody needs any more is retired. */
  readonly #trustCounts = new Map<string, number>();
  readonly #gate: DeviceMessageGate;
  /** When each source of refused messages (lock and topic) last raised forgedMessage. */
  readonly #forgeryAlarms = new Map<string, number>();
  readonly #waiters = new Map<string, ResultWaiter>();
  #outbox: OutgoingCommand[] = [];
  #lastOutboxFlush = Number.NEGATIVE_INFINITY;
  #connectWindow = { start: 0, count: 0 };
  #presenceQueue: PresenceUpdate[] = [];
  #resultQueue: Array<{
    deviceId: string;
    commandId: string;
    status: "ok" | "error";
    resultJson: string;
    at: string;
  }> = [];
  #trustQueue = new Map<string, string[]>();
  #securityQueue: SecurityEvent[] = [];
  /** Commands answered but not yet written: a second answer is a replay all the same. */
  readonly #answeredPending = new Set<string>();
  #presenceTimer: NodeJS.Timeout | undefined;
  #timeSyncTimer: NodeJS.Timeout | undefined;
  #broker: EmbeddedBroker | undefined;
  /** Broker accounts of locks on an external broker, when the fleet manages them. */
  #accounts: BrokerAccounts | undefined;
  /** The CA locks trust for the broker and its pin, when they reach it over TLS. */
  #lockTrust: LockTrust | undefined;
  #client: MqttClient | undefined;
  #closed = false;

  private constructor(options: DeviceHubOptions, brokerUrl: string) {
    super();
    this.brokerUrl = brokerUrl;
    this.#clock = options.clock ?? Date.now;
    this.#log = options.log;
    this.#settings = {
      offlineGraceMs: options.offlineGraceMs ?? DEFAULTS.offlineGraceMs,
      clockDriftToleranceMs: options.clockDriftToleranceMs ?? DEFAULTS.clockDriftToleranceMs,
      timeSyncIntervalMs: options.timeSyncIntervalMs ?? DEFAULTS.timeSyncIntervalMs,
      commandTtlMs: options.commandTtlMs ?? DEFAULTS.commandTtlMs,
      keyInstallWaitMs: options.keyInstallWaitMs ?? DEFAULTS.keyInstallWaitMs,
      auditHeadCheckMs: options.auditHeadCheckMs ?? DEFAULTS.auditHeadCheckMs,
      presenceProbeWaitMs: options.presenceProbeWaitMs ?? DEFAULTS.presenceProbeWaitMs,
    };
    this.#repository = new DeviceRepository(options.db);
    this.#gate = new DeviceMessageGate(this.#repository, options.redeliveryWindowMs);
    this.#secrets = options.secrets ?? SecretBox.load(options.dataDir);
    this.#keys = new FleetKeyRing(this.#repository, this.#secrets, this.#clock());
    for (const row of this.#repository.activeDevices()) {
      this.#track(toLive(row));
    }
  }

  /** SHA-256 pin (base64url) of the CA locks trust for the broker; absent on plain MQTT. */
  get brokerPin(): string | undefined {
    return this.#lockTrust?.pin;
  }

  static async start(options: DeviceHubOptions): Promise<DeviceHub> {
    if ("url" in options.mqtt) {
      const external = options.mqtt;
      const deviceUrl = external.deviceUrl ?? withoutCredentials(external.url);
      const trust = external.ca === undefined ? undefined : externalLockTrust(external.ca);
      const hub = new DeviceHub(options, deviceUrl);
      hub.#lockTrust = trust;
      try {
        if (external.dynsecUrl !== undefined) {
          hub.#accounts = await MosquittoDynsec.connect(
            external.dynsecUrl,
            trust === undefined ? {} : { ca: trust.caPem },
          );
        }
        await hub.#connect(external.url, {
          clientId: `lockfleet-fleet-${randomBytes(6).toString("hex")}`,
          ...(trust === undefined ? {} : { ca: trust.caPem }),
        });
      } catch (error) {
        await hub.close();
        throw error;
      }
      return hub;
    }
    const embedded = options.mqtt;
    const { tls, trust } = embeddedBrokerTls(embedded, options.dataDir);
    // The broker calls back into the hub for credentials, so the hub exists first.
    const pending: { hub?: DeviceHub } = {};
    const broker = await startBroker({
      port: embedded.port ?? 0,
      ...(embedded.host === undefined ? {} : { host: embedded.host }),
      ...(tls === undefined ? {} : { tls }),
      ...(embedded.limits === undefined ? {} : { limits: embedded.limits }),
      ...(options.unindexedRetainedStore ? { unindexedRetainedStore: true } : {}),
      authenticate: (username, password, clientId) => {
        if (pending.hub === undefined)
          return { reason: "E_MQTT_AUTH: the fleet is still starting" };
        return pending.hub.#authenticate(username, password, clientId);
      },
      onRejected: (rejection) => {
        if (pending.hub !== undefined) pending.hub.#onBrokerRejection(rejection);
      },
      onDeviceDisconnected: (identity) => {
        if (pending.hub !== undefined) pending.hub.#onDeviceDisconnected(identity);
      },
    });
    let hub: DeviceHub;
    try {
      hub = new DeviceHub(options, options.mqtt.deviceUrl ?? broker.url);
    } catch (error) {
      await broker.close();
      throw error;
    }
    pending.hub = hub;
    hub.#broker = broker;
    hub.#lockTrust = trust;
    try {
      // Nobody is connected to a broker that just started: locks last seen online must
      // come back, or raise the offline alarm after the grace period.
      for (const device of hub.#devices.values()) {
        if (device.availability === "online") hub.#setAvailability(device, "offline");
      }
      const credentials = broker.fleetCredentials;
      await hub.#connect(broker.url, {
        username: credentials.username,
        password: credentials.password,
        clientId: `${credentials.clientIdPrefix}${randomBytes(6).toString("hex")}`,
        // Its own listener, reached by the address it listens on: the CA is what is checked.
        ...(trust === undefined ? {} : { ca: trust.caPem, ownListener: true }),
      });
    } catch (error) {
      await hub.close();
      throw error;
    }
    return hub;
  }

  async #connect(
    url: string,
    connection: {
      username?: string;
      password?: string;
      clientId: string;
      ca?: string;
      ownListener?: boolean;
    },
  ): Promise<void> {
    const { ca, ownListener, ...credentials } = connection;
    const client = await connectAsync(url, {
      ...credentials,
      ...(ca === undefined
        ? {}
        : {
            ca,
            rejectUnauthorized: true,
            ...(ownListener ? { checkServerIdentity: () => undefined } : {}),
          }),
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 1_000,
      connectTimeout: 10_000,
    });
    this.#client = client;
    client.on("message", (topic, payload, packet) => this.#onMessage(topic, payload, packet));
    client.on("error", (error) => this.#log.warn({ err: error }, "E_MQTT_CLIENT: fleet client"));
    // State and availability are retained snapshots: QoS 0 towards the fleet keeps a reconnect
    // storm out of the broker's per-client queue (Mosquitto drops QoS 1 beyond
    // max_queued_messages, 1000 by default), and a lost one comes back with the retained copy
    // on the next subscription. Audit events and results are not retained: QoS 1.
    await client.subscribeAsync({
      [fleetSubscription("state")]: { qos: 0 },
      [fleetSubscription("availability")]: { qos: 0 },
      [fleetSubscription("event")]: { qos: 1 },
      [fleetSubscription("cmd/result")]: { qos: 1 },
    });
    if (this.#settings.timeSyncIntervalMs > 0) {
      this.#timeSyncTimer = setInterval(
        () => this.#syncAllClocks(),
        this.#settings.timeSyncIntervalMs,
      );
      this.#timeSyncTimer.unref();
    }
  }

  #track(device: LiveDevice): void {
    this.#devices.set(device.deviceId, device);
    this.#orgs.add(device.orgId);
    if (device.status === "active") this.#countTrust(device.trustedKeyIds, 1);
  }

  #countTrust(keyIds: readonly string[], delta: 1 | -1): void {
    for (const keyId of keyIds)
      this.#trustCounts.set(keyId, (this.#trustCounts.get(keyId) ?? 0) + delta);
  }

  // --- enrolment ---

  createEnrolmentToken(input: {
    orgId: string;
    containerId: string;
    deviceId?: string;
    ttlMs: number;
    createdBy: string;
  }): { token: string; expiresAt: string } {
    if (!isTopicSegment(input.orgId)) {
      throw new FleetError(
        "E_SCHEMA",
        `organisation id "${input.orgId}" is not a valid topic level`,
      );
    }
    if (input.deviceId !== undefined) {
      if (!isTopicSegment(input.deviceId)) {
        throw new FleetError(
          "E_SCHEMA",
          `device id "${input.deviceId}" is not a valid topic level`,
        );
      }
      if (this.#repository.device(input.deviceId) !== undefined) {
        throw new FleetError(
          "E_DEVICE_EXISTS",
          `device ${input.deviceId} is already enrolled`,
          409,
        );
      }
    }
    if (
      !Number.isInteger(input.ttlMs) ||
      input.ttlMs < MIN_TOKEN_TTL_MS ||
      input.ttlMs > MAX_TOKEN_TTL_MS
    ) {
      throw new FleetError(
        "E_SCHEMA",
        `an enrolment token lives between ${MIN_TOKEN_TTL_MS} ms and 30 days, not ${input.ttlMs} ms`,
      );
    }
    const container = this.#repository.container(input.containerId);
    if (container === undefined || (container !== null && container.orgId !== input.orgId)) {
      throw new FleetError(
        "E_NOT_FOUND",
        `container ${input.containerId} does not exist or is outside your scope`,
        404,
      );
    }
    const random = `lfe_${randomBytes(24).toString("base64url")}`;
    // The broker CA's pin travels with the token, outside the enrolment exchange.
    const token =
      this.#lockTrust === undefined ? random : pinnedEnrolmentToken(random, this.#lockTrust.pin);
    const now = this.#clock();
    const expiresAt = formatInstant(now + input.ttlMs);
    this.#repository.insertToken({
      token_hash: sha256Hex(token),
      org_id: input.orgId,
      container_id: input.containerId,
      device_id: input.deviceId ?? null,
      created_by: input.createdBy,
      created_at: formatInstant(now),
      expires_at: expiresAt,
    });
    return { token, expiresAt };
  }

  /**
   * Enrols a lock: the claim must be signed by the key it names (proof of possession), the
   * token unused and unexpired. Issues MQTT credentials (stored hashed) and the per-lock
   * one-time-code secret (stored under the KEK, handed over sealed to the lock's X25519 key).
   */
  async enrol(request: EnrolmentRequest): Promise<EnrolmentResponse> {
    const checked = validate(EnrolmentRequest, request, "enrolment request");
    if (!checked.ok) throw new FleetError("E_SCHEMA", checked.error.message);
    const { claim, proof } = checked.value;
    const signingPublicKey = fromBase64url(claim.signingPublicKey);
    const encryptionPublicKey = fromBase64url(claim.encryptionPublicKey);
    const signed = new TextEncoder().encode(canonicalJson(claim));
    if (!ed25519.verify(signed, fromBase64url(proof), signingPublicKey)) {
      throw new FleetError(
        "E_ENROLMENT_PROOF",
        "the enrolment claim is not signed by the signing key it names",
        400,
      );
    }
    const tokenHash = sha256Hex(claim.token);
    const token = this.#repository.token(tokenHash);
    const now = this.#clock();
    const nowText = formatInstant(now);
    if (token === undefined) {
      throw new FleetError("E_ENROLMENT_TOKEN", "the enrolment token is not valid", 401);
    }
    if (token.used_at !== null) {
      throw new FleetError(
        "E_ENROLMENT_TOKEN_USED",
        `the enrolment token was already used at ${token.used_at}`,
        409,
      );
    }
    if (parseInstant(token.expires_at) <= now) {
      throw new FleetError(
        "E_ENROLMENT_TOKEN_EXPIRED",
        `the enrolment token expired at ${token.expires_at}`,
        410,
      );
    }
    const container = this.#repository.container(token.container_id);
    if (container === undefined) {
      throw new FleetError(
        "E_NOT_FOUND",
        `container ${token.container_id} of this token no longer exists`,
        404,
      );
    }
    const deviceId = token.device_id ?? newDeviceId();
    if (this.#repository.device(deviceId) !== undefined) {
      throw new FleetError("E_DEVICE_EXISTS", `device ${deviceId} is already enrolled`, 409);
    }
    const password = randomBytes(32).toString("base64url");
    const otpSecret = randomBytes(32);
    const fleetKeys = this.#keys
      .published()
      .slice(-MAX_TRUSTED_FLEET_KEYS)
      .map((key) => ({ keyId: key.keyId, publicKey: key.publicKey }));
    // On an external broker the fleet manages, the account exists before the lock is told of
    // it; an enrolment that fails after this removes it again.
    if (this.#accounts !== undefined) {
      await this.#accounts.createDevice({ org: token.org_id, deviceId, password });
    }
    const db = this.#repository.db;
    const enrol = db.transaction(() => {
      if (!this.#repository.consumeToken(tokenHash, nowText, deviceId)) return false;
      this.#repository.insertDevice({
        deviceId,
        orgId: token.org_id,
        containerId: token.container_id,
        signingPublicKey: claim.signingPublicKey,
        encryptionPublicKey: claim.encryptionPublicKey,
        mqttUsername: deviceId,
        mqttPasswordHash: sha256(password).toString("hex"),
        hardwareProfile: claim.hardwareProfile,
        firmware: claim.firmware,
        enrolledAt: nowText,
        trustedKeyIds: fleetKeys.map((key) => key.keyId),
      });
      this.#repository.insertSecret(deviceId, this.#secrets.seal(otpSecret, otpPurpose(deviceId)));
      return true;
    });
    const dropAccount = () =>
      this.#accounts
        ?.removeDevice(deviceId)
        .catch((error) =>
          this.#log.warn({ err: error, deviceId }, "E_BROKER_ACCOUNTS: account not removed"),
        );
    let enrolled: boolean;
    try {
      enrolled = enrol();
    } catch (error) {
      otpSecret.fill(0);
      await dropAccount();
      throw error;
    }
    if (!enrolled) {
      otpSecret.fill(0);
      await dropAccount();
      throw new FleetError("E_ENROLMENT_TOKEN_USED", "the enrolment token was already used", 409);
    }
    const row = this.#repository.device(deviceId);
    if (row !== undefined) this.#track(toLive(row));
    const sealedOtp = sealSecret(otpSecret, encryptionPublicKey);
    otpSecret.fill(0);
    this.#log.info(
      { deviceId, orgId: token.org_id, containerId: token.container_id },
      "lock enrolled",
    );
    return {
      deviceId,
      org: token.org_id,
      containerId: token.container_id,
      timeZone: container?.timeZone ?? "UTC",
      broker: {
        url: this.brokerUrl,
        username: deviceId,
        password,
        ...(this.#lockTrust === undefined ? {} : { ca: this.#lockTrust.caPem }),
      },
      fleetKeys,
      policy: container?.policy ?? DEFAULT_LOCK_POLICY,
      otpSecret: sealedOtp,
    };
  }

  #authenticate(
    username: string,
    password: Uint8Array,
    _clientId: string,
  ): { identity: DeviceIdentity } | { reason: string } {
    const device = this.#devices.get(username);
    if (device === undefined || device.status !== "active") {
      return { reason: `E_MQTT_AUTH: no active lock "${username.slice(0, 64)}"` };
    }
    const given = sha256(password);
    if (!timingSafeEqual(given, device.passwordHash)) {
      return { reason: `E_MQTT_AUTH: wrong password for lock ${device.deviceId}` };
    }
    return { identity: { kind: "device", org: device.orgId, deviceId: device.deviceId } };
  }

  // --- secrets for one lock ---

  sealForDevice(deviceId: string, secret: Uint8Array): SealedSecret {
    return sealSecret(secret, this.#device(deviceId).encryptionPublicKey);
  }

  /** The per-lock one-time-code secret, opened in memory only; the caller wipes it after use. */
  otpSecret(deviceId: string): Uint8Array {
    this.#device(deviceId);
    const row = this.#repository.secret(deviceId);
    if (row === undefined) {
      throw new FleetError("E_NO_OTP_SECRET", `lock ${deviceId} has no one-time-code secret`, 409);
    }
    return this.#secrets.open(row.sealed_otp_secret, otpPurpose(deviceId));
  }

  reserveOtpCounters(deviceId: string, count: number): number {
    if (!Number.isInteger(count) || count < 1 || count > 10_000) {
      throw new FleetError("E_SCHEMA", `cannot reserve ${count} one-time-code counters`);
    }
    this.#device(deviceId);
    return this.#repository.reserveOtpCounters(deviceId, count);
  }

  // --- reading ---

  lockState(deviceId: string): LockState | undefined {
    return this.#devices.get(deviceId)?.state;
  }

  devices(orgId: string): DeviceSummary[] {
    return this.#repository.devicesOfOrg(orgId).map((row) => this.#summary(row));
  }

  device(deviceId: string): DeviceSummary | undefined {
    const row = this.#repository.device(deviceId);
    return row === undefined ? undefined : this.#summary(row);
  }

  auditRecords(deviceId: string, afterSeq: number, limit: number): AuditRecord[] {
    return this.#repository.auditPage(deviceId, afterSeq, limit);
  }

  commands(deviceId: string, limit: number): StoredCommand[] {
    this.#flushLazyWrites();
    return this.#repository.commandsOf(deviceId, limit).map(toStoredCommand);
  }

  command(commandId: string): StoredCommand | undefined {
    this.#flushLazyWrites();
    const row = this.#repository.command(commandId);
    return row === undefined ? undefined : toStoredCommand(row);
  }

  securityEvents(deviceId?: string): SecurityEvent[] {
    this.#flushLazyWrites();
    return this.#repository.securityEvents(deviceId);
  }

  fleetPublicKeys(): Array<{ keyId: string; publicKey: string }> {
    return this.#keys.published().map((key) => ({ keyId: key.keyId, publicKey: key.publicKey }));
  }

  #summary(row: DeviceRow): DeviceSummary {
    const live = this.#devices.get(row.device_id);
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

  #device(deviceId: string): LiveDevice {
    const device = this.#devices.get(deviceId);
    if (device === undefined) {
      throw new FleetError(
        "E_NOT_FOUND",
        `lock ${deviceId} does not exist or is outside your scope`,
        404,
      );
    }
    return device;
  }

  // --- commands ---

  /**
   * Signs and sends a command: the next per-lock seq is persisted before the envelope leaves,
   * the envelope is stored in device_commands, and with `waitMs` the lock's result is awaited
   * (undefined when it does not answer in time).
   */
  async sendCommand<T extends CommandType>(
    deviceId: string,
    type: T,
    body: CommandBody<T>,
    options: { ttlMs?: number; waitMs?: number } = {},
  ): Promise<CommandResult | undefined> {
    return (await this.issueCommand(deviceId, type, body, options)).result;
  }

  /** As sendCommand, also naming the command (for callers that follow it up later). */
  async issueCommand<T extends CommandType>(
    deviceId: string,
    type: T,
    body: CommandBody<T>,
    options: { ttlMs?: number; waitMs?: number } = {},
  ): Promise<{ commandId: string; result: CommandResult | undefined }> {
    const now = this.#clock();
    const ttlMs = options.ttlMs ?? this.#settings.commandTtlMs;
    const validity = LOCK_CLOCK_COMMANDS.has(type)
      ? this.#inLockClock(this.#device(deviceId), now, ttlMs)
      : { issuedAt: now, expiresAt: now + ttlMs };
    return this.#send(deviceId, type, body, validity, options.waitMs);
  }

  async #send<T extends CommandType>(
    deviceId: string,
    type: T,
    body: CommandBody<T>,
    validity: { issuedAt: number; expiresAt: number },
    waitMs = 0,
  ): Promise<{ commandId: string; result: CommandResult | undefined }> {
    const device = this.#device(deviceId);
    if (device.status !== "active") {
      throw new FleetError("E_DEVICE_RETIRED", `lock ${deviceId} is retired`, 409);
    }
    if (!isCommandType(type)) throw new FleetError("E_UNKNOWN_TYPE", `no command type "${type}"`);
    const checked = validate(COMMAND_BODIES[type], body, `${type} body`);
    if (!checked.ok) throw new FleetError("E_SCHEMA", checked.error.message);
    const signer = this.#keys.signerFor(device.trustedKeyIds);
    if (signer === undefined) {
      throw new FleetError(
        "E_FLEET_KEY",
        `lock ${deviceId} trusts none of the fleet keys still held (${device.trustedKeyIds.join(", ")})`,
        409,
      );
    }
    const client = this.#requireClient();
    const id = newId("cmd");
    device.commandSeq += 1;
    const seq = device.commandSeq;
    const envelope = signEnvelope(
      {
        type,
        deviceId,
        id,
        seq,
        issuedAt: validity.issuedAt,
        expiresAt: validity.expiresAt,
        keyId: signer.keyId,
        body,
      },
      signer.secretKey,
    );
    const topic = SYNC_COMMANDS.has(type)
      ? topics.sync(device.orgId, deviceId)
      : topics.cmd(device.orgId, deviceId);
    const answer = waitMs > 0 ? this.#waitForResult(id, waitMs) : undefined;
    try {
      await this.#commitAndPublish(client, {
        row: {
          id,
          device_id: deviceId,
          seq,
          type,
          body: JSON.stringify(body),
          key_id: signer.keyId,
          issued_at: formatInstant(validity.issuedAt),
          expires_at: formatInstant(validity.expiresAt),
        },
        topic,
        payload: encodeEnvelope(envelope),
      });
    } catch (error) {
      this.#dropWaiter(id);
      throw error;
    }
    return { commandId: id, result: answer === undefined ? undefined : await answer };
  }

  /**
   * Group commit: commands issued within a few milliseconds are stored in one transaction, then
   * published in issue order. Nothing leaves before its seq is durable.
   */
  #commitAndPublish(client: MqttClient, outgoing: Omit<OutgoingCommand, "done">): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#outbox.push({ ...outgoing, done: { resolve, reject } });
      // At most one commit per window, but a command after a quiet spell does not wait for one.
      if (this.#outbox.length === 1)
        setTimeout(() => this.#flushOutbox(client), outboxWait(this.#lastOutboxFlush));
    });
  }

  #flushOutbox(client: MqttClient): void {
    this.#lastOutboxFlush = performance.now();
    const batch = this.#outbox;
    this.#outbox = [];
    try {
      this.#repository.insertCommands(batch.map((entry) => entry.row));
    } catch (error) {
      for (const entry of batch) entry.done.reject(error);
      return;
    }
    for (const entry of batch) {
      client.publishAsync(entry.topic, entry.payload, { qos: 1 }).then(
        () => entry.done.resolve(),
        (error: unknown) => entry.done.reject(error),
      );
    }
  }

  #dropWaiter(commandId: string): void {
    const waiter = this.#waiters.get(commandId);
    if (waiter === undefined) return;
    clearTimeout(waiter.timer);
    this.#waiters.delete(commandId);
  }

  #waitForResult(commandId: string, waitMs: number): Promise<CommandResult | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(commandId);
        resolve(undefined);
      }, waitMs);
      this.#waiters.set(commandId, { resolve, timer });
    });
  }

  #requireClient(): MqttClient {
    if (this.#client === undefined || this.#closed) {
      throw new FleetError("E_HUB_CLOSED", "the device hub is not connected to the broker", 503);
    }
    return this.#client;
  }

  /** Sends in the background; a failure is logged, never thrown into a message handler. */
  #sendQuietly<T extends CommandType>(
    deviceId: string,
    type: T,
    body: CommandBody<T>,
    ttlMs?: number,
  ): void {
    if (this.#closed) return;
    this.sendCommand(deviceId, type, body, ttlMs === undefined ? {} : { ttlMs }).catch((error) => {
      if (!this.#closed) this.#log.warn({ err: error, deviceId, type }, "command not sent");
    });
  }

  // --- time ---

  #syncClock(device: LiveDevice, force = false): void {
    const now = this.#clock();
    if (this.#closed || (!force && now - device.lastTimeSyncAt < TIME_SYNC_MIN_INTERVAL_MS)) return;
    device.lastTimeSyncAt = now;
    const validity = this.#inLockClock(device, now, TIME_SYNC_TTL_MS);
    this.#send(device.deviceId, "time.sync", { time: formatInstant(now) }, validity).catch(
      (error) => {
        if (!this.#closed)
          this.#log.warn({ err: error, deviceId: device.deviceId }, "time sync not sent");
      },
    );
  }

  /**
   * The lock checks every envelope's validity against its own clock — the one a time message
   * corrects — so the validity is stated in that clock as last measured (fleet time + drift):
   * a lock running behind or ahead accepts it for `ttlMs` of real time, and a message delayed
   * longer has expired there. Never widened by the drift, which would let a withheld message
   * move the clock; a stale measurement makes the lock refuse it, never accept a late one.
   */
  #inLockClock(device: LiveDevice, now: number, ttlMs: number) {
    const drift = device.clockDriftMs ?? 0;
    return { issuedAt: now + drift, expiresAt: now + drift + ttlMs };
  }

  #syncAllClocks(): void {
    for (const device of this.#devices.values()) {
      if (device.availability === "online" && device.status === "active")
        this.#syncClock(device, true);
    }
  }

  /**
   * Compares a live lock timestamp with fleet time; beyond tolerance: alarm and time sync.
   * A lock without trusted time (after a restart) gets a sync, and so does one whose
   * on-connect sync waited for this measurement. Back within tolerance, the alarm is cleared.
   */
  #checkDrift(device: LiveDevice, lockTime: number, trustedTime: boolean): void {
    if (Number.isNaN(lockTime)) return;
    const now = this.#clock();
    // Whole milliseconds: the API reports drift as an integer whatever the clock's resolution.
    const drift = Math.round(lockTime - now);
    const previous = device.clockDriftMs;
    device.clockDriftMs = drift;
    device.driftMeasuredAt = now;
    // A new measurement far from the one the last sync was stated in: that sync was refused.
    const remeasured =
      previous === null || Math.abs(drift - previous) > this.#settings.clockDriftToleranceMs;
    const waiting = device.syncOnState;
    device.syncOnState = false;
    if (Math.abs(drift) <= this.#settings.clockDriftToleranceMs) {
      if (device.driftAlarmRaised || device.driftClearPending)
        this.emit("alarmCleared", device.deviceId, "clockDrift");
      device.driftAlarmRaised = false;
      device.driftClearPending = false;
      if (waiting || !trustedTime) this.#syncClock(device, waiting || remeasured);
      return;
    }
    if (!device.driftAlarmRaised) {
      device.driftAlarmRaised = true;
      this.#raiseFleetAlarm(device, "clockDrift", {
        driftMs: drift,
        toleranceMs: this.#settings.clockDriftToleranceMs,
      });
    }
    // A lock ahead that refused the backward correction (beyond its daily bound) waits for a
    // confirmed time.set or the next periodic sync rather than refusing one every minute.
    const refusedRecently =
      drift > 0 && now - device.backwardRefusedAt < this.#settings.timeSyncIntervalMs;
    if (!refusedRecently || waiting) this.#syncClock(device, waiting || remeasured);
  }

  // --- presence ---

  #setAvailability(device: LiveDevice, status: "online" | "offline"): void {
    if (device.availability === status) return;
    const at = formatInstant(this.#clock());
    device.availability = status;
    device.availabilityAt = at;
    this.#queuePresence({ deviceId: device.deviceId, availability: status, at });
    if (status === "online") {
      if (device.offlineTimer !== undefined) clearTimeout(device.offlineTimer);
      device.offlineTimer = undefined;
      device.offlineAlarmRaised = false;
      this.emit("availability", device.deviceId, "online");
      this.#afterConnect(device);
      return;
    }
    this.emit("availability", device.deviceId, "offline");
    if (device.offlineTimer !== undefined) clearTimeout(device.offlineTimer);
    device.offlineTimer = setTimeout(() => {
      device.offlineTimer = undefined;
      if (this.#closed || device.availability !== "offline" || device.offlineAlarmRaised) return;
      device.offlineAlarmRaised = true;
      this.#raiseFleetAlarm(device, "lockOffline", { offlineSince: at });
    }, this.#settings.offlineGraceMs);
    device.offlineTimer.unref();
  }

  /**
   * On connect: trusted time first, then any fleet key the lock has not got yet. In a
   * reconnect storm (many locks within a second) this is spread over STORM_SPREAD_MS, so that
   * thousands of signed commands do not stand between the locks and their connections.
   */
  #afterConnect(device: LiveDevice): void {
    const now = this.#clock();
    if (now - this.#connectWindow.start >= 1_000) this.#connectWindow = { start: now, count: 0 };
    this.#connectWindow.count += 1;
    const run = () => {
      device.connectTimer = undefined;
      if (this.#closed || device.availability !== "online") return;
      // A sync is stated in the lock's clock: with a drift measured on this connection (the
      // lock publishes its state on connect), else as soon as that state arrives.
      if (device.driftMeasuredAt < now - FRESH_DRIFT_MS) device.syncOnState = true;
      else if (device.lastTimeSyncAt < device.driftMeasuredAt) this.#syncClock(device, true);
      this.#reconcileTrust(device)?.catch((error) => {
        if (!this.#closed)
          this.#log.warn({ err: error, deviceId: device.deviceId }, "key not sent");
      });
    };
    if (this.#connectWindow.count <= STORM_CONNECTS_PER_SECOND) {
      run();
      return;
    }
    if (device.connectTimer !== undefined) clearTimeout(device.connectTimer);
    device.connectTimer = setTimeout(run, Math.floor(Math.random() * STORM_SPREAD_MS));
    device.connectTimer.unref();
  }

  #onDeviceDisconnected(identity: DeviceIdentity): void {
    const device = this.#devices.get(identity.deviceId);
    if (device !== undefined && !this.#closed) this.#setAvailability(device, "offline");
  }

  #queuePresence(update: PresenceUpdate): void {
    this.#presenceQueue.push(update);
    this.#scheduleLazyWrites();
  }

  #scheduleLazyWrites(): void {
    if (this.#presenceTimer !== undefined) return;
    this.#presenceTimer = setTimeout(() => this.#flushLazyWrites(), PRESENCE_FLUSH_MS);
  }

  /**
   * Presence, state and command results are written in batches: a reconnect storm brings
   * one of each per lock, and a synchronous commit apiece would stall the hub for seconds.
   * They are what locks report again anyway (retained state, the audit record of a command).
   */
  #flushLazyWrites(): void {
    if (this.#presenceTimer !== undefined) clearTimeout(this.#presenceTimer);
    this.#presenceTimer = undefined;
    const updates = this.#presenceQueue;
    const results = this.#resultQueue;
    const trust = this.#trustQueue;
    const security = this.#securityQueue;
    this.#securityQueue = [];
    this.#presenceQueue = [];
    this.#resultQueue = [];
    this.#trustQueue = new Map();
    try {
      this.#repository.writePresence(updates);
      this.#repository.recordCommandResults(results);
      this.#repository.setTrustedKeysOf(trust);
      this.#repository.insertSecurityEvents(security);
      this.#gate.flush();
    } catch (error) {
      this.#log.error({ err: error }, "E_PRESENCE_WRITE: lock presence or results not stored");
    } finally {
      for (const result of results) this.#answeredPending.delete(result.commandId);
    }
  }

  // --- alarms and rejections ---

  #raiseFleetAlarm(device: LiveDevice, kind: AlarmKind, data: Record<string, unknown>): void {
    const now = this.#clock();
    const head = this.#repository.auditHead(device.deviceId);
    const alarm: Alarm = {
      deviceId: device.deviceId,
      alarm: kind,
      priority: ALARM_PRIORITY[kind],
      at: formatInstant(now),
      auditSeq: Math.max(1, head.seq),
      actor: null,
      data: { source: "fleet", ...data },
    };
    this.#storeAlarm(device, alarm, "fleet");
  }

  #storeAlarm(device: LiveDevice, alarm: Alarm, source: "device" | "fleet"): void {
    try {
      this.#repository.insertAlarm({
        deviceId: device.deviceId,
        orgId: device.orgId,
        alarm: alarm.alarm,
        priority: alarm.priority,
        at: alarm.at,
        source,
        alarmJson: JSON.stringify(alarm),
        receivedAt: formatInstant(this.#clock()),
      });
    } catch (error) {
      if (this.#closed) return;
      this.#log.error({ err: error, deviceId: device.deviceId }, "E_ALARM_WRITE: alarm not stored");
    }
    this.emit("alarm", device.deviceId, alarm);
  }

  /** A refused message or connection: stored as a security event, logged, emitted. */
  #reject(
    device: { deviceId: string; orgId: string } | undefined,
    kind: string,
    reason: string,
    extra: { topic?: string; clientId?: string } = {},
  ): void {
    // Written with the next batch: a flood of refused messages must not become a flood of
    // synchronous commits (that would make refusing them a denial of service).
    this.#securityQueue.push({
      at: formatInstant(this.#clock()),
      deviceId: device?.deviceId,
      orgId: device?.orgId,
      kind,
      clientId: extra.clientId,
      topic: extra.topic?.slice(0, 300),
      reason: reason.slice(0, 1000),
    });
    this.#scheduleLazyWrites();
    this.#log.warn({ deviceId: device?.deviceId, kind }, reason);
    this.emit("rejected", device?.deviceId, reason);
  }

  #onBrokerRejection(rejection: BrokerRejection): void {
    const identity = rejection.identity;
    const device =
      identity === undefined ? undefined : { deviceId: identity.deviceId, orgId: identity.org };
    this.#reject(device, `mqtt.${rejection.kind}`, rejection.reason, {
      clientId: rejection.clientId,
      ...(rejection.topic === undefined ? {} : { topic: rejection.topic }),
    });
  }

  // --- messages from locks ---

  #onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (this.#closed) return;
    const parsed = parseTopic(topic);
    if (!parsed.ok) return; // the fleet's subscriptions only match the layout
    const device = this.#devices.get(parsed.value.deviceId);
    if (device === undefined || device.orgId !== parsed.value.org) {
      this.#onStranger(parsed.value, device, topic);
      return;
    }
    if (device.status !== "active") {
      this.#reject(
        device,
        "message.retired",
        `E_DEVICE_RETIRED: retired lock ${device.deviceId} sent on ${topic}`,
        { topic },
      );
      return;
    }
    if (payload.length > MAX_DEVICE_MESSAGE_BYTES) {
      this.#reject(
        device,
        "message.tooLarge",
        `E_TOO_LARGE: ${payload.length} bytes on ${topic} exceed ${MAX_DEVICE_MESSAGE_BYTES}`,
        { topic },
      );
      return;
    }
    try {
      // Verified over the bytes as received, with the lock's enrolled key, before anything in
      // them is read; then the device sequence of this stream. The lock states validity in its
      // own clock: it is judged against that clock as last measured (a lock whose clock is off
      // would otherwise be refused until corrected, the result of the correction included).
      const admission = this.#gate.admit(
        device,
        parsed.value.kind,
        payload,
        packet.retain,
        this.#clock(),
        this.#clock() + (device.clockDriftMs ?? 0),
      );
      this.#onAdmitted(device, admission, packet.retain, parsed.value.kind, topic);
    } catch (error) {
      // A storage failure must not take the hub down; the lock resends what was not acked.
      this.#log.error(
        { err: error, deviceId: device.deviceId, topic },
        "E_DEVICE_MESSAGE: not processed",
      );
    }
  }

  #onAdmitted(
    device: LiveDevice,
    admission: Admission,
    retained: boolean,
    kind: ParsedTopic["kind"],
    topic: string,
  ): void {
    switch (admission.verdict) {
      case "duplicate":
        return;
      case "redelivery":
        this.#reject(
          device,
          "message.redelivery",
          `E_REDELIVERED: ${admission.type} message with device seq ${admission.seq} was accepted moments ago; delivered again, it changes nothing`,
          { topic },
        );
        return;
      case "hint":
        this.#onAvailabilityHint(device);
        return;
      case "refused":
        this.#onRefusedMessage(device, admission, kind, topic);
        return;
    }
    const message: OpenedDeviceMessage = admission.message;
    const snapshot = retained || admission.stale;
    // A live message the lock signed just now is the evidence that it is there; a retained
    // copy is only what it said when it was.
    if (!snapshot && !(message.type === "availability" && message.body.status === "offline")) {
      this.#heardFrom(device);
    }
    switch (message.type) {
      case "state":
        this.#onState(device, message.body, snapshot, topic);
        return;
      case "availability":
        if (!snapshot && message.body.status === "offline") this.#onSignedOffline(device);
        return;
      case "audit":
        this.#ingestAudit(device, message.body.records, topic);
        return;
      case "alarm":
        this.#storeAlarm(device, message.body, "device");
        return;
      case "checkpoint":
        this.#ingestCheckpoint(device, message.body, topic);
        return;
      case "result":
        this.#onResult(device, message.body, topic);
        return;
    }
  }

  /**
   * Refused: unsigned, signed by another key, replayed, naming another lock, on the wrong
   * topic. Stored as a security event; one forgedMessage alarm per lock and topic at most
   * every FORGERY_ALARM_INTERVAL_MS. A message the lock signed whose validity period does not
   * fit the fleet's clock is a clock matter (its signed time measures the lock's drift).
   */
  #onRefusedMessage(
    device: LiveDevice,
    refusal: Extract<Admission, { verdict: "refused" }>,
    kind: ParsedTopic["kind"],
    topic: string,
  ): void {
    const reason = `${refusal.code}: ${refusal.message}`;
    if (refusal.signedAt !== undefined) {
      this.#reject(device, "message.stale", reason, { topic });
      this.#checkDrift(device, refusal.signedAt, true);
      return;
    }
    this.#reject(device, "message.forged", reason, { topic });
    const source = `${device.deviceId}/${kind}`;
    const now = this.#clock();
    const last = this.#forgeryAlarms.get(source);
    if (last !== undefined && now - last < FORGERY_ALARM_INTERVAL_MS) return;
    this.#forgeryAlarms.set(source, now);
    this.#raiseFleetAlarm(device, "forgedMessage", {
      reason: refusal.code,
      topic: kind,
      detail: refusal.message.slice(0, 300),
    });
  }

  /**
   * A message naming a lock the fleet does not know, or a known lock under another
   * organisation. Recorded when it touches one of the fleet's organisations (a shared external
   * broker also carries other fleets' traffic, which is none of this fleet's business).
   */
  #onStranger(parsed: ParsedTopic, device: LiveDevice | undefined, topic: string): void {
    if (device !== undefined) {
      this.#reject(
        device,
        "message.wrongOrg",
        `E_WRONG_ORG: message for lock ${device.deviceId} under organisation ${parsed.org}, not ${device.orgId}`,
        { topic },
      );
      return;
    }
    if (this.#orgs.has(parsed.org)) {
      this.#reject(
        { deviceId: parsed.deviceId, orgId: parsed.org },
        "message.unknownDevice",
        `E_UNKNOWN_DEVICE: message from unenrolled lock ${parsed.deviceId}`,
        { topic },
      );
    }
  }

  #refuseMessage(device: LiveDevice, topic: string, code: string, message: string): void {
    this.#reject(device, "message.refused", `${code}: ${message}`, { topic });
  }

  #onState(device: LiveDevice, state: LockState, snapshot: boolean, topic: string): void {
    if (state.org !== device.orgId) {
      this.#refuseMessage(
        device,
        topic,
        "E_WRONG_DEVICE",
        `state names ${state.org}/${state.deviceId}, published by ${device.orgId}/${device.deviceId}`,
      );
      return;
    }
    this.#checkHeadRegression(device, state.auditHead.seq, topic);
    device.state = state;
    if (!snapshot) this.#checkDrift(device, parseInstant(state.at), state.trustedTime);
    this.#queuePresence({
      deviceId: device.deviceId,
      stateJson: JSON.stringify(state),
      at: state.at,
      clockDriftMs: snapshot ? null : device.clockDriftMs,
    });
    this.emit("state", device.deviceId, state);
    this.#scheduleHeadCheck(device, state.auditHead.seq);
  }

  /**
   * A lock's signed audit head below one it reported before, or below the chain the fleet
   * stored from it: its log was rolled back or replaced. Recorded each time, alarmed once
   * until the head is back.
   */
  #checkHeadRegression(device: LiveDevice, reported: number, topic: string): void {
    const known = Math.max(device.reportedHead, this.#repository.auditHead(device.deviceId).seq);
    if (reported >= known) {
      device.reportedHead = reported;
      device.regressionAlarmRaised = false;
      return;
    }
    this.#reject(
      device,
      "audit.headRegression",
      `E_AUDIT_REGRESSION: lock ${device.deviceId} reports its audit head at seq ${reported}, below seq ${known} it reached before`,
      { topic },
    );
    if (device.regressionAlarmRaised) return;
    device.regressionAlarmRaised = true;
    this.#raiseFleetAlarm(device, "auditRegression", { reportedSeq: reported, knownSeq: known });
  }

  /** A live, signed message from the lock: it is online, whatever the broker's will said. */
  #heardFrom(device: LiveDevice): void {
    device.availabilityHint = null;
    if (device.availability !== "online") this.#setAvailability(device, "online");
  }

  /** The lock itself said it goes offline (a clean stop). */
  #onSignedOffline(device: LiveDevice): void {
    // A lock that reconnects before the broker noticed its old connection drop: the broker
    // knows better than a message from the old connection.
    if (this.#broker?.isDeviceConnected(device.deviceId)) return;
    this.#setAvailability(device, "offline");
  }

  /**
   * The broker's last will ("offline", unsigned): anyone who may publish on the lock's topic
   * could have sent it, so it only starts a check. The embedded broker reports disconnections
   * itself (#onDeviceDisconnected); on an external one the fleet asks the lock for a signed
   * answer and takes it as offline only when none comes.
   */
  #onAvailabilityHint(device: LiveDevice): void {
    if (this.#broker !== undefined || device.availability === "offline") return;
    device.availabilityHint = { status: "offline", at: formatInstant(this.#clock()) };
    this.#probePresence(device);
  }

  #probePresence(device: LiveDevice): void {
    if (device.probing || this.#closed || device.status !== "active") return;
    device.probing = true;
    const now = this.#clock();
    const drift = device.clockDriftMs ?? 0;
    const validity = {
      issuedAt: now + Math.min(0, drift),
      expiresAt: now + Math.max(0, drift) + TIME_SYNC_TTL_MS,
    };
    device.lastTimeSyncAt = now;
    this.#send(
      device.deviceId,
      "time.sync",
      { time: formatInstant(now) },
      validity,
      this.#settings.presenceProbeWaitMs,
    ).then(
      ({ result }) => {
        device.probing = false;
        if (this.#closed || result !== undefined || device.availabilityHint === null) return;
        // No signed answer: the fleet's own observation, not the will, takes the lock offline.
        device.availabilityHint = null;
        this.#setAvailability(device, "offline");
      },
      (error: unknown) => {
        device.probing = false;
        if (!this.#closed)
          this.#log.warn({ err: error, deviceId: device.deviceId }, "presence probe not sent");
      },
    );
  }

  #storedHash(deviceId: string): (seq: number) => string | undefined {
    return (seq) => this.#repository.auditHash(deviceId, seq);
  }

  #ingestAudit(device: LiveDevice, records: AuditRecord[], topic: string): void {
    const head = this.#repository.auditHead(device.deviceId);
    const plan = planAuditIngest(head, records, this.#storedHash(device.deviceId));
    for (const conflict of plan.conflicts) {
      this.#reject(device, "audit.conflict", `E_AUDIT_CONFLICT: ${conflict.message}`, { topic });
    }
    if (plan.conflicts.length > 0) {
      this.#raiseFleetAlarm(device, "tamper", {
        reason: "E_AUDIT_CONFLICT",
        seqs: plan.conflicts.map((conflict) => conflict.seq).slice(0, 20),
      });
    }
    if (plan.chainBreak !== undefined) {
      this.#reject(
        device,
        "audit.chainBreak",
        `${plan.chainBreak.code}: ${plan.chainBreak.message}`,
        {
          topic,
        },
      );
      this.#raiseFleetAlarm(device, "tamper", {
        reason: plan.chainBreak.code,
        seq: plan.chainBreak.seq,
      });
    }
    let newHead: AuditHead = head;
    if (plan.store.length > 0) {
      const now = formatInstant(this.#clock());
      // synchronous=FULL: once this returns the records survive a power cut, so the ack may go.
      this.#repository.appendAudit(device.deviceId, plan.store, now);
      const last = plan.store[plan.store.length - 1] as AuditRecord;
      newHead = { seq: last.seq, hash: last.hash };
      this.#settleCheckpoints(device, newHead);
      this.emit("audit", device.deviceId, plan.store);
    }
    if (plan.missing !== undefined) {
      this.#requestGap(device, plan.missing.fromSeq, plan.missing.toSeq);
    } else {
      device.gapOpen = false;
    }
    // A lock logs each acknowledgement it receives; acking a batch of nothing but those would
    // make the two sides ping-pong forever, so such a batch waits for the next real record.
    const news = plan.store.some((record) => record.kind !== "audit.acknowledged");
    const resent = plan.store.length === 0 && plan.duplicates > 0 && plan.missing === undefined;
    if ((news || resent) && newHead.seq > 0) {
      this.#sendQuietly(device.deviceId, "audit.ack", {
        upToSeq: newHead.seq,
        headHash: newHead.hash,
      });
    }
  }

  #settleCheckpoints(device: LiveDevice, head: AuditHead): void {
    for (const pending of this.#repository.pendingCheckpoints(device.deviceId, head.seq)) {
      const stored = this.#repository.auditHash(device.deviceId, pending.seq);
      const status = stored === pending.head_hash ? "matched" : "mismatch";
      this.#repository.setCheckpointStatus(device.deviceId, pending.seq, status);
      if (status === "mismatch") {
        const reason = `E_CHECKPOINT_MISMATCH: checkpoint at seq ${pending.seq} does not match the stored chain`;
        this.#reject(device, "audit.checkpointMismatch", reason);
        this.#raiseFleetAlarm(device, "tamper", {
          reason: "E_CHECKPOINT_MISMATCH",
          seq: pending.seq,
        });
      }
    }
  }

  #ingestCheckpoint(device: LiveDevice, checkpoint: Checkpoint, topic: string): void {
    const verified = this.#repository.highestMatchedCheckpoint(device.deviceId);
    if (checkpoint.seq < verified) {
      this.#reject(
        device,
        "audit.checkpointRegression",
        `E_AUDIT_REGRESSION: checkpoint at seq ${checkpoint.seq} is older than the one verified at seq ${verified}`,
        { topic },
      );
      this.#raiseFleetAlarm(device, "auditRegression", {
        checkpointSeq: checkpoint.seq,
        verifiedSeq: verified,
      });
      return;
    }
    const head = this.#repository.auditHead(device.deviceId);
    const verdict = judgeCheckpoint(
      device.deviceId,
      checkpoint,
      device.signingPublicKey,
      head,
      this.#storedHash(device.deviceId),
    );
    if (verdict.status === "refused") {
      this.#refuseMessage(device, topic, verdict.code, verdict.message);
      return;
    }
    this.#repository.upsertCheckpoint({
      device_id: device.deviceId,
      seq: checkpoint.seq,
      head_hash: checkpoint.headHash,
      at: checkpoint.at,
      key_id: checkpoint.keyId,
      signature: checkpoint.signature,
      received_at: formatInstant(this.#clock()),
      status: verdict.status,
    });
    if (verdict.status === "mismatch") {
      this.#reject(
        device,
        "audit.checkpointMismatch",
        `E_CHECKPOINT_MISMATCH: ${verdict.message}`,
        {
          topic,
        },
      );
      this.#raiseFleetAlarm(device, "tamper", {
        reason: "E_CHECKPOINT_MISMATCH",
        seq: checkpoint.seq,
      });
    } else if (verdict.status === "pending") {
      this.#scheduleHeadCheck(device, checkpoint.seq);
    }
  }

  /**
   * The lock says its chain reaches `seq`; if the stored chain is still behind a moment later
   * (records are usually just behind the state), the missing range is requested.
   */
  #scheduleHeadCheck(device: LiveDevice, seq: number): void {
    if (seq <= this.#repository.auditHead(device.deviceId).seq) return;
    if (device.headCheckTimer !== undefined) return;
    device.headCheckTimer = setTimeout(() => {
      device.headCheckTimer = undefined;
      if (this.#closed) return;
      const head = this.#repository.auditHead(device.deviceId);
      const claimed = Math.max(seq, device.state?.auditHead.seq ?? 0);
      // Only a request: the lock may simply be resending after a reconnect. A record that
      // arrives beyond a hole (see #ingestAudit) is what raises the auditGap alarm.
      if (claimed > head.seq) this.#requestGap(device, head.seq + 1, claimed, false);
    }, this.#settings.auditHeadCheckMs);
    device.headCheckTimer.unref();
  }

  #requestGap(device: LiveDevice, fromSeq: number, toSeq: number, alarm = true): void {
    const now = this.#clock();
    const key = `${fromSeq}-${toSeq}`;
    const last = device.lastGapRequest;
    if (last !== undefined && last.key === key && now - last.at < GAP_RETRY_MS) return;
    device.lastGapRequest = { key, at: now };
    if (alarm && !device.gapOpen) {
      device.gapOpen = true;
      this.#raiseFleetAlarm(device, "auditGap", { fromSeq, toSeq });
    }
    this.#sendQuietly(device.deviceId, "audit.gapRequest", { fromSeq, toSeq });
  }

  #onResult(device: LiveDevice, result: CommandResult, topic: string): void {
    const command = this.#repository.command(result.id);
    if (command === undefined || command.device_id !== device.deviceId) {
      // Also the lock's answer to an envelope it could not read ("unknown"): worth a record.
      this.#reject(
        device,
        "result.unknown",
        `E_RESULT_UNKNOWN: result for command ${result.id} that was never sent to this lock${result.error === undefined ? "" : ` (${result.error.code}: ${result.error.message})`}`,
        { topic },
      );
      return;
    }
    if (command.status !== "sent" || this.#answeredPending.has(result.id)) {
      this.#reject(
        device,
        "result.replay",
        `E_RESULT_REPLAY: command ${result.id} was already answered`,
        { topic },
      );
      return;
    }
    this.#answeredPending.add(result.id);
    this.#resultQueue.push({
      deviceId: device.deviceId,
      commandId: result.id,
      status: result.status,
      resultJson: JSON.stringify(result),
      at: formatInstant(this.#clock()),
    });
    this.#scheduleLazyWrites();
    const clockCommand = LOCK_CLOCK_COMMANDS.has(command.type as CommandType);
    if (clockCommand && result.error?.code === "E_TIME_BACKWARDS")
      device.backwardRefusedAt = this.#clock();
    this.#checkDrift(device, lockTimeAfter(result, clockCommand), true);
    if (command.type === "fleetKey.install" && result.status === "ok") {
      this.#onKeyInstalled(device, JSON.parse(command.body) as CommandBody<"fleetKey.install">);
      // A lock catching up after a rotation: install done, now drop the key it no longer needs.
      this.#reconcileTrust(device)?.catch((error) => {
        if (!this.#closed)
          this.#log.warn({ err: error, deviceId: device.deviceId }, "key not sent");
      });
    }
    const waiter = this.#waiters.get(result.id);
    if (waiter !== undefined) {
      clearTimeout(waiter.timer);
      this.#waiters.delete(result.id);
      waiter.resolve(result);
    }
    this.emit("result", device.deviceId, result);
  }

  // --- fleet keys ---

  #onKeyInstalled(device: LiveDevice, body: CommandBody<"fleetKey.install">): void {
    const trusted = new Set(device.trustedKeyIds);
    trusted.add(body.keyId);
    if (body.retire !== undefined) trusted.delete(body.retire);
    this.#countTrust(device.trustedKeyIds, -1);
    device.trustedKeyIds = [...trusted];
    this.#countTrust(device.trustedKeyIds, 1);
    this.#trustQueue.set(device.deviceId, device.trustedKeyIds);
    this.#scheduleLazyWrites();
    this.#retireUnusedKeys();
  }

  /**
   * Brings one lock to the active key: installs it (signed with a key the lock trusts) when
   * missing, else retires the older keys the lock still trusts (signed with the active key).
   * Returns the command sent, if any.
   */
  #reconcileTrust(device: LiveDevice, waitMs = 0): Promise<CommandResult | undefined> | undefined {
    const active = this.#keys.active();
    if (active === undefined || device.status !== "active") return undefined;
    if (!device.trustedKeyIds.includes(active.keyId)) {
      return this.sendCommand(
        device.deviceId,
        "fleetKey.install",
        { keyId: active.keyId, publicKey: active.publicKey },
        { waitMs },
      );
    }
    const stale = device.trustedKeyIds.find(
      (keyId) => keyId !== active.keyId && this.#keys.get(keyId)?.activatedAt !== undefined,
    );
    if (stale === undefined) return undefined;
    return this.sendCommand(
      device.deviceId,
      "fleetKey.install",
      { keyId: active.keyId, publicKey: active.publicKey, retire: stale },
      { waitMs },
    );
  }

  /** An activated, superseded key that no active lock trusts any more is retired for good. */
  #retireUnusedKeys(): void {
    const active = this.#keys.active();
    if (active === undefined) return;
    for (const key of this.#keys.all()) {
      if (
        key.keyId === active.keyId ||
        key.retiredAt !== undefined ||
        key.activatedAt === undefined
      )
        continue;
      if ((this.#trustCounts.get(key.keyId) ?? 0) === 0)
        this.#keys.retire(key.keyId, this.#clock());
    }
  }

  /**
   * Rotates the fleet signing key without bricking a lock: the new key is installed on every
   * lock with a command signed by a key it already trusts, and only then used for signing. A
   * lock that does not confirm (offline) keeps receiving envelopes signed with a key it trusts
   * and gets the new key when it reconnects; the old key is retired once no lock needs it.
   */
  /**
   * Creates a new fleet signing key, installs it on every active lock and then signs with it
   * only. The fleet key is the service's, shared by every organisation on it; the answer
   * counts confirmed and pending locks per organisation so that each is told only of its own.
   */
  async rotateFleetKey(): Promise<FleetKeyRotation> {
    const created = this.#keys.create(this.#clock(), false);
    const devices = [...this.#devices.values()].filter((device) => device.status === "active");
    const waitMs = this.#settings.keyInstallWaitMs;
    await forEachLimited(devices, 64, async (device) => {
      // Offline locks get the key when they reconnect (see #setAvailability).
      if (device.availability !== "online") return;
      const signer = this.#keys.signerFor(device.trustedKeyIds);
      if (signer === undefined) return;
      await this.sendCommand(
        device.deviceId,
        "fleetKey.install",
        { keyId: created.keyId, publicKey: created.publicKey },
        { waitMs },
      ).catch((error) =>
        this.#log.warn({ err: error, deviceId: device.deviceId }, "key install not sent"),
      );
    });
    this.#keys.activate(created.keyId, this.#clock());
    // Locks that confirmed now drop the old key (signed with the new one); the others get
    // the new key on their next connection.
    await forEachLimited(devices, 64, async (device) => {
      if (!device.trustedKeyIds.includes(created.keyId)) return;
      await this.#reconcileTrust(device, waitMs)?.catch((error) =>
        this.#log.warn({ err: error, deviceId: device.deviceId }, "key retirement not sent"),
      );
    });
    this.#retireUnusedKeys();
    const byOrg = new Map<string, { confirmed: number; pending: number }>();
    let confirmed = 0;
    for (const device of devices) {
      const counts = byOrg.get(device.orgId) ?? { confirmed: 0, pending: 0 };
      if (device.trustedKeyIds.length === 1 && device.trustedKeyIds[0] === created.keyId) {
        counts.confirmed += 1;
        confirmed += 1;
      } else {
        counts.pending += 1;
      }
      byOrg.set(device.orgId, counts);
    }
    this.#log.info({ keyId: created.keyId, confirmed, locks: devices.length }, "fleet key rotated");
    return { keyId: created.keyId, confirmed, pending: devices.length - confirmed, byOrg };
  }

  // --- shutdown ---

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timeSyncTimer !== undefined) clearInterval(this.#timeSyncTimer);
    for (const device of this.#devices.values()) {
      if (device.offlineTimer !== undefined) clearTimeout(device.offlineTimer);
      if (device.headCheckTimer !== undefined) clearTimeout(device.headCheckTimer);
      if (device.connectTimer !== undefined) clearTimeout(device.connectTimer);
    }
    for (const waiter of this.#waiters.values()) {
      clearTimeout(waiter.timer);
      waiter.resolve(undefined);
    }
    this.#waiters.clear();
    if (this.#client !== undefined) await this.#client.endAsync(true).catch(() => undefined);
    if (this.#accounts !== undefined) await this.#accounts.close();
    if (this.#broker !== undefined) await this.#broker.close();
    try {
      if (this.#repository.db.open) this.#flushLazyWrites();
    } catch {
      // the database went away with the app; presence is only a cache of what locks report
    }
  }
}

function otpPurpose(deviceId: string): string {
  return `otp-secret:${deviceId}`;
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

function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = "";
  parsed.password = "";
  return parsed.toString().replace(/\/$/, "");
}

async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(workers);
}
