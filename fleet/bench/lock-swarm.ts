/**
 * A child process holding thousands of simulated locks as MQTT clients (one TCP connection
 * each, so the broker process and this one each stay within their own file limit). Every lock
 * connects with its credentials and a retained last will, subscribes to its command topics,
 * publishes retained state and availability, and answers each command after verifying it.
 * Every message a lock publishes (but its last will) is signed with its own device key.
 *
 * Driven over IPC by the benchmark: start, drop (all connections cut, wills fire), reconnect,
 * stop.
 */
import {
  type CommandResult,
  type DeviceMessageBody,
  type DeviceMessageType,
  formatInstant,
  fromBase64url,
  GENESIS_HASH,
  type LockState,
  MemoryReplayGuard,
  openCommand,
  peekEnvelopeId,
  signDeviceMessage,
  topics,
} from "@lockfleet/protocol";
import { connectAsync, type MqttClient } from "mqtt";

export interface SwarmLock {
  deviceId: string;
  org: string;
  password: string;
  /** The lock's device signing key (64-byte Ed25519 secret key, base64url). */
  signingSecretKey: string;
}

export type SwarmRequest =
  | {
      op: "start";
      url: string;
      locks: SwarmLock[];
      fleetKeys: Array<{ keyId: string; publicKey: string }>;
      concurrency: number;
    }
  | { op: "ping" }
  | { op: "drop" }
  | { op: "reconnect" }
  | { op: "stop" };

export type SwarmReply =
  | { op: "connected"; count: number; failed: number; retried: string; ms: number }
  | { op: "pong" }
  | { op: "dropped" }
  | { op: "stopped"; answered: number; refused: number };

let url = "";
let locks: SwarmLock[] = [];
let concurrency = 500;
const trust = new Map<string, Uint8Array>();
const clients = new Map<string, MqttClient>();
const guards = new Map<string, MemoryReplayGuard>();
const reasons = new Map<string, number>();
let answered = 0;
let refused = 0;
/** One device sequence for the whole swarm is strictly increasing for each lock too. */
let deviceSeq = Date.now() * 1000;
const secretKeys = new Map<string, Uint8Array>();

function sign<T extends DeviceMessageType>(
  lock: SwarmLock,
  type: T,
  body: DeviceMessageBody<T>,
): string {
  let secretKey = secretKeys.get(lock.deviceId);
  if (secretKey === undefined) {
    secretKey = fromBase64url(lock.signingSecretKey);
    secretKeys.set(lock.deviceId, secretKey);
  }
  deviceSeq += 1;
  return signDeviceMessage(
    type,
    body,
    { deviceId: lock.deviceId, keyId: `${lock.deviceId}-k1`, secretKey },
    deviceSeq,
    Date.now(),
  );
}

function state(lock: SwarmLock): LockState {
  return {
    deviceId: lock.deviceId,
    org: lock.org,
    at: formatInstant(Date.now()),
    bolt: "thrown",
    door: "closed",
    cycle: { phase: "idle", codesRequired: 2, codesGiven: 0 },
    timeLocked: false,
    blocked: false,
    activeAlarms: [],
    trustedTime: true,
    auditHead: { seq: 0, hash: GENESIS_HASH },
  };
}

async function connectLock(lock: SwarmLock): Promise<void> {
  const client = await connectAsync(url, {
    protocolVersion: 4,
    clientId: lock.deviceId,
    username: lock.deviceId,
    password: lock.password,
    clean: true,
    keepalive: 120,
    reconnectPeriod: 0,
    connectTimeout: 60_000,
    will: {
      topic: topics.availability(lock.org, lock.deviceId),
      payload: Buffer.from(JSON.stringify({ status: "offline" })),
      qos: 1,
      retain: true,
    },
  });
  clients.set(lock.deviceId, client);
  // As a lock's own link does: a result must not wait on Nagle's algorithm.
  (client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
  client.on("error", () => {});
  client.on("message", (_topic, payload) => answer(lock, client, payload));
  await client.subscribeAsync(
    [topics.cmd(lock.org, lock.deviceId), topics.sync(lock.org, lock.deviceId)],
    { qos: 1 },
  );
  await client.publishAsync(
    topics.state(lock.org, lock.deviceId),
    sign(lock, "state", state(lock)),
    {
      qos: 1,
      retain: true,
    },
  );
  await client.publishAsync(
    topics.availability(lock.org, lock.deviceId),
    sign(lock, "availability", { status: "online" }),
    { qos: 1, retain: true },
  );
}

function answer(lock: SwarmLock, client: MqttClient, payload: Buffer): void {
  let guard = guards.get(lock.deviceId);
  if (guard === undefined) {
    guard = new MemoryReplayGuard();
    guards.set(lock.deviceId, guard);
  }
  const opened = openCommand(payload, {
    deviceId: lock.deviceId,
    now: Date.now(),
    keys: trust,
    replayGuard: guard,
  });
  const result: CommandResult = opened.ok
    ? { id: opened.value.id, deviceId: lock.deviceId, at: formatInstant(Date.now()), status: "ok" }
    : {
        id: peekEnvelopeId(payload) ?? "unknown",
        deviceId: lock.deviceId,
        at: formatInstant(Date.now()),
        status: "error",
        error: opened.error,
      };
  if (opened.ok) answered += 1;
  else refused += 1;
  client.publish(topics.cmdResult(lock.org, lock.deviceId), sign(lock, "result", result), {
    qos: 1,
  });
}

/** mqtt.js keeps a QoS 1 publish pending across a dropped connection: give up after `ms`. */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("no answer from the broker")), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function connectAll(): Promise<SwarmReply> {
  const started = performance.now();
  let next = 0;
  let failed = 0;
  const workers = Array.from({ length: Math.min(concurrency, locks.length) }, async () => {
    while (next < locks.length) {
      const lock = locks[next++] as SwarmLock;
      // A real lock retries after a refused or reset connection; so do these.
      for (let attempt = 1; ; attempt++) {
        try {
          await withTimeout(connectLock(lock), 30_000);
          break;
        } catch (error) {
          clients.get(lock.deviceId)?.end(true);
          clients.delete(lock.deviceId);
          const reason = error instanceof Error ? error.message : String(error);
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
          if (attempt === 5) {
            failed += 1;
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
        }
      }
    }
  });
  await Promise.all(workers);
  const retried = [...reasons].map(([reason, times]) => `${times}× ${reason}`).join("; ");
  reasons.clear();
  return { op: "connected", count: clients.size, failed, retried, ms: performance.now() - started };
}

function send(reply: SwarmReply): void {
  process.send?.(reply);
}

process.on("message", async (request: SwarmRequest) => {
  switch (request.op) {
    case "start":
      url = request.url;
      locks = request.locks;
      concurrency = request.concurrency;
      for (const key of request.fleetKeys) trust.set(key.keyId, fromBase64url(key.publicKey));
      send(await connectAll());
      return;
    case "ping":
      send({ op: "pong" });
      return;
    case "drop":
      for (const client of clients.values()) {
        client.stream.destroy();
        client.end(true);
      }
      clients.clear();
      send({ op: "dropped" });
      return;
    case "reconnect":
      send(await connectAll());
      return;
    case "stop":
      await Promise.all([...clients.values()].map((client) => client.endAsync().catch(() => {})));
      send({ op: "stopped", answered, refused });
      process.exit(0);
  }
});
