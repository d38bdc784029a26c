/**
 * The fleet's side of trusted time (SPEC §3 "Time", §4): a lock checks every envelope's validity
 * against its own clock, so the hub states a time message's validity in that clock as it last
 * measured it — shifted by the drift, never widened by it — and waits for a fresh measurement
 * before the sync it sends on connect.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createWorld, enrolLock, nextEvent, type TestWorld, waitFor } from "./helpers.js";

const MINUTE = 60_000;

let world: TestWorld;

afterEach(async () => world.close());

describe("time sync stated in the lock's clock", () => {
  it("a time sync's validity is 60 s in the lock's clock, shifted by the measured drift, never widened", async () => {
    world = await createWorld();
    const lock = await enrolLock(world, { clockOffsetMs: 4 * MINUTE });
    await lock.until(() => lock.commandsOfType("time.sync").length >= 1, 3_000, "time sync");
    const sync = lock.commandsOfType("time.sync")[0];
    if (sync?.type !== "time.sync") throw new Error("no time sync");
    // Widened (from fleet time to lock time + 60 s) a sync held back 4 min would still be valid.
    expect(sync.expiresAt - sync.issuedAt).toBe(MINUTE);
    expect(Math.abs(sync.issuedAt - (Date.parse(sync.body.time) + 4 * MINUTE))).toBeLessThan(2_000);
    expect(lock.refused).toEqual([]);
  });

  it("a time sync from the API is stated in the lock's clock too", async () => {
    world = await createWorld();
    const lock = await enrolLock(world, { clockOffsetMs: -20_000 });
    await waitFor(() => world.hub.device(lock.deviceId)?.clockDriftMs !== null, 3_000, "drift");
    const before = lock.commandsOfType("time.sync").length;
    const result = await world.hub.sendCommand(
      lock.deviceId,
      "time.sync",
      { time: new Date().toISOString() },
      { ttlMs: MINUTE, waitMs: 3_000 },
    );
    expect(result?.status).toBe("ok");
    const sync = lock.commandsOfType("time.sync")[before];
    if (sync?.type !== "time.sync") throw new Error("no time sync");
    expect(Math.abs(sync.issuedAt - (Date.parse(sync.body.time) - 20_000))).toBeLessThan(2_000);
    expect(sync.expiresAt - sync.issuedAt).toBe(MINUTE);
  });

  it("after a restart with another clock, the on-connect sync is framed by the new measurement, not the old one", async () => {
    world = await createWorld();
    const lock = await enrolLock(world, { clockOffsetMs: 10 * MINUTE });
    await lock.until(() => lock.commandsOfType("time.sync").length >= 1, 3_000, "first sync");
    await waitFor(() => world.hub.device(lock.deviceId)?.availability === "online");
    lock.crash();
    await waitFor(() => world.hub.device(lock.deviceId)?.availability === "offline");
    // The real-time clock lost its battery: 5 min behind now, 10 min ahead when last measured.
    lock.clockOffsetMs = -5 * MINUTE;
    const synced = lock.commandsOfType("time.sync").length;
    await lock.connect();
    await lock.until(
      () => lock.commandsOfType("time.sync").length > synced,
      3_000,
      "sync after restart",
    );
    expect(lock.refused).toEqual([]);
    expect(Math.abs(lock.now() - Date.now())).toBeLessThan(5_000);
  });

  it("clockDrift is raised beyond tolerance and cleared once the lock's clock is right again", async () => {
    world = await createWorld();
    const raised = nextEvent(world.hub, "alarm", (_, alarm) => alarm.alarm === "clockDrift");
    const lock = await enrolLock(world, { clockOffsetMs: -10 * MINUTE });
    const [, alarm] = await raised;
    expect(alarm.data).toMatchObject({ source: "fleet", toleranceMs: 30_000 });
    await lock.until(() => lock.commandsOfType("time.sync").length >= 1, 3_000, "time sync");
    const cleared = nextEvent(
      world.hub,
      "alarmCleared",
      (deviceId, kind) => deviceId === lock.deviceId && kind === "clockDrift",
    );
    await lock.publishState();
    await cleared;
  });
});
