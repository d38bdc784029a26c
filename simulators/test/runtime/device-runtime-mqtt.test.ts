/**
 * The device runtime on the virtual Johnny-Five board against real brokers over TCP: an aedes
 * started here on port 0, and the Mosquitto already running on 127.0.0.1:1883. The test plays
 * the fleet: it enrols the device over HTTP, signs commands with the fleet key, acknowledges
 * audit records and asks for gaps.
 */

import {
  type Availability,
  type CommandResult,
  ed25519,
  isValid,
  LockState,
  validate,
} from "@lockfleet/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Broker, brokersUnderTest } from "../brokers.js";
import { DeviceUnderTest, type DeviceUnderTestOptions, until, wait } from "./harness.js";

const brokers = await brokersUnderTest();

for (const { name, skip, start } of brokers) {
  describe.skipIf(skip)(`device runtime against ${name}`, () => {
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

    async function device(options: Partial<DeviceUnderTestOptions> = {}): Promise<DeviceUnderTest> {
      const dut = new DeviceUnderTest({ brokerUrl: broker.url, ...options });
      devices.push(dut);
      await dut.setUp();
      await dut.runtime.waitOnline(8000);
      return dut;
    }

    it("publishes availability online and the lock state, both retained, seen by a later subscriber", async () => {
      const dut = await device();
      await until(() => dut.latest("state"), 5000, "state");
      const mqtt = await import("mqtt");
      const late = await mqtt.default.connectAsync(broker.url, { protocolVersion: 4 });
      const retained = new Map<string, string>();
      late.on("message", (topic, payload, packet) => {
        if (packet.retain) retained.set(topic.split("/").slice(4).join("/"), payload.toString());
      });
      await late.subscribeAsync(`lockfleet/v1/${dut.org}/${dut.deviceId}/+`, { qos: 1 });
      await until(() => retained.has("state") && retained.has("availability"), 5000, "retained");
      await late.endAsync();
      const availability = dut.opened({
        kind: "availability",
        payload: retained.get("availability") ?? "{}",
      }) as Availability;
      expect(availability.status).toBe("online");
      const state = dut.opened({ kind: "state", payload: retained.get("state") ?? "{}" });
      const checked = validate(LockState, state, "state");
      expect(checked.ok ? "" : checked.error.message).toBe("");
      expect(state).toMatchObject({
        deviceId: dut.deviceId,
        bolt: "thrown",
        hardwareProfile: "virtual",
      });
    });

    it("a link lost without a disconnect turns availability offline by the last will, then online after reconnecting", async () => {
      const dut = await device({ proxy: true });
      await until(() => dut.latest("availability")?.payload.includes("online"), 5000, "online");
      dut.proxy?.cut();
      await until(() => dut.latest("availability")?.payload.includes("offline"), 8000, "will");
      expect(dut.runtime.online).toBe(false);
      dut.proxy?.restore();
      await until(
        () => dut.latest("availability")?.payload.includes("online"),
        8000,
        "online again",
      );
      expect(dut.runtime.connects).toBeGreaterThanOrEqual(2);
    });

    it("a signed command is carried out and answered on cmd/result; the retained state follows", async () => {
      const dut = await device();
      const id = await dut.send("remote.block", { reason: "branch closed for refurbishment" });
      const result = await dut.result(id);
      expect(result).toMatchObject({ id, deviceId: dut.deviceId, status: "ok" });
      await until(
        () => {
          const latest = dut.latest("state");
          return latest !== undefined && (dut.opened(latest) as LockState).blocked;
        },
        5000,
        "blocked state",
      );
      // A blocked lock refuses even a correct code.
      await dut.board.typeKeys("0111223344#");
      await until(() => dut.board.lcdLines()[0] === "BLOCKED", 3000, "BLOCKED on the LCD");
      expect(dut.board.boltPosition()).toBe("thrown");
    });

    it("keys pressed on the virtual keypad are handled and the display is updated", async () => {
      const dut = await device();
      await dut.board.typeKeys("0199999999#");
      await until(() => dut.board.lcdLines()[0] === "WRONG CODE", 3000, "WRONG CODE on the LCD");
      await until(
        () => dut.auditArrivals().find((r) => r.kind === "code.rejected"),
        5000,
        "code.rejected on event",
      );
    });

    describe("commands that must be rejected, each with a result and an audit record", () => {
      async function rejected(
        dut: DeviceUnderTest,
        id: string,
        code: string,
      ): Promise<CommandResult> {
        const result = await dut.result(id);
        expect(result.status).toBe("error");
        expect(result.error?.code).toBe(code);
        await until(
          () =>
            dut
              .auditArrivals()
              .find(
                (r) => r.kind === "command.rejected" && r.data.id === id && r.data.code === code,
              ),
          5000,
          `command.rejected ${code}`,
        );
        return result;
      }

      it("a command signed with a key the lock does not trust", async () => {
        const dut = await device();
        const forger = ed25519.generateKeyPair();
        const id = await dut.send(
          "remote.unblock",
          { approvedBy: ["p-x", "p-y"] },
          { secretKey: forger.secretKey },
        );
        await rejected(dut, id, "E_BAD_SIGNATURE");
      });

      it("a replayed command (same seq again)", async () => {
        const dut = await device();
        const first = await dut.send("remote.block", { reason: "first" }, { id: "c-first" });
        expect((await dut.result(first)).status).toBe("ok");
        const seq = 1;
        const replay = await dut.send("remote.block", { reason: "again" }, { seq, id: "c-replay" });
        await rejected(dut, replay, "E_REPLAY");
      });

      it("an expired command", async () => {
        const dut = await device();
        const id = await dut.send(
          "remote.block",
          { reason: "late" },
          { issuedAt: Date.now() - 10 * 60_000, expiresInMs: 60_000 },
        );
        await rejected(dut, id, "E_EXPIRED");
      });

      it("a command for another device", async () => {
        const dut = await device();
        const id = await dut.send(
          "remote.block",
          { reason: "wrong lock" },
          { deviceId: "lock-someone-else" },
        );
        await rejected(dut, id, "E_WRONG_DEVICE");
      });

      it("a message that is not an envelope", async () => {
        const dut = await device();
        await dut.publishRaw("{not json");
        const result = await until(
          () => dut.results().find((r) => r.id === "unknown"),
          5000,
          "result",
        );
        expect(result.status).toBe("error");
        expect(result.error?.code).toBe("E_MALFORMED");
        expect(dut.runtime.core.state().bolt).toBe("thrown");
      });
    });

    it("audit records arrive in order; acknowledged ones are not sent again, unacknowledged ones are", async () => {
      const dut = await device({ runtime: { audit: { ackTimeoutMs: 700 } } });
      await dut.board.typeKeys("0199999999#");
      const head = await until(
        () => {
          const seq = dut.runtime.store.auditHead().seq;
          return dut.auditArrivals().some((r) => r.seq === seq) ? seq : undefined;
        },
        5000,
        "head on event",
      );
      // Each record's first arrival comes in chain order (re-sends may follow it).
      const arrivals = dut.auditArrivals().map((r) => r.seq);
      const firstSeen = arrivals.filter((seq, index) => arrivals.indexOf(seq) === index);
      expect(firstSeen.slice(0, head)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
      // No ack yet: after the timeout the unacknowledged tail comes again (at-least-once).
      await until(
        () => dut.auditArrivals().filter((r) => r.seq === 1).length >= 2,
        5000,
        "re-send",
      );
      const ackId = await dut.acknowledge(head);
      expect((await dut.result(ackId)).status).toBe("ok");
      expect(dut.runtime.store.acknowledgedSeq()).toBe(head);
      const before = dut.auditArrivals().length;
      await wait(1500);
      const later = dut
        .auditArrivals()
        .slice(before)
        .map((r) => r.seq);
      expect(later.every((seq) => seq > head)).toBe(true);
    });

    it("a gap request on the sync topic re-sends exactly the records asked for", async () => {
      const dut = await device();
      await dut.board.typeKeys("0199999999#");
      await until(() => dut.auditArrivals().length >= 4, 5000, "records");
      const before = dut.events().length;
      const id = await dut.send("audit.gapRequest", { fromSeq: 2, toSeq: 4 }, { topic: "sync" });
      expect((await dut.result(id)).status).toBe("ok");
      await until(
        () =>
          dut
            .events()
            .slice(before)
            .some((e) => e.type === "audit" && e.records[0]?.seq === 2),
        5000,
        "gap",
      );
      const resent = dut
        .events()
        .slice(before)
        .find((e) => e.type === "audit" && e.records[0]?.seq === 2);
      expect(resent?.type === "audit" ? resent.records.map((r) => r.seq) : []).toEqual([2, 3, 4]);
    });

    it("works offline and delivers the whole backlog in order when the link returns", async () => {
      const dut = await device({ proxy: true, runtime: { audit: { batchSize: 5 } } });
      await until(() => dut.auditArrivals().length > 0, 5000, "first records");
      const ackSeq = dut.runtime.store.auditHead().seq;
      await until(() => dut.auditArrivals().some((r) => r.seq === ackSeq), 5000, "head sent");
      const ackId = await dut.acknowledge(ackSeq);
      await dut.result(ackId);
      const acked = dut.runtime.store.acknowledgedSeq();
      dut.proxy?.cut();
      await until(() => !dut.runtime.online, 5000, "offline");
      // The lock keeps working offline: wrong codes, a tamper alarm, the door contact.
      for (let i = 0; i < 3; i += 1) {
        await dut.board.typeKeys("0199999999#");
        await until(() => dut.board.lcdLines()[0] === "WRONG CODE", 3000, "WRONG CODE");
        await wait(50);
      }
      dut.board.setTamper(true);
      await until(() => dut.runtime.core.activeAlarms.includes("tamper"), 3000, "tamper");
      const offlineHead = dut.runtime.store.auditHead().seq;
      // Written offline: the acknowledgement (on record with the first of them), three wrong
      // codes and the tamper alarm.
      expect(offlineHead).toBeGreaterThanOrEqual(acked + 5);
      const arrivedBefore = dut.auditArrivals().length;
      dut.proxy?.restore();
      await until(
        () =>
          dut
            .auditArrivals()
            .slice(arrivedBefore)
            .some((r) => r.seq === offlineHead),
        10_000,
        "backlog",
      );
      const delivered = dut
        .auditArrivals()
        .slice(arrivedBefore)
        .map((r) => r.seq);
      // First delivery of every record after the outage, in ascending order, none missing.
      const firstSeen = delivered.filter((seq, index) => delivered.indexOf(seq) === index);
      expect(firstSeen.slice(0, offlineHead - acked)).toEqual(
        Array.from({ length: offlineHead - acked }, (_, i) => acked + 1 + i),
      );
      // The tamper alarm notice went out ahead of the backlog.
      const afterReconnect = dut.events().filter((e) => e.type === "alarm");
      expect(afterReconnect.some((e) => e.type === "alarm" && e.alarm.alarm === "tamper")).toBe(
        true,
      );
      expect(
        isValid(LockState, dut.opened(dut.latest("state") ?? { kind: "state", payload: "{}" })),
      ).toBe(true);
    });

    it("a backlog of over a thousand records made offline, across a restart, arrives complete and in order", async () => {
      const dut = await device({ proxy: true });
      await until(() => dut.auditArrivals().length > 0, 5000, "first records");
      const head = dut.runtime.store.auditHead().seq;
      await until(() => dut.auditArrivals().some((r) => r.seq === head), 5000, "head sent");
      await dut.result(await dut.acknowledge(head));
      const acked = dut.runtime.store.acknowledgedSeq();
      dut.proxy?.cut();
      await until(() => !dut.runtime.online, 5000, "offline");
      // Door contact changes while offline (each opening with the bolt thrown is also an alarm).
      for (let i = 0; i < 520; i += 1) {
        dut.runtime.core.setDoor(i % 2 === 0);
      }
      // Power cycle while still offline: nothing may be lost.
      await dut.runtime.stop();
      dut.board.close();
      await dut.start();
      const offlineHead = dut.runtime.store.auditHead().seq;
      expect(offlineHead - acked).toBeGreaterThan(1000);
      const arrivedBefore = dut.auditArrivals().length;
      dut.proxy?.restore();
      await until(
        () =>
          dut
            .auditArrivals()
            .slice(arrivedBefore)
            .some((r) => r.seq === offlineHead),
        20_000,
        "backlog",
      );
      const delivered = dut
        .auditArrivals()
        .slice(arrivedBefore)
        .map((r) => r.seq);
      const firstSeen = delivered.filter((seq, index) => delivered.indexOf(seq) === index);
      expect(firstSeen.slice(0, offlineHead - acked)).toEqual(
        Array.from({ length: offlineHead - acked }, (_, i) => acked + 1 + i),
      );
    }, 40_000);

    it("a self-test requested by the fleet is answered with its report per part, and audited", async () => {
      const dut = await device();
      const id = await dut.send("selfTest.request", {});
      const result = await dut.result(id, 8000);
      expect(result.status).toBe("ok");
      const report = result.data?.selfTest as
        | { hardwareProfile: string; parts: Array<{ part: string; result: string }> }
        | undefined;
      expect(report?.hardwareProfile).toBe("virtual");
      const parts = report?.parts ?? [];
      expect(parts.map((p) => p.part)).toEqual(
        expect.arrayContaining(["boltActuator", "display", "keypad"]),
      );
      expect(parts.every((p) => ["ok", "fault", "notFitted"].includes(p.result))).toBe(true);
      const record = await until(
        () => dut.auditArrivals().find((r) => r.kind === "selfTest.completed"),
        5000,
        "selfTest.completed on event",
      );
      expect(record.data.parts).toEqual(parts);
      await wait(300);
      expect(dut.results().filter((r) => r.id === id)).toHaveLength(1);
    });
  });
}
