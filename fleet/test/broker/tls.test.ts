/**
 * TLS for locks on the embedded broker: it serves mqtts:// only, with the certificate from the
 * configuration (or one it makes itself); what it hands locks at enrolment is the CA they must
 * trust, and the enrolment token pins that CA. Certificates are made at test time (openssl).
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { certificatePin, enrolmentTokenPin } from "@lockfleet/protocol";
import { connectAsync } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issuedBy, type Pem, selfSigned } from "../../../test-support/certificates.js";
import { type EmbeddedBroker, startBroker } from "../../src/broker/index.js";
import { embeddedLockTrust, ensureSelfSignedBrokerCertificate } from "../../src/broker/tls.js";
import { plainMqttWarning, serveConfig } from "../../src/cli.js";
import { createFixture } from "../fixtures.js";

let dir: string;
let ca: Pem;
let brokerCert: Pem;
let otherCa: Pem;
let otherCaBroker: Pem;
let impostor: Pem;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lockfleet-broker-tls-"));
  ca = selfSigned(dir, "fleet-ca", "DNS:fleet-ca", true);
  brokerCert = issuedBy(ca, dir, "broker", "IP:127.0.0.1,DNS:localhost");
  otherCa = selfSigned(dir, "other-ca", "DNS:other-ca", true);
  otherCaBroker = issuedBy(otherCa, dir, "other-broker", "IP:127.0.0.1");
  impostor = selfSigned(dir, "impostor", "IP:127.0.0.1");
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lockLogin = {
  clientId: "lock-1",
  username: "lock-1",
  password: "lock-1-password",
  protocolVersion: 4 as const,
  reconnectPeriod: 0,
  connectTimeout: 3_000,
};

async function tlsBroker(limits: { connectTimeoutMs?: number } = {}): Promise<EmbeddedBroker> {
  return startBroker({
    port: 0,
    limits,
    tls: { cert: brokerCert.cert, key: brokerCert.key },
    authenticate: (username) =>
      username === "lock-1"
        ? { identity: { kind: "device", org: "org-a", deviceId: "lock-1" } }
        : { reason: "E_MQTT_AUTH: unknown" },
  });
}

describe("embedded broker over TLS", () => {
  it("serves mqtts://: a lock trusting the fleet's CA logs in", async () => {
    const broker = await tlsBroker();
    try {
      expect(broker.url).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
      const lock = await connectAsync(broker.url, { ...lockLogin, ca: ca.cert });
      expect(lock.connected).toBe(true);
      await lock.endAsync();
    } finally {
      await broker.close();
    }
  });

  it("a client trusting another CA, or only the public ones, refuses the broker", async () => {
    const broker = await tlsBroker();
    try {
      await expect(connectAsync(broker.url, { ...lockLogin, ca: otherCa.cert })).rejects.toThrow(
        /certificate/i,
      );
      await expect(connectAsync(broker.url, lockLogin)).rejects.toThrow(/certificate/i);
    } finally {
      await broker.close();
    }
  });

  it("plain MQTT on the TLS port gets no CONNACK: the connection is closed", async () => {
    const broker = await tlsBroker();
    try {
      const socket = connect({ port: broker.port, host: "127.0.0.1" });
      const received: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => received.push(chunk));
      socket.on("error", () => {});
      await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
      // a plain CONNECT is no TLS ClientHello
      socket.write(Buffer.from("101000044d5154540402003c00046c6f636b", "hex"));
      await new Promise<void>((resolve) => socket.once("close", () => resolve()));
      expect(Buffer.concat(received).includes(Buffer.from([0x20, 0x02]))).toBe(false);
    } finally {
      await broker.close();
    }
  });
});

describe("the broker's limits hold over TLS too", () => {
  it("a CONNECT declaring 64 MiB inside TLS is closed at its header", async () => {
    const broker = await tlsBroker();
    try {
      const socket = tlsConnect({ port: broker.port, host: "127.0.0.1", ca: ca.cert });
      socket.on("error", () => {});
      await new Promise<void>((resolve) => socket.once("secureConnect", () => resolve()));
      socket.write(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x20]));
      const timer = setInterval(() => socket.write(Buffer.alloc(64 * 1024)), 10);
      await new Promise<void>((resolve) => socket.once("close", () => resolve()));
      clearInterval(timer);
      expect(broker.limitRefusals().get("E_MQTT_PACKET_TOO_LARGE")).toBe(1);
    } finally {
      await broker.close();
    }
  });

  it("a client that never completes the TLS handshake is closed at the connect timeout", async () => {
    const broker = await tlsBroker({ connectTimeoutMs: 300 });
    try {
      const socket = connect({ port: broker.port, host: "127.0.0.1" });
      socket.on("error", () => {});
      await new Promise<void>((resolve) => socket.once("close", () => resolve()));
      expect(broker.limitRefusals().get("E_MQTT_CONNECT_TIMEOUT")).toBe(1);
      expect(broker.unauthenticatedConnections()).toBe(0);
    } finally {
      await broker.close();
    }
  });
});

describe("what locks are told to trust", () => {
  it("the CA that issued the broker certificate, pinned by its SHA-256", () => {
    const trust = embeddedLockTrust({ cert: brokerCert.cert, key: brokerCert.key, ca: ca.cert });
    expect(trust.pin).toBe(certificatePin(ca.cert));
  });

  it("a self-signed broker certificate is its own CA", () => {
    const trust = embeddedLockTrust({ cert: impostor.cert, key: impostor.key });
    expect(trust.pin).toBe(certificatePin(impostor.cert));
  });

  it("refuses a key of another certificate, a certificate another CA issued, and a CA-issued certificate without its CA", () => {
    expect(() =>
      embeddedLockTrust({ cert: brokerCert.cert, key: impostor.key, ca: ca.cert }),
    ).toThrow(/^E_MQTT_TLS: the broker key does not belong/);
    expect(() =>
      embeddedLockTrust({ cert: otherCaBroker.cert, key: otherCaBroker.key, ca: ca.cert }),
    ).toThrow(/^E_MQTT_TLS: .*not issued by the CA/);
    expect(() => embeddedLockTrust({ cert: brokerCert.cert, key: brokerCert.key })).toThrow(
      /^E_MQTT_TLS: the broker certificate is not self-signed/,
    );
  });

  it("a certificate the fleet makes itself covers the addresses given, keeps its key 0600 and is reused", () => {
    const target = join(dir, "generated");
    const first = ensureSelfSignedBrokerCertificate(target, ["127.0.0.1", "fleet.bank.example"]);
    expect(statSync(join(target, "broker-key.pem")).mode & 0o777).toBe(0o600);
    const again = ensureSelfSignedBrokerCertificate(target, ["127.0.0.1"]);
    expect(again.cert).toBe(first.cert);
    const widened = ensureSelfSignedBrokerCertificate(target, ["10.20.0.5"]);
    expect(widened.cert).not.toBe(first.cert);
  });
});

describe("enrolment over a TLS broker", () => {
  it("the enrolment token pins the broker CA and the enrolment hands that CA over", async () => {
    const fixture = await createFixture({
      app: {
        mqtt: { port: 0, host: "127.0.0.1", tls: { ...brokerCert, ca: ca.cert } },
      },
    });
    try {
      const hub = fixture.app.hub;
      expect(hub.brokerUrl).toMatch(/^mqtts:\/\//);
      expect(hub.brokerPin).toBe(certificatePin(ca.cert));
      const issued = hub.createEnrolmentToken({
        orgId: fixture.bank.id,
        containerId: fixture.container.id,
        ttlMs: 600_000,
        createdBy: "test",
      });
      expect(enrolmentTokenPin(issued.token)).toBe(certificatePin(ca.cert));
    } finally {
      await fixture.close();
    }
  });

  it("an embedded broker needs TLS or plain MQTT stated explicitly", async () => {
    await expect(createFixture({ app: { mqtt: { port: 0 } as never } })).rejects.toThrow(
      /^E_MQTT_TLS_REQUIRED/,
    );
  });
});

describe("serve settings for the broker's TLS", () => {
  it("without certificate or --mqtt-plain the broker makes its own certificate; plain is explicit and warned about", () => {
    expect(serveConfig([], {}).options.mqtt).toMatchObject({ tls: "self-signed", port: 8883 });
    const plain = serveConfig(["--mqtt-plain", "true"], {});
    expect(plain.options.mqtt).toMatchObject({ plain: true, port: 1883 });
    expect(plainMqttWarning("mqtt://10.20.0.5:1883")).toMatch(/^WARNING: PLAIN MQTT\. .*in clear/s);
    expect(plainMqttWarning("mqtts://10.20.0.5:8883")).toBeUndefined();
  });

  it("reads certificate, key and CA files; refuses half a pair and contradictions", () => {
    const config = serveConfig(
      [
        "--mqtt-tls-cert",
        brokerCert.certPath,
        "--mqtt-tls-key",
        brokerCert.keyPath,
        "--mqtt-tls-ca",
        ca.certPath,
      ],
      {},
    );
    expect(config.options.mqtt).toMatchObject({
      tls: { cert: brokerCert.cert, key: brokerCert.key, ca: ca.cert },
    });
    expect(() => serveConfig(["--mqtt-tls-cert", brokerCert.certPath], {})).toThrow(
      /^E_CONFIG: --mqtt-tls-key \/ LOCKFLEET_MQTT_TLS_KEY is required too/,
    );
    expect(() =>
      serveConfig(["--mqtt-plain", "true", "--mqtt-tls-cert", brokerCert.certPath], {}),
    ).toThrow(/^E_CONFIG: --mqtt-tls-cert .* contradicts --mqtt-plain/);
    expect(() =>
      serveConfig(["--mqtt-tls-cert", join(dir, "missing.pem"), "--mqtt-tls-key", "x"], {}),
    ).toThrow(/^E_CONFIG: --mqtt-tls-cert .* cannot be read \(ENOENT\)/);
    const external = serveConfig(
      ["--broker-url", "mqtts://broker.internal:8883", "--mqtt-tls-ca", ca.certPath],
      {},
    );
    expect(external.options.mqtt).toMatchObject({ ca: ca.cert });
    expect(() =>
      serveConfig(
        ["--broker-url", "mqtt://broker.internal:1883", "--mqtt-tls-ca", ca.certPath],
        {},
      ),
    ).toThrow(/^E_CONFIG: --mqtt-tls-ca .* only to an mqtts:\/\//);
  });

  it("limits come from their settings and are checked", () => {
    const config = serveConfig(
      ["--mqtt-plain", "true", "--mqtt-max-packet-bytes", "65536", "--mqtt-connect-timeout-s", "5"],
      { LOCKFLEET_MQTT_MAX_UNAUTHENTICATED: "100", LOCKFLEET_MQTT_MAX_LOGINS_PER_MIN: "6" },
    );
    expect(config.options.mqtt).toMatchObject({
      limits: {
        maxPacketBytes: 65536,
        connectTimeoutMs: 5000,
        maxUnauthenticated: 100,
        maxLoginsPerClientIdPerMinute: 6,
      },
    });
    expect(() => serveConfig(["--mqtt-max-packet-bytes", "12"], {})).toThrow(
      /^E_CONFIG: --mqtt-max-packet-bytes \/ LOCKFLEET_MQTT_MAX_PACKET_BYTES must be whole bytes from 1024/,
    );
  });
});
