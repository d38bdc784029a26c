/**
 * The embedded MQTT broker (SPEC §2 default): aedes 1.2 over TCP with device identity and topic
 * ACLs in its authenticate / authorizePublish / authorizeSubscribe hooks, and an indexed retained
 * store so a reconnect storm does not go quadratic.
 *
 * Every refusal is reported through `onRejected`: MQTT 3.1.1 has no way to tell a client why a
 * PUBLISH was refused (aedes just closes the connection), so the fleet's record is the only one.
 */

import { randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { createSecureContext, TLSSocket } from "node:tls";
import { CodedError } from "@lockfleet/protocol";
import { Aedes, type AedesOptions, type Client } from "aedes";
import {
  type BrokerIdentity,
  checkDeviceClientId,
  checkPublish,
  checkSubscribe,
  type DeviceIdentity,
  FLEET_CLIENT_ID_PREFIX,
  FLEET_USERNAME,
  sameSecret,
} from "./acl.js";
import {
  type BrokerLimits,
  ConnectionGuard,
  DEFAULT_BROKER_LIMITS,
  type GuardCode,
  type GuardRefusal,
} from "./connection-guard.js";
import { guardMqRecursion } from "./mq-guard.js";
import { IndexedRetainedPersistence } from "./retained-store.js";

export type AuthenticationResult = { identity: DeviceIdentity } | { reason: string };

export interface BrokerRejection {
  /** `limit`: a connection closed by the broker's limits (reported at most once a minute per code). */
  kind: "connect" | "publish" | "subscribe" | "limit";
  clientId: string;
  /** Set when the client had authenticated as a device. */
  identity?: DeviceIdentity;
  /** The username presented at connect (never the password). */
  username?: string;
  topic?: string;
  /** "E_CODE: sentence". */
  reason: string;
}

export interface StartBrokerOptions {
  /** 0 picks a free port (tests); production passes the configured MQTT port. */
  port: number;
  host?: string;
  /** Device credentials check (username = device id); called once per CONNECT. */
  authenticate: (username: string, password: Uint8Array, clientId: string) => AuthenticationResult;
  onRejected?: (rejection: BrokerRejection) => void;
  /**
   * A device's connection ended (also when it set no last will); not called when the same
   * device has already reconnected on a newer connection.
   */
  onDeviceDisconnected?: (identity: DeviceIdentity) => void;
  /** Use aedes-persistence's flat retained store (the benchmark's baseline only). */
  unindexedRetainedStore?: boolean;
  /** Connection limits (see connection-guard.ts); each unset one takes its default. */
  limits?: Partial<BrokerLimits>;
  /** Serve MQTT over TLS (mqtts://) with this certificate (chain) and key, both PEM. */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

export interface EmbeddedBroker {
  /** mqtt://host:port or mqtts://host:port as devices should use it. */
  readonly url: string;
  readonly port: number;
  /** The fleet's own client identity; the password exists only in this process's memory. */
  readonly fleetCredentials: { username: string; password: string; clientIdPrefix: string };
  connectedClients(): number;
  /** Connections accepted that have not logged in yet. */
  unauthenticatedConnections(): number;
  /** Connections the limits closed, by code, since start. */
  limitRefusals(): ReadonlyMap<GuardCode, number>;
  /** Whether the device holds a live connection now. */
  isDeviceConnected(deviceId: string): boolean;
  /**
   * The generation of the device's live connection (a number the broker gives each device
   * connection it accepts, increasing), undefined while it holds none. What the hub learnt
   * on one connection (a drift measurement) is told apart from what it learns on the next.
   */
  deviceConnection(deviceId: string): number | undefined;
  close(): Promise<void>;
}

interface AuthError extends Error {
  returnCode: number;
}

const BAD_USERNAME_OR_PASSWORD = 4;
/** A flood of refused connections becomes one report per code per minute, not one per socket. */
const LIMIT_REPORT_INTERVAL_MS = 60_000;
const NOT_AUTHORIZED = 5;

function authError(message: string, returnCode: number): AuthError {
  return Object.assign(new Error(message), { returnCode });
}

export async function startBroker(options: StartBrokerOptions): Promise<EmbeddedBroker> {
  const host = options.host ?? "127.0.0.1";
  const fleetPassword = randomBytes(32).toString("base64url");
  const fleetPasswordBytes = Buffer.from(fleetPassword, "utf8");
  const identities = new WeakMap<Client, BrokerIdentity>();
  const report = (rejection: BrokerRejection) => options.onRejected?.(rejection);
  const limits: BrokerLimits = { ...DEFAULT_BROKER_LIMITS, ...options.limits };
  const lastLimitReport = new Map<GuardCode, { at: number; suppressed: number }>();
  const reportLimit = (refusal: GuardRefusal) => {
    const now = Date.now();
    const last = lastLimitReport.get(refusal.code);
    if (last !== undefined && now - last.at < LIMIT_REPORT_INTERVAL_MS) {
      last.suppressed += 1;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    lastLimitReport.set(refusal.code, { at: now, suppressed: 0 });
    report({
      kind: "limit",
      clientId: refusal.clientId ?? "",
      reason: `${refusal.reason}${refusal.remoteAddress === undefined ? "" : ` (from ${refusal.remoteAddress})`}${suppressed > 0 ? `; ${suppressed} more since the last report` : ""}`,
    });
  };
  const guard = new ConnectionGuard(limits, reportLimit);

  const aedesOptions: AedesOptions = {
    ...(options.unindexedRetainedStore ? {} : { persistence: new IndexedRetainedPersistence() }),
    connectTimeout: limits.connectTimeoutMs,
    authenticate(client, username, password, done) {
      const clientId = client.id;
      const given = password ?? Buffer.alloc(0);
      if (username === FLEET_USERNAME) {
        if (sameSecret(given, fleetPasswordBytes) && clientId.startsWith(FLEET_CLIENT_ID_PREFIX)) {
          // The fleet's own client is exempt from the login rate: it is this process.
          identities.set(client, { kind: "fleet" });
          guard.authenticated(client.conn as Duplex);
          done(null, true);
          return;
        }
        const reason = "E_MQTT_AUTH: fleet client credentials refused";
        report({ kind: "connect", clientId, username, reason });
        done(authError(reason, BAD_USERNAME_OR_PASSWORD), null);
        return;
      }
      if (username === undefined) {
        const reason = "E_MQTT_AUTH: anonymous connection refused";
        report({ kind: "connect", clientId, reason });
        done(authError(reason, NOT_AUTHORIZED), null);
        return;
      }
      let result: AuthenticationResult;
      try {
        result = options.authenticate(username, given, clientId);
      } catch (error) {
        result = { reason: `E_MQTT_AUTH: credentials check failed: ${(error as Error).message}` };
      }
      if ("reason" in result) {
        report({ kind: "connect", clientId, username, reason: result.reason });
        done(authError(result.reason, BAD_USERNAME_OR_PASSWORD), null);
        return;
      }
      const clientIdDecision = checkDeviceClientId(result.identity, clientId);
      if (!clientIdDecision.allowed) {
        report({
          kind: "connect",
          clientId,
          username,
          identity: result.identity,
          reason: clientIdDecision.reason,
        });
        done(authError(clientIdDecision.reason, NOT_AUTHORIZED), null);
        return;
      }
      const busy = guard.login(clientId);
      if (busy !== undefined) {
        reportLimit({ ...busy, clientId });
        done(authError(busy.reason, NOT_AUTHORIZED), null);
        return;
      }
      identities.set(client, result.identity);
      guard.authenticated(client.conn as Duplex);
      done(null, true);
    },
    authorizePublish(client, packet, done) {
      // aedes passes no client for messages it publishes itself ($SYS, stored wills of others).
      if (client === null) return done(null);
      const identity = identities.get(client);
      const decision: { allowed: true } | { allowed: false; reason: string } =
        identity === undefined
          ? { allowed: false, reason: "E_MQTT_PUBLISH_DENIED: client is not authenticated" }
          : checkPublish(identity, packet.topic);
      if (decision.allowed) return done(null);
      report({
        kind: "publish",
        clientId: client.id,
        ...(identity?.kind === "device" ? { identity } : {}),
        topic: packet.topic,
        reason: decision.reason,
      });
      done(new Error(decision.reason));
    },
    authorizeSubscribe(client, subscription, done) {
      const identity = identities.get(client);
      const decision: { allowed: true } | { allowed: false; reason: string } =
        identity === undefined
          ? { allowed: false, reason: "E_MQTT_SUBSCRIBE_DENIED: client is not authenticated" }
          : checkSubscribe(identity, subscription.topic);
      if (decision.allowed) return done(null, subscription);
      report({
        kind: "subscribe",
        clientId: client.id,
        ...(identity?.kind === "device" ? { identity } : {}),
        topic: subscription.topic,
        reason: decision.reason,
      });
      // A null subscription answers 0x80 (failure) in the SUBACK without closing the connection.
      done(null, null);
    },
  };

  const aedes = await Aedes.createBroker(aedesOptions);
  // Thousands of locks publishing at once must not overflow the stack (see mq-guard.ts).
  // aedes sets `mq` on the instance but its type declarations do not list it.
  guardMqRecursion((aedes as unknown as { mq: unknown }).mq);
  // Client errors (a device dropping its TCP connection mid-packet) are normal in a fleet.
  aedes.on("clientError", () => {});
  aedes.on("connectionError", () => {});
  const liveDevices = new Map<string, { client: Client; generation: number }>();
  let generations = 0;
  aedes.on("client", (client) => {
    const identity = identities.get(client);
    generations += 1;
    if (identity?.kind === "device")
      liveDevices.set(identity.deviceId, { client, generation: generations });
  });
  aedes.on("clientDisconnect", (client) => {
    const identity = identities.get(client);
    if (identity?.kind !== "device" || liveDevices.get(identity.deviceId)?.client !== client)
      return;
    liveDevices.delete(identity.deviceId);
    options.onDeviceDisconnected?.(identity);
  });
  const secureContext =
    options.tls === undefined
      ? undefined
      : createSecureContext({
          cert: options.tls.cert,
          key: options.tls.key,
          minVersion: "TLSv1.2",
        });
  const server: Server = createServer({ noDelay: true }, (socket: Socket) => {
    if (!guard.admit(socket)) return;
    let stream: Duplex = socket;
    if (secureContext !== undefined) {
      // The guard's timer covers the handshake too: a client that stalls it is closed.
      socket.on("error", () => {});
      stream = new TLSSocket(socket, { isServer: true, secureContext });
    }
    guard.watch(socket, stream);
    aedes.handle(stream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        reject(
          new CodedError(
            "E_MQTT_PORT_TAKEN",
            `MQTT port ${host}:${options.port} is already in use (set the MQTT port)`,
          ),
        );
      } else reject(error);
    });
    // After an outage every lock reconnects at once: a deep accept queue instead of resets.
    server.listen({ port: options.port, host, backlog: 4096 }, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;

  return {
    url: `${secureContext === undefined ? "mqtt" : "mqtts"}://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    fleetCredentials: {
      username: FLEET_USERNAME,
      password: fleetPassword,
      clientIdPrefix: FLEET_CLIENT_ID_PREFIX,
    },
    connectedClients: () => aedes.connectedClients,
    unauthenticatedConnections: () => guard.unauthenticated,
    limitRefusals: () => guard.refusals,
    isDeviceConnected: (deviceId) => liveDevices.has(deviceId),
    deviceConnection: (deviceId) => liveDevices.get(deviceId)?.generation,
    async close() {
      liveDevices.clear();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
