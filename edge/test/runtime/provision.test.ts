import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toBase64url } from "@lockfleet/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  dataPaths,
  openPassword,
  readConfig,
  readIdentity,
} from "../../src/runtime/device-files.js";
import { DeviceRuntime } from "../../src/runtime/device-runtime.js";
import { errorCode } from "../../src/runtime/errors.js";
import { deviceStatus, factoryReset, provision } from "../../src/runtime/provision.js";
import { openValue } from "../../src/runtime/secrets.js";
import { FakeHardware } from "./fake-hardware.js";
import { TestFleet } from "./test-fleet.js";

let dir: string;
let dataDir: string;
let kekFile: string;
let fleet: TestFleet;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "lockfleet-provision-"));
  dataDir = join(dir, "data");
  kekFile = join(dir, "kek");
  fleet = new TestFleet({ brokerUrl: "mqtt://127.0.0.1:1" });
  await fleet.listen();
});

afterEach(async () => {
  await fleet.close();
  rmSync(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    return errorCode(error);
  }
  return undefined;
}

describe("provision", () => {
  it("enrols with the fleet using keys generated on the device and stores the answer", async () => {
    const result = await provision({
      fleetUrl: fleet.url,
      token: fleet.token(),
      profile: "virtual",
      dataDir,
      kekFile,
    });
    const enrolled = fleet.enrolled[0];
    expect(enrolled?.deviceId).toBe(result.deviceId);
    expect(toBase64url(enrolled?.signingPublicKey ?? new Uint8Array())).toBe(
      result.signingPublicKey,
    );
    const config = readConfig(dataDir);
    expect(config).toMatchObject({
      deviceId: result.deviceId,
      org: fleet.org,
      profile: "virtual",
      fleetKeys: [{ keyId: fleet.keyId, publicKey: toBase64url(fleet.key.publicKey) }],
    });
    const kek = readFileSync(kekFile, "utf8");
    expect(statSync(kekFile).mode & 0o077).toBe(0);
    expect(statSync(dataPaths(dataDir).identity).mode & 0o077).toBe(0);
    // The identity opens with the KEK and its public key is the one the fleet received.
    const identity = readIdentity(dataDir, Buffer.from(kek.trim(), "base64url"));
    expect(Buffer.from(identity.signing.publicKey)).toEqual(
      Buffer.from(enrolled?.signingPublicKey ?? []),
    );
    expect(openPassword(config, Buffer.from(kek.trim(), "base64url"))).toBe(enrolled?.password);
  });

  it("keeps no secret in clear in the data directory", async () => {
    await provision({
      fleetUrl: fleet.url,
      token: fleet.token(),
      profile: "virtual",
      dataDir,
      kekFile,
    });
    const enrolled = fleet.enrolled[0];
    const kek = Buffer.from(readFileSync(kekFile, "utf8").trim(), "base64url");
    const identity = readIdentity(dataDir, kek);
    const files = [dataPaths(dataDir).identity, dataPaths(dataDir).config].map((path) =>
      readFileSync(path, "utf8"),
    );
    const secrets = [
      toBase64url(identity.signing.secretKey),
      toBase64url(identity.signing.secretKey.subarray(0, 32)),
      toBase64url(identity.encryptionSecretKey),
      toBase64url(identity.codeHashKey),
      enrolled?.password ?? "missing",
      toBase64url(enrolled?.otpSecret ?? new Uint8Array()),
    ];
    for (const text of files) for (const secret of secrets) expect(text).not.toContain(secret);
  });

  it("a copy of the data directory without the KEK opens nothing", async () => {
    await provision({
      fleetUrl: fleet.url,
      token: fleet.token(),
      profile: "virtual",
      dataDir,
      kekFile,
    });
    const otherKek = randomBytes(32);
    expect(await rejection(() => readIdentity(dataDir, otherKek))).toBe("E_SEALED");
    const config = readConfig(dataDir);
    expect(
      await rejection(() =>
        openValue(otherKek, "mqtt-password|lockfleet/v1|x", config.broker.password),
      ),
    ).toBe("E_SEALED");
  });

  it("refuses to provision a provisioned device again", async () => {
    await provision({
      fleetUrl: fleet.url,
      token: fleet.token(),
      profile: "virtual",
      dataDir,
      kekFile,
    });
    const before = readFileSync(dataPaths(dataDir).identity, "utf8");
    const again = provision({
      fleetUrl: fleet.url,
      token: fleet.token(),
      profile: "virtual",
      dataDir,
      kekFile,
    });
    expect(await rejection(again)).toBe("E_ALREADY_PROVISIONED");
    expect(readFileSync(dataPaths(dataDir).identity, "utf8")).toBe(before);
    expect(fleet.enrolled).toHaveLength(1);
  });

  it("a bad enrolment token is refused with E_ENROLMENT_REFUSED and nothing is written", async () => {
    const code = await rejection(
      provision({
        fleetUrl: fleet.url,
        token: "enr_not-a-token-of-this-fleet",
        profile: "virtual",
        dataDir,
        kekFile,
      }),
    );
    expect(code).toBe("E_ENROLMENT_REFUSED");
    expect(existsSync(dataPaths(dataDir).identity)).toBe(false);
  });

  it("a used token cannot enrol a second device", async () => {
    const token = fleet.token();
    await provision({ fleetUrl: fleet.url, token, profile: "virtual", dataDir, kekFile });
    const code = await rejection(
      provision({
        fleetUrl: fleet.url,
        token,
        profile: "virtual",
        dataDir: join(dir, "second"),
        kekFile,
      }),
    );
    expect(code).toBe("E_ENROLMENT_REFUSED");
  });

  it("an unreachable fleet is reported as E_FLEET_UNREACHABLE", async () => {
    const url = fleet.url;
    await fleet.close();
    const code = await rejection(
      provision({ fleetUrl: url, token: fleet.token(), profile: "virtual", dataDir, kekFile }),
    );
    expect(code).toBe("E_FLEET_UNREACHABLE");
  });

  it("an unknown profile is refused before anything is sent", async () => {
    const code = await rejection(
      provision({
        fleetUrl: fleet.url,
        token: fleet.token(),
        profile: "no-such-board",
        dataDir,
        kekFile,
      }),
    );
    expect(code).toBe("E_PROFILE_UNKNOWN");
    expect(fleet.requests).toHaveLength(0);
  });

  it("an answer that is not an enrolment response is refused", async () => {
    const code = await rejection(
      provision({
        fleetUrl: fleet.url,
        token: fleet.token(),
        profile: "virtual",
        dataDir,
        kekFile,
        fetch: async () => new Response(JSON.stringify({ deviceId: "x" }), { status: 200 }),
      }),
    );
    expect(code).toBe("E_ENROLMENT_INVALID");
    expect(existsSync(dataPaths(dataDir).config)).toBe(false);
  });
});

describe("factory reset", () => {
  async function provisionAndRun(): Promise<Buffer> {
    await provision({
      fleetUrl: fleet.url,
      token: fleet.token(),
      profile: "virtual",
      dataDir,
      kekFile,
    });
    const kek = Buffer.from(readFileSync(kekFile, "utf8").trim(), "base64url");
    const runtime = await DeviceRuntime.start({
      dataDir,
      kek,
      hardware: new FakeHardware("virtual"),
      mqtt: { enabled: false },
      firstStart: { factoryMasterCode: "87654321" },
    });
    await runtime.stop();
    return kek;
  }

  it("needs the master code", async () => {
    const kek = await provisionAndRun();
    const code = await rejection(() =>
      factoryReset({ dataDir, kek, masterCode: "12345678", discardUnacknowledgedAudit: true }),
    );
    expect(code).toBe("E_MASTER_CODE");
    expect(existsSync(dataPaths(dataDir).identity)).toBe(true);
  });

  it("keeps audit records the fleet has not acknowledged unless told to discard them", async () => {
    const kek = await provisionAndRun();
    expect(await rejection(() => factoryReset({ dataDir, kek, masterCode: "87654321" }))).toBe(
      "E_AUDIT_UNACKNOWLEDGED",
    );
    expect(existsSync(dataPaths(dataDir).store)).toBe(true);
  });

  it("with the master code erases identity, configuration and store, so the device can be provisioned again", async () => {
    const kek = await provisionAndRun();
    const result = factoryReset({
      dataDir,
      kek,
      masterCode: "87654321",
      discardUnacknowledgedAudit: true,
    });
    expect(result.deviceId).toBe(fleet.enrolled[0]?.deviceId);
    expect(deviceStatus(dataDir, kekFile).provisioned).toBe(false);
    expect(existsSync(dataPaths(dataDir).store)).toBe(false);
    await provision({
      fleetUrl: fleet.url,
      token: fleet.token(),
      profile: "virtual",
      dataDir,
      kekFile,
    });
    expect(fleet.enrolled).toHaveLength(2);
  });

  it("is refused under a running controller (E_DATA_DIR_IN_USE) and takes the fail-secure mark too", async () => {
    const kek = await provisionAndRun();
    const runtime = await DeviceRuntime.start({
      dataDir,
      kek,
      hardware: new FakeHardware("virtual"),
      mqtt: { enabled: false },
    });
    try {
      expect(
        await rejection(() =>
          factoryReset({ dataDir, kek, masterCode: "87654321", discardUnacknowledgedAudit: true }),
        ),
      ).toBe("E_DATA_DIR_IN_USE");
      expect(existsSync(dataPaths(dataDir).identity)).toBe(true);
    } finally {
      await runtime.stop();
    }
    factoryReset({ dataDir, kek, masterCode: "87654321", discardUnacknowledgedAudit: true });
    expect(existsSync(`${dataPaths(dataDir).store}-failsecure`)).toBe(false);
  });

  it("a KEK readable by others is refused", async () => {
    writeFileSync(kekFile, `${toBase64url(randomBytes(32))}\n`, { mode: 0o644 });
    const code = await rejection(
      provision({
        fleetUrl: fleet.url,
        token: fleet.token(),
        profile: "virtual",
        dataDir,
        kekFile,
      }),
    );
    expect(code).toBe("E_KEK_PERMISSIONS");
  });
});
