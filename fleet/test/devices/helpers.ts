/**
 * Test fixtures for the devices part: a real SQLite file with the core and devices migrations,
 * a tenant with one container, a hub on a free port, and enrolled simulated locks.
 */
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_LOCK_POLICY } from "@lockfleet/protocol";
import type Database from "better-sqlite3";
import Fastify from "fastify";
import { DeviceHub, type DeviceHubEventMap, type DeviceHubOptions } from "../../src/devices/hub.js";
import { SecretBox } from "../../src/secrets.js";
import { MIGRATIONS_DIR, openDatabase } from "../../src/storage/db.js";
import { FleetStore } from "../../src/storage/fleet-store.js";
import { SimulatedLock, type SimulatedLockOptions } from "./simulated-lock.js";

export const silentLog = Fastify({ logger: false }).log;

export interface TestWorld {
  dir: string;
  db: Database.Database;
  secrets: SecretBox;
  hub: DeviceHub;
  orgId: string;
  containerId: string;
  locks: SimulatedLock[];
  /** Starts (again) a hub on the same database. */
  startHub(overrides?: Partial<DeviceHubOptions>): Promise<DeviceHub>;
  close(): Promise<void>;
}

/** Only the core (001–099) and devices (100–199) migrations: other parts are not under test. */
function devicesMigrations(dir: string): string {
  const target = join(dir, "migrations");
  mkdirSync(target);
  for (const file of readdirSync(MIGRATIONS_DIR)) {
    if (/^(0\d\d|1\d\d)-.*\.sql$/.test(file))
      copyFileSync(join(MIGRATIONS_DIR, file), join(target, file));
  }
  return target;
}

export function seedContainer(
  db: Database.Database,
  orgId = `org_${randomBytes(8).toString("hex")}`,
): { orgId: string; containerId: string } {
  const now = new Date().toISOString();
  const branchId = `br_${randomBytes(8).toString("hex")}`;
  const containerId = `ct_${randomBytes(8).toString("hex")}`;
  if (db.prepare("SELECT 1 FROM orgs WHERE id = ?").get(orgId) === undefined) {
    db.prepare("INSERT INTO orgs (id, kind, name, created_at) VALUES (?, 'bank', ?, ?)").run(
      orgId,
      `Bank ${orgId}`,
      now,
    );
  }
  db.prepare(
    "INSERT INTO branches (id, org_id, name, branch_type, time_zone, created_at) VALUES (?, ?, 'Main', 'branch', 'Europe/Berlin', ?)",
  ).run(branchId, orgId, now);
  db.prepare(
    `INSERT INTO containers (id, org_id, branch_id, name, type, grade, lock_class, policy, created_at)
     VALUES (?, ?, ?, 'ATM 1', 'gaa', 'IV', 'B', ?, ?)`,
  ).run(
    containerId,
    orgId,
    branchId,
    JSON.stringify({ ...DEFAULT_LOCK_POLICY, timeDelayMin: 5 }),
    now,
  );
  return { orgId, containerId };
}

export async function createWorld(
  overrides: Partial<DeviceHubOptions> = {},
  orgId?: string,
): Promise<TestWorld> {
  const dir = mkdtempSync(join(tmpdir(), "lockfleet-devices-"));
  const db = openDatabase(join(dir, "fleet.db"), { migrationsDir: devicesMigrations(dir) });
  const secrets = new SecretBox(randomBytes(32));
  const seeded = seedContainer(db, orgId);
  const world: TestWorld = {
    dir,
    db,
    secrets,
    hub: undefined as unknown as DeviceHub,
    ...seeded,
    locks: [],
    async startHub(more = {}) {
      world.hub = await DeviceHub.start({
        store: new FleetStore(db),
        dataDir: dir,
        mqtt: { port: 0, plain: true },
        log: silentLog,
        secrets,
        timeSyncIntervalMs: 0,
        // On an external broker a last will starts a presence probe; tests wait seconds, not ten.
        presenceProbeWaitMs: 1_000,
        ...overrides,
        ...more,
      });
      return world.hub;
    },
    async close() {
      for (const lock of world.locks) lock.crash();
      await world.hub?.close();
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await world.startHub();
  return world;
}

/** Enrols a new simulated lock in the world's container and connects it. */
export async function enrolLock(
  world: TestWorld,
  options: SimulatedLockOptions & { connect?: boolean; containerId?: string } = {},
): Promise<SimulatedLock> {
  const lock = new SimulatedLock(options);
  const { token } = world.hub.createEnrolmentToken({
    orgId: world.orgId,
    containerId: options.containerId ?? world.containerId,
    ttlMs: 60_000,
    createdBy: "usr_test",
  });
  lock.accept(await world.hub.enrol(lock.enrolmentRequest(token)));
  world.locks.push(lock);
  if (options.connect ?? true) await lock.connect();
  return lock;
}

/** The lock is online, has reported its state, and answers a signed command with "ok". */
export async function expectLockAnswers(world: TestWorld, lock: SimulatedLock): Promise<void> {
  await waitFor(() => world.hub.device(lock.deviceId)?.availability === "online");
  await waitFor(() => world.hub.lockState(lock.deviceId) !== undefined);
  const result = await world.hub.sendCommand(
    lock.deviceId,
    "selfTest.request",
    {},
    { waitMs: 3_000 },
  );
  if (result?.status !== "ok") {
    throw new Error(`lock ${lock.deviceId} answered ${JSON.stringify(result ?? "nothing")}`);
  }
}

/** Resolves with the arguments of the first `event` emitted that satisfies `predicate`. */
export function nextEvent<K extends keyof DeviceHubEventMap>(
  hub: DeviceHub,
  event: K,
  predicate: (...args: DeviceHubEventMap[K]) => boolean = () => true,
  ms = 5_000,
): Promise<DeviceHubEventMap[K]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: DeviceHubEventMap[K]) => {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      hub.off(event, listener as never);
      resolve(args);
    };
    const timer = setTimeout(() => {
      hub.off(event, listener as never);
      reject(new Error(`timed out waiting for hub event "${String(event)}"`));
    }, ms);
    hub.on(event, listener as never);
  });
}

export async function waitFor(
  predicate: () => boolean,
  ms = 5_000,
  what = "condition",
): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The value, or a test failure naming what was missing. */
export function defined<T>(value: T | undefined | null, what = "value"): T {
  if (value === undefined || value === null) throw new Error(`expected a ${what}`);
  return value;
}
