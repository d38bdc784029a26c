/**
 * Refusals are answered and recorded: a caller reaching into another tenant is told "not
 * found" (ids of other tenants cannot be probed), and the fleet's hash-chained admin log keeps
 * the truth — who tried what, against which target — in the log of the tenant whose object it
 * was, so that bank's security team sees the attempt.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixture, type Fixture } from "../fixtures.js";

interface Refusal {
  org_id: string | null;
  actor: string;
  action: string;
  target: string;
  data: string;
}

describe("cross-tenant and role refusals are audited", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await createFixture({ startAt: Date.parse("2026-11-23T09:00:00.000Z") });
  });
  afterAll(async () => f?.close());

  function refusals(): Refusal[] {
    return f.app.db
      .prepare(
        "SELECT org_id, actor, action, target, data FROM admin_log WHERE action = 'access.refused' ORDER BY seq",
      )
      .all() as Refusal[];
  }

  it("bank B reading bank A's container gets 404 and bank A's admin log shows the attempt", async () => {
    const before = refusals().length;
    const res = await f.app.inject({
      method: "GET",
      url: `/api/v1/containers/${f.container.id}`,
      headers: f.as("bankBAdmin"),
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe("E_NOT_FOUND");
    const added = refusals().slice(before);
    expect(added).toHaveLength(1);
    expect(added[0]?.actor).toBe(f.accounts.bankBAdmin.user.id);
    expect(added[0]?.org_id).toBe(f.bank.id);
    expect(added[0]?.target).toBe("GET /api/v1/containers/:containerId");
    expect(JSON.parse(added[0]?.data ?? "{}")).toMatchObject({
      outOfScope: true,
      status: 404,
      actorOrgId: f.bankB.id,
    });
  });

  it("an id that exists nowhere is a plain 404, not recorded as a refusal", async () => {
    const before = refusals().length;
    const res = await f.app.inject({
      method: "GET",
      url: "/api/v1/containers/ctr_0000000000000000",
      headers: f.as("bankBAdmin"),
    });
    expect(res.statusCode).toBe(404);
    expect(refusals()).toHaveLength(before);
  });

  it("CIT company B requesting a window on bank A's container is refused and recorded", async () => {
    const before = refusals().length;
    const res = await f.app.inject({
      method: "POST",
      url: "/api/v1/windows",
      headers: f.as("citBDispatcher"),
      payload: {
        containerId: f.container.id,
        crew: [f.accounts.citCrew.person.id],
        purpose: "ATM refill",
        notBefore: "2026-11-24T09:00:00.000Z",
        notAfter: "2026-11-24T11:00:00.000Z",
      },
    });
    expect(res.statusCode).toBe(404);
    const added = refusals().slice(before);
    expect(added.map((entry) => entry.org_id)).toEqual([f.bank.id]);
    expect(added[0]?.target).toBe("POST /api/v1/windows");
  });

  it("a role without the right (403) is recorded with its role", async () => {
    const before = refusals().length;
    const res = await f.app.inject({
      method: "POST",
      url: "/api/v1/people",
      headers: f.as("auditor"),
      payload: { name: "Someone" },
    });
    expect(res.statusCode).toBe(403);
    const added = refusals().slice(before);
    expect(added).toHaveLength(1);
    expect(added[0]?.org_id).toBe(f.bank.id);
    expect(JSON.parse(added[0]?.data ?? "{}")).toMatchObject({ role: "auditor", status: 403 });
  });

  it("the admin log still verifies after the refusals were appended", async () => {
    const res = await f.app.inject({
      method: "GET",
      url: "/api/v1/admin-log/verify",
      headers: f.as("securityAdmin"),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true });
  });
});
