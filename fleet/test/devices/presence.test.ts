import { topics } from "@lockfleet/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createWorld, enrolLock, nextEvent, type TestWorld, waitFor } from "./helpers.js";

let world: TestWorld;

afterEach(async () => world.close());

describe("presence, clock drift and time sync", () => {
  it("a lock that connects is online, gets a signed time sync, and its retained state is cached", async () => {
    world = await createWorld({ offlineGraceMs: 200 });
    const online = nextEvent(world.hub, "availability", (_, status) => status === "online");
    const lock = await enrolLock(world);
    const [deviceId] = await online;
    expect(deviceId).toBe(lock.deviceId);
    await lock.until(() => lock.commandsOfType("time.sync").length === 1, 3_000, "time sync");
    await waitFor(() => world.hub.lockState(lock.deviceId) !== undefined);
    expect(world.hub.lockState(lock.deviceId)).toMatchObject({ bolt: "thrown", door: "closed" });
    expect(world.hub.devices(world.orgId)[0]).toMatchObject({
      deviceId: lock.deviceId,
      availability: "online",
    });
  });

  it("a lock that drops off (last will) goes offline and raises lockOffline after the grace period", async () => {
    world = await createWorld({ offlineGraceMs: 300 });
    const lock = await enrolLock(world);
    await waitFor(() => world.hub.device(lock.deviceId)?.availability === "online");
    const offline = nextEvent(
      world.hub,
      "availability",
      (id, status) => id === lock.deviceId && status === "offline",
    );
    const alarm = nextEvent(
      world.hub,
      "alarm",
      (id, raised) => id === lock.deviceId && raised.alarm === "lockOffline",
    );
    const droppedAt = Date.now();
    lock.crash();
    await offline;
    const [, raised] = await alarm;
    expect(Date.now() - droppedAt).toBeGreaterThanOrEqual(290);
    expect(raised.priority).toBe("medium");
  });

  it("a lock back within the grace period raises no offline alarm", async () => {
    world = await createWorld({ offlineGraceMs: 600 });
    const lock = await enrolLock(world);
    await waitFor(() => world.hub.device(lock.deviceId)?.availability === "online");
    const alarms: string[] = [];
    world.hub.on("alarm", (_, raised) => alarms.push(raised.alarm));
    lock.crash();
    await waitFor(() => world.hub.device(lock.deviceId)?.availability === "offline");
    await lock.connect();
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(alarms).not.toContain("lockOffline");
    expect(world.hub.device(lock.deviceId)?.availability).toBe("online");
  });

  it("a lock whose last message reaches the fleet after the broker reported its connection gone stays offline", async () => {
    world = await createWorld({ offlineGraceMs: 60_000 });
    const lock = await enrolLock(world);
    const { deviceId } = lock;
    await waitFor(() => world.hub.device(deviceId)?.availability === "online");
    const raised = nextEvent(
      world.hub,
      "alarm",
      (id, a) => id === deviceId && a.alarm === "doorForcedOpen",
    );
    // The broker reports the drop in-process at once; the alarm it relayed just before comes to
    // the fleet's client over a socket (QoS 1, through the broker's outgoing store), often after
    // that report.
    lock.publishAndCrash(topics.event(lock.org, deviceId), {
      type: "alarm",
      alarm: {
        deviceId,
        alarm: "doorForcedOpen",
        priority: "critical",
        at: new Date().toISOString(),
        auditSeq: 1,
        actor: null,
        data: {},
      },
    });
    await raised;
    await waitFor(() => world.hub.device(deviceId)?.availability === "offline", 3_000, "offline");
    // The hub settles: nothing brings the lock back online without a connection.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(world.hub.device(deviceId)?.availability).toBe("offline");
  });

  it("a lock clock 10 minutes behind raises clockDrift and is corrected by a signed time sync", async () => {
    world = await createWorld();
    const alarm = nextEvent(world.hub, "alarm", (_, raised) => raised.alarm === "clockDrift");
    const lock = await enrolLock(world, { clockOffsetMs: -10 * 60_000 });
    const [, raised] = await alarm;
    expect(raised.data).toMatchObject({ source: "fleet" });
    expect(Number(raised.data.driftMs)).toBeLessThan(-9 * 60_000);
    await lock.until(() => lock.commandsOfType("time.sync").length >= 1, 3_000, "time sync");
    expect(lock.refused).toEqual([]);
    expect(Math.abs(lock.now() - Date.now())).toBeLessThan(5_000);
  });

  it("a lock clock 10 minutes ahead accepts the time sync too", async () => {
    world = await createWorld();
    const lock = await enrolLock(world, { clockOffsetMs: 10 * 60_000 });
    await lock.until(() => lock.commandsOfType("time.sync").length >= 1, 3_000, "time sync");
    expect(lock.refused).toEqual([]);
    expect(Math.abs(lock.now() - Date.now())).toBeLessThan(5_000);
  });

  it("an alarm a lock reports is stored and emitted; one naming another lock is refused", async () => {
    world = await createWorld();
    const lock = await enrolLock(world);
    const alarm = {
      deviceId: lock.deviceId,
      alarm: "doorForcedOpen",
      priority: "critical",
      at: new Date().toISOString(),
      auditSeq: 1,
      actor: null,
      data: {},
    };
    const raised = nextEvent(
      world.hub,
      "alarm",
      (id, a) => id === lock.deviceId && a.alarm === "doorForcedOpen",
    );
    await lock.publish(topics.event(lock.org, lock.deviceId), { type: "alarm", alarm });
    await raised;
    const stored = world.db
      .prepare("SELECT source FROM device_alarms WHERE device_id = ? AND alarm = 'doorForcedOpen'")
      .pluck()
      .all(lock.deviceId);
    expect(stored).toEqual(["device"]);
    const refused = nextEvent(
      world.hub,
      "rejected",
      (id, reason) => id === lock.deviceId && reason.startsWith("E_WRONG_DEVICE"),
    );
    await lock.publish(topics.event(lock.org, lock.deviceId), {
      type: "alarm",
      alarm: { ...alarm, deviceId: "lock-ffffffffffff" },
    });
    await refused;
  });
});
