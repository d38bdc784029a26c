/**
 * A lock as the fleet sees it over MQTT, built from protocol primitives only (the fleet never
 * depends on the edge): its own keys, enrolment, a hash-chained audit log with signed
 * checkpoints, retained state and availability with a last will, and command handling that
 * verifies every envelope (signature with a trusted fleet key, device, expiry, replay).
 * Everything it publishes is a device-signed envelope (protocol `signDeviceMessage`) with its
 * own device sequence, except the broker's last will; `publishRaw` sends text as given, for
 * tests that play someone else on the lock's topics.
 */
import {
  type AuditEventKind,
  type AuditRecord,
  type CommandResult,
  type CommandType,
  canonicalJson,
  chainAuditRecord,
  type DeviceMessageBody,
  type DeviceMessageType,
  type EnrolmentRequest,
  type EnrolmentResponse,
  ed25519,
  formatInstant,
  fromBase64url,
  GENESIS_HASH,
  type LockState,
  MemoryReplayGuard,
  type OpenedCommand,
  openCommand,
  openSealedSecret,
  parseInstant,
  peekEnvelopeId,
  signCheckpoint,
  signDeviceMessage,
  toBase64url,
  topics,
  x25519,
} from "@lockfleet/protocol";
import { connectAsync, type IClientOptions, type MqttClient } from "mqtt";

export interface ReceivedCommand {
  topic: "cmd" | "sync";
  command: OpenedCommand;
}

export interface RefusedCommand {
  topic: "cmd" | "sync";
  code: string;
  message: string;
}

export interface SimulatedLockOptions {
  /** Lock time = fleet time + this offset, until a time sync corrects it. */
  clockOffsetMs?: number;
  /** Answer commands (default true). */
  answer?: boolean;
}

export class SimulatedLock {
  readonly signing = ed25519.generateKeyPair();
  readonly encryption = x25519.generateKeyPair();
  readonly trust = new Map<string, Uint8Array>();
  readonly replayGuard = new MemoryReplayGuard();
  readonly records: AuditRecord[] = [];
  readonly received: ReceivedCommand[] = [];
  readonly refused: RefusedCommand[] = [];
  readonly results: CommandResult[] = [];
  enrolment: EnrolmentResponse | undefined;
  otpSecret: Uint8Array | undefined;
  client: MqttClient | undefined;
  clockOffsetMs: number;
  answer: boolean;
  ackedUpTo = 0;
  /** Device sequence: above anything an earlier run could have sent. */
  deviceSeq = Date.now() * 1000;
  /** Every signed message text published, in order (for replay tests). */
  readonly sent: Array<{ topic: string; text: string }> = [];
  #listeners: Array<() => void> = [];

  constructor(options: SimulatedLockOptions = {}) {
    this.clockOffsetMs = options.clockOffsetMs ?? 0;
    this.answer = options.answer ?? true;
  }

  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  get deviceId(): string {
    return this.#enrolled().deviceId;
  }

  get org(): string {
    return this.#enrolled().org;
  }

  #enrolled(): EnrolmentResponse {
    if (this.enrolment === undefined) throw new Error("lock is not enrolled");
    return this.enrolment;
  }

  /** The enrolment request: a claim signed with the lock's own signing key. */
  enrolmentRequest(token: string, signWith: Uint8Array = this.signing.secretKey): EnrolmentRequest {
    const claim = {
      token,
      signingPublicKey: toBase64url(this.signing.publicKey),
      encryptionPublicKey: toBase64url(this.encryption.publicKey),
      hardwareProfile: "test-profile",
      firmware: "0.1.0-test",
      requestedAt: formatInstant(Date.now()),
    };
    const proof = ed25519.sign(new TextEncoder().encode(canonicalJson(claim)), signWith);
    return { claim, proof: toBase64url(proof) };
  }

  accept(response: EnrolmentResponse): void {
    this.enrolment = response;
    for (const key of response.fleetKeys) this.trust.set(key.keyId, fromBase64url(key.publicKey));
    this.otpSecret = openSealedSecret(response.otpSecret, this.encryption.secretKey);
  }

  async connect(overrides: Partial<IClientOptions> & { url?: string } = {}): Promise<MqttClient> {
    const enrolment = this.#enrolled();
    const { url, ...options } = overrides;
    const client = await connectAsync(url ?? enrolment.broker.url, {
      protocolVersion: 4,
      clientId: enrolment.deviceId,
      username: enrolment.broker.username,
      password: enrolment.broker.password,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      will: {
        topic: topics.availability(enrolment.org, enrolment.deviceId),
        payload: Buffer.from(JSON.stringify({ status: "offline" })),
        qos: 1,
        retain: true,
      },
      ...options,
    });
    this.client = client;
    client.on("message", (topic, payload) => this.#onMessage(topic, payload));
    client.on("error", () => {});
    await client.subscribeAsync(
      [
        topics.cmd(enrolment.org, enrolment.deviceId),
        topics.sync(enrolment.org, enrolment.deviceId),
      ],
      { qos: 1 },
    );
    await this.publishState();
    await this.publishAvailability("online");
    return client;
  }

  async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) return;
    await this.publishAvailabilityOn(client, "offline").catch(() => undefined);
    await client.endAsync().catch(() => undefined);
  }

  /** Drops the TCP connection without a DISCONNECT, so the broker publishes the last will. */
  crash(): void {
    const client = this.client;
    this.client = undefined;
    client?.stream.destroy();
    client?.end(true);
  }

  /**
   * Publishes a signed message (as `publish`) and drops the TCP connection right behind it,
   * without a DISCONNECT (power cut just after the lock spoke): the broker reads both at once.
   */
  publishAndCrash(topic: string, message: unknown): void {
    const client = this.#client();
    this.client = undefined;
    const text = this.signFor(topic, message);
    this.sent.push({ topic, text });
    client.publish(topic, text, { qos: 1 });
    // end() sends what is written, then closes; the client then gives up without DISCONNECT.
    client.stream.end();
    client.end(true);
  }

  state(overrides: Partial<LockState> = {}): LockState {
    const head = this.records[this.records.length - 1];
    return {
      deviceId: this.deviceId,
      org: this.org,
      at: formatInstant(this.now()),
      bolt: "thrown",
      door: "closed",
      cycle: { phase: "idle", codesRequired: 2, codesGiven: 0 },
      timeLocked: false,
      blocked: false,
      activeAlarms: [],
      trustedTime: true,
      auditHead: { seq: head?.seq ?? 0, hash: head?.hash ?? GENESIS_HASH },
      ...overrides,
    };
  }

  async publishState(overrides: Partial<LockState> = {}): Promise<void> {
    await this.publish(topics.state(this.org, this.deviceId), this.state(overrides), true);
  }

  async publishAvailability(status: "online" | "offline"): Promise<void> {
    await this.publishAvailabilityOn(this.#client(), status);
  }

  async publishAvailabilityOn(client: MqttClient, status: "online" | "offline"): Promise<void> {
    const topic = topics.availability(this.org, this.deviceId);
    const text = this.sign("availability", { status, at: formatInstant(this.now()) });
    this.sent.push({ topic, text });
    await client.publishAsync(topic, text, { qos: 1, retain: true });
  }

  /** A device message signed with this lock's key (or `signWith`) and its next device seq. */
  sign<T extends DeviceMessageType>(
    type: T,
    body: DeviceMessageBody<T>,
    signWith: Uint8Array = this.signing.secretKey,
  ): string {
    this.deviceSeq += 1;
    return signDeviceMessage(
      type,
      body,
      { deviceId: this.deviceId, keyId: `${this.deviceId}-k1`, secretKey: signWith },
      this.deviceSeq,
      this.now(),
    );
  }

  /** Appends a record to the lock's own chain (not yet published). */
  appendAudit(kind: AuditEventKind, data: Record<string, unknown> = {}): AuditRecord {
    const previous = this.records[this.records.length - 1];
    const record = chainAuditRecord(
      {
        deviceId: this.deviceId,
        seq: (previous?.seq ?? 0) + 1,
        at: formatInstant(this.now()),
        kind,
        actor: null,
        data,
      },
      previous?.hash ?? GENESIS_HASH,
    );
    this.records.push(record);
    return record;
  }

  async publishAudit(records: readonly AuditRecord[]): Promise<void> {
    await this.publish(topics.event(this.org, this.deviceId), { type: "audit", records });
  }

  async publishCheckpoint(signWith: Uint8Array = this.signing.secretKey): Promise<void> {
    const head = this.records[this.records.length - 1];
    const checkpoint = signCheckpoint(
      {
        deviceId: this.deviceId,
        seq: head?.seq ?? 0,
        headHash: head?.hash ?? GENESIS_HASH,
        at: formatInstant(this.now()),
        keyId: `${this.deviceId}-signing`,
      },
      signWith,
    );
    await this.publish(topics.event(this.org, this.deviceId), { type: "checkpoint", checkpoint });
  }

  /**
   * Signs and publishes what a lock says on `topic`: a LockState on `state`, an Availability
   * on `availability`, `{type: "audit", records}`, `{type: "alarm", alarm}` or
   * `{type: "checkpoint", checkpoint}` on `event`, a CommandResult on `cmd/result`.
   */
  async publish(topic: string, message: unknown, retain = false): Promise<void> {
    const text = this.signFor(topic, message);
    this.sent.push({ topic, text });
    await this.publishRaw(topic, text, retain);
  }

  /** Publishes `text` exactly as given (unsigned forgeries, replays). */
  async publishRaw(topic: string, text: string, retain = false): Promise<void> {
    await this.#client().publishAsync(topic, text, { qos: 1, retain });
  }

  /** The signed envelope text for `message` as `publish` would send it on `topic`. */
  signFor(topic: string, message: unknown, signWith?: Uint8Array): string {
    const kind = topic.split("/").slice(4).join("/");
    const sign = <T extends DeviceMessageType>(type: T, body: unknown) =>
      this.sign(type, body as DeviceMessageBody<T>, signWith);
    switch (kind) {
      case "state":
        return sign("state", message);
      case "availability":
        return sign("availability", message);
      case "cmd/result":
        return sign("result", message);
      case "event": {
        const event = message as {
          type: string;
          records?: unknown;
          alarm?: unknown;
          checkpoint?: unknown;
        };
        if (event.type === "audit") return sign("audit", { records: event.records });
        if (event.type === "alarm") return sign("alarm", event.alarm);
        if (event.type === "checkpoint") return sign("checkpoint", event.checkpoint);
        throw new Error(`no device message for event type ${event.type}`);
      }
      default:
        throw new Error(`a lock does not publish on ${topic}`);
    }
  }

  #client(): MqttClient {
    if (this.client === undefined) throw new Error("lock is not connected");
    return this.client;
  }

  /** Resolves once `predicate` holds, checked after every message (or fails after `ms`). */
  async until(predicate: () => boolean, ms = 5_000, what = "condition"): Promise<void> {
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#listeners = this.#listeners.filter((listener) => listener !== check);
        reject(new Error(`timed out waiting for ${what}`));
      }, ms);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.#listeners = this.#listeners.filter((listener) => listener !== check);
        resolve();
      };
      this.#listeners.push(check);
    });
  }

  commandsOfType(type: CommandType): OpenedCommand[] {
    return this.received
      .filter((entry) => entry.command.type === type)
      .map((entry) => entry.command);
  }

  #onMessage(topic: string, payload: Buffer): void {
    const kind = topic.endsWith("/sync") ? "sync" : "cmd";
    const opened = openCommand(payload, {
      deviceId: this.deviceId,
      now: this.now(),
      keys: this.trust,
      replayGuard: this.replayGuard,
    });
    if (!opened.ok) {
      this.refused.push({ topic: kind, ...opened.error });
      void this.#answer({
        id: peekEnvelopeId(payload) ?? "unknown",
        deviceId: this.deviceId,
        at: formatInstant(this.now()),
        status: "error",
        error: opened.error,
      });
    } else {
      this.received.push({ topic: kind, command: opened.value });
      const data = this.#apply(opened.value);
      void this.#answer({
        id: opened.value.id,
        deviceId: this.deviceId,
        at: formatInstant(this.now()),
        status: "ok",
        data,
      });
    }
    for (const listener of [...this.#listeners]) listener();
  }

  #apply(command: OpenedCommand): Record<string, unknown> {
    switch (command.type) {
      case "time.sync":
        this.clockOffsetMs += parseInstant(command.body.time) - this.now();
        return {};
      case "audit.ack": {
        this.ackedUpTo = command.body.upToSeq;
        // As a real lock does: the acknowledgement itself goes into the log.
        const record = this.appendAudit("audit.acknowledged", { upToSeq: command.body.upToSeq });
        void this.publishAudit([record]).catch(() => undefined);
        return { upToSeq: command.body.upToSeq };
      }
      case "audit.gapRequest": {
        const { fromSeq, toSeq } = command.body;
        const resend = this.records.filter(
          (record) => record.seq >= fromSeq && record.seq <= toSeq,
        );
        if (resend.length > 0) void this.publishAudit(resend).catch(() => undefined);
        return { fromSeq, toSeq };
      }
      case "fleetKey.install": {
        this.trust.set(command.body.keyId, fromBase64url(command.body.publicKey));
        if (command.body.retire !== undefined) this.trust.delete(command.body.retire);
        return { keyId: command.body.keyId };
      }
      default:
        return {};
    }
  }

  async #answer(result: CommandResult): Promise<void> {
    if (!this.answer || this.client === undefined) return;
    this.results.push(result);
    await this.client
      .publishAsync(topics.cmdResult(this.org, this.deviceId), this.sign("result", result), {
        qos: 1,
      })
      .catch(() => undefined);
  }
}
