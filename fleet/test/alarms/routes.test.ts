import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixture, type Fixture } from "../fixtures.js";
import { insertDevice } from "./fixtures.js";

let f: Fixture;
const LOCK_A = "lock-aaaaaaaaaa01";
const VAULT_A = "lock-aaaaaaaaaa02";
const LOCK_B = "lock-bbbbbbbbbb01";
let duressId: string;
let ajarId: string;
let vaultId: string;
let bankBId: string;

beforeAll(async () => {
  f = await createFixture();
  insertDevice(f.app.db, { deviceId: LOCK_A, orgId: f.bank.id, containerId: f.container.id });
  insertDevice(f.app.db, {
    deviceId: VAULT_A,
    orgId: f.bank.id,
    containerId: f.uncontractedContainer.id,
  });
  insertDevice(f.app.db, { deviceId: LOCK_B, orgId: f.bankB.id, containerId: f.containerB.id });
  const at = new Date(f.clock.now()).toISOString();
  duressId = f.app.alarms.raise({
    deviceId: LOCK_A,
    kind: "forcedUser",
    source: "device",
    at,
    auditSeq: 3,
  }).alarm.id;
  ajarId = f.app.alarms.raise({
    deviceId: LOCK_A,
    kind: "doorAjar",
    source: "device",
    at,
    auditSeq: 4,
  }).alarm.id;
  vaultId = f.app.alarms.raise({
    deviceId: VAULT_A,
    kind: "tamper",
    source: "device",
    at,
    auditSeq: 1,
  }).alarm.id;
  bankBId = f.app.alarms.raise({
    deviceId: LOCK_B,
    kind: "lockJammed",
    source: "device",
    at,
    auditSeq: 1,
  }).alarm.id;
});
afterAll(async () => {
  await f?.close();
});

const ids = (body: { items: Array<{ id: string }> }) => body.items.map((a) => a.id).sort();

describe("GET /api/v1/alarms", () => {
  it("the bank's security admin sees the bank's alarms, duress included, and no other bank's", async () => {
    const response = await f.app.inject({
      method: "GET",
      url: "/api/v1/alarms",
      headers: f.as("securityAdmin"),
    });
    expect(response.statusCode).toBe(200);
    expect(ids(response.json())).toEqual([duressId, ajarId, vaultId].sort());
  });

  it("the CIT dispatcher sees alarms of its contract's container only, never the duress alarm", async () => {
    const response = await f.app.inject({
      method: "GET",
      url: "/api/v1/alarms",
      headers: f.as("citDispatcher"),
    });
    expect(response.statusCode).toBe(200);
    expect(ids(response.json())).toEqual([ajarId]);
    const filtered = await f.app.inject({
      method: "GET",
      url: "/api/v1/alarms?kind=forcedUser",
      headers: f.as("citDispatcher"),
    });
    expect(filtered.json().items).toEqual([]);
    const direct = await f.app.inject({
      method: "GET",
      url: `/api/v1/alarms/${duressId}`,
      headers: f.as("citDispatcher"),
    });
    expect(direct.statusCode).toBe(404);
    expect(direct.body).not.toContain("forcedUser");
  });

  it("another bank gets 404 for this bank's alarm", async () => {
    const response = await f.app.inject({
      method: "GET",
      url: `/api/v1/alarms/${ajarId}`,
      headers: f.as("bankBAdmin"),
    });
    expect(response.statusCode).toBe(404);
    const list = await f.app.inject({
      method: "GET",
      url: "/api/v1/alarms",
      headers: f.as("bankBAdmin"),
    });
    expect(ids(list.json())).toEqual([bankBId]);
  });

  it("a technician (provisioning only) and an anonymous caller are refused", async () => {
    expect(
      (await f.app.inject({ method: "GET", url: "/api/v1/alarms", headers: f.as("technician") }))
        .statusCode,
    ).toBe(403);
    expect((await f.app.inject({ method: "GET", url: "/api/v1/alarms" })).statusCode).toBe(401);
  });

  it("filters by container and refuses an unknown status", async () => {
    const response = await f.app.inject({
      method: "GET",
      url: `/api/v1/alarms?containerId=${f.uncontractedContainer.id}`,
      headers: f.as("auditor"),
    });
    expect(ids(response.json())).toEqual([vaultId]);
    const bad = await f.app.inject({
      method: "GET",
      url: "/api/v1/alarms?status=closed",
      headers: f.as("auditor"),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe("E_SCHEMA");
  });
});

describe("POST /api/v1/alarms/:id/ack", () => {
  it("needs a comment", async () => {
    const missing = await f.app.inject({
      method: "POST",
      url: `/api/v1/alarms/${vaultId}/ack`,
      headers: f.as("securityAdmin"),
      payload: {},
    });
    expect(missing.statusCode).toBe(400);
    const blank = await f.app.inject({
      method: "POST",
      url: `/api/v1/alarms/${vaultId}/ack`,
      headers: f.as("securityAdmin"),
      payload: { comment: "   " },
    });
    expect(blank.json()).toMatchObject({ code: "E_ACK_COMMENT_REQUIRED" });
  });

  it("records who acknowledged, when and why, in the alarm and in the admin log", async () => {
    const response = await f.app.inject({
      method: "POST",
      url: `/api/v1/alarms/${vaultId}/ack`,
      headers: f.as("branchManager"),
      payload: { comment: "housing closed, seal replaced" },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      status: "acknowledged",
      acknowledgedBy: f.accounts.branchManager.person.id,
      acknowledgedAt: new Date(f.clock.now()).toISOString(),
      ackComment: "housing closed, seal replaced",
    });
    const log = f.app.db
      .prepare("SELECT actor, target FROM admin_log WHERE action = 'alarm.acknowledge'")
      .all();
    expect(log).toEqual([{ actor: f.accounts.branchManager.person.id, target: vaultId }]);
    const again = await f.app.inject({
      method: "POST",
      url: `/api/v1/alarms/${vaultId}/ack`,
      headers: f.as("securityAdmin"),
      payload: { comment: "again" },
    });
    expect(again.statusCode).toBe(409);
  });

  it("a CIT dispatcher, an auditor and another bank may not acknowledge", async () => {
    const cit = await f.app.inject({
      method: "POST",
      url: `/api/v1/alarms/${ajarId}/ack`,
      headers: f.as("citDispatcher"),
      payload: { comment: "x" },
    });
    expect(cit.statusCode).toBe(403);
    const auditor = await f.app.inject({
      method: "POST",
      url: `/api/v1/alarms/${ajarId}/ack`,
      headers: f.as("auditor"),
      payload: { comment: "x" },
    });
    expect(auditor.statusCode).toBe(403);
    const other = await f.app.inject({
      method: "POST",
      url: `/api/v1/alarms/${ajarId}/ack`,
      headers: f.as("bankBAdmin"),
      payload: { comment: "x" },
    });
    expect(other.statusCode).toBe(404);
    const detail = await f.app.inject({
      method: "GET",
      url: `/api/v1/alarms/${ajarId}`,
      headers: f.as("securityAdmin"),
    });
    expect(detail.json().alarm.status).toBe("open");
    expect(detail.json().history.map((h: { event: string }) => h.event)).toEqual(["raised"]);
  });
});
