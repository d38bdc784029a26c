/**
 * Authorisation by role and scope on every route: the role matrix of core routes, 401 on every
 * API route without credentials, and cross-tenant reads and writes refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixture, FIXTURE_ROLES, type Fixture, type FixtureRole } from "../fixtures.js";

interface Case {
  name: string;
  method: "GET" | "POST" | "PATCH" | "DELETE";
  url: (f: Fixture) => string;
  payload?: (f: Fixture, n: number) => unknown;
  allowed: readonly FixtureRole[];
}

let counter = 0;
const ALL = FIXTURE_ROLES;
const BANK_READ = ["securityAdmin", "branchManager", "auditor", "technician"] as const;

const CASES: Case[] = [
  { name: "list orgs", method: "GET", url: () => "/api/v1/orgs", allowed: ALL },
  // CIT A holds a contract with bank A, so it sees the bank's name
  { name: "read bank A", method: "GET", url: (f) => `/api/v1/orgs/${f.bank.id}`, allowed: ALL },
  {
    name: "register a CIT company",
    method: "POST",
    url: () => "/api/v1/orgs",
    payload: (_f, n) => ({ kind: "cit", name: `CIT ${n}` }),
    allowed: ["securityAdmin"],
  },
  {
    name: "list regions",
    method: "GET",
    url: (f) => `/api/v1/orgs/${f.bank.id}/regions`,
    allowed: BANK_READ,
  },
  {
    name: "create region",
    method: "POST",
    url: (f) => `/api/v1/orgs/${f.bank.id}/regions`,
    payload: (_f, n) => ({ name: `Region ${n}` }),
    allowed: ["securityAdmin"],
  },
  { name: "list branches", method: "GET", url: () => "/api/v1/branches", allowed: ALL },
  {
    name: "read branch",
    method: "GET",
    url: (f) => `/api/v1/branches/${f.branch.id}`,
    allowed: ALL,
  },
  {
    name: "create branch",
    method: "POST",
    url: () => "/api/v1/branches",
    payload: (_f, n) => ({ name: `Branch ${n}`, branchType: "branch", timeZone: "Europe/Berlin" }),
    allowed: ["securityAdmin"],
  },
  {
    name: "change branch holidays",
    method: "PATCH",
    url: (f) => `/api/v1/branches/${f.branch.id}`,
    payload: () => ({ holidays: [{ from: "2026-01-01", to: "2026-01-01", yearlyRepeat: true }] }),
    allowed: ["securityAdmin", "branchManager"],
  },
  { name: "list containers", method: "GET", url: () => "/api/v1/containers", allowed: ALL },
  {
    name: "read contracted container",
    method: "GET",
    url: (f) => `/api/v1/containers/${f.container.id}`,
    allowed: ALL,
  },
  {
    name: "create container",
    method: "POST",
    url: () => "/api/v1/containers",
    payload: (f, n) => ({
      branchId: f.branch.id,
      name: `Safe ${n}`,
      type: "safe",
      grade: "IV",
      lockClass: "B",
    }),
    allowed: ["securityAdmin"],
  },
  {
    name: "rename container",
    method: "PATCH",
    url: (f) => `/api/v1/containers/${f.container.id}`,
    payload: (_f, n) => ({ name: `ATM ${n}` }),
    allowed: ["securityAdmin"],
  },
  {
    name: "list people",
    method: "GET",
    url: () => "/api/v1/people",
    allowed: ["securityAdmin", "branchManager", "auditor", "citDispatcher"],
  },
  {
    name: "register person",
    method: "POST",
    url: () => "/api/v1/people",
    payload: (_f, n) => ({ name: `Person ${n}` }),
    allowed: ["securityAdmin", "citDispatcher"],
  },
  {
    name: "list users",
    method: "GET",
    url: () => "/api/v1/users",
    allowed: ["securityAdmin", "auditor", "citDispatcher"],
  },
  {
    name: "list contracts",
    method: "GET",
    url: () => "/api/v1/contracts",
    allowed: ["securityAdmin", "branchManager", "auditor", "citDispatcher", "citCrew"],
  },
  {
    name: "read a contract",
    method: "GET",
    url: (f) => `/api/v1/contracts/${f.contract.id}`,
    allowed: ["securityAdmin", "branchManager", "auditor", "citDispatcher", "citCrew"],
  },
  {
    name: "create contract",
    method: "POST",
    url: () => "/api/v1/contracts",
    payload: (f, n) => ({
      citOrgId: f.cit.id,
      name: `Contract ${n}`,
      containerIds: [f.uncontractedContainer.id],
    }),
    allowed: ["securityAdmin"],
  },
  {
    name: "change contract windows",
    method: "PATCH",
    url: (f) => `/api/v1/contracts/${f.contract.id}`,
    payload: () => ({
      standingWindows: [{ startDay: 1, startTime: "07:00", endDay: 5, endTime: "19:00" }],
    }),
    allowed: ["securityAdmin"],
  },
  {
    name: "read admin log",
    method: "GET",
    url: () => "/api/v1/admin-log",
    allowed: ["securityAdmin", "auditor"],
  },
  {
    name: "verify admin log",
    method: "GET",
    url: () => "/api/v1/admin-log/verify",
    allowed: ["securityAdmin", "auditor"],
  },
];

describe("role matrix of the core routes", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await createFixture();
  });
  afterAll(async () => f?.close());

  for (const c of CASES) {
    for (const role of ALL) {
      const allowed = c.allowed.includes(role);
      it(`${role} ${allowed ? "may" : "may not"} ${c.name}`, async () => {
        counter += 1;
        const res = await f.app.inject({
          method: c.method,
          url: c.url(f),
          headers: f.as(role),
          ...(c.payload === undefined ? {} : { payload: c.payload(f, counter) as object }),
        });
        if (allowed) {
          expect(res.statusCode, res.body).toBeGreaterThanOrEqual(200);
          expect(res.statusCode, res.body).toBeLessThan(300);
        } else {
          expect(res.statusCode, res.body).toBe(403);
          expect(res.json().code).toBe("E_FORBIDDEN");
        }
      });
    }
  }
});

describe("no route of the API answers without credentials", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await createFixture();
  });
  afterAll(async () => f?.close());

  /** Routes meant for callers without an account: logging in, and a device enrolling itself. */
  const PUBLIC = new Set([
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/logout",
    "POST /api/v1/enrolment",
  ]);

  it("every /api/v1 route except login, logout and enrolment answers 401 E_UNAUTHENTICATED", async () => {
    const routes = f.app.openapi
      .recorded()
      .filter(
        (r) =>
          r.url.startsWith("/api/v1/") &&
          r.method !== "HEAD" &&
          !PUBLIC.has(`${r.method} ${r.url}`),
      );
    expect(routes.length).toBeGreaterThan(20);
    for (const route of routes) {
      const url = route.url.replace(/:([A-Za-z0-9_]+)/g, "x_0000000000000000");
      const res = await f.app.inject({
        method: route.method as "GET",
        url,
        payload: route.method === "GET" ? undefined : {},
      });
      expect(res.statusCode, `${route.method} ${route.url}: ${res.body}`).toBe(401);
      expect(res.json().code).toBe("E_UNAUTHENTICATED");
    }
  });
});

describe("nobody sees or changes anything outside their organisation or contract", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await createFixture();
  });
  afterAll(async () => f?.close());

  const get = (url: string, who: Parameters<Fixture["as"]>[0]) =>
    f.app.inject({ method: "GET", url, headers: f.as(who) });

  it("bank B's admin cannot read bank A's branch, container, contract or org (404, as if absent)", async () => {
    for (const url of [
      `/api/v1/branches/${f.branch.id}`,
      `/api/v1/containers/${f.container.id}`,
      `/api/v1/contracts/${f.contract.id}`,
      `/api/v1/orgs/${f.bank.id}`,
      `/api/v1/orgs/${f.bank.id}/regions`,
      `/api/v1/people/${f.accounts.citCrew.person.id}`,
      `/api/v1/people?orgId=${f.bank.id}`,
      `/api/v1/users?orgId=${f.bank.id}`,
    ]) {
      const res = await get(url, "bankBAdmin");
      expect(res.statusCode, url).toBe(404);
      expect(res.json().code).toBe("E_NOT_FOUND");
    }
  });

  it("bank B's lists hold nothing of bank A", async () => {
    for (const url of [
      "/api/v1/branches",
      "/api/v1/containers",
      "/api/v1/contracts",
      "/api/v1/people",
      "/api/v1/users",
      "/api/v1/orgs",
      "/api/v1/admin-log",
    ]) {
      const res = await get(url, "bankBAdmin");
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).not.toContain(f.bank.id);
    }
  });

  it("bank B's admin cannot change bank A's things", async () => {
    const attempts = [
      {
        method: "PATCH" as const,
        url: `/api/v1/branches/${f.branch.id}`,
        payload: { name: "pwned" },
      },
      {
        method: "PATCH" as const,
        url: `/api/v1/containers/${f.container.id}`,
        payload: { name: "pwned" },
      },
      {
        method: "PATCH" as const,
        url: `/api/v1/contracts/${f.contract.id}`,
        payload: { active: false },
      },
      { method: "PATCH" as const, url: `/api/v1/orgs/${f.bank.id}`, payload: { name: "pwned" } },
      { method: "PATCH" as const, url: `/api/v1/orgs/${f.cit.id}`, payload: { name: "pwned" } },
      {
        method: "POST" as const,
        url: `/api/v1/orgs/${f.bank.id}/regions`,
        payload: { name: "pwned" },
      },
      {
        method: "POST" as const,
        url: "/api/v1/containers",
        payload: { branchId: f.branch.id, name: "x", type: "safe", grade: "I", lockClass: "A" },
      },
      { method: "POST" as const, url: "/api/v1/people", payload: { name: "x", orgId: f.bank.id } },
      { method: "POST" as const, url: `/api/v1/people/${f.accounts.auditor.person.id}/disable` },
      { method: "DELETE" as const, url: `/api/v1/people/${f.accounts.auditor.person.id}` },
      { method: "POST" as const, url: `/api/v1/users/${f.accounts.auditor.user.id}/disable` },
      {
        method: "POST" as const,
        url: "/api/v1/users",
        payload: {
          personId: f.accounts.auditor.person.id,
          role: "securityAdmin",
          email: "evil@example.test",
          password: "long enough password",
        },
      },
      {
        method: "POST" as const,
        url: "/api/v1/contracts",
        payload: { citOrgId: f.cit.id, name: "x", containerIds: [] },
      },
      {
        method: "POST" as const,
        url: "/api/v1/contracts",
        payload: { citOrgId: f.citB.id, name: "x", containerIds: [f.container.id] },
      },
    ];
    for (const attempt of attempts) {
      const res = await f.app.inject({ ...attempt, headers: f.as("bankBAdmin") });
      expect(res.statusCode, `${attempt.method} ${attempt.url}`).toBe(404);
    }
    expect(f.app.repos.orgs.getBranch(f.branch.id)?.name).toBe("Hauptstelle");
    expect(f.app.repos.contracts.get(f.contract.id)?.active).toBe(true);
    expect(f.app.repos.people.get(f.accounts.auditor.person.id, Date.now())?.status).toBe(
      "enabled",
    );
  });

  it("a CIT crew sees only the containers under its contract", async () => {
    const list = await get("/api/v1/containers", "citCrew");
    expect(list.json().items.map((c: { id: string }) => c.id)).toEqual([f.container.id]);
    expect(
      (await get(`/api/v1/containers/${f.uncontractedContainer.id}`, "citCrew")).statusCode,
    ).toBe(404);
    expect((await get(`/api/v1/containers/${f.containerB.id}`, "citCrew")).statusCode).toBe(404);
    const branches = await get("/api/v1/branches", "citCrew");
    expect(branches.json().items.map((b: { id: string }) => b.id)).toEqual([f.branch.id]);
    expect((await get(`/api/v1/branches/${f.branchB.id}`, "citCrew")).statusCode).toBe(404);
  });

  it("a CIT company without a contract with bank A sees nothing of it", async () => {
    expect((await get(`/api/v1/containers/${f.container.id}`, "citBDispatcher")).statusCode).toBe(
      404,
    );
    expect((await get(`/api/v1/branches/${f.branch.id}`, "citBDispatcher")).statusCode).toBe(404);
    expect((await get(`/api/v1/contracts/${f.contract.id}`, "citBDispatcher")).statusCode).toBe(
      404,
    );
    expect((await get(`/api/v1/orgs/${f.bank.id}`, "citBDispatcher")).statusCode).toBe(404);
    expect((await get("/api/v1/containers", "citBDispatcher")).json().items).toEqual([]);
  });

  it("a CIT crew cannot approve anything: not identify, enable or create people, nor contracts", async () => {
    const target = f.app.repos.people.create({
      orgId: f.cit.id,
      name: "New crew",
      createdBy: "test",
      now: f.clock.now(),
    });
    for (const attempt of [
      {
        method: "POST" as const,
        url: `/api/v1/people/${target.id}/identify`,
        payload: { documentType: "idCard" },
      },
      { method: "POST" as const, url: `/api/v1/people/${target.id}/enable`, payload: {} },
      { method: "POST" as const, url: "/api/v1/people", payload: { name: "Ghost" } },
      {
        method: "POST" as const,
        url: "/api/v1/contracts",
        payload: { citOrgId: f.cit.id, name: "x", containerIds: [] },
      },
      {
        method: "PATCH" as const,
        url: `/api/v1/contracts/${f.contract.id}`,
        payload: { containerIds: [f.container.id, f.uncontractedContainer.id] },
      },
    ]) {
      const res = await f.app.inject({ ...attempt, headers: f.as("citCrew") });
      expect(res.statusCode, attempt.url).toBe(403);
    }
    expect(f.app.repos.people.get(target.id, f.clock.now())?.status).toBe("registered");
  });

  it("once the contract ends, the CIT crew no longer sees its containers", async () => {
    const end = await f.app.inject({
      method: "PATCH",
      url: `/api/v1/contracts/${f.contract.id}`,
      headers: f.as("securityAdmin"),
      payload: { active: false },
    });
    expect(end.statusCode).toBe(200);
    expect(end.json().terminatedAt).toBeDefined();
    expect((await get(`/api/v1/containers/${f.container.id}`, "citCrew")).statusCode).toBe(404);
    expect((await get("/api/v1/containers", "citCrew")).json().items).toEqual([]);
    // the CIT side still reads the (ended) contract itself
    expect((await get(`/api/v1/contracts/${f.contract.id}`, "citDispatcher")).json().active).toBe(
      false,
    );
  });
});
