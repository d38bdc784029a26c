/**
 * A fleet in a process of its own for the fleet-side fault tests: the real `lockfleet-fleet
 * serve` on a data directory seeded once (a bank with two officers, a CIT company, containers,
 * API tokens), killed with real signals and started again on the same directory and ports;
 * a TCP proxy between the locks and the broker that can be cut; and the ledgers read straight
 * from both sides' SQLite files afterwards (the lock's store, the fleet's database).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { type AuditRecord, DEFAULT_LOCK_POLICY, type LockPolicy } from "@lockfleet/protocol";
import Database from "better-sqlite3";
import {
  createFixture,
  type FixtureRole,
  type OtherAccount,
} from "../../../fleet/test/fixtures.js";
import { compareLedgers, type LockLedger } from "../../src/soak/ledgers.js";
import { FLEET_LAUNCHER, until } from "./processes.js";

export { readLockLedger as lockLedger } from "../../src/soak/ledgers.js";
export { TcpProxy } from "../../src/soak/tcp-proxy.js";

/** A port that was free a moment ago (bound on port 0, then released). */
export function freePort(): Promise<number> {
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

export interface SeededFleet {
  dataDir: string;
  bankId: string;
  citId: string;
  tokens: Record<FixtureRole | OtherAccount, string>;
  crewPersonId: string;
  /** Containers of the bank with a time delay of 0 (locks open within seconds). */
  containers: string[];
  /** A container under a contract without standing windows: each window needs two officers. */
  windowContainer: string;
  remove(): void;
}

/**
 * The fixture's world, written to a data directory and left there for a `serve` process: the
 * fixture's app is closed, its files stay.
 */
export async function seedFleet(
  containerCount: number,
  policy: Partial<LockPolicy> = {},
): Promise<SeededFleet> {
  const fixture = await createFixture();
  const { orgs, contracts } = fixture.app.repos;
  const container = () =>
    orgs.createContainer({
      orgId: fixture.bank.id,
      branchId: fixture.branch.id,
      name: `Safe ${Math.random().toString(36).slice(2, 7)}`,
      type: "safe",
      grade: "IV",
      lockClass: "C",
      policy: { ...DEFAULT_LOCK_POLICY, timeDelayMin: 0, ...policy },
    }).id;
  const containers = Array.from({ length: containerCount }, container);
  const windowContainer = container();
  contracts.create({
    bankOrgId: fixture.bank.id,
    citOrgId: fixture.cit.id,
    name: "Route without standing windows",
    containerIds: [windowContainer],
    standingWindows: [],
    now: fixture.clock.now(),
  });
  await fixture.app.close();
  return {
    dataDir: fixture.dataDir,
    bankId: fixture.bank.id,
    citId: fixture.cit.id,
    tokens: fixture.tokens,
    crewPersonId: fixture.accounts.citCrew.person.id,
    containers,
    windowContainer,
    remove: () => rmSync(fixture.dataDir, { recursive: true, force: true }),
  };
}

export interface FleetProcessOptions {
  dataDir: string;
  httpPort: number;
  mqttPort: number;
  /** Further `serve` flags (offline grace, time syncs, the address locks are told, …). */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Node flags before the launcher (a clock preload). */
  nodeArgs?: string[];
}

/** One `lockfleet-fleet serve` process. */
export class FleetProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly url: string;
  private constructor(
    readonly child: ChildProcess,
    readonly options: FleetProcessOptions,
  ) {
    this.url = `http://127.0.0.1:${options.httpPort}`;
    let rest = "";
    const collect = (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split("\n");
      rest = lines.pop() ?? "";
      this.lines.push(...lines);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    this.exited = new Promise((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal })),
    );
  }

  /** Starts serve and resolves once it listens (the broker is up before HTTP listens). */
  static async start(options: FleetProcessOptions): Promise<FleetProcess> {
    const child = spawn(
      process.execPath,
      [
        ...(options.nodeArgs ?? []),
        FLEET_LAUNCHER,
        "serve",
        "--data-dir",
        options.dataDir,
        "--http-port",
        String(options.httpPort),
        // the embedded broker, plain, unless an external broker is named
        ...(options.args?.includes("--broker-url")
          ? []
          : ["--mqtt-host", "127.0.0.1", "--mqtt-port", String(options.mqttPort)]),
        ...(options.args?.includes("--broker-url") ? [] : ["--mqtt-plain", "true"]),
        "--log-level",
        "warn",
        ...(options.args ?? []),
      ],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...options.env } },
    );
    const fleet = new FleetProcess(child, options);
    let ended = false;
    void fleet.exited.then(() => {
      ended = true;
    });
    await until(
      "the fleet listening",
      () => {
        if (ended) throw new Error(`the fleet ended before listening:\n${fleet.lines.join("\n")}`);
        return fleet.lines.some((line) => line.startsWith("fleet listening on"));
      },
      60_000,
    );
    return fleet;
  }

  /** Starts the same fleet again on its data directory and ports. */
  restart(): Promise<FleetProcess> {
    return FleetProcess.start(this.options);
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }

  async api<T = unknown>(
    method: "GET" | "POST",
    path: string,
    token: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(new URL(`/api/v1${path}`, this.url), {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text === "" ? undefined : JSON.parse(text)) as T };
  }

  async enrolmentToken(seed: SeededFleet, containerId: string): Promise<string> {
    const issued = await this.api<{ token: string }>(
      "POST",
      "/enrolment-tokens",
      seed.tokens.securityAdmin,
      { containerId },
    );
    if (issued.status !== 201) throw new Error(`enrolment token: ${issued.status}`);
    return issued.body.token;
  }
}

/** What the fleet's database holds, read while the fleet runs (WAL readers never block it). */
export class FleetDb {
  readonly #db: Database.Database;
  constructor(dataDir: string) {
    this.#db = new Database(join(dataDir, "fleet.db"), { readonly: true, fileMustExist: true });
  }
  audit(deviceId: string): AuditRecord[] {
    return (
      this.#db
        .prepare("SELECT record FROM device_audit WHERE device_id = ? ORDER BY seq")
        .all(deviceId) as Array<{ record: string }>
    ).map((row) => JSON.parse(row.record) as AuditRecord);
  }
  alarms(deviceId: string, alarm?: string): Array<{ alarm: string; cleared: boolean }> {
    return (
      this.#db
        .prepare(
          "SELECT kind, cleared_at FROM alarms WHERE device_id = ? AND (? IS NULL OR kind = ?) ORDER BY raised_at",
        )
        .all(deviceId, alarm ?? null, alarm ?? null) as Array<{
        kind: string;
        cleared_at: string | null;
      }>
    ).map((row) => ({ alarm: row.kind, cleared: row.cleared_at !== null }));
  }
  device(deviceId: string): { availability: string; state: Record<string, unknown> | null } {
    const row = this.#db
      .prepare("SELECT availability, state FROM devices WHERE device_id = ?")
      .get(deviceId) as { availability: string; state: string | null } | undefined;
    if (row === undefined) throw new Error(`no device ${deviceId} at the fleet`);
    return {
      availability: row.availability,
      state: row.state === null ? null : (JSON.parse(row.state) as Record<string, unknown>),
    };
  }
  row<T>(sql: string, ...params: unknown[]): T | undefined {
    return this.#db.prepare(sql).get(...params) as T | undefined;
  }
  rows<T>(sql: string, ...params: unknown[]): T[] {
    return this.#db.prepare(sql).all(...params) as T[];
  }
  close(): void {
    this.#db.close();
  }
}

/** compareLedgers, failing with every disagreement named. */
export function checkLedgers(
  lock: LockLedger,
  fleet: AuditRecord[],
): { acknowledged: number; stored: number; commandsAccepted: number } {
  const compared = compareLedgers(lock, fleet);
  if (compared.problems.length > 0) {
    throw new Error(`ledgers disagree:\n${compared.problems.join("\n")}`);
  }
  return compared;
}
