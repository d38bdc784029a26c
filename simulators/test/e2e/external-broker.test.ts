/**
 * The fleet against an existing broker (SPEC §2: Mosquitto instead of the embedded aedes), end
 * to end: a lock enrolled over HTTP connects to Mosquitto, the fleet commands it there. Such a
 * broker may carry other traffic and need not enforce the fleet's topic ACLs, so here an
 * attacker is simply another client on it: it reads the lock's commands and publishes replayed
 * and forged ones on the lock's cmd topic. The lock alone must refuse them — with an answer on
 * cmd/result and a record in its audit, which reaches the fleet.
 */
import { randomBytes } from "node:crypto";
import { readConfig } from "@lockfleet/edge";
import {
  type AuditRecord,
  type CommandResult,
  canonicalJson,
  deviceTopicPrefix,
  topics,
} from "@lockfleet/protocol";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { service } from "../../../test-support/services.js";
import { lockRecords } from "./harness/keypad.js";
import { E2eWorld, until, type VirtualLock } from "./harness/world.js";

interface SignedEnvelope {
  payload: string;
  signature: string;
}

const mosquitto = await service.mosquitto();

describe.skipIf(!mosquitto.available)(
  `a lock and the fleet on an external Mosquitto broker ${mosquitto.reason}`,
  { timeout: 60_000 },
  () => {
    let world: E2eWorld;
    let lock: VirtualLock;
    let attacker: MqttClient;
    const overheard: Array<{ topic: string; payload: string }> = [];

    beforeAll(async () => {
      world = await E2eWorld.start({ externalBrokerUrl: mosquitto.url });
      lock = await world.enrolLock(world.fleet.container.id);
      attacker = await mqtt.connectAsync(mosquitto.url, {
        protocolVersion: 4,
        clientId: `eavesdropper-${randomBytes(4).toString("hex")}`,
        reconnectPeriod: 0,
      });
      attacker.on("message", (topic, payload) =>
        overheard.push({ topic, payload: payload.toString("utf8") }),
      );
      await attacker.subscribeAsync(`${deviceTopicPrefix(lock.org, lock.deviceId)}/#`, { qos: 1 });
    }, 90_000);

    afterAll(async () => {
      await attacker?.endAsync(true);
      await world?.close();
    });

    async function remote(type: "remote.block" | "remote.unblock"): Promise<string> {
      const answer = await world.ok<{ commandId: string; status: string }>(
        "securityAdmin",
        "POST",
        `devices/${lock.deviceId}/commands`,
        type === "remote.block"
          ? { type, reason: "branch closed", waitMs: 5000 }
          : { type, waitMs: 5000 },
        [200, 202],
      );
      expect(answer.status).toBe("ok");
      return answer.commandId;
    }

    function answers(id: string): CommandResult[] {
      const resultTopic = topics.cmdResult(lock.org, lock.deviceId);
      return overheard
        .filter((message) => message.topic === resultTopic)
        .map((message) => world.openedFrom(lock, message.topic, message.payload) as CommandResult)
        .filter((result) => result.id === id);
    }

    function rejectedAtLock(id: string): AuditRecord | undefined {
      return lockRecords(lock, "command.rejected").find((record) => record.data.id === id);
    }

    it("the lock enrolled over HTTP comes online on the external broker and obeys the fleet's signed commands", async () => {
      // The lock was told the external broker at enrolment, and is seen online through it.
      expect(new URL(readConfig(lock.dataDir).broker.url).port).toBe(new URL(mosquitto.url).port);
      expect(world.fleet.app.hub.device(lock.deviceId)?.availability).toBe("online");
      await remote("remote.block");
      expect(lock.runtime.state().blocked).toBe(true);
      await remote("remote.unblock");
      expect(lock.runtime.state().blocked).toBe(false);
    });

    it("a command replayed by another client on the broker is refused by the lock (E_REPLAY), answered and audited", async () => {
      const unblockId = await remote("remote.unblock");
      await remote("remote.block");
      const cmdTopic = topics.cmd(lock.org, lock.deviceId);
      const captured = await until("the unblock command overheard", () =>
        overheard.find(
          (message) =>
            message.topic === cmdTopic &&
            (JSON.parse(JSON.parse(message.payload).payload) as { id: string }).id === unblockId,
        ),
      );
      await attacker.publishAsync(cmdTopic, captured.payload, { qos: 1 });
      const rejected = await until("the replay refused at the lock", () =>
        rejectedAtLock(unblockId),
      );
      expect(rejected.data.code).toBe("E_REPLAY");
      const answer = await until("the lock's answer", () =>
        answers(unblockId).find((result) => result.status === "error"),
      );
      expect(answer.error?.code).toBe("E_REPLAY");
      expect(lock.runtime.state().blocked).toBe(true);
      await until("the refusal in the fleet's copy of the audit", () =>
        world.fleet.app.hub
          .auditRecords(lock.deviceId, 0, 100_000)
          .find((record) => record.hash === rejected.hash),
      );
    });

    it("a command forged by another client on the broker (bad signature) is refused by the lock, answered and audited", async () => {
      const cmdTopic = topics.cmd(lock.org, lock.deviceId);
      const last = overheard.filter((message) => message.topic === cmdTopic).at(-1);
      if (last === undefined) throw new Error("no command overheard");
      const envelope = JSON.parse(last.payload) as SignedEnvelope;
      const fields = JSON.parse(envelope.payload) as { seq: number; type: string; body: unknown };
      const forged: SignedEnvelope = {
        payload: canonicalJson({
          ...JSON.parse(envelope.payload),
          id: "forged-on-broker",
          seq: fields.seq + 500,
          type: "remote.unblock",
          body: { approvedBy: [world.fleet.accounts.securityAdmin.person.id] },
        }),
        signature: envelope.signature,
      };
      await attacker.publishAsync(cmdTopic, JSON.stringify(forged), { qos: 1 });
      const rejected = await until("the forgery refused at the lock", () =>
        rejectedAtLock("forged-on-broker"),
      );
      expect(rejected.data.code).toBe("E_BAD_SIGNATURE");
      const answer = await until("the lock's answer", () => answers("forged-on-broker")[0]);
      expect(answer.status).toBe("error");
      expect(answer.error?.code).toBe("E_BAD_SIGNATURE");
      expect(lock.runtime.state().blocked).toBe(true);
      // The fleet still commands it.
      await remote("remote.unblock");
      expect(lock.runtime.state().blocked).toBe(false);
    });
  },
);
