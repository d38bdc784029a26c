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

  /**
   * Cuts the link, waits for lockOffline, runs `during` while the lock keeps opening on its own,
   * heals the link and waits for lockOffline to clear; returns the last seq stored at the cut.
   */
  async function partition(during: () => Promise<void>): Promise<number> {
    const storedAtCut = records().at(-1)?.seq ?? 0;
    proxy.cut();
    await until("lockOffline raised at the fleet", () => openAlarm("lockOffline"), 60_000).catch(
      (error: unknown) => {
        throw new Error(
          `${String(error)}\ndevice: ${JSON.stringify(db.device(deviceId).availability)} alarms: ${JSON.stringify(db.alarms(deviceId))}\nlock: ${lastView()}\nfleet: ${fleet.lines.slice(-20).join("\n")}`,
        );
      },
    );
    await during();
    proxy.heal();
    await until("lockOffline cleared", () => !openAlarm("lockOffline"), 30_000);
    return storedAtCut;
  }

  /** The lock's records after `seq`, read from the fleet. */
  const since = (seq: number) => records().filter((record) => record.seq > seq);
  const command = (type: string, waitMs = 0) =>
    fleet.api<{ commandId: string; status: string; result: { error?: { code: string } } | null }>(
      "POST",
      `/devices/${deviceId}/commands`,
      seed.tokens.securityAdmin,
      { type, waitMs },
    );
  /** The fleet's view of the lock against what the lock itself shows (bolt, door, cycle). */
  const viewsAgree = () => {
    const state = db.device(deviceId).state as {
      bolt: string;
      door: string;
      cycle: { phase: string };
    } | null;
    const view = lastView();
    return (
      state !== null &&
      view.includes(` bolt=${state.bolt} `) &&
      view.includes(` door=${state.door} `) &&
      view.includes(` cycle=${state.cycle.phase} `)
    );
  };

  it("a partition of seconds: lockOffline raised and cleared, the lock opens on its own, the backlog arrives in order", async () => {
    await until("a sealed opening at the fleet", () =>
      records().some((record) => record.kind === "lock.relocked"),
    );
    const openings = () =>
      lock.stdout.filter((line) => line.startsWith("auto-open: opened and closed")).length;
    let opened = 0;
    const storedAtCut = await partition(async () => {
      const before = openings();
      await until("an opening during the partition", () => openings() > before, 30_000);
      opened = openings() - before;
    });
    expect(opened).toBeGreaterThanOrEqual(1);
    await until("the backlog at the fleet", () =>
      since(storedAtCut).some((record) => record.kind === "lock.relocked"),
    );
    // In order, without a gap or a duplicate: seq 1, 2, 3, … with one chain.
    const stored = records();
    expect(stored.map((record) => record.seq)).toEqual(stored.map((_, index) => index + 1));
    expect(db.alarms(deviceId, "lockOffline")).toEqual([{ alarm: "lockOffline", cleared: true }]);
    await until("the fleet's view of the lock converges", viewsAgree);
  }, 150_000);

  it("a partition of three simulated days: the backlog carries the lock's times, a command that waited it out is refused, views converge", async () => {
    let queued = "";
    const cutAt = Date.now();
    const storedAtCut = await partition(async () => {
      // Sent while the lock is unreachable, valid for the fleet's 5 minutes; then three days pass
      // for both sides while the lock keeps opening.
      const sent = await command("selfTest.request");
      expect(sent.body.status).toBe("sent");
      queued = sent.body.commandId;
      fleetClock.set(3 * DAY);
      lockClock.set(3 * DAY);
      const before = lock.stdout.length;
      await until("an opening days later", () =>
        lock.stdout.slice(before).some((line) => line.startsWith("auto-open: opened and closed")),
      );
    });
    await until("the backlog at the fleet", () =>
      since(storedAtCut).some(
        (record) => record.kind === "lock.relocked" && Date.parse(record.at) > cutAt + 2.9 * DAY,
      ),
    );
    // The command that waited out the partition reached the lock expired, and was refused.
    const refused = await until("the queued command refused by the lock", () =>
      records().find((record) => record.kind === "command.rejected" && record.data.id === queued),
    );
    expect(refused.data.code).toBe("E_EXPIRED");
    expect(
      records().some((record) => record.kind === "command.accepted" && record.data.id === queued),
    ).toBe(false);
    const stored = records();
    expect(stored.map((record) => record.seq)).toEqual(stored.map((_, index) => index + 1));
    expect(db.alarms(deviceId, "lockOffline").every((alarm) => alarm.cleared)).toBe(true);
    // Both clocks moved together: nothing to correct, and commands work again.
    expect(db.alarms(deviceId, "clockDrift")).toEqual([]);
    expect((await command("selfTest.request", 10_000)).body.status).toBe("ok");
    await until("the fleet's view of the lock converges", viewsAgree);
  }, 150_000);

  it("the lock's clock jumping back is corrected by the fleet; jumping forward needs two officers' confirmed correction", async () => {
    // Back by two hours: the fleet measures it, raises clockDrift and moves the lock forward.
    let mark = records().at(-1)?.seq ?? 0;
    lockClock.set(3 * DAY - 2 * 3600_000);
    const forward = await until("the lock's clock moved forward by the fleet", () =>
      since(mark).find((record) => record.kind === "time.changed"),
    );
    expect(Number(forward.data.jumpMs)).toBeGreaterThan(2 * 3600_000 - 60_000);
    await until("clockDrift raised and cleared", () =>
      db.alarms(deviceId, "clockDrift").some((alarm) => alarm.cleared),
    );

    // Forward by two hours (on top of the correction): the lock refuses to go back that far on a
    // time sync, and refuses the fleet's commands as expired in its clock.
    mark = records().at(-1)?.seq ?? 0;
    lockClock.set(3 * DAY + 2 * 3600_000);
    await until("clockDrift open", () => openAlarm("clockDrift"));
    const sync = await command("time.sync", 10_000);
    expect(sync.body.result?.error?.code).toBe("E_TIME_BACKWARDS");
    const refused = await command("selfTest.request", 10_000);
    expect(refused.body.result?.error?.code).toBe("E_EXPIRED");
    // Two officers confirm the correction; the signed time.set moves the lock back.
    const proposed = await fleet.api<{ id: string }>(
      "POST",
      `/devices/${deviceId}/clock-corrections`,
      seed.tokens.securityAdmin,
      { reason: "real-time clock jumped forward" },
    );
    expect(proposed.status).toBe(201);
    mark = records().at(-1)?.seq ?? 0;
    const approved = await fleet.api(
      "POST",
      `/clock-corrections/${proposed.body.id}/approve`,
      seed.tokens.secondOfficer,
    );
    expect(approved.status).toBe(200);
    const back = await until("the lock's clock set back", () =>
      since(mark).find((record) => record.kind === "time.changed"),
    );
    expect(Number(back.data.jumpMs)).toBeLessThan(-(4 * 3600_000 - 120_000));
    await until("clockDrift cleared", () => !openAlarm("clockDrift"));
    expect((await command("selfTest.request", 10_000)).body.status).toBe("ok");
  }, 90_000);

  it("a fleet with a wrong clock: the lock keeps its own time and takes no command until the fleet's clock is right", async () => {
    const mark = records().at(-1)?.seq ?? 0;
    // The fleet's clock falls an hour behind (the lock's stays right).
    fleetClock.set(3 * DAY - 3600_000);
    await until("clockDrift open", () => openAlarm("clockDrift"));
    // Its time sync would move the lock back an hour: refused (too far back, or stated in a
    // clock the lock no longer shares), as is every other command, stated in the wrong clock.
    const sync = await command("time.sync", 10_000);
    expect(["E_TIME_BACKWARDS", "E_EXPIRED"]).toContain(sync.body.result?.error?.code);
    const refused = await command("selfTest.request", 10_000);
    expect(refused.body.result?.error?.code).toBe("E_EXPIRED");
    expect(since(mark).some((record) => record.kind === "time.changed")).toBe(false);
    // The fleet's clock is put right: the drift clears and commands work again.
    fleetClock.set(3 * DAY);
    await until("clockDrift cleared", () => !openAlarm("clockDrift"), 45_000);
    expect((await command("selfTest.request", 10_000)).body.status).toBe("ok");
  }, 60_000);

  it("afterwards: every acknowledged record stored once, one chain, every command applied at most once", async () => {
    // Everything the lock has printed so far reaches the fleet; then it stops.
    const printedHead = () =>
      Math.max(0, ...lock.stdout.map((line) => Number(/^audit #(\d+) /.exec(line)?.[1] ?? 0)));
    await until("the fleet caught up", () => (records().at(-1)?.seq ?? 0) >= printedHead());
    const caughtUp = records().at(-1)?.seq ?? 0;
    await sleep(1000); // the acknowledgement of what was stored last reaches the lock
    await lock.stop("SIGTERM");
    const ledger = lockLedger(lockDir, deviceId);
    const figures = checkLedgers(ledger, records());
    expect(figures.acknowledged).toBeGreaterThanOrEqual(caughtUp);
    expect(
      ledger.records.some(
        (record) => record.kind === "alarm.raised" && record.data.alarm === "lockJammed",
      ),
    ).toBe(false);
  }, 30_000);
});
