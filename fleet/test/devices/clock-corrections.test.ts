/**
 * Confirmed clock corrections over HTTP (SPEC §3 "Time", §5 maker–checker): a security admin
 * proposes setting a lock's clock by its measured drift; the signed time.set leaves only after a
 * second, distinct bank officer approved it, and names both and the confirmed jump.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFixture, type Fixture } from "../fixtures.js";
import { waitFor } from "./helpers.js";
import { SimulatedLock } from "./simulated-lock.js";

const MINUTE = 60_000;

let f: Fixture;
let lock: SimulatedLock;

async function enrol(options: { clockOffsetMs: number; answer: boolean }): Promise<SimulatedLock> {
  const created = await f.app.inject({
    method: "POST",
    url: "/api/v1/enrolment-tokens",
    headers: f.as("securityAdmin"),
    payload: { containerId: f.container.id, ttlMinutes: 10 },
  });
  expect(created.statusCode).toBe(201);
  const device = new SimulatedLock(options);
  const enrolled = await f.app.inject({
    method: "POST",
    url: "/api/v1/enrolment",
    payload: device.enrolmentRequest(created.json().token),
  });
  expect(enrolled.statusCode).toBe(201);
  device.accept(enrolled.json());
  return device;
}

const propose = (who: Parameters<Fixture["as"]>[0], deviceId = lock.deviceId) =>
  f.app.inject({
    method: "POST",
    url: `/api/v1/devices/${deviceId}/clock-corrections`,
    headers: f.as(who),
    payload: { reason: "real-time clock ten minutes fast" },
  });
const act = (who: Parameters<Fixture["as"]>[0], id: string, verb: "approve" | "reject") =>
  f.app.inject({
    method: "POST",
    url: `/api/v1/clock-corrections/${id}/${verb}`,
    headers: f.as(who),
  });

beforeEach(async () => {
  f = await createFixture();
  // The lock does not answer at first: the fleet keeps the drift it measured (10 min fast).
  lock = await enrol({ clockOffsetMs: 10 * MINUTE, answer: false });
});
afterEach(async () => {
  lock?.crash();
  await f?.close();
});

describe("confirmed clock corrections", () => {
  it("no correction before the fleet has measured the lock's clock", async () => {
    const refused = await propose("securityAdmin");
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe("E_DRIFT_UNKNOWN");
  });

  it("a security admin proposes; the time.set leaves only after a second officer approves, naming both", async () => {
    await lock.connect();
    await waitFor(() => (f.app.hub.device(lock.deviceId)?.clockDriftMs ?? 0) > 9 * MINUTE);
    await lock.until(() => lock.commandsOfType("time.sync").length === 1, 3_000, "time sync");
    expect((await propose("branchManager")).statusCode).toBe(403);
    expect((await propose("citDispatcher")).statusCode).toBe(403);
    expect((await propose("bankBAdmin")).statusCode).toBe(404);
    const proposed = await propose("securityAdmin");
    expect(proposed.statusCode).toBe(201);
    const correction = proposed.json();
    expect(correction).toMatchObject({
      deviceId: lock.deviceId,
      status: "pending",
      requestedBy: f.accounts.securityAdmin.person.id,
    });
    expect(correction.confirmJumpSec).toBeLessThanOrEqual(-600);
    const listed = await f.app.inject({
      method: "GET",
      url: `/api/v1/devices/${lock.deviceId}/clock-corrections`,
      headers: f.as("auditor"),
    });
    expect(listed.json().items.map((c: { id: string }) => c.id)).toEqual([correction.id]);
    const foreign = await f.app.inject({
      method: "GET",
      url: `/api/v1/devices/${lock.deviceId}/clock-corrections`,
      headers: f.as("bankBAdmin"),
    });
    expect(foreign.statusCode).toBe(404);

    const self = await act("securityAdmin", correction.id, "approve");
    expect(self.statusCode).toBe(409);
    expect(self.json().code).toBe("E_SAME_APPROVER");
    expect((await act("technician", correction.id, "approve")).statusCode).toBe(403);
    expect((await act("bankBAdmin", correction.id, "approve")).statusCode).toBe(404);
    expect(lock.commandsOfType("time.set")).toEqual([]);

    // A real lock refuses a sync beyond its daily bound; this stand-in applied the fleet's
    // automatic one, so its clock is put back where the fleet measured it.
    lock.clockOffsetMs = 10 * MINUTE;
    lock.answer = true;
    const approved = await act("branchManager", correction.id, "approve");
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({
      status: "applied",
      approvedBy: f.accounts.branchManager.person.id,
      result: { status: "ok" },
    });
    const [sent] = lock.commandsOfType("time.set");
    expect(sent?.body).toMatchObject({
      confirmJumpSec: correction.confirmJumpSec,
      approvedBy: [f.accounts.securityAdmin.person.id, f.accounts.branchManager.person.id],
      reason: "real-time clock ten minutes fast",
    });
    // Stated in the lock's clock: valid for 60 s from the lock's own time.
    expect(sent === undefined ? 0 : sent.expiresAt - sent.issuedAt).toBe(MINUTE);
    const again = await act("securityAdmin", correction.id, "approve");
    expect(again.json().code).toBe("E_CORRECTION_STATE");
  });

  it("a rejected correction cannot be approved, and nothing reaches the lock", async () => {
    await lock.connect();
    await waitFor(() => (f.app.hub.device(lock.deviceId)?.clockDriftMs ?? 0) > 9 * MINUTE);
    const correction = (await propose("securityAdmin")).json();
    expect((await act("branchManager", correction.id, "reject")).statusCode).toBe(403);
    const rejected = await act("securityAdmin", correction.id, "reject");
    expect(rejected.json()).toMatchObject({ status: "rejected", approvedBy: null });
    const late = await act("branchManager", correction.id, "approve");
    expect(late.statusCode).toBe(409);
    expect(late.json().code).toBe("E_CORRECTION_STATE");
    expect(lock.commandsOfType("time.set")).toEqual([]);
    const logged = f.app.db
      .prepare("SELECT action FROM admin_log WHERE target = ? ORDER BY seq")
      .pluck()
      .all(correction.id);
    expect(logged).toEqual(["device.clockCorrection.propose", "device.clockCorrection.reject"]);
  });
});
