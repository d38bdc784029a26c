/**
 * Hardware events on record (SPEC §3: every event is appended; failures are reported, never
 * silently ignored), with the real Johnny-Five code on the virtual board: the power-fail
 * input, a jammed bolt, a welded actuator relay, a display that stops answering.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeviceRuntime, openHardware, provision } from "@lockfleet/edge";
import { getProfile, type HardwareProfile } from "@lockfleet/hardware-profiles";
import type { AuditRecord } from "@lockfleet/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TestFleet } from "../../../edge/test/runtime/test-fleet.js";
import { createVirtualBoard, type VirtualBoard } from "../../src/virtual-board/virtual-board.js";
import { ANNA, until } from "./harness.js";

let dir: string;
let fleet: TestFleet;
let board: VirtualBoard;
let runtime: DeviceRuntime | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "lockfleet-hw-events-"));
  fleet = new TestFleet({
    brokerUrl: "mqtt://127.0.0.1:1",
    policy: { dualControl: "single", timeDelayMin: 0 },
  });
  await fleet.listen();
});

afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
  board?.close();
  await fleet.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<DeviceRuntime> {
  const dataDir = join(dir, "data");
  const kekFile = join(dir, "kek");
  await provision({
    fleetUrl: fleet.url,
    token: fleet.token(),
    profile: "virtual",
    dataDir,
    kekFile,
  });
  const found = getProfile("virtual");
  if (!found.ok) throw new Error(found.error.message);
  const profile = found.value as HardwareProfile;
  board = createVirtualBoard(profile);
  runtime = await DeviceRuntime.start({
    dataDir,
    kek: Buffer.from(readFileSync(kekFile, "utf8").trim(), "base64url"),
    hardware: await openHardware(profile, { io: board.io }),
    mqtt: { enabled: false },
    firstStart: { users: [ANNA] },
  });
  return runtime;
}

function records(lock: DeviceRuntime): AuditRecord[] {
  return lock.store.auditRange(1, lock.store.auditHead().seq);
}

const alarmsRaised = (lock: DeviceRuntime) =>
  records(lock)
    .filter((r) => r.kind === "alarm.raised")
    .map((r) => r.data.alarm);

describe("hardware events on the virtual board", () => {
  it("mains failing on the power-fail input is recorded as power.failed with a powerLoss alarm, and its return as power.restored", async () => {
    const lock = await start();
    board.setPowerFail(true);
    await until(() => records(lock).find((r) => r.kind === "power.failed"), 3000, "power.failed");
    expect(alarmsRaised(lock)).toContain("powerLoss");
    expect(lock.core.activeAlarms).toContain("powerLoss");
    board.setPowerFail(false);
    await until(
      () => records(lock).find((r) => r.kind === "power.restored"),
      3000,
      "power.restored",
    );
    expect(
      records(lock).find((r) => r.kind === "alarm.cleared" && r.data.alarm === "powerLoss"),
    ).toBeDefined();
    expect(lock.core.activeAlarms).not.toContain("powerLoss");
    // A mains failure the lock rode out on its reserve is no unclean restart.
    expect(records(lock).map((r) => r.kind)).not.toContain("power.lost");
  });

  it("a jammed bolt raises lockJammed once and cancels the opening; the bolt is never reported retracted", async () => {
    const lock = await start();
    board.jamBolt(true);
    await board.typeKeys("0111223344#");
    await until(() => lock.core.activeAlarms.includes("lockJammed"), 4000, "lockJammed");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(alarmsRaised(lock).filter((alarm) => alarm === "lockJammed")).toHaveLength(1);
    expect(records(lock).find((r) => r.kind === "cycle.cancelled")?.data.reason).toBe("boltJammed");
    expect(records(lock).map((r) => r.kind)).not.toContain("bolt.retracted");
  });

  it("a welded actuator relay (pin stuck) is a jam on record, not a silent failure", async () => {
    const lock = await start();
    board.stickPin(17, 0); // the actuator relay of the virtual profile, held off
    await board.typeKeys("0111223344#");
    await until(() => lock.core.activeAlarms.includes("lockJammed"), 4000, "lockJammed");
    expect(board.boltPosition()).toBe("thrown");
  });

  it("a display that stops answering is recorded as a part fault, and the lock keeps opening", async () => {
    const lock = await start();
    board.io.failWritesToAbsentDevices = true;
    board.disconnect("display", true);
    await board.typeKeys("0111223344#");
    const fault = await until(
      () => records(lock).find((r) => r.kind === "hardware.partFault" && r.data.part === "display"),
      4000,
      "display fault",
    );
    expect(fault.data).toMatchObject({ code: "E_HARDWARE_PART" });
    await until(() => board.boltPosition() === "retracted", 4000, "bolt retracted");
    expect(records(lock).filter((r) => r.kind === "hardware.partFault")).toHaveLength(1);
    expect(records(lock).map((r) => r.kind)).not.toContain("lock.fault");
  });
});
