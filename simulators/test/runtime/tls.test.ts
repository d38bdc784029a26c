/**
 * MQTT over TLS when the broker URL says mqtts://: the device verifies the broker's certificate
 * against the CA configured for it and refuses a broker it cannot verify.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:tls";
import {
  type DeviceConfig,
  DeviceRuntime,
  provision,
  type RuntimeLog,
  readConfig,
} from "@lockfleet/edge";
import { Aedes } from "aedes";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeHardware } from "../../../edge/test/runtime/fake-hardware.js";
import { TestFleet } from "../../../edge/test/runtime/test-fleet.js";
import { selfSigned } from "../../../test-support/certificates.js";
import { wait } from "./harness.js";

let dir: string;
let server: Server;
let aedes: Aedes;
let brokerUrl: string;
let certPath: string;
let runtime: DeviceRuntime | undefined;
let fleet: TestFleet | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "lockfleet-tls-"));
  // A self-signed broker certificate for 127.0.0.1 (it is its own CA).
  const broker = selfSigned(dir, "broker", "IP:127.0.0.1");
  certPath = broker.certPath;
  aedes = await Aedes.createBroker();
  server = createServer({ key: broker.key, cert: broker.cert }, aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  brokerUrl = `mqtts://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => aedes.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
  await fleet?.close();
});

async function startDevice(tls: DeviceConfig["broker"]["tls"], log?: RuntimeLog) {
  fleet = new TestFleet({ brokerUrl });
  await fleet.listen();
  const dataDir = mkdtempSync(join(dir, "data-"));
  const kekFile = join(dataDir, "..", `${dataDir.split("/").at(-1)}.kek`);
  await provision({
    fleetUrl: fleet.url,
    token: fleet.token(),
    profile: "virtual",
    dataDir,
    kekFile,
    ...(tls === undefined ? {} : { brokerTls: tls }),
  });
  expect(readConfig(dataDir).broker.tls).toEqual(tls);
  runtime = await DeviceRuntime.start({
    dataDir,
    kek: Buffer.from(readFileSync(kekFile, "utf8").trim(), "base64url"),
    hardware: new FakeHardware("virtual"),
    mqtt: { reconnectMinMs: 100, reconnectMaxMs: 300 },
    ...(log === undefined ? {} : { log }),
  });
  return runtime;
}

describe("MQTT over TLS", () => {
  it("connects to a broker whose certificate the configured CA signed", async () => {
    const device = await startDevice({ ca: certPath });
    await device.waitOnline(8000);
    expect(device.online).toBe(true);
  });

  it("refuses a broker whose certificate it cannot verify", async () => {
    const errors: string[] = [];
    const log: RuntimeLog = {
      debug: () => {},
      info: () => {},
      warn: (_message, fields) => errors.push(String(fields?.err ?? "")),
      error: () => {},
    };
    const device = await startDevice(undefined, log);
    await wait(1500);
    expect(device.online).toBe(false);
    expect(errors.some((error) => /self[- ]signed|certificate/i.test(error))).toBe(true);
  });
});
