/**
 * Trusted time at the device runtime over real brokers (aedes started here, the machine's
 * Mosquitto): the test plays the fleet and an attacker who holds back, replays or replaces
 * the fleet's time messages. The lock checks every envelope's validity against its own clock,
 * moves its clock back at most its daily bound, and takes a larger correction only as a
 * time.set two approvers confirmed.
 */
import { performance } from "node:perf_hooks";
import type { Clock } from "@lockfleet/edge";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Broker, brokersUnderTest } from "../brokers.js";
import { DeviceUnderTest, until } from "./harness.js";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const iso = (ms: number) => new Date(ms).toISOString();

/** The device's real-time clock, `offsetMs` off real time (a fast clock, or time passing). */
class OffsetClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  monotonic(): number {
    return performance.now();
  }
}

const brokers = await brokersUnderTest();

for (const { name, skip, start } of brokers) {
  describe.skipIf(skip)(`trusted time at the device runtime against ${name}`, () => {
    let broker: Broker;
    let devices: DeviceUnderTest[] = [];

    beforeAll(async () => {
      broker = await start();
    });
    afterAll(async () => {
      await broker?.close();
    });
    afterEach(async () => {
      for (const device of devices) await device.tearDown();
      devices = [];
    });

    async function device(clock: OffsetClock): Promise<DeviceUnderTest> {
      const dut = new DeviceUnderTest({ brokerUrl: broker.url, runtime: { clock } });
      devices.push(dut);
      await dut.setUp();
      await dut.runtime.waitOnline(8000);
      await until(() => dut.latest("state"), 5000, "state");
      return dut;
    }

    /** Audit records of `kind` that reached the fleet side. */
    const arrived = (dut: DeviceUnderTest, kind: string) =>
      dut.auditArrivals().filter((record) => record.kind === kind);

    it("time syncs the network held back past their validity are refused: the lock's clock does not go back", async () => {
      const clock = new OffsetClock();
      const dut = await device(clock);
      const issued = Date.now();
      // Two syncs the fleet sent 20 s apart, each valid for 60 s, held back by the network.
      const first = dut.fleet.sign(
        dut.deviceId,
        "time.sync",
        { time: iso(issued) },
        { issuedAt: issued, expiresInMs: MINUTE },
      );
      const second = dut.fleet.sign(
        dut.deviceId,
        "time.sync",
        { time: iso(issued + 20 * SECOND) },
        { issuedAt: issued + 20 * SECOND, expiresInMs: MINUTE },
      );
      // 4.5 min pass at the lock before the first arrives, 5 min before the second.
      clock.offsetMs = 4.5 * MINUTE;
      await dut.publishRaw(first, "sync");
      const firstId = JSON.parse(JSON.parse(first).payload).id as string;
      expect(await dut.result(firstId)).toMatchObject({
        status: "error",
        error: { code: "E_EXPIRED" },
      });
      clock.offsetMs = 5 * MINUTE;
      await dut.publishRaw(second, "sync");
      const secondId = JSON.parse(JSON.parse(second).payload).id as string;
      expect((await dut.result(secondId)).error?.code).toBe("E_EXPIRED");
      // Without them the lock would be 270 s and then 290 s behind: it has not moved.
      expect(Math.abs(dut.runtime.core.lockTime() - (Date.now() + 5 * MINUTE))).toBeLessThan(
        2 * SECOND,
      );
      await until(() => arrived(dut, "command.rejected").length >= 2, 8000, "rejections");
      expect(arrived(dut, "command.rejected").map((r) => r.data.code)).toEqual([
        "E_EXPIRED",
        "E_EXPIRED",
      ]);
      expect(arrived(dut, "time.changed")).toEqual([]);
    });

    it("a replayed time sync is refused and leaves the clock where the first one set it", async () => {
      const clock = new OffsetClock();
      clock.offsetMs = 20 * SECOND; // a little fast
      const dut = await device(clock);
      const now = Date.now();
      const sync = dut.fleet.sign(
        dut.deviceId,
        "time.sync",
        { time: iso(now) },
        { issuedAt: now + clock.offsetMs, expiresInMs: MINUTE },
      );
      const id = JSON.parse(JSON.parse(sync).payload).id as string;
      await dut.publishRaw(sync, "sync");
      expect((await dut.result(id)).status).toBe("ok");
      expect(dut.runtime.core.trustedTime).toBe(true);
      const corrected = dut.runtime.core.lockTime() - Date.now();
      expect(Math.abs(corrected)).toBeLessThan(2 * SECOND);
      // The same envelope again, a few seconds later: refused by its sequence number.
      await dut.publishRaw(sync, "sync");
      await until(
        () => dut.results().filter((r) => r.id === id && r.status === "error").length === 1,
        5000,
        "replay refused",
      );
      expect(dut.results().find((r) => r.id === id && r.status === "error")?.error?.code).toBe(
        "E_REPLAY",
      );
      expect(Math.abs(dut.runtime.core.lockTime() - Date.now() - corrected)).toBeLessThan(
        2 * SECOND,
      );
      await until(() => arrived(dut, "time.changed").length === 1, 8000, "time.changed");
      expect(arrived(dut, "time.changed")[0]?.data).toMatchObject({ command: "time.sync" });
    });

    it("a clock 10 min fast: the sync is refused beyond the daily bound, a confirmed time.set corrects it", async () => {
      const clock = new OffsetClock();
      clock.offsetMs = 10 * MINUTE;
      const dut = await device(clock);
      const now = Date.now();
      // Stated in the lock's clock, as the fleet does after measuring the drift.
      const syncId = await dut.send(
        "time.sync",
        { time: iso(now) },
        { issuedAt: now + clock.offsetMs, expiresInMs: MINUTE, topic: "sync" },
      );
      expect((await dut.result(syncId)).error?.code).toBe("E_TIME_BACKWARDS");
      expect(dut.runtime.core.trustedTime).toBe(false);
      // One approver is not enough.
      const aloneId = await dut.send(
        "time.set",
        { time: iso(Date.now()), confirmJumpSec: -600, approvedBy: ["p-sec-1"], reason: "fast" },
        { issuedAt: Date.now() + clock.offsetMs, expiresInMs: MINUTE },
      );
      expect((await dut.result(aloneId)).error?.code).toBe("E_APPROVALS_REQUIRED");
      const setId = await dut.send(
        "time.set",
        {
          time: iso(Date.now()),
          confirmJumpSec: -600,
          approvedBy: ["p-sec-1", "p-sec-2"],
          reason: "real-time clock ten minutes fast",
        },
        { issuedAt: Date.now() + clock.offsetMs, expiresInMs: MINUTE },
      );
      expect((await dut.result(setId)).status).toBe("ok");
      expect(Math.abs(dut.runtime.core.lockTime() - Date.now())).toBeLessThan(2 * SECOND);
      expect(dut.runtime.core.trustedTime).toBe(true);
      await until(() => arrived(dut, "time.changed").length === 1, 8000, "time.changed");
      expect(arrived(dut, "time.rejected")[0]?.data).toMatchObject({
        command: "time.sync",
        reason: "backwardBoundPerDay",
      });
      expect(arrived(dut, "time.changed")[0]).toMatchObject({
        actor: "p-sec-1",
        data: { command: "time.set", approvedBy: ["p-sec-1", "p-sec-2"] },
      });
    });
  });
}
