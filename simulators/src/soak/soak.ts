/**
 * The soak run (`npm run soak -- --minutes N`): the demo world — `lockfleet-sim demo` in a
 * process of its own (fleet, embedded broker, its three virtual locks, the CIT story and the
 * bank staff's routine openings) — plus two `lockfleet-sim lock --auto-open` processes enrolled
 * at it that reach its broker through a TCP proxy. For N minutes random faults hit it: a
 * lock's power cut (SIGKILL, started again), the demo process killed and started again on its
 * data directory (the fleet and its own locks at once), the proxy cut for seconds, wrong codes
 * typed at a lock, its door forced open and held. Then everything stops cleanly and both
 * sides' SQLite files are compared into a consistency report.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AuditRecord } from "@lockfleet/protocol";
import Database from "better-sqlite3";
import { FleetClient } from "../demo/fleet-client.js";
import { readWorld } from "../demo/seed.js";
import { SimulatorError } from "../errors.js";
import { compareLedgers, type LedgerComparison, readLockLedger } from "./ledgers.js";
import { TcpProxy } from "./tcp-proxy.js";

const LAUNCHER = fileURLToPath(new URL("../../bin/lockfleet-sim.js", import.meta.url));

export interface SoakOptions {
  minutes: number;
  /** Where the world lives (a new temporary directory by default). */
  dataDir?: string;
  /** Seed of the fault sequence (the same seed, the same sequence of choices). */
  seed?: number;
  say: (line: string) => void;
}

export type FaultKind = "lockPowerCut" | "fleetRestart" | "partition" | "wrongCodes" | "doorForced";

export interface SoakReport {
  minutes: number;
  seed: number;
  faults: Record<FaultKind, number>;
  locks: Array<{ name: string; deviceId: string } & LedgerComparison>;
  alarms: Array<{ kind: string; raised: number; cleared: number; open: number }>;
  windows: { total: number; closedBySeal: number; byStatus: Record<string, number> };
  consistent: boolean;
}

/** A small deterministic generator (mulberry32), so that a run can be repeated by its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen({ port: 0, host: "127.0.0.1" }, () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** One child process whose output is kept line by line. */
class Child {
  readonly lines: string[] = [];
  readonly exited: Promise<void>;
  constructor(readonly process: ChildProcess) {
    let rest = "";
    const collect = (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split("\n");
      rest = lines.pop() ?? "";
      this.lines.push(...lines);
      if (this.lines.length > 5000) this.lines.splice(0, this.lines.length - 5000);
    };
    process.stdout?.on("data", collect);
    process.stderr?.on("data", collect);
    this.exited = new Promise((resolve) => process.on("exit", () => resolve()));
  }
  async waitFor(pattern: RegExp, timeoutMs: number, what: string): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.lines.some((line) => pattern.test(line))) {
      if (this.process.exitCode !== null || this.process.signalCode !== null) {
        throw new SimulatorError(
          "E_SOAK",
          `${what}: the process ended\n${this.lines.slice(-20).join("\n")}`,
        );
      }
      if (Date.now() > end)
        throw new SimulatorError("E_SOAK", `${what} did not happen within ${timeoutMs} ms`);
      await sleep(200);
    }
  }
  async stop(signal: NodeJS.Signals): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill(signal);
    }
    await this.exited;
  }
}

interface SoakLock {
  name: string;
  dataDir: string;
  args: string[];
  child: Child;
  deviceId: string;
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const seed = options.seed ?? Date.now() % 2 ** 31;
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const between = (min: number, max: number) => Math.round(min + next() * (max - min));
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "lockfleet-soak-"));
  const say = options.say;
  const [port, mqttPort] = [await freePort(), await freePort()];
  const demoArgs = [
    LAUNCHER,
    "demo",
    "--data",
    join(dataDir, "demo"),
    "--port",
    String(port),
    "--mqtt-port",
    String(mqttPort),
    "--time-delay-min",
    "0",
    "--routine-sec",
    "20",
    "--door-open-sec",
    "3",
  ];
  const startDemo = async () => {
    const demo = new Child(
      spawn(process.execPath, demoArgs, { stdio: ["ignore", "pipe", "pipe"] }),
    );
    await demo.waitFor(/lockfleet demo is running/, 180_000, "the demo starting");
    return demo;
  };
  say(`soak: ${options.minutes} min, seed ${seed}, data in ${dataDir}`);
  let demo = await startDemo();
  const world = readWorld(join(dataDir, "demo"));
  if (world === undefined) throw new SimulatorError("E_SOAK", "the demo wrote no world");
  const admin = world.logins.find((login) => login.role === "securityAdmin");
  if (admin === undefined)
    throw new SimulatorError("E_SOAK", "the demo world has no security admin");
  const fleetUrl = `http://127.0.0.1:${port}`;
  const client = await FleetClient.login(fleetUrl, admin.email, admin.password);

  // Two locks of its own, enrolled at the demo's containers, behind a proxy that can be cut.
  const proxy = new TcpProxy({ host: "127.0.0.1", port: mqttPort });
  const proxyPort = await proxy.listen();
  const startLock = (lock: Omit<SoakLock, "child" | "deviceId">) =>
    new Child(
      spawn(process.execPath, [LAUNCHER, "lock", ...lock.args], {
        stdio: ["pipe", "pipe", "pipe"],
      }),
    );
  const locks: SoakLock[] = [];
  for (const [index, plan] of world.locks.slice(0, 2).entries()) {
    const { token } = await client.post<{ token: string }>("enrolment-tokens", {
      containerId: plan.containerId,
    });
    const name = `soak-${index + 1}`;
    const lockDir = join(dataDir, name);
    const args = [
      "--data",
      lockDir,
      "--fleet",
      fleetUrl,
      "--token",
      token,
      "--auto-open",
      "6s",
      "--broker-url",
      `mqtts://127.0.0.1:${proxyPort}`,
    ];
    const child = startLock({ name, dataDir: lockDir, args });
    await child.waitFor(/fleet=online/, 120_000, `${name} online`);
    const deviceId = /^lock (lock-[0-9a-z-]+) started/
      .exec(child.lines.find((line) => /^lock lock-/.test(line)) ?? "")
      ?.at(1);
    if (deviceId === undefined) throw new SimulatorError("E_SOAK", `${name} named no device id`);
    locks.push({ name, dataDir: lockDir, args, child, deviceId });
  }

  const faults: Record<FaultKind, number> = {
    lockPowerCut: 0,
    fleetRestart: 0,
    partition: 0,
    wrongCodes: 0,
    doorForced: 0,
  };
  const type = (lock: SoakLock, line: string) => lock.child.process.stdin?.write(`${line}\n`);
  const end = Date.now() + options.minutes * 60_000;
  let partitionUntil = 0;
  while (Date.now() < end) {
    await sleep(between(5_000, 15_000));
    if (Date.now() >= end) break;
    const kind = pick<FaultKind>([
      "lockPowerCut",
      "lockPowerCut",
      "fleetRestart",
      "partition",
      "partition",
      "wrongCodes",
      "doorForced",
    ]);
    const lock = pick(locks);
    faults[kind] += 1;
    switch (kind) {
      case "lockPowerCut": {
        say(`fault: power cut at ${lock.name}`);
        await lock.child.stop("SIGKILL");
        await sleep(between(500, 3000));
        lock.child = startLock(lock);
        await lock.child.waitFor(/started, at fleet/, 120_000, `${lock.name} restarting`);
        break;
      }
      case "fleetRestart": {
        say("fault: the demo process (fleet, broker, its locks) killed and started again");
        await demo.stop("SIGKILL");
        await sleep(between(500, 3000));
        demo = await startDemo();
        break;
      }
      case "partition": {
        const holdMs = between(3_000, 30_000);
        say(`fault: link to the broker cut for ${Math.round(holdMs / 1000)} s`);
        proxy.cut();
        partitionUntil = Date.now() + holdMs;
        setTimeout(() => {
          if (Date.now() >= partitionUntil) proxy.heal();
        }, holdMs).unref();
        break;
      }
      case "wrongCodes": {
        const count = between(1, 5);
        say(`fault: ${count} wrong code(s) at ${lock.name}`);
        for (let entry = 0; entry < count; entry += 1) type(lock, "0100000000#");
        break;
      }
      case "doorForced": {
        const holdMs = between(2_000, 8_000);
        say(`fault: door of ${lock.name} forced open for ${Math.round(holdMs / 1000)} s`);
        type(lock, "o");
        await sleep(holdMs);
        type(lock, "c");
        break;
      }
    }
  }

  // Quiet: the link back, every lock caught up, then everything stops cleanly.
  say("soak: faults over; letting every lock catch up");
  partitionUntil = 0;
  proxy.heal();
  await sleep(20_000);
  await Promise.all(locks.map((lock) => lock.child.stop("SIGTERM")));
  await demo.stop("SIGINT");
  await proxy.close();
  return report({ options, seed, faults, dataDir, locks, world });
}

function report(input: {
  options: SoakOptions;
  seed: number;
  faults: Record<FaultKind, number>;
  dataDir: string;
  locks: SoakLock[];
  world: NonNullable<ReturnType<typeof readWorld>>;
}): SoakReport {
  const db = new Database(join(input.dataDir, "demo", "fleet", "fleet.db"), { readonly: true });
  try {
    const stored = (deviceId: string) =>
      (
        db
          .prepare("SELECT record FROM device_audit WHERE device_id = ? ORDER BY seq")
          .all(deviceId) as Array<{ record: string }>
      ).map((row) => JSON.parse(row.record) as AuditRecord);
    const ledgers = [
      ...input.world.locks.map((plan) => ({
        name: plan.name,
        deviceId: plan.deviceId ?? "",
        dataDir: join(input.dataDir, "demo", "locks", plan.name),
      })),
      ...input.locks.map((lock) => ({
        name: lock.name,
        deviceId: lock.deviceId,
        dataDir: lock.dataDir,
      })),
    ].map((lock) => ({
      name: lock.name,
      deviceId: lock.deviceId,
      ...compareLedgers(readLockLedger(lock.dataDir, lock.deviceId), stored(lock.deviceId)),
    }));
    const alarms = db
      .prepare(
        `SELECT kind, SUM(occurrences) AS raised,
           SUM(CASE WHEN cleared_at IS NOT NULL THEN 1 ELSE 0 END) AS cleared,
           SUM(CASE WHEN cleared_at IS NULL THEN 1 ELSE 0 END) AS open
         FROM alarms GROUP BY kind ORDER BY kind`,
      )
      .all() as SoakReport["alarms"];
    const statuses = db
      .prepare("SELECT status, COUNT(*) AS count FROM access_windows GROUP BY status")
      .all() as Array<{ status: string; count: number }>;
    const closedBySeal = (
      db
        .prepare(
          "SELECT COUNT(*) AS count FROM access_windows WHERE status = 'closed' AND closed_by_device IS NOT NULL",
        )
        .get() as { count: number }
    ).count;
    return {
      minutes: input.options.minutes,
      seed: input.seed,
      faults: input.faults,
      locks: ledgers,
      alarms,
      windows: {
        total: statuses.reduce((sum, row) => sum + row.count, 0),
        closedBySeal,
        byStatus: Object.fromEntries(statuses.map((row) => [row.status, row.count])),
      },
      consistent: ledgers.every((lock) => lock.problems.length === 0),
    };
  } finally {
    db.close();
  }
}

/** The report as a person reads it. */
export function formatSoakReport(report: SoakReport): string {
  const lines = [
    `soak report: ${report.minutes} min, seed ${report.seed}`,
    `faults: ${Object.entries(report.faults)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(", ")}`,
    "lock               written  acked  stored  missing  dup  differ  chain     commands  twice",
    ...report.locks.map(
      (lock) =>
        `${`${lock.name} ${lock.deviceId}`.padEnd(18).slice(0, 18)} ${String(lock.written).padStart(7)} ${String(lock.acknowledged).padStart(6)} ${String(lock.stored).padStart(7)} ${String(lock.missing).padStart(8)} ${String(lock.duplicates).padStart(4)} ${String(lock.differing).padStart(7)}  ${(lock.chainBreak === undefined ? "verifies" : "BROKEN").padEnd(8)} ${String(lock.commandsAccepted).padStart(9)} ${String(lock.commandsTwice).padStart(6)}`,
    ),
    `alarms (raised / cleared / still open): ${report.alarms
      .map((alarm) => `${alarm.kind} ${alarm.raised}/${alarm.cleared}/${alarm.open}`)
      .join(", ")}`,
    `windows: ${report.windows.total}, closed by the lock's close seal ${report.windows.closedBySeal} (${Object.entries(
      report.windows.byStatus,
    )
      .map(([status, count]) => `${status} ${count}`)
      .join(", ")})`,
    report.consistent
      ? "CONSISTENT: every acknowledged record stored once and unchanged, every chain verifies, no command applied twice"
      : `INCONSISTENT: ${report.locks.flatMap((lock) => lock.problems.map((problem) => `${lock.name}: ${problem}`)).join("; ")}`,
  ];
  return lines.join("\n");
}
