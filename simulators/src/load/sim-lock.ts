/**
 * One lightweight simulated lock for the load generator: no lock core, no hardware, no store —
 * only the protocol a real lock speaks (SPEC §4). It connects as MQTT 3.1.1 with a retained
 * last will (availability offline), publishes retained state and availability, appends audit
 * records to a valid hash chain and signs checkpoints over its head with its own Ed25519 key,
 * and answers every command on `cmd` / `sync` with a result after verifying the envelope
 * (signature, device, expiry, replay). Acknowledged records are pruned; gap requests are
 * answered from what is not yet acknowledged. As on a real lock, acknowledgements and gap
 * requests write no record of their own: they are summed up in one `audit.acknowledged`
 * record (actor "fleet") written ahead of the next record, so an idle lock and the fleet do
 * not ping-pong records and acknowledgements — summed up by the edge's own
 * `withAcknowledgement`, so the two cannot drift apart. Everything it publishes except its last
 * will is a device-signed envelope under its own key, with its own device sequence, as a real
 * lock's is (one signature per audit batch).
 */

import { type AckSection, withAcknowledgement } from "@lockfleet/edge";
import {
  type AuditEventKind,
  type AuditRecord,
  type CommandResult,
  chainAuditRecord,
  type DeviceEventMessage,
  type DeviceMessageBody,
  type DeviceMessageType,
  ed25519,
  formatInstant,
  fromBase64url,
  GENESIS_HASH,
  type LockState,
  MemoryReplayGuard,
  openCommand,
  peekEnvelopeId,
  signCheckpoint,
  signDeviceMessage,
  topics,
} from "@lockfleet/protocol";
import mqtt, { type MqttClient } from "mqtt";
import { LoadError } from "../errors.js";

/** What a simulated lock needs to be itself on the broker. */
export interface SimulatedLockIdentity {
  deviceId: string;
  org: string;
  /** Broker credentials from the enrolment; absent against a broker without authentication. */
  username?: string;
  password?: string;
  /** Ed25519 key pair the lock signs checkpoints with (the fleet knows the public half). */
  signing: { publicKey: Uint8Array; secretKey: Uint8Array };
  /** Fleet public keys the lock trusts for commands, by key id (base64url). */
  fleetKeys: ReadonlyArray<{ keyId: string; publicKey: string }>;
  /** CA certificate (PEM) the fleet handed over for its mqtts:// broker: the only one trusted. */
  brokerCa?: string;
}

export interface SimulatedLockCounters {
  published: number;
  received: number;
  commandsAnswered: number;
  commandsRefused: number;
  acknowledgedSeq: number;
}

export interface SimulatedLockOptions {
  /** Called for every command the lock answered: `issuedAt` of the envelope, answered at (ms). */
  onCommand?: (lock: SimulatedLock, command: { type: string; issuedAt: number }) => void;
  /** Called for every envelope the lock refused (machine-readable reason). */
  onRefused?: (lock: SimulatedLock, code: string) => void;
  /** Seconds between keep-alive pings [60]. */
  keepaliveSec?: number;
  connectTimeoutMs?: number;
}

/** A fleet only sees the one replay sequence across all of its keys. */
const FLEET_SENDER = "fleet";

export class SimulatedLock {
  readonly identity: SimulatedLockIdentity;
  readonly counters: SimulatedLockCounters = {
    published: 0,
    received: 0,
    commandsAnswered: 0,
    commandsRefused: 0,
    acknowledgedSeq: 0,
  };
  readonly #options: SimulatedLockOptions;
  readonly #trust: Map<string, Uint8Array>;
  readonly #replay = new MemoryReplayGuard();
  /** Records not yet acknowledged by the fleet, ascending. */
  #unacknowledged: AuditRecord[] = [];
  #head = { seq: 0, hash: GENESIS_HASH };
  #checkpointed = 0;
  /** Acknowledgements not yet on record; written ahead of the next record. */
  #acks: AckSection | undefined;
  #client: MqttClient | undefined;
  /** Device sequence; started from the clock, so a new process continues above an old one. */
  #deviceSeq = Date.now() * 1000;
  readonly #topics: ReturnType<typeof topicsOf>;

  constructor(identity: SimulatedLockIdentity, options: SimulatedLockOptions = {}) {
    this.identity = identity;
    this.#options = options;
    this.#trust = new Map(
      identity.fleetKeys.map((key) => [key.keyId, fromBase64url(key.publicKey)]),
    );
    this.#topics = topicsOf(identity.org, identity.deviceId);
  }

  get deviceId(): string {
    return this.identity.deviceId;
  }

  get auditHead(): { seq: number; hash: string } {
    return { ...this.#head };
  }

  /** The seq of the last checkpoint this lock signed. */
  get checkpointedSeq(): number {
    return this.#checkpointed;
  }

  get online(): boolean {
    return this.#client?.connected ?? false;
  }

  /** Connects, subscribes to its command topics, publishes state and availability online. */
  async connect(url: string): Promise<void> {
    const { deviceId, username, password } = this.identity;
    const client = await mqtt.connectAsync(url, {
      protocolVersion: 4,
      clientId: deviceId,
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      ...(this.identity.brokerCa === undefined
        ? {}
        : { ca: this.identity.brokerCa, rejectUnauthorized: true }),
      clean: true,
      keepalive: this.#options.keepaliveSec ?? 60,
      reconnectPeriod: 0,
      connectTimeout: this.#options.connectTimeoutMs ?? 30_000,
      will: {
        topic: this.#topics.availability,
        payload: Buffer.from(JSON.stringify({ status: "offline" })),
        qos: 1,
        retain: true,
      },
    });
    this.#client = client;
    // As the device runtime's link: a result does not wait on Nagle's algorithm.
    (client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
    client.on("error", () => {}); // a refused or cut connection shows as not online
    client.on("message", (_topic, payload) => this.#receive(payload));
    await client.subscribeAsync([this.#topics.cmd, this.#topics.sync], { qos: 1 });
    await this.#publish(this.#topics.state, this.#sign("state", this.state()), true);
    await this.#publish(
      this.#topics.availability,
      this.#sign("availability", { status: "online", at: formatInstant(Date.now()) }),
      true,
    );
  }

  #sign<T extends DeviceMessageType>(type: T, body: DeviceMessageBody<T>): string {
    this.#deviceSeq += 1;
    return signDeviceMessage(
      type,
      body,
      {
        deviceId: this.identity.deviceId,
        keyId: `${this.identity.deviceId}-k1`,
        secretKey: this.identity.signing.secretKey,
      },
      this.#deviceSeq,
      Date.now(),
    );
  }

  /** The retained state message: a locked, idle lock with its current audit head. */
  state(): LockState {
    return {
      deviceId: this.identity.deviceId,
      org: this.identity.org,
      at: formatInstant(Date.now()),
      bolt: "thrown",
      door: "closed",
      cycle: { phase: "idle", codesRequired: 2, codesGiven: 0 },
      timeLocked: false,
      blocked: false,
      activeAlarms: [],
      trustedTime: true,
      auditHead: { ...this.#head },
      hardwareProfile: "load-simulator",
    };
  }

  /**
   * Appends one audit record to the chain and publishes it on `event`, preceded (in the same
   * message) by the `audit.acknowledged` record of acknowledgements received since the last
   * record, if any. Returns the record asked for.
   */
  async audit(kind: AuditEventKind, data: Record<string, unknown> = {}): Promise<AuditRecord> {
    const records: AuditRecord[] = [];
    const acks = this.#acks;
    if (acks !== undefined) {
      this.#acks = undefined;
      records.push(
        this.#append("audit.acknowledged", FLEET_SENDER, acks.at, {
          ...acks,
          since: formatInstant(acks.since),
          at: formatInstant(acks.at),
        }),
      );
    }
    const record = this.#append(kind, null, Date.now(), data);
    records.push(record);
    await this.#event({ type: "audit", records });
    return record;
  }

  /** Acknowledgements and gap requests received and not yet on record. */
  get pendingAcknowledgements(): Readonly<AckSection> | undefined {
    return this.#acks;
  }

  #append(
    kind: AuditEventKind,
    actor: string | null,
    at: number,
    data: Record<string, unknown>,
  ): AuditRecord {
    const record = chainAuditRecord(
      {
        deviceId: this.identity.deviceId,
        seq: this.#head.seq + 1,
        at: formatInstant(at),
        kind,
        actor,
        data,
      },
      this.#head.hash,
    );
    this.#head = { seq: record.seq, hash: record.hash };
    this.#unacknowledged.push(record);
    return record;
  }

  /** Signs a checkpoint over the chain head with the lock's key and publishes it. */
  async checkpoint(): Promise<void> {
    const checkpoint = signCheckpoint(
      {
        deviceId: this.identity.deviceId,
        seq: this.#head.seq,
        headHash: this.#head.hash,
        at: formatInstant(Date.now()),
        keyId: `${this.identity.deviceId}-k1`,
      },
      this.identity.signing.secretKey,
    );
    this.#checkpointed = checkpoint.seq;
    await this.#event({ type: "checkpoint", checkpoint });
  }

  /** Disconnects cleanly: availability offline first (a clean end fires no will). */
  async stop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client === undefined) return;
    if (client.connected) {
      await client
        .publishAsync(
          this.#topics.availability,
          this.#sign("availability", { status: "offline", at: formatInstant(Date.now()) }),
          { qos: 1, retain: true },
        )
        .catch(() => {});
    }
    await client.endAsync().catch(() => {});
  }

  /** Drops the connection without a clean disconnect, as a pulled cable would (the will fires). */
  sever(): void {
    const client = this.#client;
    this.#client = undefined;
    client?.stream.destroy();
    client?.end(true);
  }

  async #event(message: DeviceEventMessage): Promise<void> {
    const text =
      message.type === "audit"
        ? this.#sign("audit", { records: message.records })
        : message.type === "alarm"
          ? this.#sign("alarm", message.alarm)
          : this.#sign("checkpoint", message.checkpoint);
    await this.#publish(this.#topics.event, text, false);
  }

  async #publish(topic: string, payload: string, retain: boolean): Promise<void> {
    const client = this.#client;
    if (client === undefined)
      throw new LoadError("E_LOAD_OFFLINE", `${this.deviceId} is not connected`);
    await client.publishAsync(topic, payload, { qos: 1, retain });
    this.counters.published += 1;
  }

  #receive(payload: Buffer): void {
    this.counters.received += 1;
    const now = Date.now();
    const opened = openCommand(payload, {
      deviceId: this.identity.deviceId,
      now,
      keys: this.#trust,
      replayGuard: this.#replay,
      sender: FLEET_SENDER,
    });
    let result: CommandResult;
    if (opened.ok) {
      const command = opened.value;
      result = {
        id: command.id,
        deviceId: this.deviceId,
        at: formatInstant(now),
        status: "ok",
      };
      if (command.type === "audit.ack") {
        // Summed up for the next record, exactly as a real lock does.
        this.#acks = withAcknowledgement(this.#acks, command, now);
        this.#acknowledged(command.body.upToSeq);
        result.data = { upToSeq: command.body.upToSeq };
      } else if (command.type === "audit.gapRequest") {
        const { fromSeq, toSeq } = command.body;
        this.#acks = withAcknowledgement(this.#acks, command, now);
        this.#resend(fromSeq, toSeq);
      }
      this.counters.commandsAnswered += 1;
      this.#options.onCommand?.(this, { type: command.type, issuedAt: command.issuedAt });
    } else {
      result = {
        id: peekEnvelopeId(payload) ?? "unknown",
        deviceId: this.deviceId,
        at: formatInstant(now),
        status: "error",
        error: { code: opened.error.code, message: opened.error.message.slice(0, 1000) },
      };
      this.counters.commandsRefused += 1;
      this.#options.onRefused?.(this, opened.error.code);
    }
    this.#publish(this.#topics.result, this.#sign("result", result), false).catch(() => {});
  }

  #acknowledged(upToSeq: number): void {
    if (upToSeq <= this.counters.acknowledgedSeq) return;
    this.counters.acknowledgedSeq = Math.min(upToSeq, this.#head.seq);
    this.#unacknowledged = this.#unacknowledged.filter((record) => record.seq > upToSeq);
  }

  #resend(fromSeq: number, toSeq: number): void {
    const records = this.#unacknowledged.filter(
      (record) => record.seq >= fromSeq && record.seq <= toSeq,
    );
    for (let start = 0; start < records.length; start += 500) {
      this.#event({ type: "audit", records: records.slice(start, start + 500) }).catch(() => {});
    }
  }
}

function topicsOf(org: string, deviceId: string) {
  return {
    state: topics.state(org, deviceId),
    availability: topics.availability(org, deviceId),
    event: topics.event(org, deviceId),
    cmd: topics.cmd(org, deviceId),
    sync: topics.sync(org, deviceId),
    result: topics.cmdResult(org, deviceId),
  };
}

/** A fresh identity for a broker without authentication (no fleet enrolled it). */
export function unenrolledIdentity(
  deviceId: string,
  org: string,
  fleetKeys: SimulatedLockIdentity["fleetKeys"],
): SimulatedLockIdentity {
  return { deviceId, org, signing: ed25519.generateKeyPair(), fleetKeys };
}
