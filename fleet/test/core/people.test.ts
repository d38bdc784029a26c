import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PersonChange } from "../../src/routes/people.js";
import { sweepExpiredPeople } from "../../src/routes/people.js";
import { createFixture, FIXTURE_PASSWORD, type Fixture } from "../fixtures.js";

describe("people lifecycle", () => {
  let f: Fixture;
  const events: PersonChange[] = [];
  beforeAll(async () => {
    f = await createFixture();
    f.app.coreEvents.on("person", (change) => events.push(change));
  });
  afterAll(async () => f?.close());

  const call = (
    method: "POST" | "DELETE" | "GET",
    url: string,
    who: Parameters<Fixture["as"]>[0],
    payload?: object,
  ) =>
    f.app.inject({
      method,
      url: `/api/v1${url}`,
      headers: f.as(who),
      ...(payload ? { payload } : {}),
    });

  const register = async (
    name: string,
    who: "securityAdmin" | "citDispatcher" = "securityAdmin",
  ) => {
    const res = await call("POST", "/people", who, { name });
    expect(res.statusCode).toBe(201);
    return res.json().id as string;
  };

  it("a person is identified once, recording who and against which document type", async () => {
    const id = await register("Erika Muster");
    const first = await call("POST", `/people/${id}/identify`, "branchManager", {
      documentType: "idCard",
    });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({
      status: "identified",
      identifiedBy: f.accounts.branchManager.person.id,
      documentType: "idCard",
    });
    const again = await call("POST", `/people/${id}/identify`, "securityAdmin", {
      documentType: "passport",
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe("E_ALREADY_IDENTIFIED");
  });

  it("a person cannot be enabled before being identified", async () => {
    const id = await register("Not Yet");
    const res = await call("POST", `/people/${id}/enable`, "securityAdmin", {});
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe("E_NOT_IDENTIFIED");
  });

  it("nobody identifies, enables or deletes themselves", async () => {
    const self = f.accounts.securityAdmin.person.id;
    for (const [method, url, payload] of [
      ["POST", `/people/${self}/identify`, { documentType: "idCard" }],
      ["POST", `/people/${self}/enable`, {}],
      ["DELETE", `/people/${self}`, undefined],
    ] as const) {
      const res = await call(method, url, "securityAdmin", payload);
      expect(res.statusCode, url).toBe(403);
      expect(res.json().code).toBe("E_SELF_APPROVAL");
    }
  });

  it("the document number is kept only as a keyed hash and the same document cannot identify two people", async () => {
    const a = await register("Doc A");
    const b = await register("Doc B");
    const number = "L01X00T47";
    const ok = await call("POST", `/people/${a}/identify`, "securityAdmin", {
      documentType: "idCard",
      documentNumber: number,
    });
    expect(ok.json().documentReferenceKept).toBe(true);
    const dump =
      JSON.stringify(f.app.db.prepare("SELECT * FROM people").all()) +
      JSON.stringify(f.app.db.prepare("SELECT * FROM admin_log").all());
    expect(dump).not.toContain(number);
    const dup = await call("POST", `/people/${b}/identify`, "securityAdmin", {
      documentType: "idCard",
      documentNumber: "l01x 00t47",
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().code).toBe("E_DOCUMENT_IN_USE");
  });

  it("temporary validity expires automatically: status, admin log, event, and the person's login stops", async () => {
    const id = await register("Temp Worker", "citDispatcher");
    await call("POST", `/people/${id}/identify`, "citDispatcher", { documentType: "passport" });
    const until = new Date(f.clock.now() + 3_600_000).toISOString();
    const enabled = await call("POST", `/people/${id}/enable`, "citDispatcher", {
      validUntil: until,
    });
    expect(enabled.statusCode).toBe(200);
    expect(enabled.json()).toMatchObject({ status: "enabled", validUntil: until });
    const account = await call("POST", "/users", "citDispatcher", {
      personId: id,
      role: "citCrew",
      email: "temp@example.test",
      password: FIXTURE_PASSWORD,
    });
    expect(account.statusCode).toBe(201);
    const login = () =>
      f.app.inject({
        method: "POST",
        url: "/api/v1/auth/login",
        payload: { email: "temp@example.test", password: FIXTURE_PASSWORD },
      });
    expect((await login()).statusCode).toBe(200);

    expect(sweepExpiredPeople(f.app)).toEqual([]);
    f.clock.advance(3_600_000);
    const swept = sweepExpiredPeople(f.app);
    expect(swept.map((c) => c.personId)).toEqual([id]);
    expect(events.at(-1)).toMatchObject({
      personId: id,
      action: "expire",
      status: "expired",
      by: "system",
    });
    expect(sweepExpiredPeople(f.app)).toEqual([]);
    const person = await call("GET", `/people/${id}`, "citDispatcher");
    expect(person.json().status).toBe("expired");
    expect(person.json().expiredAt).toBeDefined();
    const log = f.app.adminLog.list({ orgId: f.cit.id, action: "person.expire" }, {});
    expect(log.items.map((e) => e.target)).toEqual([id]);
    expect(log.items[0]?.actor).toBe("system");
    expect((await login()).statusCode).toBe(401);
  });

  it("validity must end in the future and after it starts", async () => {
    const id = await register("Bad Validity");
    await call("POST", `/people/${id}/identify`, "securityAdmin", { documentType: "idCard" });
    const past = new Date(f.clock.now() - 1000).toISOString();
    const res = await call("POST", `/people/${id}/enable`, "securityAdmin", { validUntil: past });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe("E_VALIDITY");
  });

  it("disabling a person ends their sessions' and tokens' power at once; enabling again restores it", async () => {
    const technician = f.accounts.technician;
    const disabled = await call("POST", `/people/${technician.person.id}/disable`, "securityAdmin");
    expect(disabled.json().status).toBe("disabled");
    expect(events.at(-1)).toMatchObject({ personId: technician.person.id, action: "disable" });
    const me = await f.app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      headers: f.as("technician"),
    });
    expect(me.statusCode).toBe(401);
    await f.proposeAndApprove({
      method: "POST",
      url: `/api/v1/people/${technician.person.id}/enable`,
      payload: {},
    });
    const again = await f.app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      headers: f.as("technician"),
    });
    expect(again.statusCode).toBe(200);
  });

  it("deleting a person keeps the record for the audit trail but closes their accounts", async () => {
    const auditor = f.accounts.auditor;
    const res = await call("DELETE", `/people/${auditor.person.id}`, "securityAdmin");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: "deleted",
      deletedBy: f.accounts.securityAdmin.person.id,
    });
    expect(f.app.repos.users.get(auditor.user.id)?.disabledAt).toBeDefined();
    const me = await f.app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      headers: f.as("auditor"),
    });
    expect(me.statusCode).toBe(401);
    const list = await call("GET", "/people", "securityAdmin");
    expect(list.json().items.map((p: { id: string }) => p.id)).not.toContain(auditor.person.id);
    const withDeleted = await call("GET", "/people?includeDeleted=true", "securityAdmin");
    expect(withDeleted.json().items.map((p: { id: string }) => p.id)).toContain(auditor.person.id);
    const enable = await call("POST", `/people/${auditor.person.id}/enable`, "securityAdmin", {});
    expect(enable.statusCode).toBe(409);
  });

  it("a bank's security admin manages the people of the CIT company it registered, not of others", async () => {
    const ok = await call("POST", "/people", "securityAdmin", { name: "Crew X", orgId: f.cit.id });
    expect(ok.statusCode).toBe(201);
    expect(ok.json().orgId).toBe(f.cit.id);
    const other = await call("POST", "/people", "securityAdmin", {
      name: "Crew Y",
      orgId: f.citB.id,
    });
    expect(other.statusCode).toBe(404);
  });

  it("accounts: the role must fit the organisation, and a dispatcher opens crew accounts only", async () => {
    const bankPerson = await register("Bank Person");
    const wrong = await call("POST", "/users", "securityAdmin", {
      personId: bankPerson,
      role: "citCrew",
      email: "x1@example.test",
    });
    expect(wrong.json().code).toBe("E_ROLE_ORG");
    const generated = await call("POST", "/users", "securityAdmin", {
      personId: bankPerson,
      role: "auditor",
      email: "x2@example.test",
    });
    expect(generated.statusCode).toBe(201);
    expect(generated.json().generatedPassword).toMatch(/^[A-Za-z0-9_-]{20}$/);
    const crewPerson = await register("Crew Person", "citDispatcher");
    const escalate = await call("POST", "/users", "citDispatcher", {
      personId: crewPerson,
      role: "citDispatcher",
      email: "x3@example.test",
    });
    expect(escalate.statusCode).toBe(403);
    const taken = await call("POST", "/users", "securityAdmin", {
      personId: bankPerson,
      role: "auditor",
      email: "X2@example.test",
    });
    expect(taken.json().code).toBe("E_EMAIL_TAKEN");
  });
});
