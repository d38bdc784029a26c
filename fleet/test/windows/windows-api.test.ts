/**
 * Access-window rules over the HTTP API (app.inject): standing windows in the branch's time
 * zone, bank approval by two distinct people, who may never approve, tenant scope, revocation.
 */
import { DEFAULT_LOCK_POLICY } from "@lockfleet/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFixture, type Fixture } from "../fixtures.js";

// Monday 23 November 2026, 07:00 UTC (08:00 in Berlin).
const MONDAY = Date.parse("2026-11-23T07:00:00.000Z");
// Tuesday 10:00–12:00 Berlin: inside the contract's standing window (Mon 06:00 – Fri 20:00).
const INSIDE = { notBefore: "2026-11-24T09:00:00.000Z", notAfter: "2026-11-24T11:00:00.000Z" };
// Saturday 10:00–12:00 Berlin: outside it.
const OUTSIDE = { notBefore: "2026-11-28T09:00:00.000Z", notAfter: "2026-11-28T11:00:00.000Z" };

let f: Fixture;

beforeEach(async () => {
  f = await createFixture({ startAt: MONDAY });
});
afterEach(async () => {
  await f.close();
});

function requestWindow(
  times: { notBefore: string; notAfter: string },
  options: { as?: "citDispatcher" | "citBDispatcher" | "citCrew"; containerId?: string } = {},
) {
  return f.app.inject({
    method: "POST",
    url: "/api/v1/windows",
    headers: f.as(options.as ?? "citDispatcher"),
    payload: {
      containerId: options.containerId ?? f.container.id,
      crew: [f.accounts.citCrew.person.id],
      purpose: "ATM refill",
      ...times,
    },
  });
}

function approve(windowId: string, who: Parameters<Fixture["as"]>[0]) {
  return f.app.inject({
    method: "POST",
    url: `/api/v1/windows/${windowId}/approve`,
    headers: f.as(who),
  });
}

function adminLogActions(target: string): string[] {
  return f.app.adminLog
    .list({}, { limit: 200 })
    .items.filter((entry) => entry.target === target)
    .map((entry) => entry.action);
}

describe("standing route windows", () => {
  it("a request inside the contract's standing window is approved automatically", async () => {
    const response = await requestWindow(INSIDE);
    expect(response.statusCode).toBe(201);
    const window = response.json();
    expect(window.status).toBe("approved");
    expect(window.autoApproved).toBe(true);
    expect(window.grantId).toMatch(/^grt_/);
    expect(adminLogActions(window.id)).toEqual(["window.request", "window.autoApprove"]);
  });

  it("a request outside the standing window waits for the bank", async () => {
    const response = await requestWindow(OUTSIDE);
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ status: "requested", autoApproved: false });
    // The approving bank officer sees who is coming, by name.
    const seen = await f.app.inject({
      method: "GET",
      url: `/api/v1/windows/${response.json().id}`,
      headers: f.as("securityAdmin"),
    });
    expect(seen.json()).toMatchObject({
      crew: [f.accounts.citCrew.person.id],
      crewNames: [f.accounts.citCrew.person.name],
    });
  });

  it("a request reaching past the end of the standing window is not automatic", async () => {
    // Friday 19:00–21:00 Berlin: starts inside, ends after Friday 20:00.
    const response = await requestWindow({
      notBefore: "2026-11-27T18:00:00.000Z",
      notAfter: "2026-11-27T20:00:00.000Z",
    });
    expect(response.json().status).toBe("requested");
  });

  it("the standing window is read in the branch's time zone, not in UTC", async () => {
    // Monday 05:30–06:30 UTC is 06:30–07:30 in Berlin: inside, although 05:30 UTC is before 06:00.
    f.clock.set(Date.parse("2026-11-23T05:00:00.000Z"));
    const response = await requestWindow({
      notBefore: "2026-11-23T05:30:00.000Z",
      notAfter: "2026-11-23T06:30:00.000Z",
    });
    expect(response.json().status).toBe("approved");
  });
});

describe("bank approval", () => {
  it("dual-control container: two distinct approvers approve the window", async () => {
    const window = (await requestWindow(OUTSIDE)).json();
    expect(window.approvalsRequired).toBe(2);
    const first = await approve(window.id, "securityAdmin");
    expect(first.statusCode).toBe(200);
    expect(first.json().status).toBe("requested");
    const second = await approve(window.id, "branchManager");
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({ status: "approved", autoApproved: false });
    expect(second.json().approvedBy).toEqual([
      f.accounts.securityAdmin.person.id,
      f.accounts.branchManager.person.id,
    ]);
  });

  it("the same approver twice does not count", async () => {
    const window = (await requestWindow(OUTSIDE)).json();
    expect((await approve(window.id, "securityAdmin")).statusCode).toBe(200);
    const again = await approve(window.id, "securityAdmin");
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe("E_SAME_APPROVER");
    const stored = await f.app.inject({
      method: "GET",
      url: `/api/v1/windows/${window.id}`,
      headers: f.as("securityAdmin"),
    });
    expect(stored.json()).toMatchObject({
      status: "requested",
      approvedBy: [f.accounts.securityAdmin.person.id],
    });
  });

  it("single-control container: one approver suffices", async () => {
    const single = f.app.repos.orgs.createContainer({
      orgId: f.bank.id,
      branchId: f.branch.id,
      name: "Deposit box",
      type: "deposit",
      grade: "II",
      lockClass: "B",
      policy: { ...DEFAULT_LOCK_POLICY, dualControl: "single" },
    });
    f.app.repos.contracts.update(
      f.contract.id,
      { containerIds: [f.container.id, single.id] },
      f.clock.now(),
    );
    const window = (await requestWindow(OUTSIDE, { containerId: single.id })).json();
    expect(window.approvalsRequired).toBe(1);
    const approved = await approve(window.id, "branchManager");
    expect(approved.json().status).toBe("approved");
  });

  it("a CIT crew member approving is refused with 403 and audited", async () => {
    const window = (await requestWindow(OUTSIDE)).json();
    const response = await approve(window.id, "citCrew");
    expect(response.statusCode).toBe(403);
    expect(response.json().code).toBe("E_FORBIDDEN");
    expect(adminLogActions(window.id)).toContain("window.approve.refused");
    const refused = f.app.adminLog
      .list({ action: "window.approve.refused" }, { limit: 10 })
      .items.find((entry) => entry.target === window.id);
    expect(refused?.actor).toBe(f.accounts.citCrew.person.id);
    expect((await approve(window.id, "securityAdmin")).json().approvedBy).toHaveLength(1);
  });

  it("the dispatcher who asked cannot approve their own request", async () => {
    const window = (await requestWindow(OUTSIDE)).json();
    const response = await approve(window.id, "citDispatcher");
    expect(response.statusCode).toBe(403);
    expect(adminLogActions(window.id)).toContain("window.approve.refused");
  });

  it("an auditor (read-only) cannot approve", async () => {
    const window = (await requestWindow(OUTSIDE)).json();
    expect((await approve(window.id, "auditor")).statusCode).toBe(403);
  });

  it("a window cannot be approved after its end", async () => {
    const window = (await requestWindow(OUTSIDE)).json();
    f.clock.set(Date.parse(OUTSIDE.notAfter));
    const response = await approve(window.id, "securityAdmin");
    expect(response.statusCode).toBe(409);
    expect(response.json().code).toBe("E_WINDOW_EXPIRED");
  });

  it("approval is refused once the contract has ended", async () => {
    const window = (await requestWindow(OUTSIDE)).json();
    f.app.repos.contracts.update(f.contract.id, { active: false }, f.clock.now());
    const response = await approve(window.id, "securityAdmin");
    expect(response.statusCode).toBe(409);
    expect(response.json().code).toBe("E_NO_CONTRACT");
  });

  it("rejection ends the request and tells the CIT company", async () => {
    const window = (await requestWindow(OUTSIDE)).json();
    const rejected = await f.app.inject({
      method: "POST",
      url: `/api/v1/windows/${window.id}/reject`,
      headers: f.as("securityAdmin"),
      payload: { reason: "no cash run on Saturdays" },
    });
    expect(rejected.json().status).toBe("rejected");
    expect((await approve(window.id, "branchManager")).statusCode).toBe(409);
    const notes = await f.app.inject({
      method: "GET",
      url: "/api/v1/windows/notifications",
      headers: f.as("citDispatcher"),
    });
    expect(notes.json().items.map((n: { kind: string }) => n.kind)).toEqual(["window.rejected"]);
  });
});

describe("tenant scope", () => {
  it("a dispatcher of another CIT company cannot request on this bank's container", async () => {
    const response = await requestWindow(INSIDE, { as: "citBDispatcher" });
    expect(response.statusCode).toBe(404);
  });

  it("a container outside every contract cannot be requested", async () => {
    const response = await requestWindow(INSIDE, { containerId: f.uncontractedContainer.id });
    expect(response.statusCode).toBe(404);
  });

  it("only CIT dispatchers request windows (crew members do not)", async () => {
    expect((await requestWindow(INSIDE, { as: "citCrew" })).statusCode).toBe(403);
  });

  it("another bank's officer can neither see nor approve the window", async () => {
    const window = (await requestWindow(OUTSIDE)).json();
    const read = await f.app.inject({
      method: "GET",
      url: `/api/v1/windows/${window.id}`,
      headers: f.as("bankBAdmin"),
    });
    expect(read.statusCode).toBe(404);
    expect((await approve(window.id, "bankBAdmin")).statusCode).toBe(404);
    const list = await f.app.inject({
      method: "GET",
      url: "/api/v1/windows",
      headers: f.as("citBDispatcher"),
    });
    expect(list.json().items).toEqual([]);
  });

  it("a crew of another company's people is refused", async () => {
    const response = await f.app.inject({
      method: "POST",
      url: "/api/v1/windows",
      headers: f.as("citDispatcher"),
      payload: {
        containerId: f.container.id,
        crew: [f.accounts.citBDispatcher.person.id],
        purpose: "ATM refill",
        ...INSIDE,
      },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe("E_CREW");
  });
});

describe("revocation and expiry", () => {
  it("the bank revokes an approved window and the CIT company is told", async () => {
    const window = (await requestWindow(INSIDE)).json();
    const revoked = await f.app.inject({
      method: "POST",
      url: `/api/v1/windows/${window.id}/revoke`,
      headers: f.as("securityAdmin"),
      payload: { reason: "branch closed" },
    });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toMatchObject({ status: "revoked", revokeReason: "branch closed" });
    const notes = await f.app.inject({
      method: "GET",
      url: "/api/v1/windows/notifications",
      headers: f.as("citDispatcher"),
    });
    expect(notes.json().items).toMatchObject([{ kind: "window.revoked", windowId: window.id }]);
    const otherTenant = await f.app.inject({
      method: "GET",
      url: "/api/v1/windows/notifications",
      headers: f.as("citBDispatcher"),
    });
    expect(otherTenant.json().items).toEqual([]);
    expect(adminLogActions(window.id)).toContain("window.revoke");
  });

  it("the CIT company cannot revoke (only the bank)", async () => {
    const window = (await requestWindow(INSIDE)).json();
    const response = await f.app.inject({
      method: "POST",
      url: `/api/v1/windows/${window.id}/revoke`,
      headers: f.as("citDispatcher"),
    });
    expect(response.statusCode).toBe(403);
    expect(adminLogActions(window.id)).toContain("window.revoke.refused");
  });

  it("a window whose end has passed expires at the periodic check", async () => {
    const window = (await requestWindow(OUTSIDE)).json();
    f.clock.set(Date.parse(OUTSIDE.notAfter) + 1);
    await f.app.windowsSweep();
    const read = await f.app.inject({
      method: "GET",
      url: `/api/v1/windows/${window.id}`,
      headers: f.as("citDispatcher"),
    });
    expect(read.json().status).toBe("expired");
  });
});
