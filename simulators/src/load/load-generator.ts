/**
 * The load generator: thousands of simulated locks (protocol primitives only, one MQTT
 * connection each) against a fleet's broker. It measures how long all of them take to come
 * online, then for a while publishes audit records at a set total rate (each lock signing a
 * checkpoint every few records) and answers whatever commands arrive, and reports messages
 * per second and command latencies.
 *
 * Against a broker without authentication (a Mosquitto under test) there is no fleet to send
 * commands; a fleet stand-in (`commander`) then signs time-sync commands with its own key,
 * which the locks trust, and measures each command's round trip to its result.
 */
import { randomBytes } from "node:crypto";
import {
  type AuditEventKind,
  type CommandResult,
  ed25519,
  encodeEnvelope,
  formatInstant,
  openDeviceMessage,
  parseTopic,
  signEnvelope,
  toBase64url,
  topics,
} from "@lockfleet/protocol";
import mqtt, { type MqttClient } from "mqtt";
import { LoadError } from "./enrol.js";
import { SimulatedLock, type SimulatedLockIdentity, unenrolledIdentity } from "./sim-lock.js";
import { type Percentiles, percentiles } from "./stats.js";

export interface LoadOptions {
  brokerUrl: string;
  /** Enrolled identities, or a count of unenrolled locks for a broker without authentication. */
  locks: SimulatedLockIdentity[] | { count: number; org?: string };
  /** Audit records per second across all locks [0: none]. */
  rate?: number;
  /** Each lock signs a checkpoint after this many records of its own [10]. */
  checkpointEvery?: number;
  /** Connections being set up at once [500]. */
  connectConcurrency?: number;
  /** Connection attempts per lock before it counts as failed [5]. */
  connectAttempts?: number;
  /** Commands per second the fleet stand-in sends (unenrolled locks only) [0: none]. */
  commandRate?: number;
}

export interface ConnectFigures {
  locks: number;
  online: number;
  failed: number;
  /** Milliseconds until every lock was connected, subscribed and had published its state. */
  ms: number;
  /** Why connection attempts were retried, with counts. */
  retried: string[];
}

export interface LoadReport {
  connect: ConnectFigures;
  /** Milliseconds the run published and answered after all locks were online. */
  durationMs: number;
  auditRecords: number;
  checkpoints: number;
  /** MQTT messages the locks published / received during the run. */
  published: number;
  received: number;
  messagesPerSecond: number;
  commands: {
    answered: number;
    refused: number;
    /** From the envelope's issuedAt to the lock's answer (fleet and locks share a clock here). */
    issuedToAnsweredMs: Percentiles | undefined;
  };
  /** The fleet stand-in's commands: sent, results seen, round trip to the result. */
  roundTrip?: { sent: number; results: number; ms: Percentiles | undefined };
}

const AUDIT_ROTATION: readonly AuditEventKind[] = [
  "code.accepted",
  "cycle.started",
  "cycle.cancelled",
];
const TICK_MS = 50;
/** Locks ending (or signing) at once: a burst of thousands overwhelms an embedded broker. */
const STOP_BATCH = 100;
const STAND_IN_KEY_ID = "load-fleet";

export class LoadGenerator {
  readonly locks: SimulatedLock[];
  readonly #options: LoadOptions;
  readonly #issuedToAnswered: number[] = [];
  readonly #refusals = new Map<string, number>();
  #commander: Commander | undefined;
  #connect: ConnectFigures | undefined;

  constructor(options: LoadOptions) {
    this.#options = options;
    const onCommand = (_lock: SimulatedLock, command: { issuedAt: number }) =>
      this.#issuedToAnswered.push(Date.now() - command.issuedAt);
    const onRefused = (_lock: SimulatedLock, code: string) =>
      this.#refusals.set(code, (this.#refusals.get(code) ?? 0) + 1);
    let identities: SimulatedLockIdentity[];
    if (Array.isArray(options.locks)) {
      identities = options.locks;
    } else {
      this.#commander = new Commander(
        options.locks.org ?? `load-${randomBytes(4).toString("hex")}`,
      );
      const { org } = this.#commander;
      const run = randomBytes(3).toString("hex");
      const trust = [this.#commander.publicKey];
      identities = Array.from({ length: options.locks.count }, (_, index) =>
        unenrolledIdentity(`lock-${run}${index.toString(16).padStart(6, "0")}`, org, trust),
      );
      for (const identity of identities) {
        this.#commander.trustLock(identity.deviceId, identity.signing.publicKey);
      }
    }
    this.locks = identities.map(
      (identity) => new SimulatedLock(identity, { onCommand, onRefused }),
    );
  }

  /** Refusals by reason code (for attack checks and troubleshooting). */
  get refusals(): ReadonlyMap<string, number> {
    return this.#refusals;
  }

  /** Connects every lock (with retries, as a real lock retries); resolves with the figures. */
  async connect(): Promise<ConnectFigures> {
    const started = performance.now();
    const reasons = new Map<string, number>();
    const attempts = this.#options.connectAttempts ?? 5;
    let next = 0;
    let failed = 0;
    const worker = async () => {
      while (next < this.locks.length) {
        const lock = this.locks[next++] as SimulatedLock;
        for (let attempt = 1; ; attempt++) {
          try {
            await lock.connect(this.#options.brokerUrl);
            break;
          } catch (error) {
            lock.sever();
            const reason = error instanceof Error ? error.message : String(error);
            reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
            if (attempt >= attempts) {
              failed += 1;
              break;
            }
            await sleep(200 * attempt);
          }
        }
      }
    };
    await Promise.all(
      Array.from(
        { length: Math.min(this.#options.connectConcurrency ?? 500, this.locks.length) },
        worker,
      ),
    );
    const ms = performance.now() - started;
    await this.#commander?.connect(this.#options.brokerUrl);
    this.#connect = {
      locks: this.locks.length,
      online: this.locks.filter((lock) => lock.online).length,
      failed,
      ms,
      retried: [...reasons].map(([reason, times]) => `${times}× ${reason}`),
    };
    return this.#connect;
  }

  /**
   * Publishes audit records at the set rate and lets the fleet stand-in send commands for
   * `durationMs`; then waits briefly for answers in flight and reports.
   */
  async drive(durationMs: number, signal?: AbortSignal): Promise<LoadReport> {
    const connect = this.#connect ?? (await this.connect());
    const online = this.locks.filter((lock) => lock.online);
    const before = this.#messageCounts();
    const rate = this.#options.rate ?? 0;
    const commandRate = this.#commander === undefined ? 0 : (this.#options.commandRate ?? 0);
    const checkpointEvery = this.#options.checkpointEvery ?? 10;
    let auditRecords = 0;
    let checkpoints = 0;
    let auditDue = 0;
    let commandsDue = 0;
    let cursor = 0;
    let commandCursor = 0;
    const started = performance.now();
    const pending: Array<Promise<unknown>> = [];
    const keep = (promise: Promise<unknown>) => {
      pending.push(promise.catch(() => {}));
      if (pending.length > 10_000) pending.splice(0, 5_000);
    };
    let lastTick = started;
    while (performance.now() - started < durationMs && signal?.aborted !== true) {
      await sleep(TICK_MS);
      // By the time that passed, not the ticks: a busy event loop must not lower the rate.
      const now = performance.now();
      auditDue += (rate * (now - lastTick)) / 1000;
      commandsDue += (commandRate * (now - lastTick)) / 1000;
      lastTick = now;
      while (auditDue >= 1 && online.length > 0) {
        auditDue -= 1;
        const lock = online[cursor++ % online.length] as SimulatedLock;
        const seq = lock.auditHead.seq;
        const kind = AUDIT_ROTATION[seq % AUDIT_ROTATION.length] as AuditEventKind;
        auditRecords += 1;
        keep(
          lock.audit(kind, { source: "load" }).then(async (record) => {
            // Counted in records since the last checkpoint: an acknowledgement summary written
            // ahead of a record makes the seq step by two.
            if (record.seq - lock.checkpointedSeq >= checkpointEvery) {
              checkpoints += 1;
              await lock.checkpoint();
            }
          }),
        );
      }
      while (commandsDue >= 1 && online.length > 0 && this.#commander !== undefined) {
        commandsDue -= 1;
        const lock = online[commandCursor++ % online.length] as SimulatedLock;
        keep(this.#commander.send(lock.deviceId));
      }
    }
    const ranMs = performance.now() - started;
    await Promise.all(pending);
    // Every lock signs its head before the figures are taken, as a lock does periodically.
    for (let start = 0; start < online.length; start += STOP_BATCH) {
      await Promise.all(
        online.slice(start, start + STOP_BATCH).map(async (lock) => {
          if (lock.auditHead.seq > lock.checkpointedSeq) {
            checkpoints += 1;
            await lock.checkpoint().catch(() => {});
          }
        }),
      );
    }
    await this.#commander?.settle(2000);
    const after = this.#messageCounts();
    const published = after.published - before.published;
    const received = after.received - before.received;
    const answered = this.locks.reduce((sum, lock) => sum + lock.counters.commandsAnswered, 0);
    const refused = this.locks.reduce((sum, lock) => sum + lock.counters.commandsRefused, 0);
    return {
      connect,
      durationMs: ranMs,
      auditRecords,
      checkpoints,
      published,
      received,
      messagesPerSecond: ((published + received) * 1000) / Math.max(1, ranMs),
      commands: {
        answered,
        refused,
        issuedToAnsweredMs: percentiles(this.#issuedToAnswered),
      },
      ...(this.#commander === undefined ? {} : { roundTrip: this.#commander.figures() }),
    };
  }

  /** Every lock ends cleanly (availability offline). */
  async stop(): Promise<void> {
    await this.#commander?.stop();
    const locks = [...this.locks];
    while (locks.length > 0) {
      await Promise.all(locks.splice(0, STOP_BATCH).map((lock) => lock.stop()));
    }
  }

  #messageCounts(): { published: number; received: number } {
    let published = 0;
    let received = 0;
    for (const lock of this.locks) {
      published += lock.counters.published;
      received += lock.counters.received;
    }
    return { published, received };
  }
}

/** Connects, drives for `durationMs`, stops; the whole run as one call. */
export async function runLoad(
  options: LoadOptions & { durationMs: number; signal?: AbortSignal },
): Promise<LoadReport> {
  const generator = new LoadGenerator(options);
  try {
    await generator.connect();
    return await generator.drive(options.durationMs, options.signal);
  } finally {
    await generator.stop();
  }
}

/**
 * Stands in for the fleet where there is none: signs time-sync commands with its own key
 * (which the simulated locks trust), one increasing seq per lock, and times each result.
 */
class Commander {
  readonly org: string;
  readonly #keys = ed25519.generateKeyPair();
  readonly #seq = new Map<string, number>();
  readonly #sentAt = new Map<string, number>();
  readonly #roundTrips: number[] = [];
  /** Each lock's signing key: a result counts only when the lock signed it. */
  readonly #lockKeys = new Map<string, Uint8Array>();
  #sent = 0;
  #client: MqttClient | undefined;

  constructor(org: string) {
    this.org = org;
  }

  get publicKey(): { keyId: string; publicKey: string } {
    return { keyId: STAND_IN_KEY_ID, publicKey: toBase64url(this.#keys.publicKey) };
  }

  trustLock(deviceId: string, publicKey: Uint8Array): void {
    this.#lockKeys.set(deviceId, publicKey);
  }

  async connect(url: string): Promise<void> {
    const client = await mqtt.connectAsync(url, {
      protocolVersion: 4,
      clientId: `load-fleet-${randomBytes(4).toString("hex")}`,
      clean: true,
      reconnectPeriod: 0,
    });
    client.on("error", () => {});
    client.on("message", (topic, payload) => {
      const parsed = parseTopic(topic);
      const publicKey = parsed.ok ? this.#lockKeys.get(parsed.value.deviceId) : undefined;
      if (!parsed.ok || publicKey === undefined) return;
      const opened = openDeviceMessage(payload, {
        deviceId: parsed.value.deviceId,
        topic: parsed.value.kind,
        publicKey,
        now: Date.now(),
      });
      if (!opened.ok || opened.value.type !== "result") return;
      const result: CommandResult = opened.value.body;
      const sentAt = this.#sentAt.get(result.id);
      if (sentAt === undefined) return;
      this.#sentAt.delete(result.id);
      this.#roundTrips.push(performance.now() - sentAt);
    });
    await client.subscribeAsync(`lockfleet/v1/${this.org}/+/cmd/result`, { qos: 1 });
    this.#client = client;
  }

  async send(deviceId: string): Promise<void> {
    const client = this.#client;
    if (client === undefined) {
      throw new LoadError("E_LOAD_OFFLINE", "the fleet stand-in is not connected");
    }
    const seq = (this.#seq.get(deviceId) ?? 0) + 1;
    this.#seq.set(deviceId, seq);
    const now = Date.now();
    const id = `load-${seq}-${randomBytes(4).toString("hex")}`;
    const envelope = signEnvelope(
      {
        type: "time.sync",
        deviceId,
        id,
        seq,
        issuedAt: now,
        expiresAt: now + 60_000,
        keyId: STAND_IN_KEY_ID,
        body: { time: formatInstant(now) },
      },
      this.#keys.secretKey,
    );
    this.#sentAt.set(id, performance.now());
    this.#sent += 1;
    await client.publishAsync(topics.cmd(this.org, deviceId), encodeEnvelope(envelope), {
      qos: 1,
    });
  }

  /** Waits up to `timeoutMs` for the results still outstanding. */
  async settle(timeoutMs: number): Promise<void> {
    const end = performance.now() + timeoutMs;
    while (this.#sentAt.size > 0 && performance.now() < end) await sleep(20);
  }

  figures(): NonNullable<LoadReport["roundTrip"]> {
    return {
      sent: this.#sent,
      results: this.#roundTrips.length,
      ms: percentiles(this.#roundTrips),
    };
  }

  async stop(): Promise<void> {
    await this.#client?.endAsync().catch(() => {});
    this.#client = undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
