/**
 * The control room reads alarms in words: GET /alarms carries the name of the person at the
 * lock and of the acknowledger — only names of people the reader's organisation manages.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertDevice } from "../alarms/fixtures.js";
import { createFixture, type Fixture } from "../fixtures.js";

let f: Fixture;
const LOCK = "lock-aaaaaaaaaa03";
beforeAll(async () => {
  f = await createFixture();
  insertDevice(f.app.db, { deviceId: LOCK, orgId: f.bank.id, containerId: f.container.id });
});
afterAll(async () => {
  await f?.close();
});

describe("names on alarms", () => {
  it("a duress alarm names the person at the lock and, once acknowledged, who acknowledged", async () => {
    const crew = f.accounts.citCrew.person;
    const { alarm } = f.app.alarms.raise({
      deviceId: LOCK,
      kind: "forcedUser",
      source: "device",
      at: new Date(f.clock.now()).toISOString(),
      auditSeq: 7,
      actor: crew.id,
    });
    const open = await f.app.inject({
      method: "GET",
      url: "/api/v1/alarms?status=open",
      headers: f.as("securityAdmin"),
    });
    const listed = open.json().items.find((a: { id: string }) => a.id === alarm.id);
    expect(listed.actorName).toBe(crew.name);
    const ack = await f.app.inject({
      method: "POST",
      url: `/api/v1/alarms/${alarm.id}/ack`,
      headers: f.as("branchManager"),
      payload: { comment: "police informed" },
    });
    expect(ack.json()).toMatchObject({
      acknowledgedBy: f.accounts.branchManager.person.id,
      acknowledgedByName: f.accounts.branchManager.person.name,
    });
  });

  it("a CIT dispatcher does not learn the names of bank staff from an alarm", async () => {
    const staff = f.accounts.branchManager.person;
    const { alarm } = f.app.alarms.raise({
      deviceId: LOCK,
      kind: "tamper",
      source: "device",
      at: new Date(f.clock.now()).toISOString(),
      auditSeq: 8,
      actor: staff.id,
    });
    const response = await f.app.inject({
      method: "GET",
      url: `/api/v1/alarms/${alarm.id}`,
      headers: f.as("citDispatcher"),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().alarm.actor).toBe(staff.id);
    expect(response.json().alarm).not.toHaveProperty("actorName");
    expect(response.body).not.toContain(staff.name);
  });
});
