/**
 * The embedded default (`npm start` → `lockfleet-sim demo`): one process with the fleet
 * (fastify API and dashboard, embedded aedes broker, SQLite in the data directory) and the
 * demo's branches and locks, each lock a virtual board running the real device runtime.
 */
import { existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { buildApp } from "@lockfleet/fleet";
import { DemoError, messageOf } from "./errors.js";
import { FleetClient } from "./fleet-client.js";
import type { DemoOptions } from "./options.js";
import { fleetInitCommand } from "./parts.js";
import { putPeopleOnLocks } from "./rights.js";
import {
  checkerLogin,
  type DemoLogin,
  type DemoWorld,
  firstAdmin,
  readWorld,
  seedWorld,
  writeWorld,
} from "./seed.js";
import { runRoutine, runStory, type StoryResult } from "./story.js";
import { type DemoLock, demoKek, enrolLock, startLock } from "./virtual-locks.js";

type FleetApp = Awaited<ReturnType<typeof buildApp>>;

export interface RunningDemo {
  /** Where the dashboard and the API answer, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  /** Where the locks connect, e.g. mqtt://127.0.0.1:1884 */
  readonly brokerUrl: string;
  readonly world: DemoWorld;
  readonly locks: readonly DemoLock[];
  /** The scripted story (CIT window and crew opening); undefined with `story: false`. */
  readonly story: Promise<StoryResult> | undefined;
  stop(): Promise<void>;
}

export interface DemoIo {
  /** One line for the person watching. */
  say(line: string): void;
}

/** Fails with the setting to change when something already listens on a port. */
async function assertPortFree(port: number, host: string, setting: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE" || error.code === "EACCES"
          ? portTaken(port, host, setting, error.code)
          : new DemoError(
              "E_DEMO_PORT",
              `cannot listen on ${host}:${port} (${setting}): ${error.message}`,
            ),
      );
    });
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

function portTaken(port: number, host: string, setting: string, code = "EADDRINUSE"): DemoError {
  return new DemoError(
    "E_DEMO_PORT_TAKEN",
    code === "EACCES"
      ? `port ${port} on ${host} needs privileges; choose another with ${setting}`
      : `port ${port} on ${host} is already in use; stop what listens there or choose another with ${setting}`,
  );
}

function isAddressInUse(error: unknown): boolean {
  return (
    (error as NodeJS.ErrnoException | undefined)?.code === "EADDRINUSE" ||
    /EADDRINUSE/.test(messageOf(error))
  );
}

export async function startDemo(options: DemoOptions, io: DemoIo): Promise<RunningDemo> {
  await assertPortFree(options.port, options.host, "--port");
  await assertPortFree(options.mqttPort, options.host, "--mqtt-port");
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  let world = readWorld(options.dataDir);
  const fleetDir = join(options.dataDir, "fleet");
  // A new world starts with the bank's first security admin, set up before the fleet serves.
  let newAdmin: DemoLogin | undefined;
  let newChecker: DemoLogin | undefined;
  if (world === undefined) {
    if (existsSync(join(fleetDir, "fleet.db"))) {
      throw new DemoError(
        "E_DEMO_DATA",
        `${options.dataDir} holds a fleet but no demo.json (an earlier start was interrupted while setting up); delete the directory or choose another --data`,
      );
    }
    const admin = firstAdmin();
    await fleetInitCommand()(fleetDir, admin);
    newAdmin = admin.login;
    newChecker = admin.secondLogin;
  }
  let app: FleetApp;
  try {
    app = await buildApp({
      dataDir: fleetDir,
      // Locks reach the demo's broker over TLS as they would a real fleet's: a self-signed
      // certificate made once in the fleet's data directory, pinned by each lock at enrolment.
      mqtt: { port: options.mqttPort, host: options.host, tls: "self-signed" },
    });
  } catch (error) {
    if (isAddressInUse(error)) throw portTaken(options.mqttPort, options.host, "--mqtt-port");
    throw new DemoError("E_DEMO_FLEET_START", messageOf(error), { cause: error });
  }
  const locks: DemoLock[] = [];
  const stopping = new AbortController();
  const stop = async () => {
    stopping.abort();
    for (const lock of locks.splice(0)) {
      await lock.runtime.stop().catch(() => {});
      lock.board.close();
    }
    await app.close();
  };
  try {
    try {
      await app.listen({ port: options.port, host: options.host });
    } catch (error) {
      if (isAddressInUse(error)) throw portTaken(options.port, options.host, "--port");
      throw error;
    }
    const address = app.server.address();
    const port = typeof address === "object" && address !== null ? address.port : options.port;
    const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`;
    const brokerUrl = app.hub.brokerUrl;

    if (world === undefined && newAdmin !== undefined && newChecker !== undefined) {
      world = await seedWorld({
        baseUrl: url,
        adminLogin: newAdmin,
        secondLogin: newChecker,
        demo: options,
        now: Date.now(),
      });
      writeWorld(options.dataDir, world);
    }
    if (world === undefined) throw new DemoError("E_DEMO_DATA", "no demo world");
    const adminLogin = world.logins.find((login) => login.role === "securityAdmin");
    if (adminLogin === undefined)
      throw new DemoError("E_DEMO_DATA", "the demo world has no security admin");
    const admin = await FleetClient.login(url, adminLogin.email, adminLogin.password);

    const locksDir = join(options.dataDir, "locks");
    const kek = demoKek(locksDir);
    for (const plan of world.locks) {
      if (plan.deviceId === undefined) {
        plan.deviceId = await enrolLock(plan, { admin, fleetUrl: url, locksDir, kek });
        writeWorld(options.dataDir, world);
      }
    }
    for (const plan of world.locks) {
      if (plan.deviceId === undefined)
        throw new DemoError("E_DEMO_DATA", `${plan.name} was not enrolled`);
      locks.push(await startLock(plan, plan.deviceId, { brokerUrl, locksDir, kek }));
    }
    await Promise.all(
      locks.map((lock) =>
        lock.runtime.waitOnline(15_000).catch((error: unknown) => {
          throw new DemoError(
            "E_DEMO_LOCK_OFFLINE",
            `${lock.deviceId} (${lock.plan.container}) did not reach the broker at ${brokerUrl}: ${messageOf(error)}`,
          );
        }),
      ),
    );

    if (world.locks.some((plan) => plan.users.length === 0)) {
      const second = checkerLogin(world);
      const checker = await FleetClient.login(url, second.email, second.password);
      await putPeopleOnLocks(admin, checker, world, locks, io.say);
      writeWorld(options.dataDir, world);
    }

    const first = locks[0];
    const theWorld = world;
    const story =
      options.story && first !== undefined
        ? runStory({
            baseUrl: url,
            world: theWorld,
            lock: first,
            say: io.say,
            signal: stopping.signal,
            doorOpenMs: options.doorOpenSec * 1000,
          })
        : undefined;
    // Meanwhile bank staff open the other containers now and then, starting with the ATM
    // (no time delay): live countdowns and openings on the dashboard from the first minute.
    if (options.story && options.routineSec > 0) {
      void runRoutine({
        world: theWorld,
        locks,
        say: io.say,
        everyMs: options.routineSec * 1000,
        doorOpenMs: options.doorOpenSec * 1000,
        signal: stopping.signal,
      });
    }
    return { url, brokerUrl, world: theWorld, locks, story, stop };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}
