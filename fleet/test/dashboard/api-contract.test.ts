/**
 * The dashboard talks to the API with fixed paths and queries; the API refuses unknown query
 * fields. Every call the page makes, for the roles that make it, must be accepted.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardDir } from "../../src/routes/dashboard.js";
import { insertDevice } from "../alarms/fixtures.js";
import { createFixture, type Fixture } from "../fixtures.js";

let f: Fixture;
const LOCK = "lock-aaaaaaaaaa01";
beforeAll(async () => {
  f = await createFixture();
  insertDevice(f.app.db, { deviceId: LOCK, orgId: f.bank.id, containerId: f.container.id });
});
afterAll(async () => {
  await f?.close();
});

const week = () => new Date(f.clock.now() - 7 * 24 * 3600_000).toISOString();

describe("the API calls the dashboard makes", () => {
  it("are all accepted for the bank's security admin", async () => {
    const person = f.accounts.securityAdmin.person.id;
    const paths = [
      "/auth/me",
      "/containers?limit=200",
      "/branches?limit=200",
      "/devices",
      "/alarms?status=open&limit=200",
      `/alarms?status=acknowledged&from=${week()}&limit=200`,
      "/windows?status=requested&limit=200",
      "/people?limit=200",
      `/rights?personId=${person}&includeRemoved=true`,
      `/devices/${LOCK}/audit?afterSeq=0&limit=500`,
      "/admin-log?limit=200",
      "/reports",
      "/windows?limit=200",
      "/policy-changes",
      `/devices/${LOCK}/clock-corrections`,
      "/proposals?status=pending",
      `/pin-letters?personId=${person}`,
    ];
    for (const path of paths) {
      const response = await f.app.inject({
        method: "GET",
        url: `/api/v1${path}`,
        headers: f.asSession("securityAdmin"),
      });
      expect(response.statusCode, `${path}: ${response.body}`).toBe(200);
    }
  });

  it("are all accepted for a CIT dispatcher", async () => {
    const paths = [
      "/auth/me",
      "/containers?limit=200",
      "/branches?limit=200",
      "/devices",
      "/alarms?status=open&limit=200",
      "/contracts?limit=200",
      "/windows?limit=200",
      "/windows/notifications?limit=200",
      "/people?limit=200",
    ];
    for (const path of paths) {
      const response = await f.app.inject({
        method: "GET",
        url: `/api/v1${path}`,
        headers: f.asSession("citDispatcher"),
      });
      expect(response.statusCode, `${path}: ${response.body}`).toBe(200);
    }
  });

  it("the page calls no API path missing from the lists above", () => {
    const source = ["app.js", "api.js"]
      .map((file) => readFileSync(join(dashboardDir(), file), "utf8"))
      .join("\n");
    const literal = [...source.matchAll(/(?:api|allPages)\(\s*[`"](\/[a-z-]+)/g)].map((m) => m[1]);
    const known = [
      "/auth",
      "/containers",
      "/branches",
      "/devices",
      "/alarms",
      "/windows",
      "/people",
      "/rights",
      "/admin-log",
      "/reports",
      "/contracts",
      "/policy-changes",
      "/enrolment-tokens",
      "/clock-corrections",
      "/proposals",
      "/pin-letters",
    ];
    expect(literal.filter((path) => !known.some((k) => path?.startsWith(k)))).toEqual([]);
  });
});
