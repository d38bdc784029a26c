/**
 * The same hub against an external broker (Mosquitto at 127.0.0.1:1883), each test under an
 * organisation of its own so runs sharing the broker never see each other's locks.
 */
import { randomBytes } from "node:crypto";
import { topics } from "@lockfleet/protocol";
import { connectAsync } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { service } from "../../../test-support/services.js";
import {
  createWorld,
  enrolLock,
  expectLockAnswers,
  nextEvent,
  type TestWorld,
  waitFor,
} from "./helpers.js";

const mosquitto = await service.mosquitto();

describe.skipIf(!mosquitto.available)(
  `DeviceHub with Mosquitto as external broker ${mosquitto.reason}`,
  () => {
    let world: TestWorld | undefined;

    afterEach(async () => {
      if (world === undefined) return;
      // Leave no retained messages behind on the shared broker.
      const cleaner = await connectAsync(mosquitto.url, { protocolVersion: 4, reconnectPeriod: 0 });
      for (const lock of world.locks) {
        if (lock.enrolment === undefined) continue;
        for (const topic of [
          topics.state(lock.org, lock.deviceId),
          topics.availability(lock.org, lock.deviceId),
        ]) {
          await cleaner.publishAsync(topic, "", { qos: 1, retain: true });
        }
      }
      await cleaner.endAsync();
      await world.close();
      world = undefined;
    });

    async function start(): Promise<TestWorld> {
      world = await createWorld(
        { mqtt: { url: mosquitto.url }, keyInstallWaitMs: 3_000 },
        `org_${randomBytes(8).toString("hex")}`,
      );
      return world;
    }

    it("enrols a lock that then connects to Mosquitto, reports state and answers commands", async () => {
      const w = await start();
      const lock = await enrolLock(w);
      expect(lock.enrolment?.broker.url).toBe(mosquitto.url);
      await expectLockAnswers(w, lock);
      expect(lock.refused).toEqual([]);
    });

    it("ingests audit records, acks them and detects a forged record", async () => {
      const w = await start();
      const lock = await enrolLock(w);
      const records = [lock.appendAudit("code.rejected"), lock.appendAudit("code.rejected")];
      await lock.publishAudit(records);
      await lock.until(() => lock.ackedUpTo === 2, 5_000, "ack");
      const forged = lock.appendAudit("code.accepted");
      const alarm = nextEvent(
        w.hub,
        "alarm",
        (id, raised) => id === lock.deviceId && raised.alarm === "tamper",
      );
      await lock.publishAudit([{ ...forged, actor: "someone-else" }]);
      await alarm;
      expect(w.hub.securityEvents(lock.deviceId).map((event) => event.kind)).toContain(
        "audit.chainBreak",
      );
    });

    it("without a broker ACL, a message under a lock's prefix signed by another lock is still refused", async () => {
      const w = await start();
      const victim = await enrolLock(w);
      const other = await enrolLock(w);
      await waitFor(() => w.hub.lockState(victim.deviceId) !== undefined);
      const rejected = nextEvent(
        w.hub,
        "rejected",
        (id, reason) => id === victim.deviceId && reason.startsWith("E_BAD_SIGNATURE"),
      );
      // Anyone on an open broker can publish here; the payload still has to be this lock's.
      await other.publish(
        topics.state(victim.org, victim.deviceId),
        other.state({ bolt: "retracted" }),
        false,
      );
      await rejected;
      expect(w.hub.lockState(victim.deviceId)?.bolt).toBe("thrown");
      const unknown = nextEvent(w.hub, "rejected", (_, reason) =>
        reason.startsWith("E_UNKNOWN_DEVICE"),
      );
      await other.publish(topics.state(victim.org, "lock-ffffffffffff"), other.state(), false);
      await unknown;
    });

    it("rotates the fleet key on a lock connected through Mosquitto", async () => {
      const w = await start();
      const lock = await enrolLock(w);
      await waitFor(() => w.hub.device(lock.deviceId)?.availability === "online");
      const rotated = await w.hub.rotateFleetKey();
      expect([...lock.trust.keys()]).toEqual([rotated.keyId]);
    });
  },
);
