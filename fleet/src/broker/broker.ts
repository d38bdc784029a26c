/**
 * The embedded MQTT broker (SPEC §2 default): aedes 1.2 over TCP with device identity and topic
 * ACLs in its authenticate / authorizePublish / authorizeSubscribe hooks, and an indexed retained
 * store so a reconnect storm does not go quadratic.
 *
 * Every refusal is reported through `onRejected`: MQTT 3.1.1 has no way to tell a client why a
 * PUBLISH was refused (aedes just closes the connection), so the fleet's record is the only one.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:net";
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
import { guardMqRecursion } from "./mq-guard.js";
import { IndexedRetainedPersistence } from "./retained-store.js";

export type AuthenticationResult = { identity: DeviceIdentity } | { reason: string };

export interface BrokerRejection {
  kind: "connect" | "publish" | "subscribe";
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
}

export interface EmbeddedBroker {
  /** mqtt://host:port as devices should use it. */
  readonly url: string;
  readonly port: number;
  /** The fleet's own client identity; the password exists only in this process's memory. */
  readonly fleetCredentials: { username: string; password: string; clientIdPrefix: string };
  connectedClients(): number;
  /** Whether the device holds a live connection now. */
  isDeviceConnected(deviceId: string): boolean;
  close(): Promise<void>;
}

interface AuthError extends Error {
  returnCode: number;
}

const BAD_USERNAME_OR_PASSWORD = 4;
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

  const aedesOptions: AedesOptions = {
    ...(options.unindexedRetainedStore ? {} : { persistence: new IndexedRetainedPersistence() }),
    authenticate(client, username, password, done) {
      const clientId = client.id;
      const given = password ?? Buffer.alloc(0);
      if (username === FLEET_USERNAME) {
        if (sameSecret(given, fleetPasswordBytes) && clientId.startsWith(FLEET_CLIENT_ID_PREFIX)) {
          identities.set(client, { kind: "fleet" });
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
      identities.set(client, result.identity);
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
  const liveDevices = new Map<string, Client>();
  aedes.on("client", (client) => {
    const identity = identities.get(client);
    if (identity?.kind === "device") liveDevices.set(identity.deviceId, client);
  });
  aedes.on("clientDisconnect", (client) => {
    const identity = identities.get(client);
    if (identity?.kind !== "device" || liveDevices.get(identity.deviceId) !== client) return;
    liveDevices.delete(identity.deviceId);
    options.onDeviceDisconnected?.(identity);
  });
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        reject(
          new Error(
            `E_MQTT_PORT_TAKEN: MQTT port ${host}:${options.port} is already in use (set the MQTT port)`,
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
    url: `mqtt://${host}:${port}`,
    port,
    fleetCredentials: {
      username: FLEET_USERNAME,
      password: fleetPassword,
      clientIdPrefix: FLEET_CLIENT_ID_PREFIX,
    },
    connectedClients: () => aedes.connectedClients,
    isDeviceConnected: (deviceId) => liveDevices.has(deviceId),
    async close() {
      liveDevices.clear();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
