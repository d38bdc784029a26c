/**
 * The load generator over real TCP: against an aedes started here on port 0 and against the
 * Mosquitto at 127.0.0.1:1883 (unauthenticated, one unique organisation per run), and against
 * a real fleet process (buildApp, its embedded broker and HTTP enrolment on port 0), where the
 * fleet itself checks the audit chains and checkpoint signatures and acknowledges them.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  AuditRecord,
  type Availability,
  type Checkpoint,
  type CommandResult,
  type DeviceEventMessage,
  ed25519,
  encodeEnvelope,
  isValid,
  openDeviceMessage,
  parseTopic,
  peekDeviceMessage,
  signEnvelope,
  topics,
  verifyAuditChain,
  verifyCheckpoint,
} from "@lockfleet/protocol";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixture, type Fixture } from "../../../fleet/test/fixtures.js";
import { enrolSimulatedLocks } from "../../src/load/enrol.js";
import { LoadGenerator } from "../../src/load/load-generator.js";
import { SimulatedLock, unenrolledIdentity } from "../../src/load/sim-lock.js";
import { type Broker, brokersUnderTest, startAedes } from "../brokers.js";

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What a simulated lock published on `topic`, once its device signature is verified with the
 * lock's own key (at the lock's time of signing). Its unsigned last will is read as it is.
 */
function published(lock: SimulatedLock, topic: string, payload: string | Buffer): unknown {
  const text = payload.toString();
  const parsed = parseTopic(topic);
  if (!parsed.ok) throw new Error(parsed.error.message);
  const peeked = peekDeviceMessage(text);
  if (peeked === undefined && parsed.value.kind === "availability") return JSON.parse(text);
  const outcome = openDeviceMessage(text, {
    deviceId: lock.deviceId,
    topic: parsed.value.kind,
    publicKey: lock.identity.signing.publicKey,
    now: peeked?.issuedAt ?? Date.now(),
  });
  if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
  if (outcome.value.type === "audit") return { type: "audit", records: outcome.value.body.records };
  if (outcome.value.type === "alarm") return { type: "alarm", alarm: outcome.value.body };
  if (outcome.value.type === "checkpoint")
    return { type: "checkpoint", checkpoint: outcome.value.body };
  return outcome.value.body;
}

async function until<T>(check: () => T | undefined | false, what: string, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await wait(20);
  }
}

/** A fleet-side observer of everything under one organisation. */
async function observe(url: string, org: string) {
  const messages: Array<{ topic: string; payload: string; retain: boolean }> = [];
  const client: MqttClient = await mqtt.connectAsync(url, { protocolVersion: 4 });
  client.on("message", (topic, payload, packet) =>
    messages.push({ topic, payload: payload.toString("utf8"), retain: packet.retain }),
  );
  await client.subscribeAsync(`lockfleet/v1/${org}/#`, { qos: 1 });
  return { client, messages };
}

const LAUNCHER = fileURLToPath(new URL("../../bin/lockfleet-sim.js", import.meta.url));

function lockfleetSim(
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [LAUNCHER, ...args], { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({
        code: error === null ? 0 : typeof error.code === "number" ? error.code : null,
        stdout,
        stderr,
      }),
    );
  });
}

const brokers = await brokersUnderTest();

for (const { name, skip, start } of brokers) {
  describe.skipIf(skip)(`load generator against ${name}`, () => {
    let broker: Broker;
    beforeAll(async () => {
      broker = await start();
    });
    afterAll(async () => {
      await broker?.close();
    });

    it("20 locks come online with retained state and availability, publish valid chains and signed checkpoints, and answer every command", async () => {
      const org = `load-test-${Date.now().toString(36)}`;
      const observer = await observe(broker.url, org);
      const generator = new LoadGenerator({
        brokerUrl: broker.url,
        locks: { count: 20, org },
        rate: 200,
        checkpointEvery: 3,
        commandRate: 40,
      });
      try {
        const connect = await generator.connect();
        expect(connect).toMatchObject({ locks: 20, online: 20, failed: 0 });
        const report = await generator.drive(1500);
        expect(report.auditRecords).toBeGreaterThan(100);
        expect(report.roundTrip?.sent).toBeGreaterThan(20);
        expect(report.roundTrip?.results).toBe(report.roundTrip?.sent);
        expect(report.commands.refused).toBe(0);
        expect(report.roundTrip?.ms?.p99).toBeGreaterThan(0);

        // A later subscriber (the fleet after a restart) finds every lock online and its state.
        const late = await observe(broker.url, org);
        for (const lock of generator.locks) {
          const retained = (kind: "state" | "availability") =>
            late.messages.find((m) => m.retain && m.topic === topics[kind](org, lock.deviceId));
          await until(() => retained("availability"), `availability of ${lock.deviceId}`);
          const availability = retained("availability");
          expect(
            (
              published(
                lock,
                availability?.topic ?? "",
                availability?.payload ?? "",
              ) as Availability
            ).status,
          ).toBe("online");
          await until(() => retained("state"), `state of ${lock.deviceId}`);
        }
        await late.client.endAsync();

        // What the fleet would ingest: per lock a gap-free chain and checkpoints that verify.
        await until(
          () =>
            observer.messages.filter((m) => m.topic.endsWith("/event")).length >=
              report.auditRecords + report.checkpoints && true,
          "every event",
        );
        for (const lock of generator.locks) {
          const events = observer.messages
            .filter((m) => m.topic === topics.event(org, lock.deviceId))
            .map((m) => published(lock, m.topic, m.payload) as DeviceEventMessage);
          const records: AuditRecord[] = events.flatMap((e) =>
            e.type === "audit" ? e.records : [],
          );
          const checkpoints: Checkpoint[] = events.flatMap((e) =>
            e.type === "checkpoint" ? [e.checkpoint] : [],
          );
          expect(records.length).toBe(lock.auditHead.seq);
          expect(verifyAuditChain(records)).toBeUndefined();
          expect(checkpoints.length).toBeGreaterThan(0);
          for (const checkpoint of checkpoints) {
            expect(verifyCheckpoint(checkpoint, lock.identity.signing.publicKey)).toBe(true);
            expect(records[checkpoint.seq - 1]?.hash).toBe(checkpoint.headHash);
          }
        }
      } finally {
        await generator.stop();
      }
      // A clean stop leaves every lock retained offline.
      await until(
        () =>
          generator.locks.every((lock) =>
            observer.messages.some(
              (m) =>
                m.topic === topics.availability(org, lock.deviceId) &&
                (published(lock, m.topic, m.payload) as Availability).status === "offline",
            ),
          ),
        "every lock offline",
      );
      await observer.client.endAsync();
    });

    it("a lock whose connection drops is announced offline by its last will", async () => {
      const org = `load-will-${Date.now().toString(36)}`;
      const lock = new SimulatedLock(unenrolledIdentity("lock-will", org, []));
      await lock.connect(broker.url);
      const observer = await observe(broker.url, org);
      await until(
        () => observer.messages.some((m) => m.topic.endsWith("/availability") && m.retain),
        "retained availability",
      );
      lock.sever();
      await until(
        () =>
          observer.messages.some(
            (m) =>
              m.topic === topics.availability(org, "lock-will") &&
              !m.retain &&
              (published(lock, m.topic, m.payload) as Availability).status === "offline",
          ),
        "last will",
      );
      await observer.client.endAsync();
    });
  });
}

describe("simulated lock refuses commands it must not follow", () => {
  let broker: Broker;
  let fleetClient: MqttClient;
  const org = "load-attack";
  const fleet = ed25519.generateKeyPair();
  const intruder = ed25519.generateKeyPair();
  let lock: SimulatedLock;
  const results: CommandResult[] = [];

  beforeAll(async () => {
    broker = await startAedes();
    lock = new SimulatedLock(
      unenrolledIdentity("lock-a", org, [
        { keyId: "fleet-1", publicKey: Buffer.from(fleet.publicKey).toString("base64url") },
      ]),
    );
    await lock.connect(broker.url);
    fleetClient = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    fleetClient.on("message", (topic, payload) =>
      results.push(published(lock, topic, payload) as CommandResult),
    );
    await fleetClient.subscribeAsync(topics.cmdResult(org, "lock-a"), { qos: 1 });
  });
  afterAll(async () => {
    await lock.stop();
    await fleetClient.endAsync();
    await broker.close();
  });

  function envelope(
    id: string,
    options: { seq: number; key?: Uint8Array; keyId?: string; deviceId?: string },
  ): string {
    const now = Date.now();
    return encodeEnvelope(
      signEnvelope(
        {
          type: "time.sync",
          deviceId: options.deviceId ?? "lock-a",
          id,
          seq: options.seq,
          issuedAt: now,
          expiresAt: now + 60_000,
          keyId: options.keyId ?? "fleet-1",
          body: { time: new Date(now).toISOString() },
        },
        options.key ?? fleet.secretKey,
      ),
    );
  }

  async function send(payload: string): Promise<void> {
    await fleetClient.publishAsync(topics.cmd(org, "lock-a"), payload, { qos: 1 });
  }

  async function resultFor(id: string, nth = 1): Promise<CommandResult> {
    return until(() => results.filter((r) => r.id === id)[nth - 1], `result ${id}`);
  }

  it("a command signed by the fleet key is answered ok", async () => {
    await send(envelope("cmd-ok", { seq: 1 }));
    expect((await resultFor("cmd-ok")).status).toBe("ok");
  });

  it("a replayed command is refused with E_REPLAY", async () => {
    const payload = envelope("cmd-replay", { seq: 2 });
    await send(payload);
    expect((await resultFor("cmd-replay")).status).toBe("ok");
    await send(payload);
    expect((await resultFor("cmd-replay", 2)).error?.code).toBe("E_REPLAY");
  });

  it("a command signed by an unknown key is refused, even under the fleet's key id", async () => {
    await send(envelope("cmd-intruder", { seq: 10, key: intruder.secretKey }));
    expect((await resultFor("cmd-intruder")).error?.code).toBe("E_BAD_SIGNATURE");
    await send(envelope("cmd-other-key", { seq: 11, key: intruder.secretKey, keyId: "x" }));
    expect((await resultFor("cmd-other-key")).error?.code).toBe("E_UNKNOWN_KEY");
  });

  it("a command for another lock is refused with E_WRONG_DEVICE", async () => {
    await send(envelope("cmd-other-lock", { seq: 12, deviceId: "lock-b" }));
    expect((await resultFor("cmd-other-lock")).error?.code).toBe("E_WRONG_DEVICE");
    expect(lock.counters.commandsRefused).toBe(4);
  });
});

describe("simulated lock puts acknowledgements on record as a real lock does", () => {
  it("acknowledgements and gap requests write no record of their own; one audit.acknowledged sums them up ahead of the next record", async () => {
    const broker = await startAedes();
    const org = "load-acks";
    const fleet = ed25519.generateKeyPair();
    const lock = new SimulatedLock(
      unenrolledIdentity("lock-acks", org, [
        { keyId: "fleet-1", publicKey: Buffer.from(fleet.publicKey).toString("base64url") },
      ]),
    );
    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    try {
      await lock.connect(broker.url);
      const results: CommandResult[] = [];
      const events: DeviceEventMessage[] = [];
      client.on("message", (topic, payload) => {
        const message = published(lock, topic, payload);
        if (topic.endsWith("/event")) events.push(message as DeviceEventMessage);
        else results.push(message as CommandResult);
      });
      await client.subscribeAsync(
        [topics.cmdResult(org, "lock-acks"), topics.event(org, "lock-acks")],
        { qos: 1 },
      );
      const auditRecords = () => events.flatMap((e) => (e.type === "audit" ? e.records : []));
      for (const kind of ["door.opened", "door.closed", "bolt.thrown"] as const) {
        await lock.audit(kind);
      }
      await until(() => auditRecords().length === 3, "three records");
      let seq = 0;
      const send = async (type: "audit.ack" | "audit.gapRequest", body: object) => {
        seq += 1;
        const now = Date.now();
        const id = `ack-${seq}`;
        await client.publishAsync(
          topics.cmd(org, "lock-acks"),
          encodeEnvelope(
            signEnvelope(
              {
                type,
                deviceId: "lock-acks",
                id,
                seq,
                issuedAt: now,
                expiresAt: now + 60_000,
                keyId: "fleet-1",
                body,
              },
              fleet.secretKey,
            ),
          ),
          { qos: 1 },
        );
        return id;
      };
      const head = lock.auditHead;
      for (let round = 0; round < 5; round += 1) {
        await send("audit.ack", { upToSeq: head.seq, headHash: head.hash });
      }
      await send("audit.gapRequest", { fromSeq: 1, toSeq: 2 });
      await until(() => results.length === 6, "six results");
      expect(results.every((r) => r.status === "ok")).toBe(true);
      await wait(100);
      // No ping-pong: the acknowledgements added nothing to the chain.
      expect(lock.auditHead).toEqual(head);
      expect(lock.counters.acknowledgedSeq).toBe(head.seq);
      expect(auditRecords()).toHaveLength(3);

      const next = await lock.audit("door.opened");
      expect(next.seq).toBe(head.seq + 2);
      await until(() => auditRecords().length === 5, "acknowledgement and next record");
      const last = events.at(-1);
      expect(last?.type === "audit" ? last.records.map((r) => r.kind) : []).toEqual([
        "audit.acknowledged",
        "door.opened",
      ]);
      expect(auditRecords()[3]).toMatchObject({
        seq: head.seq + 1,
        kind: "audit.acknowledged",
        actor: "fleet",
        data: {
          commands: 6,
          acks: 5,
          gapRequests: 1,
          upToSeq: head.seq,
          firstId: "ack-1",
          lastId: "ack-6",
          ranges: [{ fromSeq: 1, toSeq: 2 }],
        },
      });
      expect(auditRecords().every((r) => isValid(AuditRecord, r))).toBe(true);
      expect(verifyAuditChain(auditRecords())).toBeUndefined();
      // Summed up once: the record after it stands alone.
      await lock.audit("door.closed");
      await until(() => auditRecords().length === 6, "one more record");
      expect(
        auditRecords()
          .map((r) => r.kind)
          .slice(-1),
      ).toEqual(["door.closed"]);
      expect(lock.pendingAcknowledgements).toBeUndefined();
    } finally {
      await lock.stop();
      await client.endAsync();
      await broker.close();
    }
  });
});

describe("load generator against a fleet process (buildApp, HTTP enrolment, embedded broker)", () => {
  let fixture: Fixture;
  let fleetUrl: string;

  beforeAll(async () => {
    fixture = await createFixture({ app: { hubOptions: { timeSyncIntervalMs: 0 } } });
    fleetUrl = await fixture.app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it("enrolled locks come online at the fleet, which verifies their chains and checkpoints and acknowledges them", async () => {
    const enrolled = await enrolSimulatedLocks({
      fleetUrl,
      apiToken: fixture.tokens.securityAdmin,
      containerId: fixture.container.id,
      count: 20,
    });
    expect(enrolled.locks).toHaveLength(20);
    const online = new Set<string>();
    const rejected: string[] = [];
    fixture.app.hub.on("availability", (deviceId: string, status: string) => {
      if (status === "online") online.add(deviceId);
    });
    fixture.app.hub.on("rejected", (deviceId: string | undefined, reason: string) => {
      rejected.push(`${deviceId ?? "(unknown)"}: ${reason}`);
    });
    const generator = new LoadGenerator({
      brokerUrl: enrolled.brokerUrl,
      locks: enrolled.locks,
      rate: 100,
      checkpointEvery: 2,
    });
    try {
      expect((await generator.connect()).online).toBe(20);
      await until(() => online.size === 20, "fleet sees every lock online");
      const report = await generator.drive(1500);
      expect(report.auditRecords).toBeGreaterThan(100);
      expect(generator.locks.every((lock) => lock.auditHead.seq > 0)).toBe(true);
      // The fleet acknowledges what it stored after checking the chain: every record, every lock.
      await until(
        () => generator.locks.every((lock) => lock.counters.acknowledgedSeq === lock.auditHead.seq),
        "every record acknowledged",
      );
      expect(report.commands.answered).toBeGreaterThan(0);
      expect(report.commands.refused).toBe(0);
      expect(rejected).toEqual([]);
      const checkpoints = fixture.app.db
        .prepare("SELECT status, COUNT(*) AS n FROM device_checkpoints GROUP BY status")
        .all() as Array<{ status: string; n: number }>;
      expect(checkpoints.find((row) => row.status === "matched")?.n).toBeGreaterThan(0);
      expect(checkpoints.filter((row) => row.status === "mismatch")).toEqual([]);
    } finally {
      await generator.stop();
    }
  });

  it("lockfleet-sim load --enrol enrols locks over HTTP with the admin's token file and runs them at the fleet", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lockfleet-load-enrol-"));
    try {
      const tokenFile = join(dir, "admin.token");
      writeFileSync(tokenFile, `${fixture.tokens.securityAdmin}\n`, { mode: 0o600 });
      const result = await lockfleetSim(
        "load",
        "--enrol",
        "--fleet",
        fleetUrl,
        "--token-file",
        tokenFile,
        "--container",
        fixture.container.id,
        "--locks",
        "5",
        "--duration",
        "1s",
      );
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/enrolled 5 locks for container /);
      expect(result.stdout).toMatch(/online: 5\/5 in /);
      expect(result.stdout).not.toContain(fixture.tokens.securityAdmin);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the admin of another bank cannot enrol locks for this bank's container", async () => {
    await expect(
      enrolSimulatedLocks({
        fleetUrl,
        apiToken: fixture.tokens.bankBAdmin,
        containerId: fixture.container.id,
        count: 1,
      }),
    ).rejects.toThrow(/E_LOAD_ENROLMENT/);
  });
});

describe("lockfleet-sim load (the command line, in a child process)", () => {
  let broker: Broker;
  const work = mkdtempSync(join(tmpdir(), "lockfleet-load-"));
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker?.close();
    rmSync(work, { recursive: true, force: true });
  });

  const run = lockfleetSim;

  it("runs 20 locks against a broker and prints connect time, messages/s and command round trip", async () => {
    const result = await run(
      "load",
      "--fleet-mqtt",
      broker.url,
      "--locks",
      "20",
      "--rate",
      "50",
      "--commands",
      "20",
      "--duration",
      "1s",
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/online: 20\/20 in \d+\.\d+ s/);
    expect(result.stdout).toMatch(/\d+ msg\/s/);
    expect(result.stdout).toMatch(/command round trip \(\d+\/\d+ results\): p50 [\d.]+ ms, p99/);
  });

  it("refuses a command line without --locks, and --enrol without a token file", async () => {
    const noLocks = await run("load", "--fleet-mqtt", broker.url);
    expect(noLocks.code).toBe(2);
    expect(noLocks.stderr).toMatch(/^E_USAGE: give --locks N/);
    const noToken = await run("load", "--enrol", "--fleet", "http://127.0.0.1:1", "--locks", "2");
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/E_USAGE: --enrol needs --fleet URL and --token-file F/);
    const emptyFile = join(work, "empty-token");
    writeFileSync(emptyFile, "\n", { mode: 0o600 });
    const empty = await run(
      "load",
      "--enrol",
      "--fleet",
      "http://127.0.0.1:1",
      "--token-file",
      emptyFile,
      "--locks",
      "2",
    );
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/^E_LOAD_TOKEN_FILE:/);
  });
});
