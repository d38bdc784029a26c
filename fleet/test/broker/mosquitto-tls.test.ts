/**
 * The external broker path over TLS: a Mosquitto of the test's own with an mqtts:// listener
 * whose certificate a private CA issued (made at test time with openssl). The fleet verifies
 * the broker with that CA (`mqtt.ca`, `--mqtt-tls-ca`), hands the CA to locks at enrolment and
 * pins it in the token; a lock then works through Mosquitto over TLS. A fleet given another CA
 * refuses the broker.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { certificatePin, enrolmentTokenPin } from "@lockfleet/protocol";
import { connectAsync } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { issuedBy, type Pem, selfSigned } from "../../../test-support/certificates.js";
import { service } from "../../../test-support/services.js";
import { createWorld, enrolLock, expectLockAnswers, type TestWorld } from "../devices/helpers.js";

const program = service.mosquittoProgram();

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

describe.skipIf(!program.available)(
  `the fleet and its locks on an external Mosquitto over TLS ${program.reason}`,
  () => {
    let dir: string;
    let ca: Pem;
    let otherCa: Pem;
    let url: string;
    let broker: ChildProcess;
    let brokerLog = "";
    let world: TestWorld | undefined;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "lockfleet-mosquitto-tls-"));
      ca = selfSigned(dir, "bank-ca", "DNS:bank-ca", true);
      otherCa = selfSigned(dir, "other-ca", "DNS:other-ca", true);
      const brokerCert = issuedBy(ca, dir, "mosquitto", "IP:127.0.0.1,DNS:localhost");
      const port = await freePort();
      url = `mqtts://127.0.0.1:${port}`;
      const conf = join(dir, "mosquitto.conf");
      writeFileSync(
        conf,
        [
          `listener ${port} 127.0.0.1`,
          ...(process.getuid?.() === 0 ? ["user root"] : []),
          `cafile ${ca.certPath}`,
          `certfile ${brokerCert.certPath}`,
          `keyfile ${brokerCert.keyPath}`,
          // Accounts and ACLs are another test's subject (mosquitto-dynsec.test.ts).
          "allow_anonymous true",
          "persistence false",
          "log_dest stderr",
          "log_type error",
          "",
        ].join("\n"),
      );
      broker = spawn(program.broker, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
      broker.stderr?.on("data", (chunk: Buffer) => {
        brokerLog += chunk.toString("utf8");
      });
      const started = Date.now();
      for (;;) {
        const probe = await connectAsync(url, {
          ca: ca.cert,
          protocolVersion: 4,
          reconnectPeriod: 0,
          connectTimeout: 1_000,
        }).catch(() => undefined);
        if (probe !== undefined) {
          await probe.endAsync();
          break;
        }
        if (Date.now() - started > 10_000) {
          throw new Error(`Mosquitto with TLS did not start: ${brokerLog}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }, 30_000);

    afterEach(async () => {
      await world?.close();
      world = undefined;
    });

    afterAll(() => {
      broker?.kill("SIGTERM");
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it("the fleet verifies Mosquitto with the bank's CA; a lock enrolled with the pinned CA works through it", async () => {
      world = await createWorld({ mqtt: { url, ca: ca.cert } });
      expect(world.hub.brokerPin).toBe(certificatePin(ca.cert));
      const { token } = world.hub.createEnrolmentToken({
        orgId: world.orgId,
        containerId: world.containerId,
        ttlMs: 60_000,
        createdBy: "usr_test",
      });
      expect(enrolmentTokenPin(token)).toBe(certificatePin(ca.cert));
      const lock = await enrolLock(world, { connect: false });
      expect(lock.enrolment?.broker.ca).toBeDefined();
      expect(certificatePin(lock.enrolment?.broker.ca ?? "")).toBe(certificatePin(ca.cert));
      await lock.connect({ ca: lock.enrolment?.broker.ca, rejectUnauthorized: true });
      await expectLockAnswers(world, lock);
    });

    it("a fleet given another CA refuses the broker", async () => {
      await expect(createWorld({ mqtt: { url, ca: otherCa.cert } })).rejects.toThrow(
        /certificate/i,
      );
    });
  },
);
