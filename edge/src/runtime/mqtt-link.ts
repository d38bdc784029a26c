/**
 * The device's MQTT link to the fleet (SPEC §4): MQTT 3.1.1 over TCP or TLS, the retained
 * availability with a last will `offline`, subscriptions to `cmd` and `sync` under the
 * device's own prefix, QoS 1 for everything that matters, reconnect with capped exponential
 * backoff and jitter (so a fleet restart does not bring every lock back in the same second).
 * The lock's own availability messages are signed (`signAvailability`); the last will cannot
 * be (the broker sends it later, on the lock's behalf), so the fleet takes it as a hint only.
 */
import { readFileSync } from "node:fs";
import { type Availability, formatInstant, topics } from "@lockfleet/protocol";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { TlsFiles } from "./device-files.js";
import { RuntimeError } from "./errors.js";
import { type RuntimeLog, silentLog } from "./log.js";

export interface MqttLinkOptions {
  url: string;
  org: string;
  deviceId: string;
  username: string;
  password: string;
  tls?: TlsFiles;
  /** Keep the broker session (queued commands) across reconnects. Default true. */
  persistentSession?: boolean;
  keepaliveSec?: number;
  /** Backoff between reconnect attempts: starts at min, doubles, capped at max. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  connectTimeoutMs?: number;
  /** Turns an availability message into the text published (the device-signed envelope). */
  signAvailability?: (availability: Availability) => string;
  log?: RuntimeLog;
}

export interface MqttLinkHandlers {
  connected(): void;
  disconnected(): void;
  /** A message on `cmd` or `sync` (raw bytes: the envelope is verified over them). */
  command(payload: Buffer, topic: "cmd" | "sync"): void;
}

export function backoffDelay(
  attempt: number,
  minMs: number,
  maxMs: number,
  random = Math.random,
): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  // "Equal jitter": at least half the step, so attempts never bunch up at zero.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export class MqttLink {
  readonly #options: Required<
    Pick<MqttLinkOptions, "reconnectMinMs" | "reconnectMaxMs" | "keepaliveSec" | "connectTimeoutMs">
  > &
    MqttLinkOptions;
  readonly #handlers: MqttLinkHandlers;
  readonly #log: RuntimeLog;
  readonly #topics: { cmd: string; sync: string; availability: string };
  #client: MqttClient | undefined;
  #attempt = 0;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #online = false;
  #closing = false;
  #connects = 0;

  constructor(options: MqttLinkOptions, handlers: MqttLinkHandlers) {
    this.#options = {
      reconnectMinMs: 1000,
      reconnectMaxMs: 60_000,
      keepaliveSec: 30,
      connectTimeoutMs: 10_000,
      ...options,
    };
    this.#handlers = handlers;
    this.#log = options.log ?? silentLog;
    this.#topics = {
      cmd: topics.cmd(options.org, options.deviceId),
      sync: topics.sync(options.org, options.deviceId),
      availability: topics.availability(options.org, options.deviceId),
    };
  }

  get online(): boolean {
    return this.#online;
  }

  /** Successful connections so far (the first one and every reconnect). */
  get connects(): number {
    return this.#connects;
  }

  /** Starts connecting; never throws for an unreachable broker (the lock works offline). */
  start(): void {
    const o = this.#options;
    const offline: Availability = { status: "offline" };
    const clientOptions: IClientOptions = {
      protocolVersion: 4,
      clientId: o.deviceId,
      username: o.username,
      password: o.password,
      clean: !(o.persistentSession ?? true),
      keepalive: o.keepaliveSec,
      connectTimeout: o.connectTimeoutMs,
      // Reconnects are ours (with backoff); mqtt.js would retry at a fixed period.
      reconnectPeriod: 0,
      resubscribe: false,
      will: {
        topic: this.#topics.availability,
        payload: Buffer.from(JSON.stringify(offline)),
        qos: 1,
        retain: true,
      },
      ...tlsOptions(o.url, o.tls),
    };
    if (!/^(mqtts|ssl):/.test(o.url)) {
      this.#log.warn("mqtt: plain MQTT without TLS: broker password and commands travel in clear", {
        broker: redactUrl(o.url),
      });
    }
    const client = mqtt.connect(o.url, clientOptions);
    this.#client = client;
    client.on("connect", () => this.#onConnect());
    client.on("close", () => this.#onClose());
    client.on("error", (error) => {
      this.#log.warn("mqtt: connection error", { err: error.message, broker: redactUrl(o.url) });
    });
    client.on("message", (topic, payload) => {
      if (topic === this.#topics.cmd) this.#handlers.command(payload, "cmd");
      else if (topic === this.#topics.sync) this.#handlers.command(payload, "sync");
    });
  }

  /** Publishes with QoS 1; resolves when the broker acknowledged. */
  publish(topic: string, payload: string, options: { retain?: boolean } = {}): Promise<void> {
    const client = this.#client;
    if (client === undefined)
      return Promise.reject(new RuntimeError("E_MQTT_CLOSED", "link not started"));
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, { qos: 1, retain: options.retain ?? false }, (error) => {
        if (error) reject(error);
        else resolve();
      });
    });
  }

  /** Publishes `offline` (retained) when connected, then disconnects cleanly. */
  async stop(): Promise<void> {
    this.#closing = true;
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    const client = this.#client;
    if (client === undefined) return;
    if (this.#online) {
      const offline: Availability = { status: "offline", at: formatInstant(Date.now()) };
      await Promise.race([
        this.publish(this.#topics.availability, this.#availabilityText(offline), { retain: true }),
        new Promise((resolve) => setTimeout(resolve, 2000).unref()),
      ]).catch(() => {});
    }
    // In-flight messages get a moment to be acknowledged; whatever is left is in the store.
    const ended = await Promise.race([
      client.endAsync(false).then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000).unref()),
    ]);
    if (!ended) await client.endAsync(true).catch(() => {});
    this.#online = false;
  }

  /** Drops the connection without a clean disconnect (as a cable pulled would; for tests). */
  sever(): void {
    this.#client?.stream.destroy();
  }

  #onConnect(): void {
    this.#attempt = 0;
    this.#online = true;
    this.#connects += 1;
    const client = this.#client;
    if (client === undefined) return;
    // A command result is one small packet: with Nagle's algorithm it can wait for the broker's
    // delayed ACK (up to 40 ms) before it leaves.
    (client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
    this.#log.info("mqtt: connected", { broker: redactUrl(this.#options.url) });
    client.subscribe([this.#topics.cmd, this.#topics.sync], { qos: 1 }, (error) => {
      if (error) this.#log.error("mqtt: subscribe failed", { err: error.message });
    });
    const online: Availability = { status: "online", at: formatInstant(Date.now()) };
    Promise.resolve()
      .then(() =>
        this.publish(this.#topics.availability, this.#availabilityText(online), { retain: true }),
      )
      .catch((error: Error) =>
        this.#log.warn("mqtt: availability not published", { err: error.message }),
      );
    this.#handlers.connected();
  }

  #availabilityText(availability: Availability): string {
    const sign = this.#options.signAvailability;
    return sign === undefined ? JSON.stringify(availability) : sign(availability);
  }

  #onClose(): void {
    if (this.#online) {
      this.#online = false;
      this.#log.warn("mqtt: connection lost");
      this.#handlers.disconnected();
    }
    if (this.#closing || this.#reconnectTimer !== undefined) return;
    const delay = backoffDelay(
      this.#attempt,
      this.#options.reconnectMinMs,
      this.#options.reconnectMaxMs,
    );
    this.#attempt += 1;
    this.#log.debug("mqtt: reconnecting", { inMs: delay, attempt: this.#attempt });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (!this.#closing) this.#client?.reconnect();
    }, delay);
  }
}

function tlsOptions(url: string, tls: TlsFiles | undefined): Partial<IClientOptions> {
  if (!/^(mqtts|ssl):/.test(url)) return {};
  const read = (what: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      throw new RuntimeError("E_CONFIG", `TLS ${what} file ${path} cannot be read`, {
        cause: error,
      });
    }
  };
  const ca = read("CA", tls?.ca);
  const cert = read("certificate", tls?.cert);
  const key = read("key", tls?.key);
  return {
    rejectUnauthorized: true,
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
  };
}

/** The broker URL without credentials, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return "(unparsable url)";
  }
}
