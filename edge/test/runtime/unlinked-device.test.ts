import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_LOCK_POLICY } from "@lockfleet/protocol";
import { afterEach, describe, expect, it } from "vitest";
import {
  CONFIG_FILE,
  IDENTITY_FILE,
  isProvisioned,
  openPassword,
  readConfig,
  readIdentity,
} from "../../src/runtime/device-files.js";
import { writeUnlinkedDevice } from "../../src/runtime/unlinked-device.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function newDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "lockfleet-unlinked-"));
  dirs.push(dir);
  return join(dir, "device");
}

describe("a device set up without a fleet", () => {
  const options = {
    deviceId: "lock-bench-0001",
    org: "bench",
    containerId: "bench",
    timeZone: "Europe/Berlin",
    profile: "virtual",
  };

  it("reads back as a provisioned device whose identity opens only with its KEK", () => {
    const dataDir = newDataDir();
    const kek = randomBytes(32);
    writeUnlinkedDevice(dataDir, options, kek);
    expect(isProvisioned(dataDir)).toBe(true);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const config = readConfig(dataDir);
    expect(config).toMatchObject({ ...options, policy: DEFAULT_LOCK_POLICY });
    expect(readIdentity(dataDir, kek).deviceId).toBe(options.deviceId);
    expect(() => readIdentity(dataDir, randomBytes(32))).toThrow(/E_SEALED|cannot be opened/);
    expect(openPassword(config, kek).length).toBeGreaterThanOrEqual(24);
  });

  it("no secret is written in clear, and its broker and fleet addresses lead nowhere", () => {
    const dataDir = newDataDir();
    const kek = randomBytes(32);
    const config = writeUnlinkedDevice(
      dataDir,
      { ...options, policy: { ...DEFAULT_LOCK_POLICY, timeDelayMin: 0 } },
      kek,
    );
    const password = openPassword(config, kek);
    const identity = readIdentity(dataDir, kek);
    const files = [IDENTITY_FILE, CONFIG_FILE].map((name) =>
      readFileSync(join(dataDir, name), "utf8"),
    );
    for (const text of files) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(Buffer.from(identity.signing.secretKey).toString("base64url"));
      expect(text).not.toContain(Buffer.from(identity.codeHashKey).toString("base64url"));
    }
    expect(config.policy.timeDelayMin).toBe(0);
    expect(config.broker.url).toBe("mqtt://127.0.0.1:9");
    expect(config.fleetUrl).toBe("http://127.0.0.1:9");
  });
});
