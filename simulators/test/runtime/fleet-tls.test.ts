/**
 * Locks reach the fleet's embedded broker over TLS with the CA pinned at enrolment: the real
 * fleet (buildApp, mqtts:// broker, HTTP enrolment) and the real device runtime. The lock
 * connects to its fleet's broker, refuses impostors (a certificate of another CA, a self-signed
 * one) for the same address, and refuses an enrolment whose broker CA or URL was tampered with.
 * Certificates are made at test time with openssl.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:tls";
import {
  BROKER_CA_FILE,
  DeviceRuntime,
  errorCode,
  isProvisioned,
  provision,
  type RuntimeLog,
  readConfig,
} from "@lockfleet/edge";
import { certificatePin, enrolmentTokenPin } from "@lockfleet/protocol";
import { Aedes } from "aedes";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeHardware } from "../../../edge/test/runtime/fake-hardware.js";
import { createFixture, type Fixture } from "../../../fleet/test/fixtures.js";
import { issuedBy, type Pem, selfSigned } from "../../../test-support/certificates.js";
import { until, wait } from "./harness.js";

let dir: string;
let ca: Pem;
let brokerCert: Pem;
let otherCa: Pem;
const impostors: Record<string, Pem> = {};
let fleet: Fixture | undefined;
let runtime: DeviceRuntime | undefined;
const servers: Array<{ aedes: Aedes; server: Server }> = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lockfleet-fleet-tls-"));
  ca = selfSigned(dir, "fleet-ca", "DNS:fleet-ca", true);
  brokerCert = issuedBy(ca, dir, "fleet-broker", "IP:127.0.0.1,DNS:localhost");
  otherCa = selfSigned(dir, "other-ca", "DNS:other-ca", true);
  impostors["a certificate of another CA"] = issuedBy(otherCa, dir, "other", "IP:127.0.0.1");
  impostors["a self-signed certificate"] = selfSigned(dir, "self", "IP:127.0.0.1");
});

afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
  await fleet?.close();
  fleet = undefined;
  for (const { aedes, server } of servers.splice(0)) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function startFleet(tls: "self-signed" | "ca-issued"): Promise<{ url: string }> {
  fleet = await createFixture({
    app: {
      mqtt: {
        port: 0,
        host: "127.0.0.1",
        tls: tls === "self-signed" ? "self-signed" : { ...brokerCert, ca: ca.cert },
      },
    },
  });
  await fleet.app.listen({ port: 0, host: "127.0.0.1" });
  return { url: `http://127.0.0.1:${(fleet.app.server.address() as AddressInfo).port}` };
}

async function enrolmentToken(fleetUrl: string): Promise<string> {
  if (fleet === undefined) throw new Error("no fleet");
  const response = await fetch(`${fleetUrl}/api/v1/enrolment-tokens`, {
    method: "POST",
    headers: { ...fleet.as("securityAdmin"), "content-type": "application/json" },
    body: JSON.stringify({ containerId: fleet.container.id }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { token: string }).token;
}

function newDataDir(): { dataDir: string; kekFile: string } {
  const dataDir = mkdtempSync(join(dir, "lock-"));
  return { dataDir, kekFile: `${dataDir}.kek` };
}

async function startLock(
  dataDir: string,
  kekFile: string,
  options: { url?: string; log?: RuntimeLog } = {},
): Promise<DeviceRuntime> {
  runtime = await DeviceRuntime.start({
    dataDir,
    kek: Buffer.from(readFileSync(kekFile, "utf8").trim(), "base64url"),
    hardware: new FakeHardware("virtual"),
    mqtt: {
      reconnectMinMs: 100,
      reconnectMaxMs: 300,
      ...(options.url === undefined ? {} : { url: options.url }),
    },
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  return runtime;
}

/** A broker for 127.0.0.1 with someone else's certificate, accepting any login. */
async function impostorBroker(pem: Pem): Promise<string> {
  const aedes = await Aedes.createBroker();
  const server = createServer({ cert: pem.cert, key: pem.key }, aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push({ aedes, server });
  return `mqtts://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function recordingLog(): RuntimeLog & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    debug: () => {},
    info: () => {},
    warn: (message, fields) => warnings.push(`${message} ${String(fields?.err ?? "")}`),
    error: () => {},
  };
}

describe("locks on the fleet's mqtts:// broker, CA pinned at enrolment", () => {
  it("a lock enrols with a pinned token, keeps the fleet's CA and connects over TLS", async () => {
    const { url } = await startFleet("ca-issued");
    const token = await enrolmentToken(url);
    expect(enrolmentTokenPin(token)).toBe(certificatePin(ca.cert));
    const { dataDir, kekFile } = newDataDir();
    const enrolled = await provision({
      fleetUrl: url,
      token,
      profile: "virtual",
      dataDir,
      kekFile,
    });
    const config = readConfig(dataDir);
    expect(config.broker.url).toMatch(/^mqtts:\/\/127\.0\.0\.1:/);
    expect(config.broker.tls).toEqual({ ca: join(dataDir, BROKER_CA_FILE) });
    expect(certificatePin(readFileSync(join(dataDir, BROKER_CA_FILE), "utf8"))).toBe(
      certificatePin(ca.cert),
    );
    const lock = await startLock(dataDir, kekFile);
    await lock.waitOnline(8000);
    await until(() => fleet?.app.hub.lockState(enrolled.deviceId), 8000, "state at the fleet");
  });

  it("with the certificate the fleet made for itself (as the demo runs) a lock enrols and connects", async () => {
    const { url } = await startFleet("self-signed");
    const { dataDir, kekFile } = newDataDir();
    const token = await enrolmentToken(url);
    const enrolled = await provision({
      fleetUrl: url,
      token,
      profile: "virtual",
      dataDir,
      kekFile,
    });
    const lock = await startLock(dataDir, kekFile);
    await lock.waitOnline(8000);
    await until(() => fleet?.app.hub.lockState(enrolled.deviceId), 8000, "state at the fleet");
  });

  for (const kind of ["a certificate of another CA", "a self-signed certificate"]) {
    it(`the lock refuses a broker at the same address with ${kind}`, async () => {
      const { url } = await startFleet("ca-issued");
      const { dataDir, kekFile } = newDataDir();
      await provision({
        fleetUrl: url,
        token: await enrolmentToken(url),
        profile: "virtual",
        dataDir,
        kekFile,
      });
      const impostorUrl = await impostorBroker(impostors[kind] as Pem);
      const log = recordingLog();
      const lock = await startLock(dataDir, kekFile, { url: impostorUrl, log });
      await until(
        () => log.warnings.some((line) => /certificate/i.test(line)),
        8000,
        "a certificate error",
      );
      await wait(500);
      expect(lock.online).toBe(false);
    });
  }

  it("an enrolment whose broker CA was swapped on the way is refused and nothing is kept", async () => {
    const { url } = await startFleet("ca-issued");
    const { dataDir, kekFile } = newDataDir();
    const swapCa: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const body = (await response.json()) as { broker: { ca?: string } };
      body.broker.ca = (impostors["a self-signed certificate"] as Pem).cert;
      return new Response(JSON.stringify(body), { status: response.status });
    };
    const attempt = provision({
      fleetUrl: url,
      token: await enrolmentToken(url),
      profile: "virtual",
      dataDir,
      kekFile,
      fetch: swapCa,
    });
    await expect(attempt).rejects.toThrow(/^E_ENROLMENT_PIN: the broker CA certificate/);
    expect(await attempt.catch(errorCode)).toBe("E_ENROLMENT_PIN");
    expect(isProvisioned(dataDir)).toBe(false);
    expect(existsSync(join(dataDir, BROKER_CA_FILE))).toBe(false);
  });

  it("an enrolment downgraded to a plain mqtt:// broker is refused when the token carries a pin", async () => {
    const { url } = await startFleet("ca-issued");
    const { dataDir, kekFile } = newDataDir();
    const downgrade: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const body = (await response.json()) as { broker: { url: string; ca?: string } };
      body.broker.url = body.broker.url.replace("mqtts://", "mqtt://");
      delete body.broker.ca;
      return new Response(JSON.stringify(body), { status: response.status });
    };
    await expect(
      provision({
        fleetUrl: url,
        token: await enrolmentToken(url),
        profile: "virtual",
        dataDir,
        kekFile,
        fetch: downgrade,
      }),
    ).rejects.toThrow(/^E_ENROLMENT_PIN: .*plain mqtt:\/\//);
    expect(isProvisioned(dataDir)).toBe(false);
  });
});
