/**
 * Who may write what: every write route of the OpenAPI document, tried by every role, must be
 * refused (403 E_FORBIDDEN) exactly for the roles the table in fleet/README.md leaves out —
 * auditor and technician read-only where the README says so. A new write route without a row
 * in the table fails here.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixture, FIXTURE_ROLES, type Fixture, type FixtureRole } from "../fixtures.js";

const WRITE_METHODS = new Set(["post", "put", "patch", "delete"]);
const SHORT: Record<FixtureRole, string> = {
  securityAdmin: "SA",
  branchManager: "BM",
  auditor: "AU",
  technician: "TE",
  citDispatcher: "CD",
  citCrew: "CC",
};

let f: Fixture;
beforeAll(async () => {
  f = await createFixture();
});
afterAll(async () => f?.close());

/** `| \`POST /api/v1/x\` | SA, BM |` rows of the README's table. */
function readmeTable(): Map<string, string> {
  const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");
  const rows = new Map<string, string>();
  for (const line of readme.split("\n")) {
    const match = /^\| `((?:GET|POST|PUT|PATCH|DELETE) \/[^`]+)` \| ([^|]+) \|/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) rows.set(match[1], match[2].trim());
  }
  return rows;
}

async function writeRoutes(): Promise<Array<{ method: string; path: string }>> {
  const doc = (await f.app.inject({ method: "GET", url: "/openapi.json" })).json() as {
    paths: Record<string, Record<string, unknown>>;
  };
  const routes: Array<{ method: string; path: string }> = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const method of Object.keys(operations)) {
      if (WRITE_METHODS.has(method)) routes.push({ method: method.toUpperCase(), path });
    }
  }
  // the codes of an offline window are handed out (and recorded) by GET as well
  routes.push({ method: "GET", path: "/api/v1/windows/{windowId}/codes" });
  // so is a PIN letter printed
  routes.push({ method: "GET", path: "/api/v1/pin-letters/{letterId}/print" });
  return routes;
}

const concrete = (path: string) => path.replace(/\{[^}]+\}/g, "zz_0000000000000000");

async function allowedRoles(method: string, path: string): Promise<string> {
  const url = concrete(path);
  const anonymous = await f.app.inject({ method: method as "POST", url, payload: {} });
  if (anonymous.statusCode !== 401) return "public";
  const allowed: string[] = [];
  for (const role of FIXTURE_ROLES) {
    const response = await f.app.inject({
      method: method as "POST",
      url,
      headers: f.asSession(role),
      ...(method === "GET" ? {} : { payload: {} }),
    });
    const refused = response.statusCode === 403 && response.json().code === "E_FORBIDDEN";
    if (!refused) allowed.push(SHORT[role]);
  }
  return allowed.length === 0 ? "nobody" : allowed.join(", ");
}

describe("the README's write-route table is what the routes enforce", () => {
  it("every write route, for every role", async () => {
    const table = readmeTable();
    const actual = new Map<string, string>();
    for (const { method, path } of await writeRoutes()) {
      if (path === "/api/v1/auth/logout") {
        actual.set(`${method} ${path}`, "public");
        continue;
      }
      actual.set(`${method} ${path}`, await allowedRoles(method, path));
    }
    if (process.env.PRINT_ROLE_TABLE === "1") {
      for (const [route, roles] of actual) process.stdout.write(`| \`${route}\` | ${roles} |\n`);
    }
    for (const [route, roles] of actual) expect(table.get(route), route).toBe(roles);
    for (const route of table.keys())
      expect(actual.has(route), `${route} is in the README only`).toBe(true);
  });

  it("auditor and technician write nothing but their own session, tokens and password (and the technician's provisioning)", async () => {
    const table = readmeTable();
    const own = /^(POST|DELETE) \/api\/v1\/auth\//;
    for (const [route, roles] of table) {
      if (own.test(route) || roles === "public") continue;
      expect(roles.split(", "), route).not.toContain("AU");
      if (!/\/devices\/\{deviceId\}\/commands$/.test(route)) {
        expect(roles.split(", "), route).not.toContain("TE");
      }
    }
  });
});
