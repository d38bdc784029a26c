/**
 * The device runtime against the real fleet: enrolment over HTTP with a token a security admin
 * created through the API, then the lock on the virtual board connected to the fleet's
 * embedded broker with the credentials it was given, commanded and audited by the DeviceHub.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeviceRuntime, errorCode, openHardware, provision, readConfig } from "@lockfleet/edge";
import { getProfile, type HardwareProfile } from "@lockfleet/hardware-profiles";
import type { Alarm, AuditRecord } from "@lockfleet/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFixture, type Fixture } from "../../../fleet/test/fixtures.js";
import { createVirtualBoard, type VirtualBoard } from "../../src/virtual-board/virtual-board.js";
import { until } from "./harness.js";

let fleet: Fixture;
let fleetUrl: string;
let dir: string;
let runtime: DeviceRuntime | undefined;
let board: VirtualBoard | undefined;

beforeEach(async () => {
  fleet = await createFixture();
  await fleet.app.listen({ port: 0, host: "127.0.0.1" });
  const address = fleet.app.server.address();
  fleetUrl = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
  dir = mkdtempSync(join(tmpdir(), "lockfleet-fleet-enrol-"));
});

afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
  board?.close();
  await fleet.close();
  rmSync(dir, { recursive: true, force: true });
});

async function enrolmentToken(): Promise<string> {
  const response = await fetch(`${fleetUrl}/api/v1/enrolment-tokens`, {
    method: "POST",
    headers: { ...fleet.as("securityAdmin"), "content-type": "application/json" },
    body: JSON.stringify({ containerId: fleet.container.id }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { token: string }).token;
}

describe("device runtime with the real fleet", () => {
  it("enrols with a token from the security admin, connects with its own credentials, obeys and reports to the fleet", async () => {
    const dataDir = join(dir, "data");
    const kekFile = join(dir, "kek");
    const result = await provision({
      fleetUrl,
      token: await enrolmentToken(),
      profile: "virtual",
      dataDir,
      kekFile,
    });
    expect(result.containerId).toBe(fleet.container.id);
    expect(readConfig(dataDir).org).toBe(fleet.bank.id);

    const found = getProfile("virtual");
    if (!found.ok) throw new Error(found.error.message);
    const profile = found.value as HardwareProfile;
    board = createVirtualBoard(profile);
    const hub = fleet.app.hub;
    const audited: AuditRecord[] = [];
    hub.on("audit", (deviceId: string, records: AuditRecord[]) => {
      if (deviceId === result.deviceId) audited.push(...records);
    });
    const alarms: string[] = [];
    hub.on("alarm", (deviceId: string, alarm: Alarm) => {
      if (deviceId === result.deviceId) alarms.push(alarm.alarm);
    });
    runtime = await DeviceRuntime.start({
      dataDir,
      kek: Buffer.from(readFileSync(kekFile, "utf8").trim(), "base64url"),
      hardware: await openHardware(profile, { io: board.io }),
      mqtt: { reconnectMinMs: 100, reconnectMaxMs: 500 },
    });
    await runtime.waitOnline(8000);
    await until(() => hub.lockState(result.deviceId), 8000, "state at the fleet");

    const blocked = await hub.sendCommand(
      result.deviceId,
      "remote.block",
      { reason: "test" },
      { waitMs: 5000 },
    );
    expect(blocked?.status).toBe("ok");
    await until(
      () => hub.lockState(result.deviceId)?.blocked === true,
      5000,
      "blocked state at the fleet",
    );

    await board.typeKeys("0199999999#");
    await until(
      () => audited.find((record) => record.kind === "code.rejected"),
      8000,
      "code.rejected at the fleet",
    );
    const rejected = audited.find((record) => record.kind === "code.rejected") as AuditRecord;
    // The fleet stored the records and acknowledged them; the lock recorded the acknowledgement.
    await until(
      () => (runtime?.store.acknowledgedSeq() ?? 0) >= rejected.seq,
      8000,
      "ack at the lock",
    );
    // The fleet saw no gap in the chain.
    expect(alarms).not.toContain("auditGap");
  });

  it("a long idle lock connected to a fleet that acknowledges everything does not grow its log", async () => {
    const dataDir = join(dir, "data");
    const kekFile = join(dir, "kek");
    const result = await provision({
      fleetUrl,
      token: await enrolmentToken(),
      profile: "virtual",
      dataDir,
      kekFile,
    });
    const found = getProfile("virtual");
    if (!found.ok) throw new Error(found.error.message);
    const profile = found.value as HardwareProfile;
    board = createVirtualBoard(profile);
    const hub = fleet.app.hub;
    const alarms: string[] = [];
    hub.on("alarm", (deviceId: string, alarm: Alarm) => {
      if (deviceId === result.deviceId) alarms.push(alarm.alarm);
    });
    runtime = await DeviceRuntime.start({
      dataDir,
      kek: Buffer.from(readFileSync(kekFile, "utf8").trim(), "base64url"),
      hardware: await openHardware(profile, { io: board.io }),
      mqtt: { reconnectMinMs: 100, reconnectMaxMs: 500 },
      // Anything unacknowledged would be sent again within a fraction of the idle time.
      audit: { ackTimeoutMs: 200 },
      checkpointIntervalMs: 200,
    });
    await runtime.waitOnline(8000);
    const lock = runtime;
    // The whole-chain verification after start puts its result on record once.
    await until(
      () => lock.store.auditRange(1, 1e9).some((record) => record.kind === "audit.verified"),
      8000,
      "the background verification on record",
    );
    // Some real records, acknowledged by the fleet (each ack is a signed command on `sync`).
    await board.typeKeys("0199999999#");
    await until(
      () =>
        lock.store.acknowledgedSeq() > 0 &&
        lock.store.acknowledgedSeq() === lock.store.auditHead().seq,
      8000,
      "everything acknowledged",
    );
    // The checkpoint over that head goes out once (checkpoints are not audit records).
    await new Promise((resolve) => setTimeout(resolve, 600));
    const head = lock.store.auditHead().seq;
    const published = lock.auditSync.published;
    // Idle: the fleet's acks are logged without new records, so there is nothing more to ack.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    expect(lock.store.auditHead().seq).toBe(head);
    expect(lock.store.acknowledgedSeq()).toBe(head);
    expect(lock.auditSync.published).toBe(published);
    expect(alarms).not.toContain("auditGap");
    // The acknowledgements are on record with the next record the lock writes.
    await board.typeKeys("0199999999#");
    const next = await until(
      () => lock.store.auditRange(head + 1, head + 10).find((r) => r.kind === "audit.acknowledged"),
      4000,
      "acknowledgements on record",
    );
    expect(next.actor).toBe("fleet");
    expect(Number(next.data.acks)).toBeGreaterThanOrEqual(1);
    expect(next.data.upToSeq).toBe(head);
  });

  it("a token the fleet did not issue is refused with E_ENROLMENT_REFUSED", async () => {
    const failure = await provision({
      fleetUrl,
      token: "enr_this-token-was-never-issued",
      profile: "virtual",
      dataDir: join(dir, "data"),
      kekFile: join(dir, "kek"),
    }).catch((error: unknown) => error);
    expect(errorCode(failure)).toBe("E_ENROLMENT_REFUSED");
  });
});
