/**
 * Trusted time end to end: the device runtime on the virtual board, enrolled with the real
 * fleet and connected to its embedded broker over TCP. The fleet measures each lock's drift,
 * raises `clockDrift` beyond its tolerance, sends time syncs stated in the lock's clock, and
 * clears the alarm once the clock is right; the lock refuses what would move its clock back
 * beyond its daily bound and every message the network held back past its validity.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { type Clock, DeviceRuntime, openHardware, provision } from "@lockfleet/edge";
import { getProfile, type HardwareProfile } from "@lockfleet/hardware-profiles";
import type { Alarm, AuditRecord, CommandResult } from "@lockfleet/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createEnabledAccount } from "../../../fleet/src/auth/bootstrap.js";
import {
  createFixture,
  FIXTURE_PASSWORD,
  type Fixture,
  TEST_SCRYPT,
} from "../../../fleet/test/fixtures.js";
import { createVirtualBoard, type VirtualBoard } from "../../src/virtual-board/virtual-board.js";
import { until } from "./harness.js";
import { LinkProxy } from "./link-proxy.js";

const SECOND = 1000;
const MINUTE = 60 * SECOND;

class OffsetClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  monotonic(): number {
    return performance.now();
  }
}

let fleet: Fixture;
let fleetUrl: string;
let dir: string;
let ticker: NodeJS.Timeout;
let runtime: DeviceRuntime | undefined;
let board: VirtualBoard | undefined;
let proxy: LinkProxy | undefined;

beforeEach(async () => {
  fleet = await createFixture();
  // The fleet's clock follows real time here, as in production.
  ticker = setInterval(() => fleet.clock.set(Date.now()), 20);
  await fleet.app.listen({ port: 0, host: "127.0.0.1" });
  const address = fleet.app.server.address();
  fleetUrl = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
  dir = mkdtempSync(join(tmpdir(), "lockfleet-fleet-time-"));
});

afterEach(async () => {
  clearInterval(ticker);
  await runtime?.stop();
  runtime = undefined;
  board?.close();
  await proxy?.close();
  proxy = undefined;
  await fleet.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Lock {
  deviceId: string;
  alarms: Alarm[];
  results: CommandResult[];
  audited: AuditRecord[];
}

/** Enrols a lock with a token from the security admin and starts it on `clock`. */
async function startLock(clock: Clock, options: { viaProxy?: boolean } = {}): Promise<Lock> {
  const response = await fetch(`${fleetUrl}/api/v1/enrolment-tokens`, {
    method: "POST",
    headers: { ...fleet.as("securityAdmin"), "content-type": "application/json" },
    body: JSON.stringify({ containerId: fleet.container.id }),
  });
  expect(response.status).toBe(201);
  const { token } = (await response.json()) as { token: string };
  const dataDir = join(dir, "data");
  const kekFile = join(dir, "kek");
  const enrolled = await provision({ fleetUrl, token, profile: "virtual", dataDir, kekFile });
  const lock: Lock = { deviceId: enrolled.deviceId, alarms: [], results: [], audited: [] };
  const hub = fleet.app.hub;
  hub.on("alarm", (deviceId: string, alarm: Alarm) => {
    if (deviceId === lock.deviceId) lock.alarms.push(alarm);
  });
  hub.on("result", (deviceId: string, result: CommandResult) => {
    if (deviceId === lock.deviceId) lock.results.push(result);
  });
  hub.on("audit", (deviceId: string, records: AuditRecord[]) => {
    if (deviceId === lock.deviceId) lock.audited.push(...records);
  });
  if (options.viaProxy === true) {
    proxy = new LinkProxy(hub.brokerUrl);
    await proxy.listen();
  }
  const found = getProfile("virtual");
  if (!found.ok) throw new Error(found.error.message);
  const profile = found.value as HardwareProfile;
  board = createVirtualBoard(profile);
  runtime = await DeviceRuntime.start({
    dataDir,
    kek: Buffer.from(readFileSync(kekFile, "utf8").trim(), "base64url"),
    hardware: await openHardware(profile, { io: board.io }),
    clock,
    mqtt: {
      reconnectMinMs: 100,
      reconnectMaxMs: 500,
      ...(proxy === undefined ? {} : { url: proxy.url }),
    },
  });
  await runtime.waitOnline(8000);
  return lock;
}

async function api(
  method: "GET" | "POST",
  path: string,
  who: Parameters<Fixture["as"]>[0] | { authorization: string },
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${fleetUrl}/api/v1${path}`, {
    method,
    headers: {
      ...(typeof who === "string" ? fleet.as(who) : who),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: await response.json() };
}

/** A branch manager of the bank whom `creator` identified and enabled, logged in. */
async function accountCreatedBy(creator: string): Promise<{ authorization: string }> {
  const email = "puppet@example.test";
  await createEnabledAccount(fleet.app.repos, {
    orgId: fleet.bank.id,
    name: "Puppet officer",
    role: "securityAdmin",
    email,
    password: FIXTURE_PASSWORD,
    now: fleet.clock.now(),
    passwordHashing: TEST_SCRYPT,
    by: creator,
  });
  const login = await fetch(`${fleetUrl}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: FIXTURE_PASSWORD }),
  });
  expect(login.status).toBe(200);
  const cookie = String(login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const token = await fetch(`${fleetUrl}/api/v1/auth/tokens`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json" },
    body: JSON.stringify({ name: "puppet" }),
  });
  expect(token.status).toBe(201);
  return { authorization: `Bearer ${((await token.json()) as { token: string }).token}` };
}

async function openAlarms(kind: string) {
  const response = await fetch(`${fleetUrl}/api/v1/alarms`, {
    headers: fleet.as("securityAdmin"),
  });
  expect(response.status).toBe(200);
  const { items } = (await response.json()) as {
    items: Array<{ kind: string; clearedAt: string | null; data: Record<string, unknown> }>;
  };
  return items.filter((alarm) => alarm.kind === kind);
}

describe("trusted time between the fleet and a lock", () => {
  it("a lock clock 10 min fast raises clockDrift; the sync beyond the daily bound is refused; two officers confirm a time.set that corrects it and clears the alarm", async () => {
    const clock = new OffsetClock();
    clock.offsetMs = 10 * MINUTE;
    const lock = await startLock(clock);
    const alarm = await until(
      () => lock.alarms.find((a) => a.alarm === "clockDrift"),
      8000,
      "clockDrift at the fleet",
    );
    expect(alarm.data).toMatchObject({ source: "fleet" });
    expect(Number(alarm.data.driftMs)).toBeGreaterThan(9 * MINUTE);
    // The fleet's own sync, stated in the lock's clock: refused, 10 min is beyond 60 s a day.
    const refused = await until(
      () => lock.results.find((r) => r.error?.code === "E_TIME_BACKWARDS"),
      8000,
      "the automatic sync refused",
    );
    expect(refused.status).toBe("error");
    expect(runtime?.core.trustedTime).toBe(false);
    expect(Math.abs((runtime?.core.lockTime() ?? 0) - Date.now() - 10 * MINUTE)).toBeLessThan(
      2 * SECOND,
    );
    await until(async () => (await openAlarms("clockDrift")).length === 1, 8000, "alarm listed");

    // Running 10 min ahead, its audit is still acknowledged: acks are stated in its clock. Each
    // ack it refused (stated in fleet time, expired in its clock) used to be a command.rejected
    // record the fleet acknowledged again, without end.
    const store = runtime?.store;
    if (store === undefined) throw new Error("the lock's runtime is not running");
    const written = store.auditHead().seq;
    await until(() => store.acknowledgedSeq() >= written, 8000, "the lock's audit acknowledged");
    const rejectedSoFar = () => lock.audited.filter((r) => r.kind === "command.rejected").length;
    const before = rejectedSoFar();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(rejectedSoFar() - before).toBe(0);
    expect(store.auditHead().seq - written).toBeLessThan(5);

    // A security admin proposes the correction the fleet measured; nothing leaves yet.
    const proposed = await api(
      "POST",
      `/devices/${lock.deviceId}/clock-corrections`,
      "securityAdmin",
      {
        reason: "real-time clock ten minutes fast",
      },
    );
    expect(proposed.status).toBe(201);
    const correction = proposed.body as { id: string; confirmJumpSec: number; status: string };
    expect(correction.status).toBe("pending");
    expect(correction.confirmJumpSec).toBeLessThan(-590);
    expect(correction.confirmJumpSec).toBeGreaterThan(-610);
    const approve = (who: Parameters<Fixture["as"]>[0]) =>
      api("POST", `/clock-corrections/${correction.id}/approve`, who);
    // Attacks on the second approval: the proposer again, an auditor, another bank's admin, and
    // a branch manager the proposer created.
    expect((await approve("securityAdmin")).body).toMatchObject({ code: "E_SAME_APPROVER" });
    expect((await approve("auditor")).status).toBe(403);
    expect((await approve("bankBAdmin")).status).toBe(404);
    const puppet = await accountCreatedBy(fleet.accounts.securityAdmin.person.id);
    const byPuppet = await api("POST", `/clock-corrections/${correction.id}/approve`, puppet);
    expect(byPuppet.body).toMatchObject({ code: "E_PUPPET_APPROVER" });
    expect(lock.results.filter((r) => r.status === "ok" && r.data?.jumpMs !== undefined)).toEqual(
      [],
    );
    expect(Math.abs((runtime?.core.lockTime() ?? 0) - Date.now() - 10 * MINUTE)).toBeLessThan(
      2 * SECOND,
    );
    // A second, independent officer approves: the signed, confirmed time.set goes out.
    const approved = await approve("branchManager");
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      status: "applied",
      approvedBy: fleet.accounts.branchManager.person.id,
      result: { status: "ok" },
    });
    const logged = fleet.app.db
      .prepare("SELECT action FROM admin_log WHERE target = ? ORDER BY seq")
      .pluck()
      .all(correction.id);
    expect(logged).toEqual([
      "device.clockCorrection.propose",
      "device.clockCorrection.approve.refused",
      "device.clockCorrection.approve.refused",
      "device.clockCorrection.approve",
      "device.clockCorrection.send",
    ]);
    expect(Math.abs((runtime?.core.lockTime() ?? 0) - Date.now())).toBeLessThan(2 * SECOND);
    expect(runtime?.core.trustedTime).toBe(true);
    await until(
      async () => (await openAlarms("clockDrift"))[0]?.clearedAt !== null,
      8000,
      "clockDrift cleared",
    );
    await until(
      () => lock.audited.find((r) => r.kind === "time.changed"),
      8000,
      "time.changed at the fleet",
    );
    expect(lock.audited.find((r) => r.kind === "time.rejected")?.data).toMatchObject({
      command: "time.sync",
      reason: "backwardBoundPerDay",
    });
  });

  it("a time sync the network holds back expires at the lock: the fleet's message cannot set its clock back", async () => {
    const clock = new OffsetClock();
    const lock = await startLock(clock, { viaProxy: true });
    await until(() => fleet.app.hub.lockState(lock.deviceId)?.trustedTime, 8000, "trusted time");
    const before = lock.results.length;
    proxy?.hold();
    const response = await fetch(`${fleetUrl}/api/v1/devices/${lock.deviceId}/commands`, {
      method: "POST",
      headers: { ...fleet.as("securityAdmin"), "content-type": "application/json" },
      body: JSON.stringify({ type: "time.sync" }),
    });
    expect(response.status).toBe(202);
    const { commandId } = (await response.json()) as { commandId: string };
    // 4.5 min pass at the lock while the network holds the message.
    clock.offsetMs = 4.5 * MINUTE;
    proxy?.release();
    const result = await until(
      () => lock.results.slice(before).find((r) => r.id === commandId),
      20_000, // a guard, not a speed goal: the released message crosses a proxy on a busy machine
      "the lock's answer",
    );
    expect(result).toMatchObject({ status: "error", error: { code: "E_EXPIRED" } });
    expect(Math.abs((runtime?.core.lockTime() ?? 0) - Date.now() - 4.5 * MINUTE)).toBeLessThan(
      2 * SECOND,
    );
    expect(lock.audited.filter((r) => r.kind === "time.changed")).toHaveLength(1); // on connect
  });
});
