/**
 * Fleet device benchmarks (SPEC §5 "Reconnect storms"; issue 5 `npm run bench`): locks
 * connected to one fleet process and the time for all of them to come back after an outage,
 * embedded broker side by side with Mosquitto; command round trip p50/p99; audit records
 * ingested per second. Figures are printed, never asserted.
 *
 * LOCKFLEET_BENCH_LOCKS sets the number of locks (default 5000; 10000 is the SPEC figure).
 */
import { type ChildProcess, fork } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type AuditRecord,
  chainAuditRecord,
  DEFAULT_LOCK_POLICY,
  ed25519,
  formatInstant,
  fromBase64url,
  GENESIS_HASH,
  signDeviceMessage,
  toBase64url,
  topics,
} from "@lockfleet/protocol";
import type Database from "better-sqlite3";
import Fastify from "fastify";
import { connectAsync } from "mqtt";
import { recordFigure } from "../../scripts/bench-figures.js";
import { DeviceRepository } from "../src/devices/device-repository.js";
import { DeviceHub, type DeviceHubOptions } from "../src/devices/hub.js";
import { SecretBox } from "../src/secrets.js";
import { openDatabase } from "../src/storage/db.js";
import { FleetStore } from "../src/storage/fleet-store.js";
import { profiled } from "./cpu-profile.js";
import type { SwarmLock, SwarmReply, SwarmRequest } from "./lock-swarm.js";

const here = dirname(fileURLToPath(import.meta.url));
const log = Fastify({ logger: false }).log;
const MOSQUITTO_URL = process.env.LOCKFLEET_BENCH_MOSQUITTO ?? "mqtt://127.0.0.1:1883";

interface Fleet {
  dir: string;
  db: Database.Database;
  secrets: SecretBox;
  orgId: string;
  locks: SwarmLock[];
  hubOptions: Omit<DeviceHubOptions, "mqtt">;
}

/** A database with `count` enrolled locks (written directly: enrolment is not measured here). */
async function provision(count: number): Promise<Fleet> {
  const dir = mkdtempSync(join(tmpdir(), "lockfleet-bench-"));
  const db = openDatabase(join(dir, "fleet.db"));
  const secrets = new SecretBox(randomBytes(32));
  const orgId = `org_${randomBytes(8).toString("hex")}`;
  const now = formatInstant(Date.now());
  const branchId = `br_${randomBytes(8).toString("hex")}`;
  const containerId = `ct_${randomBytes(8).toString("hex")}`;
  db.prepare("INSERT INTO orgs (id, kind, name, created_at) VALUES (?, 'bank', 'Bench', ?)").run(
    orgId,
    now,
  );
  db.prepare(
    "INSERT INTO branches (id, org_id, name, branch_type, time_zone, created_at) VALUES (?, ?, 'B', 'branch', 'UTC', ?)",
  ).run(branchId, orgId, now);
  db.prepare(
    `INSERT INTO containers (id, org_id, branch_id, name, type, grade, lock_class, policy, created_at)
     VALUES (?, ?, ?, 'C', 'gaa', 'III', 'B', ?, ?)`,
  ).run(containerId, orgId, branchId, JSON.stringify(DEFAULT_LOCK_POLICY), now);
  const hubOptions = {
    store: new FleetStore(db),
    dataDir: dir,
    log,
    secrets,
    timeSyncIntervalMs: 0,
    offlineGraceMs: 10 * 60_000,
  };
  // A first start creates the fleet key the locks are provisioned with.
  const first = await DeviceHub.start({ ...hubOptions, mqtt: { port: 0, plain: true } });
  const keyIds = first.fleetPublicKeys().map((key) => key.keyId);
  await first.close();
  const repository = new DeviceRepository(db);
  const locks: SwarmLock[] = [];
  const run = randomBytes(3).toString("hex");
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      // A fresh id range per run: an external broker may still hold earlier runs' messages.
      const deviceId = `lock-${run}${i.toString(16).padStart(6, "0")}`;
      const password = randomBytes(24).toString("base64url");
      // Each lock its own device key: every message it sends is verified with it.
      const signing = ed25519.generateKeyPair();
      repository.insertDevice({
        deviceId,
        orgId,
        containerId,
        signingPublicKey: toBase64url(signing.publicKey),
        encryptionPublicKey: toBase64url(signing.publicKey),
        mqttUsername: deviceId,
        mqttPasswordHash: createHash("sha256").update(password).digest("hex"),
        hardwareProfile: "bench",
        firmware: "bench",
        enrolledAt: now,
        trustedKeyIds: keyIds,
      });
      locks.push({
        deviceId,
        org: orgId,
        password,
        signingSecretKey: toBase64url(signing.secretKey),
      });
    }
  })();
  return { dir, db, secrets, orgId, locks, hubOptions };
}

class Swarm {
  readonly #child: ChildProcess;
  readonly #replies: Array<(reply: SwarmReply) => void> = [];

  constructor() {
    this.#child = fork(join(here, "lock-swarm.ts"), [], {
      execArgv: process.execArgv,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.#child.on("message", (reply: SwarmReply) => this.#replies.shift()?.(reply));
  }

  request(request: SwarmRequest): Promise<SwarmReply> {
    return new Promise((resolve) => {
      this.#replies.push(resolve);
      this.#child.send(request);
    });
  }

  kill(): void {
    if (this.#child.exitCode === null) this.#child.kill();
  }
}

/**
 * The simulated locks spread over several child processes (LOCKFLEET_BENCH_SWARMS, default
 * one per 9,000 locks), each within its own file-descriptor limit; replies are merged.
 */
class SwarmGroup {
  readonly #swarms: Swarm[];

  constructor(locks: number) {
    const wanted = Number(process.env.LOCKFLEET_BENCH_SWARMS ?? Math.ceil(locks / 9_000));
    this.#swarms = Array.from({ length: Math.max(1, wanted) }, () => new Swarm());
  }

  async request(request: SwarmRequest): Promise<SwarmReply> {
    const count = this.#swarms.length;
    const replies = await Promise.all(
      this.#swarms.map((swarm, index) =>
        swarm.request(
          request.op === "start"
            ? {
                ...request,
                locks: request.locks.filter((_, i) => i % count === index),
                concurrency: Math.ceil(request.concurrency / count),
              }
            : request,
        ),
      ),
    );
    const first = replies[0] as SwarmReply;
    if (first.op === "connected") {
      const all = replies as Array<Extract<SwarmReply, { op: "connected" }>>;
      return {
        op: "connected",
        count: all.reduce((sum, reply) => sum + reply.count, 0),
        failed: all.reduce((sum, reply) => sum + reply.failed, 0),
        retried: all
          .map((reply) => reply.retried)
          .filter((text) => text !== "")
          .join("; "),
        ms: Math.max(...all.map((reply) => reply.ms)),
      };
    }
    if (first.op === "stopped") {
      const all = replies as Array<Extract<SwarmReply, { op: "stopped" }>>;
      return {
        op: "stopped",
        answered: all.reduce((sum, reply) => sum + reply.answered, 0),
        refused: all.reduce((sum, reply) => sum + reply.refused, 0),
      };
    }
    return first;
  }

  kill(): void {
    for (const swarm of this.#swarms) swarm.kill();
  }
}

/**
 * Milliseconds until the hub has seen every lock come online (counted from `since`), and how
 * many it had not seen when `timeoutMs` ran out.
 */
function allOnline(
  hub: DeviceHub,
  ids: ReadonlySet<string>,
  since: number,
  timeoutMs: number,
): Promise<{ ms: number; missing: number }> {
  return new Promise((resolve) => {
    const waiting = new Set(ids);
    const finish = () => {
      clearTimeout(timer);
      hub.off("availability", listener);
      resolve({ ms: performance.now() - since, missing: waiting.size });
    };
    const timer = setTimeout(finish, timeoutMs);
    const listener = (deviceId: string, status: "online" | "offline") => {
      if (status === "online" && waiting.delete(deviceId) && waiting.size === 0) finish();
    };
    hub.on("availability", listener);
  });
}

function allOffline(hub: DeviceHub, ids: ReadonlySet<string>, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const waiting = new Set(ids);
    const finish = () => {
      clearTimeout(timer);
      hub.off("availability", listener);
      resolve();
    };
    const timer = setTimeout(finish, timeoutMs);
    const listener = (deviceId: string, status: "online" | "offline") => {
      if (status === "offline" && waiting.delete(deviceId) && waiting.size === 0) finish();
    };
    hub.on("availability", listener);
  });
}

interface MemorySample {
  rss: number;
  heapUsed: number;
}

/** The fleet process's memory, after a full collection when node runs with --expose-gc. */
function fleetMemory(): MemorySample {
  globalThis.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
}

interface StormFigures {
  label: string;
  locks: number;
  /** CPU time of the fleet process (all threads) while the locks came back. */
  stormCpuMs: number;
  /** The fleet process before the locks connect and with all of them online. */
  memory?: { idle: MemorySample; connected: MemorySample };
  cold: { ms: number; missing: number };
  storm: { ms: number; missing: number };
  failed: number;
}

async function reconnectStorm(
  label: string,
  count: number,
  mqtt: DeviceHubOptions["mqtt"],
  extra: Partial<DeviceHubOptions> = {},
  keep?: (hub: DeviceHub, fleet: Fleet) => Promise<void>,
): Promise<StormFigures> {
  const fleet = await provision(count);
  const hub = await DeviceHub.start({ ...fleet.hubOptions, ...extra, mqtt });
  const swarm = new SwarmGroup(count);
  const ids = new Set(fleet.locks.map((lock) => lock.deviceId));
  try {
    const url = "url" in mqtt ? mqtt.url : hub.brokerUrl;
    await swarm.request({ op: "ping" }); // the child has started and loaded its modules
    const idle = fleetMemory();
    let since = performance.now();
    let online = allOnline(hub, ids, since, 60_000);
    const cold = (await swarm.request({
      op: "start",
      url,
      locks: fleet.locks,
      fleetKeys: hub.fleetPublicKeys(),
      concurrency: 1000,
    })) as Extract<SwarmReply, { op: "connected" }>;
    if (cold.retried !== "") console.log(`  (first connect, retried: ${cold.retried})`);
    const coldOnline = await online;
    const connected = fleetMemory();
    // Outage: every connection cut at once, the broker publishes each last will.
    const offline = allOffline(hub, ids, 30_000);
    await swarm.request({ op: "drop" });
    await offline;
    since = performance.now();
    online = allOnline(hub, ids, since, 60_000);
    const cpuBefore = process.cpuUsage();
    const { storm, stormOnline } = await profiled(`storm-${label.split(" ")[0]}`, async () => {
      const storm = (await swarm.request({ op: "reconnect" })) as Extract<
        SwarmReply,
        { op: "connected" }
      >;
      return { storm, stormOnline: await online };
    });
    const cpu = process.cpuUsage(cpuBefore);
    const stormCpuMs = (cpu.user + cpu.system) / 1000;
    if (storm.retried !== "") console.log(`  (reconnect, retried: ${storm.retried})`);
    const refusals = new Map<string, number>();
    for (const event of hub.securityEvents()) {
      const key = `${event.kind} ${event.reason.split(":")[0]}`;
      refusals.set(key, (refusals.get(key) ?? 0) + 1);
    }
    if (refusals.size > 0) {
      console.log(`  (security events: ${[...refusals].map(([k, n]) => `${n}× ${k}`).join("; ")})`);
      console.log(`  e.g. ${hub.securityEvents()[0]?.reason}`);
    }
    if (keep !== undefined) {
      // After a storm the hub spreads each lock's time sync over 30 s (STORM_SPREAD_MS): what
      // follows is measured with the locks online and that wave over.
      const settleMs = Number(process.env.LOCKFLEET_BENCH_SETTLE_MS ?? 35_000);
      await new Promise((resolve) => setTimeout(resolve, settleMs));
      await keep(hub, fleet);
    }
    const stopped = await swarm.request({ op: "stop" });
    if (stopped.op === "stopped" && stopped.refused > 0) {
      console.log(`  ! ${stopped.refused} commands refused by the simulated locks`);
    }
    if ("url" in mqtt) await clearRetained(mqtt.url, fleet.locks);
    return {
      label,
      locks: count,
      // Only the embedded broker's connections live in this process, and only the first storm
      // of a run starts from a process that has not just freed an earlier one's memory.
      ...("url" in mqtt || keep === undefined ? {} : { memory: { idle, connected } }),
      cold: coldOnline,
      storm: stormOnline,
      stormCpuMs,
      failed: cold.failed + storm.failed,
    };
  } finally {
    swarm.kill();
    await hub.close();
    fleet.db.close();
    rmSync(fleet.dir, { recursive: true, force: true });
  }
}

/** An external broker keeps retained messages: remove the benchmark's. */
async function clearRetained(url: string, locks: readonly SwarmLock[]): Promise<void> {
  const client = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
  await Promise.all(
    locks.flatMap((lock) => [
      client.publishAsync(topics.state(lock.org, lock.deviceId), "", { qos: 1, retain: true }),
      client.publishAsync(topics.availability(lock.org, lock.deviceId), "", {
        qos: 1,
        retain: true,
      }),
    ]),
  );
  await client.endAsync();
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * Command round trips at rising numbers in flight: the headline figure at 32, and the load at
 * which p99 crosses 100 ms (the fleet's answer time a person waiting at a dashboard notices).
 */
async function commandRoundTrip(hub: DeviceHub, fleet: Fleet): Promise<void> {
  const levels = [1, 4, 16, 32, 64, 128];
  let crossed: { inFlight: number; perSecond: number; p99: number } | undefined;
  let lastBelow: { inFlight: number; perSecond: number } | undefined;
  for (const inFlight of levels) {
    const figures =
      inFlight === 32
        ? await profiled("commands-32", () => commandsInFlight(hub, fleet, inFlight, 2_000))
        : await commandsInFlight(hub, fleet, inFlight, 400);
    if (figures.p99 <= 100) lastBelow = { inFlight, perSecond: figures.perSecond };
    else if (crossed === undefined) crossed = { inFlight, ...figures };
  }
  const online = `${fleet.locks.length} locks online`;
  if (lastBelow !== undefined) {
    recordFigure(
      `commands/s with p99 ≤ 100 ms (${online})`,
      "commands/s",
      lastBelow.perSecond,
      "higher",
    );
  }
  console.log(
    crossed === undefined
      ? `  command p99 stayed ≤ 100 ms up to ${levels.at(-1)} in flight`
      : `  command p99 crosses 100 ms at ${crossed.inFlight} in flight: ${crossed.perSecond.toFixed(0)} commands/s, p99 ${crossed.p99.toFixed(1)} ms` +
          (lastBelow === undefined
            ? ""
            : ` (last below: ${lastBelow.perSecond.toFixed(0)} commands/s at ${lastBelow.inFlight} in flight)`),
  );
}

async function commandsInFlight(
  hub: DeviceHub,
  fleet: Fleet,
  inFlight: number,
  total: number,
): Promise<{ perSecond: number; p99: number }> {
  const targets = fleet.locks.slice(0, 200);
  const samples: number[] = [];
  let next = 0;
  let missing = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) {
        const lock = targets[next++ % targets.length] as SwarmLock;
        const t0 = performance.now();
        const result = await hub.sendCommand(
          lock.deviceId,
          "selfTest.request",
          {},
          {
            waitMs: 10_000,
          },
        );
        if (result === undefined) missing += 1;
        else samples.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = performance.now() - started;
  samples.sort((a, b) => a - b);
  const perSecond = (samples.length / elapsed) * 1000;
  const p99 = percentile(samples, 99);
  if (inFlight === 32) {
    const online = `${fleet.locks.length} locks online, 32 in flight`;
    recordFigure(`command round trip p50 (${online})`, "ms", percentile(samples, 50), "lower");
    recordFigure(`command round trip p99 (${online})`, "ms", p99, "lower");
    recordFigure(`commands/s (${online})`, "commands/s", perSecond, "higher");
  }
  console.log(
    `  command round trip (signed, stored, verified by the lock, result stored; ${inFlight} in flight, ${fleet.locks.length} locks online): ` +
      `p50 ${percentile(samples, 50).toFixed(1)} ms, p99 ${percentile(samples, 99).toFixed(1)} ms, ` +
      `${((samples.length / elapsed) * 1000).toFixed(0)} commands/s${missing > 0 ? `, ${missing} unanswered` : ""}`,
  );
  return { perSecond, p99 };
}

/** Locks publishing pre-built audit chains as fast as the fleet takes them. */
async function auditIngest(): Promise<void> {
  const lockCount = 20;
  const batches = 25;
  const perBatch = 100;
  const fleet = await provision(lockCount);
  const hub = await DeviceHub.start({ ...fleet.hubOptions, mqtt: { port: 0, plain: true } });
  const clients: Awaited<ReturnType<typeof connectAsync>>[] = [];
  try {
    const chains = fleet.locks.map((lock) => {
      const records: AuditRecord[] = [];
      let prev = GENESIS_HASH;
      for (let seq = 1; seq <= batches * perBatch; seq++) {
        const record = chainAuditRecord(
          {
            deviceId: lock.deviceId,
            seq,
            at: formatInstant(Date.now()),
            kind: "code.rejected",
            actor: "person-1",
            data: { slot: seq % 100 },
          },
          prev,
        );
        prev = record.hash;
        records.push(record);
      }
      return records;
    });
    for (const lock of fleet.locks) {
      clients.push(
        await connectAsync(hub.brokerUrl, {
          protocolVersion: 4,
          clientId: lock.deviceId,
          username: lock.deviceId,
          password: lock.password,
          reconnectPeriod: 0,
        }),
      );
    }
    // One device signature per batch, made before the clock starts (the lock's cost, not the
    // fleet's); the fleet verifies each one on ingest.
    let seq = Date.now() * 1000;
    const signed = fleet.locks.map((lock, index) => {
      const chain = chains[index] as AuditRecord[];
      const key = {
        deviceId: lock.deviceId,
        keyId: `${lock.deviceId}-k1`,
        secretKey: fromBase64url(lock.signingSecretKey),
      };
      return Array.from({ length: batches }, (_, b) =>
        signDeviceMessage(
          "audit",
          { records: chain.slice(b * perBatch, (b + 1) * perBatch) },
          key,
          ++seq,
          Date.now(),
        ),
      );
    });
    const total = lockCount * batches * perBatch;
    let stored = 0;
    const done = new Promise<void>((resolve) => {
      hub.on("audit", (_deviceId, records) => {
        stored += records.length;
        if (stored >= total) resolve();
      });
    });
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    await profiled("audit-ingest", async () => {
      await Promise.all(
        fleet.locks.map(async (lock, index) => {
          const client = clients[index];
          for (const text of signed[index] as string[]) {
            await client?.publishAsync(topics.event(lock.org, lock.deviceId), text, { qos: 1 });
          }
        }),
      );
      await done;
    });
    const elapsed = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    // CPU time moves far less with the machine's load than wall time: what one free core
    // would do is 1 s over this. It is the whole process's: the simulated locks' MQTT clients
    // and the broker run in it too, so the fleet's own share is smaller.
    const cpuMicrosPerRecord = (cpu.user + cpu.system) / total;
    recordFigure(
      "audit ingest, signed batches of 100, chain and signature verified, full sync",
      "records/s",
      (total / elapsed) * 1000,
      "higher",
    );
    recordFigure(
      "audit ingest: CPU per record (whole process: locks, broker, fleet)",
      "µs",
      cpuMicrosPerRecord,
      "lower",
    );
    console.log(
      `  audit ingest (batch signature and chain verified, stored with synchronous=FULL, acked; ${lockCount} locks, batches of ${perBatch}): ` +
        `${total} records in ${(elapsed / 1000).toFixed(2)} s = ${((total / elapsed) * 1000).toFixed(0)} records/s; ` +
        `CPU ${cpuMicrosPerRecord.toFixed(1)} µs per record (${(1e6 / cpuMicrosPerRecord).toFixed(0)} records/s on one free core)`,
    );
  } finally {
    await Promise.all(clients.map((client) => client.endAsync().catch(() => undefined)));
    await hub.close();
    fleet.db.close();
    rmSync(fleet.dir, { recursive: true, force: true });
  }
}

function printStorm(figures: StormFigures): void {
  const name = `${figures.label}, ${figures.locks} locks`;
  // A phase that did not finish has no time: how many locks were missing at its timeout.
  for (const [phase, figure] of [
    ["first connect", figures.cold],
    ["all back after an outage", figures.storm],
  ] as const) {
    if (figure.missing === 0) recordFigure(`${name}: ${phase}`, "s", figure.ms / 1000, "lower");
    else {
      recordFigure(
        `${name}: ${phase}, locks missing after ${(figure.ms / 1000).toFixed(0)} s`,
        "locks",
        figure.missing,
        "lower",
      );
    }
  }
  const cpuPerLock = figures.stormCpuMs / figures.locks;
  recordFigure(`${name}: fleet process CPU per lock back`, "ms", cpuPerLock, "lower");
  console.log(
    `  fleet process CPU while they came back: ${(figures.stormCpuMs / 1000).toFixed(1)} s = ${cpuPerLock.toFixed(2)} ms per lock`,
  );
  if (figures.memory !== undefined) {
    const { idle, connected } = figures.memory;
    // Per lock that was connected when measured (a first connect may have timed out).
    const online = Math.max(1, figures.locks - figures.cold.missing);
    const perLock = (connected.rss - idle.rss) / online / 1024;
    const heapPerLock = (connected.heapUsed - idle.heapUsed) / online / 1024;
    recordFigure(
      `${name}: fleet process RSS with all connected`,
      "MiB",
      connected.rss / 1024 ** 2,
      "lower",
    );
    recordFigure(`${name}: fleet process memory per connected lock (RSS)`, "KiB", perLock, "lower");
    recordFigure(`${name}: fleet process heap per connected lock`, "KiB", heapPerLock, "lower");
    console.log(
      `  fleet process with ${online} locks connected: RSS ${(idle.rss / 1024 ** 2).toFixed(0)} → ${(connected.rss / 1024 ** 2).toFixed(0)} MiB = ${perLock.toFixed(1)} KiB per lock (heap ${heapPerLock.toFixed(1)} KiB per lock)`,
    );
  }
  const seconds = (phase: { ms: number; missing: number }) =>
    phase.missing === 0
      ? `${(phase.ms / 1000).toFixed(2)} s`
      : `not all within ${(phase.ms / 1000).toFixed(0)} s (${phase.missing} missing)`;
  console.log(
    `  ${figures.label.padEnd(50)} ${String(figures.locks).padStart(6)} locks: ` +
      `first connect ${seconds(figures.cold)}, all back online after outage ${seconds(figures.storm)}` +
      (figures.failed > 0 ? ` (${figures.failed} connections failed)` : ""),
  );
}

async function mosquittoReachable(): Promise<boolean> {
  try {
    const client = await connectAsync(MOSQUITTO_URL, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 1_500,
    });
    await client.endAsync();
    return true;
  } catch {
    return false;
  }
}

export async function runDeviceBenchmarks(): Promise<void> {
  const count = Number(process.env.LOCKFLEET_BENCH_LOCKS ?? 5_000);
  // "embedded" | "mosquitto" | "baseline" | "audit": run one part only.
  const only = process.env.LOCKFLEET_BENCH_ONLY;
  const wanted = (part: string) => only === undefined || only === part;
  console.log(
    "reconnect storm: each lock subscribes to cmd+sync and keeps retained state and availability; " +
      "times are counted on the fleet (every lock's availability seen)",
  );
  let embedded: StormFigures | undefined;
  if (wanted("embedded")) {
    embedded = await reconnectStorm(
      "embedded aedes, indexed retained store",
      count,
      { port: 0, plain: true },
      {},
      commandRoundTrip,
    );
    printStorm(embedded);
  }
  if (wanted("mosquitto")) {
    if (await mosquittoReachable()) {
      const mosquitto = await reconnectStorm(`Mosquitto (${MOSQUITTO_URL}), external`, count, {
        url: MOSQUITTO_URL,
      });
      printStorm(mosquitto);
      // A ratio with a phase that timed out would compare a timeout, not a broker.
      if (embedded !== undefined && embedded.storm.missing === 0 && mosquitto.storm.missing === 0) {
        // The machine's load moves both; their ratio in one run is the comparable figure.
        const ratio = embedded.storm.ms / mosquitto.storm.ms;
        recordFigure(
          `all back after an outage, embedded ÷ Mosquitto, ${count} locks`,
          "×",
          ratio,
          "lower",
        );
        console.log(
          `  all back after an outage: embedded broker ${ratio.toFixed(2)}× Mosquitto's time`,
        );
      }
    } else {
      console.log(`  Mosquitto not reachable at ${MOSQUITTO_URL}: skipped`);
    }
  }
  if (wanted("baseline")) {
    // aedes' own store is quadratic in a storm: run it smaller so the suite stays short.
    const baseline = Math.min(count, 2_000);
    printStorm(
      await reconnectStorm(
        "embedded aedes, default retained store (baseline)",
        baseline,
        { port: 0, plain: true },
        { unindexedRetainedStore: true },
      ),
    );
  }
  if (wanted("audit")) await auditIngest();
}
