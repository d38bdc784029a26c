/**
 * Per-device broker accounts on an external Mosquitto, through its dynamic-security plugin
 * (`$CONTROL/dynamic-security/v1`, Mosquitto 2.0 and later). With it the fleet gives every
 * lock it enrols, as the embedded broker does, its own MQTT username and password and an ACL
 * that lets it publish and subscribe only under its own prefix — on a broker the bank runs.
 *
 * Each lock gets a role `lockfleet-device-<deviceId>` (exact topics, no wildcards; receiving
 * anything but its own inbound topics denied) and a client `<deviceId>` holding that role and
 * only it. The fleet connects for this with the plugin's admin account (`--broker-dynsec-url`),
 * separate from the account it exchanges lock messages with.
 */
import { randomBytes } from "node:crypto";
import { deviceTopicGrants } from "@lockfleet/protocol";
import { connectAsync, type MqttClient } from "mqtt";
import { FleetError } from "../errors.js";

const CONTROL_TOPIC = "$CONTROL/dynamic-security/v1";
const RESPONSE_TOPIC = `${CONTROL_TOPIC}/response`;
const ROLE_PREFIX = "lockfleet-device-";
const DEFAULT_TIMEOUT_MS = 5_000;

/** Creates and removes the broker accounts of locks. */
export interface BrokerAccounts {
  /** Creates (or recreates) the account and ACL of a lock about to be enrolled. */
  createDevice(device: { org: string; deviceId: string; password: string }): Promise<void>;
  /** Removes a lock's account; its connections are dropped. Absent accounts are no error. */
  removeDevice(deviceId: string): Promise<void>;
  close(): Promise<void>;
}

interface DynsecCommand {
  command: string;
  correlationData?: string;
  [field: string]: unknown;
}

interface DynsecResponse {
  command?: string;
  error?: string;
  correlationData?: string;
}

type Acl = { acltype: string; topic: string; priority: number; allow: boolean };

/** The role of one lock: its own topics, exactly, and nothing else. */
export function deviceRole(org: string, deviceId: string): { rolename: string; acls: Acl[] } {
  const grants = deviceTopicGrants(org, deviceId);
  const allow = (acltype: string, topic: string): Acl => ({
    acltype,
    topic,
    priority: 1,
    allow: true,
  });
  return {
    rolename: `${ROLE_PREFIX}${deviceId}`,
    acls: [
      ...grants.publish.map((topic) => allow("publishClientSend", topic)),
      ...grants.subscribe.map((topic) => allow("subscribeLiteral", topic)),
      ...grants.subscribe.map((topic) => allow("publishClientReceive", topic)),
      // Deliveries default to allowed in Mosquitto: a lock receives its own inbound topics only.
      { acltype: "publishClientReceive", topic: "#", priority: 0, allow: false },
    ],
  };
}

export class MosquittoDynsec implements BrokerAccounts {
  readonly #client: MqttClient;
  readonly #timeoutMs: number;
  readonly #waiting = new Map<string, (responses: DynsecResponse[]) => void>();

  private constructor(client: MqttClient, timeoutMs: number) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
    client.on("message", (topic, payload) => {
      if (topic !== RESPONSE_TOPIC) return;
      let responses: DynsecResponse[];
      try {
        const parsed = JSON.parse(payload.toString("utf8")) as { responses?: DynsecResponse[] };
        responses = Array.isArray(parsed.responses) ? parsed.responses : [];
      } catch {
        return;
      }
      const key = responses[0]?.correlationData;
      if (key === undefined) return;
      const resolve = this.#waiting.get(key);
      if (resolve === undefined) return;
      this.#waiting.delete(key);
      resolve(responses);
    });
  }

  /** Connects with the plugin's admin account; fails with E_BROKER_ACCOUNTS if it cannot. */
  static async connect(
    url: string,
    options: { timeoutMs?: number; ca?: string } = {},
  ): Promise<MosquittoDynsec> {
    let client: MqttClient;
    try {
      client = await connectAsync(url, {
        protocolVersion: 4,
        clean: true,
        clientId: `lockfleet-dynsec-${randomBytes(6).toString("hex")}`,
        reconnectPeriod: 1_000,
        connectTimeout: 10_000,
        ...(options.ca === undefined ? {} : { ca: options.ca, rejectUnauthorized: true }),
      });
    } catch (error) {
      throw new FleetError(
        "E_BROKER_ACCOUNTS",
        `cannot connect to the broker's dynamic-security admin account: ${(error as Error).message}`,
        503,
      );
    }
    const accounts = new MosquittoDynsec(client, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    try {
      await client.subscribeAsync(RESPONSE_TOPIC, { qos: 1 }).catch((error: Error) => {
        throw new FleetError(
          "E_BROKER_ACCOUNTS",
          `the broker refused the dynamic-security answers to this account (${error.message}): is it the plugin's admin?`,
          503,
        );
      });
      // A round trip proves the account may administer the plugin (a refused publish is
      // silent under MQTT 3.1.1, so only an answer tells).
      await accounts.#run([{ command: "getDefaultACLAccess" }]);
    } catch (error) {
      await client.endAsync(true).catch(() => undefined);
      throw error;
    }
    return accounts;
  }

  async createDevice(device: { org: string; deviceId: string; password: string }): Promise<void> {
    const role = deviceRole(device.org, device.deviceId);
    // Leftovers of an enrolment that failed half-way are replaced (the fleet has checked that
    // no enrolled lock holds this id); "not found" answers to the deletions are expected.
    await this.#run(
      [
        { command: "deleteClient", username: device.deviceId },
        { command: "deleteRole", rolename: role.rolename },
      ],
      { tolerate: /not found/i },
    );
    try {
      await this.#run([
        { command: "createRole", rolename: role.rolename, acls: role.acls },
        {
          command: "createClient",
          username: device.deviceId,
          password: device.password,
          textname: `lockfleet lock of ${device.org}`,
          roles: [{ rolename: role.rolename, priority: 1 }],
        },
      ]);
    } catch (error) {
      // Unanswered is not undone: the commands may still be carried out. Ask for removal.
      this.removeDevice(device.deviceId).catch(() => undefined);
      throw error;
    }
  }

  async removeDevice(deviceId: string): Promise<void> {
    await this.#run(
      [
        { command: "deleteClient", username: deviceId },
        { command: "deleteRole", rolename: `${ROLE_PREFIX}${deviceId}` },
      ],
      { tolerate: /not found/i },
    );
  }

  async close(): Promise<void> {
    for (const resolve of this.#waiting.values()) resolve([]);
    this.#waiting.clear();
    await this.#client.endAsync(true).catch(() => undefined);
  }

  /** Sends commands in one message and waits for the plugin's answer to every one. */
  async #run(commands: DynsecCommand[], options: { tolerate?: RegExp } = {}): Promise<void> {
    // Never queued for later: an account made after the enrolment gave up would be an orphan.
    if (!this.#client.connected) {
      throw new FleetError(
        "E_BROKER_ACCOUNTS",
        "not connected to the broker's dynamic-security admin account (reconnecting)",
        503,
      );
    }
    const key = randomBytes(8).toString("hex");
    const tagged = commands.map((command) => ({ ...command, correlationData: key }));
    const answered = new Promise<DynsecResponse[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(key);
        reject(
          new FleetError(
            "E_BROKER_ACCOUNTS",
            `the broker's dynamic-security plugin did not answer ${commands[0]?.command} within ${this.#timeoutMs} ms (is the plugin loaded, and is the account its admin?)`,
            503,
          ),
        );
      }, this.#timeoutMs);
      this.#waiting.set(key, (responses) => {
        clearTimeout(timer);
        resolve(responses);
      });
    });
    await this.#client.publishAsync(CONTROL_TOPIC, JSON.stringify({ commands: tagged }), {
      qos: 1,
    });
    const responses = await answered;
    for (const response of responses) {
      if (response.error === undefined) continue;
      if (options.tolerate?.test(response.error)) continue;
      throw new FleetError(
        "E_BROKER_ACCOUNTS",
        `the broker refused ${response.command ?? "a command"}: ${response.error}`,
        503,
      );
    }
    if (responses.length < commands.length) {
      throw new FleetError("E_BROKER_ACCOUNTS", "the broker's answer lacks some commands", 503);
    }
  }
}
