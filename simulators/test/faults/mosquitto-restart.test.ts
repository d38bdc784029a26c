/**
 * An external Mosquitto restarted while a lock syncs, over real processes: a Mosquitto of the
 * test's own on a free port with the dynamic-security plugin (set up as fleet/README.md says),
 * a `lockfleet-fleet serve --broker-url` process that creates the lock's broker account, and a
 * `lockfleet-sim lock --auto-open` process. The broker is killed with SIGKILL (no persistence:
 * every session and queued message is gone) and started again on the same port and accounts.
 * Checked afterwards: the lock reconnects by itself, the records it wrote meanwhile reach the
 * fleet in order, every acknowledged record is stored once, one verifying chain, no command
 * applied twice.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { service } from "../../../test-support/services.js";
import {
  checkLedgers,
  FleetDb,
  FleetProcess,
  freePort,
  lockLedger,
  type SeededFleet,
  seedFleet,
} from "./fleet-world.js";
import { SimLock, sleep, until, untilAsync } from "./processes.js";

const run = promisify(execFile);
const program = service.mosquittoProgram();
const ADMIN_PASSWORD = randomBytes(12).toString("base64url");
const FLEET_PASSWORD = randomBytes(12).toString("base64url");

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

describe.skipIf(!program.available)(
  `an external Mosquitto restarted while a lock syncs ${program.reason}`,
  () => {
    const work = mkdtempSync(join(tmpdir(), "lockfleet-faults-mosquitto-"));
    const conf = join(work, "mosquitto.conf");
    let port: number;
    let broker: ChildProcess | undefined;
    let seed: SeededFleet;
    let fleet: FleetProcess;
    let db: FleetDb;
    let lock: SimLock;
    let deviceId: string;
    const lockDir = join(work, "lock");

    const startBroker = async () => {
      broker = spawn(program.broker, ["-c", conf], { stdio: "ignore" });
      await untilAsync("Mosquitto listening", async () => listening(port), 10_000);
    };
    const ctrl = (...args: string[]) =>
      run(program.ctrl, [
        ...["-h", "127.0.0.1", "-p", String(port), "-u", "admin", "-P", ADMIN_PASSWORD],
        "dynsec",
        ...args,
      ]);

    beforeAll(async () => {
      port = await freePort();
      const dynsecFile = join(work, "dynamic-security.json");
      await run(program.ctrl, ["dynsec", "init", dynsecFile, "admin", ADMIN_PASSWORD]);
      writeFileSync(
        conf,
        [
          `listener ${port} 127.0.0.1`,
          ...(process.getuid?.() === 0 ? ["user root"] : []),
          "per_listener_settings false",
          "allow_anonymous false",
          "persistence false",
          `plugin ${program.dynsecPlugin}`,
          `plugin_opt_config_file ${dynsecFile}`,
          "",
        ].join("\n"),
      );
      await startBroker();
      await ctrl("createRole", "lockfleet-fleet");
      for (const acl of [
        "publishClientSend",
        "publishClientReceive",
        "subscribePattern",
        "unsubscribePattern",
      ]) {
        await ctrl("addRoleACL", "lockfleet-fleet", acl, "lockfleet/v1/#", "allow", "1");
      }
      await ctrl("createClient", "lockfleet-fleet", "-p", FLEET_PASSWORD);
      await ctrl("addClientRole", "lockfleet-fleet", "lockfleet-fleet");

      seed = await seedFleet(1);
      fleet = await FleetProcess.start({
        dataDir: seed.dataDir,
        httpPort: await freePort(),
        mqttPort: await freePort(),
        args: [
          "--broker-url",
          `mqtt://lockfleet-fleet:${FLEET_PASSWORD}@127.0.0.1:${port}`,
          "--broker-dynsec-url",
          `mqtt://admin:${ADMIN_PASSWORD}@127.0.0.1:${port}`,
        ],
      });
      db = new FleetDb(seed.dataDir);
      const token = await fleet.enrolmentToken(seed, seed.containers[0] as string);
      lock = new SimLock([
        "--data",
        lockDir,
        "--fleet",
        fleet.url,
        "--token",
        token,
        "--auto-open",
        "2s",
      ]);
      await lock.waitForLine(/fleet=online/);
      deviceId = lock.deviceId as string;
    }, 120_000);

    afterAll(async () => {
      await lock?.stop("SIGKILL");
      await fleet?.kill();
      broker?.kill("SIGKILL");
      db?.close();
      seed?.remove();
      rmSync(work, { recursive: true, force: true });
    });

    it("killed and started again: the lock reconnects, its backlog arrives in order, nothing twice", async () => {
      const stored = () => db.audit(deviceId);
      await until("a sealed opening at the fleet", () =>
        stored().some((record) => record.kind === "lock.relocked"),
      );
      const linesAtKill = lock.stdout.length;
      const exited = new Promise((resolve) => broker?.once("exit", resolve));
      broker?.kill("SIGKILL");
      await exited;
      const storedAtKill = stored().at(-1)?.seq ?? 0;
      await until("the lock sees its link down", () =>
        lock.stdout.slice(linesAtKill).some((line) => / fleet=offline/.test(line)),
      );
      await sleep(2500); // the lock keeps opening without a broker
      await startBroker();
      await until("the lock back online", () =>
        / fleet=online/.test(lock.stdout.filter((line) => / fleet=/.test(line)).at(-1) ?? ""),
      );
      await until(
        "the backlog at the fleet",
        () =>
          stored().some((record) => record.seq > storedAtKill && record.kind === "lock.relocked"),
        60_000,
      );
      const seqs = stored().map((record) => record.seq);
      expect(seqs).toEqual(seqs.map((_, index) => index + 1));
      await sleep(1000);
      await lock.stop("SIGTERM");
      const ledger = lockLedger(lockDir, deviceId);
      const figures = checkLedgers(ledger, stored());
      expect(figures.acknowledged).toBeGreaterThan(storedAtKill);
    }, 120_000);
  },
);
