import { EnrolmentResponse, isValid } from "@lockfleet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixture, type Fixture } from "../fixtures.js";
import { waitFor } from "./helpers.js";
import { SimulatedLock } from "./simulated-lock.js";

let f: Fixture;
let lock: SimulatedLock;
let hiddenLock: SimulatedLock;

async function enrolOver(
  container: string,
  admin: "securityAdmin" | "bankBAdmin" = "securityAdmin",
): Promise<SimulatedLock> {
  const created = await f.app.inject({
    method: "POST",
    url: "/api/v1/enrolment-tokens",
    headers: f.as(admin),
    payload: { containerId: container, ttlMinutes: 10 },
  });
  expect(created.statusCode).toBe(201);
  const device = new SimulatedLock();
  const enrolled = await f.app.inject({
    method: "POST",
    url: "/api/v1/enrolment",
    payload: device.enrolmentRequest(created.json().token),
  });
  expect(enrolled.statusCode).toBe(201);
  expect(isValid(EnrolmentResponse, enrolled.json())).toBe(true);
  device.accept(enrolled.json());
  await device.connect();
  return device;
}

beforeAll(async () => {
  f = await createFixture();
  lock = await enrolOver(f.container.id);
  hiddenLock = await enrolOver(f.uncontractedContainer.id);
});
afterAll(async () => {
  lock?.crash();
  hiddenLock?.crash();
  await f?.close();
});

describe("devices API", () => {
  it("only a security admin of the owning bank creates enrolment tokens", async () => {
    const post = (who: Parameters<Fixture["as"]>[0]) =>
      f.app.inject({
        method: "POST",
        url: "/api/v1/enrolment-tokens",
        headers: f.as(who),
        payload: { containerId: f.container.id },
      });
    expect((await post("technician")).statusCode).toBe(403);
    expect((await post("citDispatcher")).statusCode).toBe(403);
    const foreign = await post("bankBAdmin");
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().code).toBe("E_NOT_FOUND");
    const anonymous = await f.app.inject({
      method: "POST",
      url: "/api/v1/enrolment-tokens",
      payload: { containerId: f.container.id },
    });
    expect(anonymous.statusCode).toBe(401);
  });

  it("a used token answers 409 with a code, a bad proof 400", async () => {
    const created = await f.app.inject({
      method: "POST",
      url: "/api/v1/enrolment-tokens",
      headers: f.as("securityAdmin"),
      payload: { containerId: f.container.id },
    });
    const token = created.json().token as string;
    const impostor = new SimulatedLock();
    const badProof = impostor.enrolmentRequest(token, new SimulatedLock().signing.secretKey);
    const refused = await f.app.inject({
      method: "POST",
      url: "/api/v1/enrolment",
      payload: badProof,
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().code).toBe("E_ENROLMENT_PROOF");
    const ok = await f.app.inject({
      method: "POST",
      url: "/api/v1/enrolment",
      payload: impostor.enrolmentRequest(token),
    });
    expect(ok.statusCode).toBe(201);
    const again = await f.app.inject({
      method: "POST",
      url: "/api/v1/enrolment",
      payload: new SimulatedLock().enrolmentRequest(token),
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: "E_ENROLMENT_TOKEN_USED" });
  });

  it("a bank sees its locks, another bank none, a CIT company only contracted ones", async () => {
    const list = async (who: Parameters<Fixture["as"]>[0]) => {
      const response = await f.app.inject({
        method: "GET",
        url: "/api/v1/devices",
        headers: f.as(who),
      });
      expect(response.statusCode).toBe(200);
      return (response.json().items as Array<{ deviceId: string }>).map((item) => item.deviceId);
    };
    expect(await list("auditor")).toEqual(
      expect.arrayContaining([lock.deviceId, hiddenLock.deviceId]),
    );
    expect(await list("bankBAdmin")).toEqual([]);
    const cit = await list("citDispatcher");
    expect(cit).toContain(lock.deviceId);
    expect(cit).not.toContain(hiddenLock.deviceId);
    const foreign = await f.app.inject({
      method: "GET",
      url: `/api/v1/devices/${lock.deviceId}`,
      headers: f.as("bankBAdmin"),
    });
    expect(foreign.statusCode).toBe(404);
    const hidden = await f.app.inject({
      method: "GET",
      url: `/api/v1/devices/${hiddenLock.deviceId}`,
      headers: f.as("citCrew"),
    });
    expect(hidden.statusCode).toBe(404);
  });

  it("remote functions are sent by role, answered by the lock and logged", async () => {
    const send = (who: Parameters<Fixture["as"]>[0], payload: Record<string, unknown>) =>
      f.app.inject({
        method: "POST",
        url: `/api/v1/devices/${lock.deviceId}/commands`,
        headers: f.as(who),
        payload,
      });
    const selfTest = await send("technician", { type: "selfTest.request", waitMs: 3_000 });
    expect(selfTest.statusCode).toBe(202);
    expect(selfTest.json()).toMatchObject({ status: "ok", result: { status: "ok" } });
    expect((await send("branchManager", { type: "remote.unblock" })).statusCode).toBe(403);
    expect((await send("technician", { type: "remote.block", reason: "x" })).statusCode).toBe(403);
    expect((await send("citDispatcher", { type: "selfTest.request" })).statusCode).toBe(403);
    expect((await send("bankBAdmin", { type: "remote.block", reason: "x" })).statusCode).toBe(404);
    const block = await send("securityAdmin", {
      type: "remote.block",
      reason: "robbery suspected",
      waitMs: 3_000,
    });
    expect(block.json().status).toBe("ok");
    expect(lock.commandsOfType("remote.block")[0]?.body).toEqual({ reason: "robbery suspected" });
    const actions = f.app.db.prepare("SELECT action FROM admin_log").pluck().all();
    expect(actions).toEqual(
      expect.arrayContaining([
        "enrolmentToken.create",
        "device.enrol",
        "device.command.remote.block",
      ]),
    );
  });

  it("the verified audit trail is readable by audit roles only, in pages", async () => {
    await lock.publishAudit([lock.appendAudit("code.rejected"), lock.appendAudit("code.rejected")]);
    await lock.until(() => lock.ackedUpTo >= 2, 3_000, "ack");
    const page = await f.app.inject({
      method: "GET",
      url: `/api/v1/devices/${lock.deviceId}/audit?limit=1`,
      headers: f.as("auditor"),
    });
    expect(page.statusCode).toBe(200);
    expect(page.json()).toMatchObject({ items: [{ seq: 1 }], nextAfterSeq: 1 });
    const crew = await f.app.inject({
      method: "GET",
      url: `/api/v1/devices/${lock.deviceId}/audit`,
      headers: f.as("citCrew"),
    });
    expect(crew.statusCode).toBe(403);
  });

  it("a security admin rotates the fleet key; every lock follows, each bank is told of its own", async () => {
    const bankBLock = await enrolOver(f.containerB.id, "bankBAdmin");
    const online = (id: string) => f.app.hub.device(id)?.availability === "online";
    await waitFor(
      () => online(lock.deviceId) && online(hiddenLock.deviceId) && online(bankBLock.deviceId),
    );
    const logBefore = f.app.adminLog.head().seq;
    expect(
      (
        await f.app.inject({
          method: "POST",
          url: "/api/v1/fleet-keys/rotate",
          headers: f.as("auditor"),
        })
      ).statusCode,
    ).toBe(403);
    const rotated = await f.app.inject({
      method: "POST",
      url: "/api/v1/fleet-keys/rotate",
      headers: f.as("securityAdmin"),
    });
    expect(rotated.statusCode).toBe(200);
    // Bank A's admin hears of bank A's locks only (the two online confirmed; the one enrolled
    // earlier in this file and never connected is pending), not of bank B's.
    const bankALocks = f.app.db
      .prepare("SELECT count(*) FROM devices WHERE org_id = ? AND status = 'active'")
      .pluck()
      .get(f.bank.id) as number;
    expect(bankALocks).toBeGreaterThan(2);
    expect(rotated.json()).toEqual({
      keyId: expect.any(String),
      confirmed: 2,
      pending: bankALocks - 2,
    });
    const { keyId } = rotated.json() as { keyId: string };
    expect([...lock.trust.keys()]).toEqual([keyId]);
    expect([...hiddenLock.trust.keys()]).toEqual([keyId]);
    expect([...bankBLock.trust.keys()]).toEqual([keyId]);

    const logged = f.app.adminLog
      .list({}, { limit: 50 })
      .items.filter((entry) => entry.seq > logBefore && entry.target === keyId);
    const ownEntry = logged.find((entry) => entry.orgId === f.bank.id);
    expect(ownEntry).toMatchObject({
      action: "fleetKey.rotate",
      data: { confirmed: 2, pending: bankALocks - 2 },
    });
    const bankBEntry = logged.find((entry) => entry.orgId === f.bankB.id);
    expect(bankBEntry).toMatchObject({
      action: "fleetKey.rotated",
      data: { confirmed: 1, pending: 0 },
    });
    // Bank B's record names neither bank A's admin nor bank A.
    expect(JSON.stringify(bankBEntry)).not.toContain(ownEntry?.actor as string);
    expect(JSON.stringify(bankBEntry)).not.toContain(f.bank.id);
    bankBLock.crash();
  });
});
