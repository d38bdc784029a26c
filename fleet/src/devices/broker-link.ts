/**
 * Broker start-up: the embedded broker the hub starts itself (its credential check and
 * disconnections call back into the hub), or an external broker by URL (with the lock
 * accounts the fleet manages there), and the fleet's own MQTT client subscribed to every
 * lock's topics.
 */
import { randomBytes } from "node:crypto";
import { fleetSubscription } from "@lockfleet/protocol";
import { connectAsync, type IPublishPacket } from "mqtt";
import type { BrokerRejection, DeviceIdentity } from "../broker/index.js";
import { startBroker } from "../broker/index.js";
import { MosquittoDynsec } from "../broker/mosquitto-dynsec.js";
import { disableNagle } from "../broker/no-delay.js";
import { embeddedBrokerTls, externalLockTrust } from "../broker/tls.js";
import type { DeviceHubOptions } from "./hub.js";
import type { HubContext } from "./hub-context.js";
import type { LiveDevice } from "./live-device.js";

/** What broker start-up needs of the hub it connects. */
export interface HubLink {
  ctx: HubContext;
  authenticate(
    username: string,
    password: Uint8Array,
    clientId: string,
  ): { identity: DeviceIdentity } | { reason: string };
  onBrokerRejection(rejection: BrokerRejection): void;
  onDeviceDisconnected(identity: DeviceIdentity): void;
  onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void;
  syncAllClocks(): void;
  setAvailability(device: LiveDevice, status: "online" | "offline"): void;
  close(): Promise<void>;
}

export async function startBrokerLink<H>(
  options: DeviceHubOptions,
  create: (brokerUrl: string) => { hub: H; link: HubLink },
): Promise<H> {
  if ("url" in options.mqtt) {
    const external = options.mqtt;
    const deviceUrl = external.deviceUrl ?? withoutCredentials(external.url);
    const trust = external.ca === undefined ? undefined : externalLockTrust(external.ca);
    const { hub, link } = create(deviceUrl);
    link.ctx.lockTrust = trust;
    try {
      if (external.dynsecUrl !== undefined) {
        link.ctx.accounts = await MosquittoDynsec.connect(
          external.dynsecUrl,
          trust === undefined ? {} : { ca: trust.caPem },
        );
      }
      await connect(link, external.url, {
        clientId: `lockfleet-fleet-${randomBytes(6).toString("hex")}`,
        ...(trust === undefined ? {} : { ca: trust.caPem }),
      });
    } catch (error) {
      await link.close();
      throw error;
    }
    return hub;
  }
  const embedded = options.mqtt;
  const { tls, trust } = embeddedBrokerTls(embedded, options.dataDir);
  // The broker calls back into the hub for credentials, so the hub exists first.
  const pending: { link?: HubLink } = {};
  const broker = await startBroker({
    port: embedded.port ?? 0,
    ...(embedded.host === undefined ? {} : { host: embedded.host }),
    ...(tls === undefined ? {} : { tls }),
    ...(embedded.limits === undefined ? {} : { limits: embedded.limits }),
    ...(options.unindexedRetainedStore ? { unindexedRetainedStore: true } : {}),
    authenticate: (username, password, clientId) => {
      if (pending.link === undefined) return { reason: "E_MQTT_AUTH: the fleet is still starting" };
      return pending.link.authenticate(username, password, clientId);
    },
    onRejected: (rejection) => {
      if (pending.link !== undefined) pending.link.onBrokerRejection(rejection);
    },
    onDeviceDisconnected: (identity) => {
      if (pending.link !== undefined) pending.link.onDeviceDisconnected(identity);
    },
  });
  let created: { hub: H; link: HubLink };
  try {
    created = create(options.mqtt.deviceUrl ?? broker.url);
  } catch (error) {
    await broker.close();
    throw error;
  }
  const { hub, link } = created;
  pending.link = link;
  link.ctx.broker = broker;
  link.ctx.lockTrust = trust;
  try {
    // Nobody is connected to a broker that just started: locks last seen online must
    // come back, or raise the offline alarm after the grace period.
    for (const device of link.ctx.devices.values()) {
      if (device.availability === "online") link.setAvailability(device, "offline");
    }
    const credentials = broker.fleetCredentials;
    await connect(link, broker.url, {
      username: credentials.username,
      password: credentials.password,
      clientId: `${credentials.clientIdPrefix}${randomBytes(6).toString("hex")}`,
      // Its own listener, reached by the address it listens on: the CA is what is checked.
      ...(trust === undefined ? {} : { ca: trust.caPem, ownListener: true }),
      noDelay: true,
    });
  } catch (error) {
    await link.close();
    throw error;
  }
  return hub;
}

async function connect(
  link: HubLink,
  url: string,
  connection: {
    username?: string;
    password?: string;
    clientId: string;
    ca?: string;
    ownListener?: boolean;
    /** Nagle's algorithm off on the client's socket (see below). */
    noDelay?: boolean;
  },
): Promise<void> {
  const { ca, ownListener, noDelay, ...credentials } = connection;
  const client = await connectAsync(url, {
    ...credentials,
    ...(ca === undefined
      ? {}
      : {
          ca,
          rejectUnauthorized: true,
          ...(ownListener ? { checkServerIdentity: () => undefined } : {}),
        }),
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 1_000,
    connectTimeout: 10_000,
  });
  link.ctx.client = client;
  // Off towards the embedded broker: presence there no longer depends on a relayed message
  // arriving before the broker's in-process disconnect report (presence.ts), and each hop of a
  // command's round trip stops waiting for a delayed ACK. Towards an external broker it stays
  // on: with it off, a replayed audit batch published to Mosquitto by a foreign client at times
  // never reached the hub in signed-messages.test.ts, which is not explained yet.
  if (noDelay === true) disableNagle(client);
  client.on("message", (topic, payload, packet) => link.onMessage(topic, payload, packet));
  client.on("error", (error) => link.ctx.log.warn({ err: error }, "E_MQTT_CLIENT: fleet client"));
  // State and availability are retained snapshots: QoS 0 towards the fleet keeps a reconnect
  // storm out of the broker's per-client queue (Mosquitto drops QoS 1 beyond
  // max_queued_messages, 1000 by default), and a lost one comes back with the retained copy
  // on the next subscription. Audit events and results are not retained: QoS 1.
  await client.subscribeAsync({
    [fleetSubscription("state")]: { qos: 0 },
    [fleetSubscription("availability")]: { qos: 0 },
    [fleetSubscription("event")]: { qos: 1 },
    [fleetSubscription("cmd/result")]: { qos: 1 },
  });
  if (link.ctx.settings.timeSyncIntervalMs > 0) {
    link.ctx.timeSyncTimer = setInterval(
      () => link.syncAllClocks(),
      link.ctx.settings.timeSyncIntervalMs,
    );
    link.ctx.timeSyncTimer.unref();
  }
}

function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = "";
  parsed.password = "";
  return parsed.toString().replace(/\/$/, "");
}
