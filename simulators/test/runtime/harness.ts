/**
 * One provisioned device runtime against a broker, with a fleet-side MQTT client that sees
 * everything under the device's prefix and sends signed commands as the fleet would.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DeviceRuntime,
  type DeviceRuntimeOptions,
  type LockHardware,
  openHardware,
  provision,
} from "@lockfleet/edge";
import { getProfile, type HardwareProfile } from "@lockfleet/hardware-profiles";
import {
  type AuditRecord,
  type CommandBody,
  type CommandResult,
  type CommandType,
  type DeviceEventMessage,
  deviceTopicPrefix,
  type LockPolicy,
  openDeviceMessage,
  peekDeviceMessage,
  type TopicKind,
  topics,
} from "@lockfleet/protocol";
import mqtt, { type MqttClient } from "mqtt";
import { TestFleet } from "../../../edge/test/runtime/test-fleet.js";
import { createVirtualBoard, type VirtualBoard } from "../../src/virtual-board/virtual-board.js";
import { LinkProxy } from "./link-proxy.js";

export const ANNA = {
  slot: 1,
  personId: "p-anna",
  role: "user" as const,
  enabled: true,
  code: "11223344",
};
export const BEN = {
  slot: 2,
  personId: "p-ben",
  role: "manager" as const,
  enabled: true,
  code: "55667788",
};

export interface Received {
  topic: string;
  kind: string;
  payload: string;
  retain: boolean;
}

export const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function until<T>(
  check: () => T | undefined | false,
  timeoutMs = 8000,
  what = "condition",
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await wait(15);
  }
}

export interface DeviceUnderTestOptions {
  brokerUrl: string;
  policy?: Partial<LockPolicy>;
  /** Put a cuttable relay between the device and the broker. */
  proxy?: boolean;
  runtime?: Partial<
    Pick<DeviceRuntimeOptions, "audit" | "mqtt" | "clock" | "update" | "onRestartRequested">
  >;
}

export class DeviceUnderTest {
  readonly fleet: TestFleet;
  readonly received: Received[] = [];
  readonly dir = mkdtempSync(join(tmpdir(), "lockfleet-dut-"));
  readonly dataDir = join(this.dir, "data");
  proxy: LinkProxy | undefined;
  runtime!: DeviceRuntime;
  hardware!: LockHardware;
  board!: VirtualBoard;
  fleetClient!: MqttClient;
  readonly #options: DeviceUnderTestOptions;
  #kek!: Buffer;

  constructor(options: DeviceUnderTestOptions) {
    this.#options = options;
    this.fleet = new TestFleet({
      brokerUrl: options.brokerUrl,
      policy: { dualControl: "single", timeDelayMin: 0, ...options.policy },
    });
  }

  get deviceId(): string {
    return this.runtime.deviceId;
  }

  get org(): string {
    return this.fleet.org;
  }

  async setUp(): Promise<this> {
    await this.fleet.listen();
    const kekFile = join(this.dir, "kek");
    await provision({
      fleetUrl: this.fleet.url,
      token: this.fleet.token(),
      profile: "virtual",
      dataDir: this.dataDir,
      kekFile,
    });
    this.#kek = Buffer.from(readFileSync(kekFile, "utf8").trim(), "base64url");
    const deviceId = this.fleet.enrolled[0]?.deviceId ?? "";
    // The fleet side listens before the device starts, so nothing is missed.
    this.fleetClient = await mqtt.connectAsync(this.#options.brokerUrl, {
      protocolVersion: 4,
      clientId: `fleet-${deviceId}`,
      reconnectPeriod: 200,
    });
    this.fleetClient.on("message", (topic, payload, packet) => {
      const prefix = `${deviceTopicPrefix(this.org, deviceId)}/`;
      this.received.push({
        topic,
        kind: topic.startsWith(prefix) ? topic.slice(prefix.length) : topic,
        payload: payload.toString("utf8"),
        retain: packet.retain,
      });
    });
    await this.fleetClient.subscribeAsync(`${deviceTopicPrefix(this.org, deviceId)}/#`, { qos: 1 });
    if (this.#options.proxy === true) {
      this.proxy = new LinkProxy(this.#options.brokerUrl);
      await this.proxy.listen();
    }
    await this.start();
    return this;
  }

  async start(): Promise<DeviceRuntime> {
    const found = getProfile("virtual");
    if (!found.ok) throw new Error(found.error.message);
    const profile = found.value as HardwareProfile;
    this.board = createVirtualBoard(profile);
    this.hardware = await openHardware(profile, { io: this.board.io });
    this.runtime = await DeviceRuntime.start({
      dataDir: this.dataDir,
      kek: this.#kek,
      hardware: this.hardware,
      firstStart: { users: [ANNA, BEN] },
      ...this.#options.runtime,
      mqtt: {
        reconnectMinMs: 100,
        reconnectMaxMs: 400,
        keepaliveSec: 5,
        ...this.#options.runtime?.mqtt,
        url: this.proxy?.url ?? this.#options.brokerUrl,
      },
    });
    return this.runtime;
  }

  /** Publishes a command signed with the fleet key on the device's `cmd` (or `sync`) topic. */
  async send<T extends CommandType>(
    type: T,
    body: CommandBody<T>,
    overrides: Parameters<TestFleet["sign"]>[3] & { topic?: "cmd" | "sync" } = {},
  ): Promise<string> {
    const envelope = this.fleet.sign(this.deviceId, type, body, overrides);
    await this.publishRaw(envelope, overrides.topic ?? "cmd");
    return JSON.parse(JSON.parse(envelope).payload).id as string;
  }

  async publishRaw(payload: string, topic: "cmd" | "sync" = "cmd"): Promise<void> {
    const target =
      topic === "cmd" ? topics.cmd(this.org, this.deviceId) : topics.sync(this.org, this.deviceId);
    await this.fleetClient.publishAsync(target, payload, { qos: 1 });
  }

  /**
   * The body of a message the device published, once its device signature, device and topic
   * are verified with the key it enrolled (checked at the lock's own time of signing).
   */
  opened(m: Pick<Received, "kind" | "payload">): unknown {
    const publicKey = this.fleet.enrolled[0]?.signingPublicKey;
    if (publicKey === undefined) throw new Error("no device enrolled");
    const outcome = openDeviceMessage(m.payload, {
      deviceId: this.deviceId,
      topic: m.kind as TopicKind,
      publicKey,
      now: peekDeviceMessage(m.payload)?.issuedAt ?? Date.now(),
    });
    if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
    return outcome.value.body;
  }

  results(): CommandResult[] {
    return this.received
      .filter((m) => m.kind === "cmd/result")
      .map((m) => this.opened(m) as CommandResult);
  }

  async result(id: string, timeoutMs = 5000): Promise<CommandResult> {
    return until(() => this.results().find((r) => r.id === id), timeoutMs, `result ${id}`);
  }

  events(): DeviceEventMessage[] {
    return this.received
      .filter((m) => m.kind === "event")
      .map((m) => {
        const type = peekDeviceMessage(m.payload)?.type;
        const body = this.opened(m);
        if (type === "audit")
          return { type, records: (body as { records: AuditRecord[] }).records };
        if (type === "alarm") return { type, alarm: body } as DeviceEventMessage;
        return { type: "checkpoint", checkpoint: body } as DeviceEventMessage;
      });
  }

  /** Audit records in the order they arrived (with repeats, as at-least-once allows). */
  auditArrivals(): AuditRecord[] {
    return this.events().flatMap((e) => (e.type === "audit" ? e.records : []));
  }

  latest(kind: string): Received | undefined {
    return this.received.filter((m) => m.kind === kind).at(-1);
  }

  async acknowledge(upToSeq: number): Promise<string> {
    const record = this.auditArrivals().find((r) => r.seq === upToSeq);
    if (record === undefined) throw new Error(`record ${upToSeq} not received`);
    return this.send("audit.ack", { upToSeq, headHash: record.hash }, { topic: "sync" });
  }

  async tearDown(): Promise<void> {
    await this.runtime?.stop().catch(() => {});
    this.board?.close();
    await this.fleetClient?.endAsync().catch(() => {});
    await this.proxy?.close();
    await this.fleet.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
