import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519, GENESIS_HASH, signCheckpoint, verifyAuditChain } from "@lockfleet/protocol";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dataPaths } from "../../src/runtime/device-files.js";
import { DeviceRuntime } from "../../src/runtime/device-runtime.js";
import { errorCode } from "../../src/runtime/errors.js";
import type { RuntimeLog } from "../../src/runtime/log.js";
import { provision } from "../../src/runtime/provision.js";
import { FakeHardware } from "./fake-hardware.js";
import { TestFleet } from "./test-fleet.js";

const ANNA = {
  slot: 1,
  personId: "p-anna",
  role: "user" as const,
  enabled: true,
  code: "11223344",
};

let dir: string;
let dataDir: string;
let kek: Buffer;
let fleet: TestFleet;
let runtimes: DeviceRuntime[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "lockfleet-runtime-"));
  dataDir = join(dir, "data");
  const kekFile = join(dir, "kek");
  fleet = new TestFleet({
    brokerUrl: "mqtt://127.0.0.1:1",
    policy: { dualControl: "single", timeDelayMin: 0, autoRelockSec: 3 },
  });
  await fleet.listen();
  await provision({
    fleetUrl: fleet.url,
    token: fleet.token(),
    profile: "virtual",
    dataDir,
    kekFile,
  });
  kek = Buffer.from(readFileSync(kekFile, "utf8").trim(), "base64url");
});

afterEach(async () => {
  for (const runtime of runtimes) await runtime.stop();
  runtimes = [];
  await fleet.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(hardware = new FakeHardware("virtual"), profile?: string, log?: RuntimeLog) {
  const runtime = await DeviceRuntime.start({
    dataDir,
    kek,
    hardware,
    mqtt: { enabled: false },
    ...(log === undefined ? {} : { log }),
    firstStart: { users: [ANNA] },
    ...(profile === undefined ? {} : { profile }),
  });
  runtimes.push(runtime);
  return { runtime, hardware };
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await wait(10);
  }
}

describe("device runtime on fake hardware", () => {
  it("keypad keys reach the lock core and the display shows the result", async () => {
    const { hardware, runtime } = await start();
    hardware.press("0199999999#");
    expect(hardware.display_[0]).toBe("WRONG CODE");
    const kinds = runtime.store.auditRange(1, runtime.store.auditHead().seq).map((r) => r.kind);
    expect(kinds).toContain("code.rejected");
  });

  it("a correct code retracts the bolt and the relock runs on real time without a door opening", async () => {
    const { hardware, runtime } = await start();
    hardware.press("0111223344#");
    await until(() => hardware.drives.includes("retracted"));
    await until(() => runtime.core.state().bolt === "retracted");
    // autoRelockSec = 3: the scheduler must call tick() at the core's deadline.
    await until(() => hardware.drives.at(-1) === "thrown", 6000);
    await until(() => runtime.core.state().bolt === "thrown");
    const kinds = runtime.store.auditRange(1, runtime.store.auditHead().seq).map((r) => r.kind);
    expect(kinds).toContain("bolt.retracted");
    expect(kinds.lastIndexOf("bolt.thrown")).toBeGreaterThan(kinds.indexOf("bolt.retracted"));
  }, 15_000);

  it("the inputs standing at start-up are taken in: a door open at boot with the bolt thrown is forced", async () => {
    const hardware = new FakeHardware("virtual");
    hardware.inputs = { door: true, bolt: "thrown", tamper: false };
    const { runtime } = await start(hardware);
    expect(runtime.core.activeAlarms).toContain("doorForcedOpen");
  });

  it("a clean stop is recorded: the next start reports no power loss", async () => {
    const { runtime } = await start();
    await runtime.stop();
    runtimes = [];
    const { runtime: second } = await start();
    const records = second.store.auditRange(1, second.store.auditHead().seq);
    const started = records.filter((r) => r.kind === "device.started");
    expect(started.at(-1)?.data.cleanShutdown).toBe(true);
    expect(records.some((r) => r.kind === "power.lost")).toBe(false);
  });

  it("the enrolment's one-time-code secret is installed with the store, still sealed", async () => {
    const { runtime } = await start();
    const otp = runtime.store.readSection<{ sealed: { alg: string }; highest: number }>("otp");
    expect(otp?.highest).toBe(0);
    expect(otp?.sealed.alg).toBe("x25519-xsalsa20-poly1305");
    const kinds = runtime.store.auditRange(1, 5).map((r) => r.kind);
    expect(kinds).toContain("otp.secretInstalled");
  });

  it("refuses a profile other than the one provisioned", async () => {
    const failure = await start(new FakeHardware("virtual"), "raspberry-pi").catch(
      (error) => error,
    );
    expect(errorCode(failure)).toBe("E_PROFILE_MISMATCH");
  });

  it("refuses hardware opened for another profile", async () => {
    const failure = await start(new FakeHardware("raspberry-pi")).catch((error) => error);
    expect(errorCode(failure)).toBe("E_PROFILE_MISMATCH");
  });

  it("refuses to run an unprovisioned data directory", async () => {
    const failure = await DeviceRuntime.start({
      dataDir: join(dir, "empty"),
      kek,
      hardware: new FakeHardware("virtual"),
      mqtt: { enabled: false },
    }).catch((error) => error);
    expect(errorCode(failure)).toBe("E_NOT_PROVISIONED");
  });

  it("a self-test reports every part and is recorded in the audit trail", async () => {
    const hardware = new FakeHardware("virtual");
    hardware.selfTestParts = [
      { part: "boltActuator", result: "ok" },
      { part: "powerFail", result: "notFitted" },
      { part: "display", result: "fault", detail: "no answer at 0x27" },
    ];
    const { runtime } = await start(hardware);
    const report = await runtime.selfTest();
    expect(report.parts.map((p) => `${p.part}:${p.result}`)).toEqual([
      "boltActuator:ok",
      "powerFail:notFitted",
      "display:fault",
    ]);
    // On record for the fleet: the audit trail carries the report per part.
    const record = runtime.store
      .auditRange(1, runtime.store.auditHead().seq)
      .find((r) => r.kind === "selfTest.completed");
    expect(record?.data.parts).toEqual(report.parts);
  });

  it("a self-test goes into the core's hash chain and a faulty part raises selfTestFault", async () => {
    const hardware = new FakeHardware("virtual");
    hardware.selfTestParts = [
      { part: "boltActuator", result: "ok" },
      { part: "display", result: "fault", detail: "no answer at 0x27" },
    ];
    const { runtime } = await start(hardware);
    await runtime.selfTest();
    const records = runtime.store.auditRange(1, runtime.store.auditHead().seq);
    expect(records.map((r) => r.kind).slice(-2)).toEqual(["selfTest.completed", "alarm.raised"]);
    expect(runtime.core.activeAlarms).toContain("selfTestFault");
    expect(verifyAuditChain(records, { seq: 0, hash: GENESIS_HASH })).toBeUndefined();
  });
});

describe("hardware events reach the audit log through the runtime", () => {
  const kindsOf = (runtime: DeviceRuntime) =>
    runtime.store.auditRange(1, runtime.store.auditHead().seq).map((r) => r.kind);

  it("mains failing and coming back on the power-fail input are recorded as power.failed and power.restored, with the powerLoss alarm", async () => {
    const { runtime, hardware } = await start();
    hardware.emit("powerFail", true);
    hardware.emit("powerFail", false);
    const records = runtime.store.auditRange(1, runtime.store.auditHead().seq);
    expect(records.slice(-4).map((r) => `${r.kind}:${String(r.data.alarm)}`)).toEqual([
      "power.failed:undefined",
      "alarm.raised:powerLoss",
      "power.restored:undefined",
      "alarm.cleared:powerLoss",
    ]);
    expect(records.map((r) => r.kind)).not.toContain("power.lost");
  });

  it("a bolt actuator fault reported while driving is a lock fault: bolt thrown and FAULT LOCKED", async () => {
    const { runtime, hardware } = await start();
    hardware.emit(
      "fault",
      "boltActuator",
      new Error("E_HARDWARE_PART: boltActuator failed: pin write"),
    );
    await until(() => kindsOf(runtime).includes("lock.fault"));
    expect(runtime.core.activeAlarms).toContain("lockJammed");
    expect(hardware.drives.at(-1)).toBe("thrown");
    expect(hardware.display_).toEqual(["FAULT", "LOCKED"]);
    hardware.press("0111223344#");
    await wait(100);
    expect(hardware.drives).not.toContain("retracted");
  });

  it("a display fault is recorded as a part fault, not a lock fault, and the lock keeps working", async () => {
    const { runtime, hardware } = await start();
    hardware.emit("fault", "display", new Error("E_HARDWARE_PART: display failed: i2c"));
    await until(() => kindsOf(runtime).includes("hardware.partFault"));
    hardware.press("0111223344#");
    await until(() => hardware.drives.includes("retracted"));
    expect(kindsOf(runtime)).not.toContain("lock.fault");
  });

  it("a store rewritten on disk with a forged checkpoint is refused at start: E_AUDIT_CHAIN_BROKEN, the lock does not run", async () => {
    const { runtime } = await start();
    await runtime.stop();
    runtimes = [];
    // Rewritten on disk: a checkpoint signed with another key, and the store marked as after a
    // power cut (so the chain is verified at start).
    const db = new Database(dataPaths(dataDir).store);
    const head = db.prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").get() as {
      seq: number;
      hash: string;
    };
    const forger = ed25519.generateKeyPair();
    const forged = signCheckpoint(
      {
        deviceId: runtime.deviceId,
        seq: head.seq,
        headHash: head.hash,
        at: new Date().toISOString(),
        keyId: "forged",
      },
      forger.secretKey,
    );
    db.prepare("INSERT INTO checkpoints (seq, head_hash, json) VALUES (?, ?, ?)").run(
      head.seq,
      head.hash,
      JSON.stringify(forged),
    );
    db.prepare("UPDATE meta SET value = '0' WHERE key = 'clean_shutdown'").run();
    db.close();

    const hardware = new FakeHardware("virtual");
    const errors: string[] = [];
    const log: RuntimeLog = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: (msg, fields) => errors.push(`${msg} ${String(fields?.err)}`),
    };
    const failure = await start(hardware, undefined, log).catch((error: unknown) => error);
    expect(errorCode(failure)).toBe("E_AUDIT_CHAIN_BROKEN");
    expect(String((failure as Error).message)).toMatch(/signature/);
    // Fail-secure: the bolt was never driven (it stays thrown) and the refusal is said.
    expect(hardware.drives).toEqual([]);
    expect(errors.join("\n")).toMatch(
      /lock store refused.*bolt stays thrown.*E_AUDIT_CHAIN_BROKEN/,
    );
  });
});
