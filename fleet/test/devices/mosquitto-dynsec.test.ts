/**
 * An external Mosquitto whose lock accounts the fleet manages through the dynamic-security
 * plugin: a Mosquitto of the test's own on a free port, set up as fleet/README.md says, then
 * locks enrolled, connected with the credentials they were given, and attacked.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { topics } from "@lockfleet/protocol";
import { connectAsync, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { service } from "../../../test-support/services.js";
import { deviceRole, MosquittoDynsec } from "../../src/broker/mosquitto-dynsec.js";
import { createWorld, enrolLock, expectLockAnswers, type TestWorld, waitFor } from "./helpers.js";
import { SimulatedLock } from "./simulated-lock.js";

const run = promisify(execFile);
const program = service.mosquittoProgram();

const ADMIN_PASSWORD = randomBytes(12).toString("base64url");
const FLEET_PASSWORD = randomBytes(12).toString("base64url");

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

describe.skipIf(!program.available)(
  `the fleet manages lock accounts on Mosquitto's dynamic-security plugin ${program.reason}`,
  () => {
    let dir: string;
    let port: number;
    let broker: ChildProcess;
    let brokerLog = "";
    const url = (user: string, password: string) => `mqtt://${user}:${password}@127.0.0.1:${port}`;
    const ctrl = async (...args: string[]) => {
      const answer = await run(program.ctrl, [
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-u",
        "admin",
        "-P",
        ADMIN_PASSWORD,
        "dynsec",
        ...args,
      ]);
      // mosquitto_ctrl reports a refused command on its output with exit status 0.
      if (/error/i.test(answer.stdout + answer.stderr)) {
        throw new Error(`mosquitto_ctrl ${args.join(" ")}: ${answer.stdout}${answer.stderr}`);
      }
      return answer;
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "lockfleet-dynsec-"));
      port = await freePort();
      const dynsecFile = join(dir, "dynamic-security.json");
      await run(program.ctrl, ["dynsec", "init", dynsecFile, "admin", ADMIN_PASSWORD]);
      const conf = join(dir, "mosquitto.conf");
      writeFileSync(
        conf,
        [
          `listener ${port} 127.0.0.1`,
          // Started as root, Mosquitto would switch to the mosquitto user, which cannot read
          // this test's private directory; a test broker keeps the test's user.
          ...(process.getuid?.() === 0 ? ["user root"] : []),
          "per_listener_settings false",
          "allow_anonymous false",
          "persistence false",
          `plugin ${program.dynsecPlugin}`,
          `plugin_opt_config_file ${dynsecFile}`,
          "log_dest stderr",
          "log_type error",
          "log_type warning",
          "",
        ].join("\n"),
      );
      broker = spawn(program.broker, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
      broker.stderr?.on("data", (chunk: Buffer) => {
        brokerLog += chunk.toString("utf8");
      });
      const started = Date.now();
      for (;;) {
        const probe = await connectAsync(url("admin", ADMIN_PASSWORD), {
          protocolVersion: 4,
          reconnectPeriod: 0,
          connectTimeout: 1_000,
        }).catch(() => undefined);
        if (probe !== undefined) {
          await probe.endAsync();
          break;
        }
        if (Date.now() - started > 10_000) {
          throw new Error(`Mosquitto with dynamic security did not start: ${brokerLog}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // The fleet's own account, as fleet/README.md sets it up with mosquitto_ctrl.
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
    }, 30_000);

    afterAll(() => {
      broker?.kill("SIGTERM");
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    /** Usernames of lock accounts (not the fleet's own) on the broker. */
    async function lockAccounts(): Promise<string[]> {
      const listed = (await ctrl("listClients")).stdout.split("\n").map((line) => line.trim());
      return listed.filter((name) => name.length > 0 && !name.startsWith("lockfleet-")).sort();
    }

    async function world(): Promise<TestWorld> {
      return createWorld(
        {
          mqtt: {
            url: url("lockfleet-fleet", FLEET_PASSWORD),
            dynsecUrl: url("admin", ADMIN_PASSWORD),
          },
          keyInstallWaitMs: 3_000,
        },
        `org_${randomBytes(6).toString("hex")}`,
      );
    }

    it("an enrolled lock gets its own account: it connects, reports and answers commands", async () => {
      const w = await world();
      try {
        const lock = await enrolLock(w);
        expect(lock.enrolment?.broker).toMatchObject({
          url: `mqtt://127.0.0.1:${port}`,
          username: lock.deviceId,
        });
        await expectLockAnswers(w, lock);
        const account = (await ctrl("getClient", lock.deviceId)).stdout;
        expect(account).toContain(deviceRole(lock.org, lock.deviceId).rolename);
        // Last will through the ACL: a dropped connection shows the lock offline.
        lock.crash();
        await waitFor(() => w.hub.device(lock.deviceId)?.availability === "offline");
      } finally {
        await w.close();
      }
    });

    it("attacks: wrong password, another lock's topics, wildcards — refused by Mosquitto", async () => {
      const w = await world();
      const observers: MqttClient[] = [];
      try {
        const victim = await enrolLock(w);
        const attacker = await enrolLock(w);
        await waitFor(() => w.hub.lockState(victim.deviceId) !== undefined);

        await expect(
          connectAsync(url(victim.deviceId, "not-the-password-0123"), {
            protocolVersion: 4,
            reconnectPeriod: 0,
            connectTimeout: 3_000,
          }),
        ).rejects.toThrow(/Not authorized|Bad username or password/i);

        // Subscribing to the victim's commands, or to everything, is refused (SUBACK 0x80).
        const client = attacker.client as MqttClient;
        for (const filter of [topics.cmd(victim.org, victim.deviceId), "lockfleet/v1/#", "#"]) {
          await expect(client.subscribeAsync(filter, { qos: 1 })).rejects.toThrow(
            /Subscribe error/,
          );
        }

        // A state published under the victim's prefix never reaches anyone: the fleet's
        // account sees the attacker's own state (published after it) but not the forgery.
        const seen: string[] = [];
        const observer = await connectAsync(url("lockfleet-fleet", FLEET_PASSWORD), {
          protocolVersion: 4,
          reconnectPeriod: 0,
        });
        observers.push(observer);
        observer.on("message", (topic) => seen.push(topic));
        await observer.subscribeAsync(`lockfleet/v1/${victim.org}/+/state`, { qos: 1 });
        await waitFor(() => seen.includes(topics.state(victim.org, victim.deviceId)));
        seen.length = 0;
        await client.publishAsync(
          topics.state(victim.org, victim.deviceId),
          JSON.stringify(attacker.state({ bolt: "retracted" })),
          { qos: 1 },
        );
        await client.publishAsync(topics.cmd(victim.org, victim.deviceId), "{}", { qos: 1 });
        await attacker.publishState();
        await waitFor(() => seen.includes(topics.state(attacker.org, attacker.deviceId)));
        expect(seen).toEqual([topics.state(attacker.org, attacker.deviceId)]);
        expect(w.hub.lockState(victim.deviceId)?.bolt).toBe("thrown");
        expect(victim.refused).toEqual([]);
      } finally {
        for (const observer of observers) await observer.endAsync();
        await w.close();
      }
    });

    it("an enrolment the broker cannot take fails with E_BROKER_ACCOUNTS and leaves the token unused", async () => {
      const ADMIN2_PASSWORD = randomBytes(12).toString("base64url");
      await ctrl("createClient", "lockfleet-accounts", "-p", ADMIN2_PASSWORD);
      await ctrl("addClientRole", "lockfleet-accounts", "admin");
      const w = await createWorld(
        {
          mqtt: {
            url: url("lockfleet-fleet", FLEET_PASSWORD),
            dynsecUrl: url("lockfleet-accounts", ADMIN2_PASSWORD),
          },
        },
        `org_${randomBytes(6).toString("hex")}`,
      );
      try {
        const { token } = w.hub.createEnrolmentToken({
          orgId: w.orgId,
          containerId: w.containerId,
          ttlMs: 60_000,
          createdBy: "usr_test",
        });
        const lock = new SimulatedLock();
        const before = await lockAccounts();
        // The broker drops the fleet's admin connection and keeps it out.
        await ctrl("disableClient", "lockfleet-accounts");
        await expect(w.hub.enrol(lock.enrolmentRequest(token))).rejects.toMatchObject({
          code: "E_BROKER_ACCOUNTS",
        });
        await ctrl("enableClient", "lockfleet-accounts");
        // Once the fleet is back in (it reconnects by itself), the same token still works.
        const started = Date.now();
        for (;;) {
          try {
            lock.accept(await w.hub.enrol(lock.enrolmentRequest(token)));
            break;
          } catch (error) {
            expect(error).toMatchObject({ code: "E_BROKER_ACCOUNTS" });
            if (Date.now() - started > 10_000) throw error;
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        }
        w.locks.push(lock);
        await lock.connect();
        await waitFor(() => w.hub.device(lock.deviceId)?.availability === "online");
        // Exactly one new account: the enrolled lock's; nothing left of the refused attempt.
        await new Promise((resolve) => setTimeout(resolve, 300));
        const after = await lockAccounts();
        expect(after.filter((name) => !before.includes(name))).toEqual([lock.deviceId]);
      } finally {
        await w.close();
      }
    });

    it("a wrong or unprivileged admin account stops the start; a removed account keeps its lock out", async () => {
      const w = await world();
      try {
        const lock = await enrolLock(w);
        await expect(
          MosquittoDynsec.connect(url("lockfleet-fleet", FLEET_PASSWORD), { timeoutMs: 500 }),
        ).rejects.toMatchObject({ code: "E_BROKER_ACCOUNTS", message: /plugin's admin/ });
        await expect(
          MosquittoDynsec.connect(url("admin", "wrong-password-0123")),
        ).rejects.toMatchObject({ code: "E_BROKER_ACCOUNTS" });
        const accounts = await MosquittoDynsec.connect(url("admin", ADMIN_PASSWORD));
        try {
          await waitFor(() => lock.client?.connected === true);
          const connection = lock.client as MqttClient;
          await accounts.removeDevice(lock.deviceId);
          await waitFor(() => !connection.connected, 5_000, "the broker to drop the lock");
          await expect(lock.connect()).rejects.toThrow(/Not authorized|Bad username/i);
          await accounts.removeDevice(lock.deviceId); // absent: no error
        } finally {
          await accounts.close();
        }
      } finally {
        await w.close();
      }
    });
  },
);
