/**
 * Only the lock speaks for the lock, over real sockets: the fleet (HTTP app, alarm service,
 * device hub) on an external Mosquitto of this test's own that lets anyone publish anywhere,
 * as a shared broker with another fleet's account might. A foreign client forges a duress
 * alarm, a hash-chained audit record with seq 1, state, a command result and availability on
 * a lock's topics; replays the lock's own messages; republishes another lock's. The fleet
 * refuses each, records it as a security event and raises one forgedMessage alarm per source;
 * nothing forged shows in the lock's audit, its state or the alarm inbox.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ALARM_PRIORITY,
  type Alarm,
  type AuditRecord,
  chainAuditRecord,
  formatInstant,
  GENESIS_HASH,
  signCheckpoint,
  topics,
} from "@lockfleet/protocol";
import { connectAsync, type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { service } from "../../../test-support/services.js";
import type { DeviceHub } from "../../src/devices/hub.js";
import { createFixture, type Fixture } from "../fixtures.js";
import { defined, waitFor } from "./helpers.js";
import { SimulatedLock } from "./simulated-lock.js";

const program = service.mosquittoProgram();

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

interface AlarmView {
  deviceId: string;
  kind: string;
  occurrences: number;
  data: Record<string, unknown>;
}

describe.skipIf(!program.available)(
  `only the lock speaks for the lock, on a broker anyone may publish to ${program.reason}`,
  () => {
    let dir: string;
    let broker: ChildProcess;
    let url: string;
    let f: Fixture;
    let hub: DeviceHub;
    let lock: SimulatedLock;
    let foreign: MqttClient;
    /** Every alarm the hub raised, in order. */
    let raised: Alarm[];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "lockfleet-open-broker-"));
      const port = await freePort();
      const conf = join(dir, "mosquitto.conf");
      writeFileSync(
        conf,
        [
          `listener ${port} 127.0.0.1`,
          ...(process.getuid?.() === 0 ? ["user root"] : []),
          // No ACL, no accounts: every client may publish on every topic.
          "allow_anonymous true",
          "persistence false",
          "log_dest stderr",
          "log_type error",
          "",
        ].join("\n"),
      );
      broker = spawn(program.broker, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
      url = `mqtt://127.0.0.1:${port}`;
      const started = Date.now();
      for (;;) {
        const probe = await connectAsync(url, {
          protocolVersion: 4,
          reconnectPeriod: 0,
          connectTimeout: 1_000,
        }).catch(() => undefined);
        if (probe !== undefined) {
          await probe.endAsync();
          break;
        }
        if (Date.now() - started > 10_000) throw new Error("Mosquitto did not start");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }, 30_000);

    afterAll(() => {
      broker?.kill("SIGTERM");
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    beforeEach(async () => {
      f = await createFixture({
        app: {
          mqtt: { url },
          hubOptions: {
            timeSyncIntervalMs: 0,
            presenceProbeWaitMs: 1_500,
            // Every repeat of an accepted message counts as a replay here (see the last test).
            redeliveryWindowMs: 0,
          },
        },
      });
      // The fleet on real time, as the locks are.
      Object.defineProperty(f.clock, "nowMs", { get: () => Date.now(), set: () => {} });
      hub = f.app.hub;
      raised = [];
      hub.on("alarm", (_deviceId, alarm) => raised.push(alarm));
      lock = await enrolled();
      await waitFor(() => hub.device(lock.deviceId)?.availability === "online", 5_000, "online");
      await waitFor(() => hub.lockState(lock.deviceId) !== undefined, 5_000, "state");
      foreign = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
    });

    afterEach(async () => {
      await foreign?.endAsync(true);
      lock?.crash();
      await f?.close();
    });

    async function enrolled(): Promise<SimulatedLock> {
      const created = new SimulatedLock();
      const { token } = hub.createEnrolmentToken({
        orgId: f.bank.id,
        containerId: f.container.id,
        ttlMs: 60_000,
        createdBy: "usr_test",
      });
      created.accept(await hub.enrol(created.enrolmentRequest(token)));
      await created.connect();
      return created;
    }

    async function alarmsOf(deviceId: string): Promise<AlarmView[]> {
      const answer = await f.app.inject({
        method: "GET",
        url: `/api/v1/alarms?deviceId=${deviceId}`,
        headers: f.as("securityAdmin"),
      });
      expect(answer.statusCode).toBe(200);
      return (answer.json() as { items: AlarmView[] }).items;
    }

    async function auditOf(deviceId: string): Promise<AuditRecord[]> {
      const answer = await f.app.inject({
        method: "GET",
        url: `/api/v1/devices/${deviceId}/audit`,
        headers: f.as("securityAdmin"),
      });
      expect(answer.statusCode).toBe(200);
      return (answer.json() as { items: AuditRecord[] }).items;
    }

    function refusals(deviceId: string, code: string) {
      return hub
        .securityEvents(deviceId)
        .filter((event) => event.kind === "message.forged" && event.reason.startsWith(code));
    }

    const forgedAlarmsFor = (deviceId: string) =>
      raised.filter((alarm) => alarm.deviceId === deviceId && alarm.alarm === "forgedMessage");

    it("forged alarm, audit record, state, result and availability from a foreign client are refused, recorded and alarmed once per source", async () => {
      const { org, deviceId } = lock;
      const duress: Alarm = {
        deviceId,
        alarm: "forcedUser",
        priority: ALARM_PRIORITY.forcedUser,
        at: formatInstant(Date.now()),
        auditSeq: 1,
        actor: "p-anna",
        data: {},
      };
      const record = chainAuditRecord(
        {
          deviceId,
          seq: 1,
          at: formatInstant(Date.now()),
          kind: "door.opened",
          actor: "p-anna",
          data: {},
        },
        GENESIS_HASH,
      );
      // A command the lock does not answer, so that a forged answer would have something to close.
      lock.answer = false;
      const { commandId } = await hub.issueCommand(deviceId, "selfTest.request", {});
      const forgeries: Array<[string, unknown, boolean]> = [
        [topics.event(org, deviceId), { type: "alarm", alarm: duress }, false],
        [topics.event(org, deviceId), { type: "audit", records: [record] }, false],
        [topics.state(org, deviceId), lock.state({ bolt: "retracted", door: "open" }), true],
        [
          topics.cmdResult(org, deviceId),
          { id: commandId, deviceId, at: formatInstant(Date.now()), status: "ok" },
          false,
        ],
        [
          topics.availability(org, deviceId),
          { status: "online", at: formatInstant(Date.now()) },
          true,
        ],
      ];
      for (let round = 0; round < 3; round++) {
        for (const [topic, message, retain] of forgeries) {
          await foreign.publishAsync(topic, JSON.stringify(message), { qos: 1, retain });
        }
      }
      await waitFor(
        () => refusals(deviceId, "E_UNSIGNED").length >= 15,
        5_000,
        "fifteen refusals recorded",
      );
      // One alarm per source (lock and topic), however often it forges.
      await waitFor(() => forgedAlarmsFor(deviceId).length >= 4, 5_000, "forgedMessage alarms");
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(
        forgedAlarmsFor(deviceId)
          .map((alarm) => alarm.data.topic)
          .sort(),
      ).toEqual(["availability", "cmd/result", "event", "state"]);

      // Nothing forged reached the fleet's record of the lock.
      expect(await auditOf(deviceId)).toEqual([]);
      const alarms = await alarmsOf(deviceId);
      expect(alarms.map((alarm) => alarm.kind)).toEqual(["forgedMessage"]);
      expect(alarms.some((alarm) => alarm.kind === "forcedUser")).toBe(false);
      expect(hub.lockState(deviceId)).toMatchObject({ bolt: "thrown", door: "closed" });
      expect(hub.command(commandId)?.status).toBe("sent");
      expect(hub.device(deviceId)?.availability).toBe("online");
    });

    it("the broker's last will forged by a foreign client is only a hint: the lock answers the probe and stays online, no lockOffline", async () => {
      await foreign.publishAsync(
        topics.availability(lock.org, lock.deviceId),
        JSON.stringify({ status: "offline" }),
        { qos: 1, retain: true },
      );
      await waitFor(() => hub.device(lock.deviceId)?.availabilityHint === null, 5_000, "probe");
      await waitFor(() => lock.commandsOfType("time.sync").length >= 2, 5_000, "probe sent");
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(hub.device(lock.deviceId)?.availability).toBe("online");
      expect(raised.filter((alarm) => alarm.alarm === "lockOffline")).toEqual([]);
      // The hint is not a forgery (a lock's will is unsigned by nature): no alarm for it.
      expect(forgedAlarmsFor(lock.deviceId)).toEqual([]);
    });

    it("a lock that really drops off goes offline only when it does not answer the probe after its will", async () => {
      lock.crash();
      await waitFor(() => hub.device(lock.deviceId)?.availabilityHint !== null, 5_000, "hint");
      // Shown as a hint first, still online as far as evidence goes.
      expect(hub.device(lock.deviceId)?.availability).toBe("online");
      await waitFor(
        () => hub.device(lock.deviceId)?.availability === "offline",
        5_000,
        "offline after the unanswered probe",
      );
    });

    it("replayed genuine messages are refused: an old state, an audit batch already taken", async () => {
      const { org, deviceId } = lock;
      // The door opens and closes; a listener on the broker captures what the lock sent.
      await lock.publishState({ door: "open", bolt: "retracted" });
      const openState = defined(lock.sent.at(-1)).text;
      const opened = lock.appendAudit("door.opened");
      await lock.publishAudit([opened]);
      const auditBatch = defined(lock.sent.at(-1)).text;
      await lock.until(() => lock.ackedUpTo === 1, 5_000, "ack");
      await lock.publishState();
      await waitFor(() => hub.lockState(deviceId)?.door === "closed", 5_000, "closed");

      await foreign.publishAsync(topics.state(org, deviceId), openState, { qos: 1, retain: true });
      await foreign.publishAsync(topics.event(org, deviceId), auditBatch, { qos: 1 });
      await waitFor(() => refusals(deviceId, "E_REPLAY").length >= 2, 5_000, "replays refused");
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(hub.lockState(deviceId)).toMatchObject({ door: "closed", bolt: "thrown" });
      // Only the lock's own chain (its record of the acknowledgement included), nothing twice.
      const stored = await auditOf(deviceId);
      expect(stored.map((record) => record.hash)).toEqual(
        lock.records.slice(0, stored.length).map((record) => record.hash),
      );
      expect(forgedAlarmsFor(deviceId).map((alarm) => alarm.data.reason)).toContain("E_REPLAY");
    });

    it("a message signed by another lock's key, or naming another lock, is refused", async () => {
      const other = await enrolled();
      await waitFor(() => hub.lockState(other.deviceId) !== undefined, 5_000, "other state");
      // The other lock's genuine, signed state, republished on this lock's topic.
      const stolen = other.signFor(
        topics.state(other.org, other.deviceId),
        other.state({ bolt: "retracted" }),
      );
      await foreign.publishAsync(topics.state(lock.org, lock.deviceId), stolen, { qos: 1 });
      // This lock's key over a state that names the other lock (a lock speaking for another).
      const naming = lock.signFor(
        topics.state(lock.org, lock.deviceId),
        other.state({ door: "open" }),
      );
      await foreign.publishAsync(topics.state(lock.org, lock.deviceId), naming, { qos: 1 });
      // Another key under this lock's name: an envelope for this lock signed by the other lock.
      const wrongKey = lock.signFor(
        topics.event(lock.org, lock.deviceId),
        { type: "audit", records: [lock.appendAudit("door.opened")] },
        other.signing.secretKey,
      );
      await foreign.publishAsync(topics.event(lock.org, lock.deviceId), wrongKey, { qos: 1 });
      await waitFor(() => refusals(lock.deviceId, "E_BAD_SIGNATURE").length >= 2, 5_000, "bad sig");
      await waitFor(() => refusals(lock.deviceId, "E_WRONG_DEVICE").length >= 1, 5_000, "wrong");
      expect(hub.lockState(lock.deviceId)).toMatchObject({ bolt: "thrown", door: "closed" });
      expect(hub.lockState(other.deviceId)).toMatchObject({ bolt: "thrown", door: "closed" });
      expect(await auditOf(lock.deviceId)).toEqual([]);
      other.crash();
    });

    it("audit head regression: a lock reporting its head going back from 3 to 1, or an older checkpoint, raises auditRegression and is recorded", async () => {
      const records = [
        lock.appendAudit("door.opened"),
        lock.appendAudit("door.closed"),
        lock.appendAudit("bolt.thrown"),
      ];
      await lock.publishAudit(records);
      await lock.until(() => lock.ackedUpTo === 3, 5_000, "ack");
      await lock.publishCheckpoint();
      await lock.publishState();
      // The lock records the acknowledgement too (seq 4).
      await waitFor(
        () => (hub.device(lock.deviceId)?.state?.auditHead.seq ?? 0) >= 3,
        5_000,
        "head 3",
      );

      const first = defined(records[0]);
      await lock.publishState({ auditHead: { seq: 1, hash: first.hash } });
      await waitFor(
        () => raised.some((alarm) => alarm.alarm === "auditRegression"),
        5_000,
        "auditRegression",
      );
      expect(
        hub.securityEvents(lock.deviceId).filter((event) => event.kind === "audit.headRegression"),
      ).toHaveLength(1);

      // A checkpoint older than the one verified at seq 3.
      const older = signCheckpoint(
        {
          deviceId: lock.deviceId,
          seq: 1,
          headHash: first.hash,
          at: formatInstant(Date.now()),
          keyId: `${lock.deviceId}-signing`,
        },
        lock.signing.secretKey,
      );
      await lock.publish(topics.event(lock.org, lock.deviceId), {
        type: "checkpoint",
        checkpoint: older,
      });
      await waitFor(
        () =>
          hub
            .securityEvents(lock.deviceId)
            .some((event) => event.kind === "audit.checkpointRegression"),
        5_000,
        "checkpoint regression recorded",
      );
      const alarms = await alarmsOf(lock.deviceId);
      expect(alarms.find((alarm) => alarm.kind === "auditRegression")?.occurrences).toBe(2);
    });
  },
);
