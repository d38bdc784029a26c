/** The API's own surface: OpenAPI document, errors as {code, message}, /healthz, /metrics, pagination. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toOpenApiPath } from "../../src/openapi.js";
import { createFixture, type Fixture } from "../fixtures.js";

describe("API surface", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await createFixture();
  });
  afterAll(async () => f?.close());

  it("/openapi.json lists every registered route with its method, parameters and body schema", async () => {
    const res = await f.app.inject({ method: "GET", url: "/openapi.json" });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as {
      openapi: string;
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    const routes = f.app.openapi.recorded().filter((r) => r.method !== "HEAD");
    expect(routes.length).toBeGreaterThan(25);
    for (const route of routes) {
      const operation = doc.paths[toOpenApiPath(route.url)]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.url}`).toBeDefined();
      for (const name of route.url.matchAll(/:([A-Za-z0-9_]+)/g)) {
        const params = (operation?.parameters ?? []) as Array<{ name: string; in: string }>;
        expect(
          params.some((p) => p.in === "path" && p.name === name[1]),
          `${route.url} ${name[1]}`,
        ).toBe(true);
      }
    }
    // the routes fastify knows are the routes the document names
    const printed = f.app.printRoutes({ commonPrefix: false });
    for (const path of [
      "/api/v1/people/:personId/identify",
      "/api/v1/contracts",
      "/healthz",
      "/metrics",
    ]) {
      expect(printed).toContain(path.split("/").at(-1));
      expect(doc.paths[toOpenApiPath(path)]).toBeDefined();
    }
    const login = doc.paths["/api/v1/auth/login"]?.post as {
      requestBody: { content: Record<string, { schema: { required: string[] } }> };
    };
    expect(login.requestBody.content["application/json"]?.schema.required).toEqual([
      "email",
      "password",
    ]);
  });

  it("a schema error answers 400 {code: E_SCHEMA, message naming the field}", async () => {
    const res = await f.app.inject({
      method: "POST",
      url: "/api/v1/branches",
      headers: f.as("securityAdmin"),
      payload: { name: "X", branchType: "castle", timeZone: "Europe/Berlin" },
    });
    expect(res.statusCode).toBe(400);
    expect(Object.keys(res.json()).sort()).toEqual(["code", "message"]);
    expect(res.json().code).toBe("E_SCHEMA");
    expect(res.json().message).toContain("branchType");
  });

  it("an unknown field is refused, not silently dropped", async () => {
    const res = await f.app.inject({
      method: "POST",
      url: "/api/v1/people",
      headers: f.as("securityAdmin"),
      payload: { name: "X", role: "securityAdmin" },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain("role is not a known field");
  });

  it("an unknown route answers 404 {code, message}", async () => {
    const res = await f.app.inject({ method: "GET", url: "/api/v1/nothing-here" });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe("E_NOT_FOUND");
  });

  it("/healthz reports the database and needs no login", async () => {
    const res = await f.app.inject({ method: "GET", url: "/healthz" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: "ok", database: true });
  });

  it("/metrics speaks Prometheus text format and counts requests by route", async () => {
    await f.app.inject({ method: "GET", url: "/api/v1/containers", headers: f.as("auditor") });
    const res = await f.app.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/plain; version=0.0.4");
    expect(res.body).toContain("# TYPE lockfleet_http_requests_total counter");
    expect(res.body).toMatch(
      /lockfleet_http_requests_total\{method="GET",route="\/api\/v1\/containers",status="200"\} \d+/,
    );
    expect(res.body).toMatch(/^lockfleet_admin_log_entries \d+$/m);
    // aggregate counts only: no tenant's ids
    expect(res.body).not.toContain(f.bank.id);
  });

  it("lists are paginated with limit and an opaque cursor", async () => {
    for (let i = 0; i < 5; i++) {
      await f.app.inject({
        method: "POST",
        url: "/api/v1/people",
        headers: f.as("securityAdmin"),
        payload: { name: `Page ${i}` },
      });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? "limit=2" : `limit=2&cursor=${cursor}`;
      const res = await f.app.inject({
        method: "GET",
        url: `/api/v1/people?${query}`,
        headers: f.as("securityAdmin"),
      });
      const page = res.json() as { items: Array<{ id: string }>; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((p) => p.id));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 50);
    const all = await f.app.inject({
      method: "GET",
      url: "/api/v1/people?limit=200",
      headers: f.as("securityAdmin"),
    });
    expect(seen).toEqual(all.json().items.map((p: { id: string }) => p.id));
    expect(new Set(seen).size).toBe(seen.length);
    expect(pages).toBeGreaterThanOrEqual(3);
    const bad = await f.app.inject({
      method: "GET",
      url: "/api/v1/people?cursor=zzz",
      headers: f.as("securityAdmin"),
    });
    expect(bad.json().code).toBe("E_BAD_CURSOR");
    const tooMany = await f.app.inject({
      method: "GET",
      url: "/api/v1/people?limit=1000",
      headers: f.as("securityAdmin"),
    });
    expect(tooMany.statusCode).toBe(400);
  });
});
