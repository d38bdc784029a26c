/**
 * Fuzzing the HTTP API: every route that takes a body, called with arbitrary JSON, arbitrary
 * text or a near-valid body, by an officer and by nobody, answers with a status below 500 and,
 * for a refusal, the `{code: "E_…", message}` body — never an exception or a stack.
 */

import { DEFAULT_LOCK_POLICY } from "@lockfleet/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixture, type Fixture } from "../fixtures.js";

interface Route {
  method: string;
  url: string;
  body: JsonSchema | undefined;
}

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema | JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  const?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
  pattern?: string;
}

const anyJson = fc.jsonValue({ maxDepth: 3 });

describe("fuzz: API bodies are refused with a code, never a crash", () => {
  let f: Fixture;
  let routes: Route[];
  let ids: string[];
  /** Ids of existing things by path parameter name, so calls get past "not found". */
  const byParam = new Map<string, string[]>();

  beforeAll(async () => {
    f = await createFixture();
    routes = f.app.openapi
      .recorded()
      .filter((route) => ["POST", "PUT", "PATCH", "DELETE"].includes(route.method))
      .filter((route) => route.url.startsWith("/api/v1/"))
      // Ending the fuzzing officer's own session would turn every later call into a 401.
      .filter((route) => !/\/auth\/logout$|\/auth\/tokens\/:tokenId$/.test(route.url))
      .map((route) => ({
        method: route.method,
        url: route.url,
        body: route.schema.body as JsonSchema | undefined,
      }));
    ids = [
      f.container.id,
      f.uncontractedContainer.id,
      f.branch.id,
      f.bank.id,
      f.cit.id,
      f.accounts.citCrew.person.id,
      f.accounts.securityAdmin.user.id,
      "x",
      "__proto__",
      "%00",
    ];
    const admin = { ...f.as("securityAdmin"), "content-type": "application/json" };
    const made = async (url: string, headers: Record<string, string>, body: unknown) => {
      const res = await f.app.inject({
        method: "POST",
        url,
        headers,
        payload: JSON.stringify(body),
      });
      return res.statusCode < 300 ? (res.json() as Record<string, unknown>) : undefined;
    };
    const person = await made("/api/v1/people", admin, { name: "Fuzz Person" });
    const right = person
      ? await made("/api/v1/rights", admin, {
          personId: person.id,
          containerIds: [f.container.id],
          role: "user",
        })
      : undefined;
    const change = await made("/api/v1/policy-changes", admin, {
      containerId: f.container.id,
      kind: "policy",
      policy: { ...DEFAULT_LOCK_POLICY, timeDelayMin: 1 },
      reason: "fuzzing a pending weakening change",
    });
    const start = Math.ceil(f.clock.nowMs / 3_600_000) * 3_600_000 + 86_400_000;
    const window = await made(
      "/api/v1/windows",
      { ...f.as("citDispatcher"), "content-type": "application/json" },
      {
        containerId: f.container.id,
        crew: [f.accounts.citCrew.person.id],
        notBefore: new Date(start).toISOString(),
        notAfter: new Date(start + 3_600_000).toISOString(),
        purpose: "fuzz",
      },
    );
    const add = (param: string, ...values: unknown[]) => {
      const found = values.filter((value): value is string => typeof value === "string");
      byParam.set(param, [...(byParam.get(param) ?? []), ...found]);
      ids.push(...found);
    };
    add("containerId", f.container.id, f.uncontractedContainer.id, f.containerB.id);
    add("branchId", f.branch.id, f.branchB.id);
    add("orgId", f.bank.id, f.cit.id, f.bankB.id);
    add("contractId", f.contract.id);
    add("personId", f.accounts.citCrew.person.id, person?.id);
    add("userId", f.accounts.citCrew.user.id, f.accounts.auditor.user.id);
    add("rightId", right?.id);
    add("changeId", change?.id);
    add("windowId", window?.id);
  });
  afterAll(async () => f?.close());

  /** Mostly an existing id of the kind the parameter names, now and then any other. */
  function urlOf(route: Route, pick: number): string {
    let n = pick;
    return route.url.replace(/:([A-Za-z0-9_]+)/g, (_, param: string) => {
      const own = byParam.get(param) ?? [];
      const pool = own.length > 0 && n % 5 !== 0 ? own : ids;
      const id = pool[n % pool.length] as string;
      n = Math.floor(n / 7) + 1;
      return encodeURIComponent(id);
    });
  }

  function expectCodedAnswer(res: { statusCode: number; body: string }, what: string): void {
    expect(res.statusCode, `${what} → ${res.statusCode} ${res.body.slice(0, 300)}`).toBeLessThan(
      500,
    );
    if (res.statusCode >= 400) {
      const body = JSON.parse(res.body) as { code?: unknown; message?: unknown };
      expect(body.code, `${what} → ${res.body.slice(0, 300)}`).toMatch(/^E_[A-Z0-9_]+$/);
      expect(typeof body.message).toBe("string");
    }
  }

  /** A body close to what a route expects: known field names with values of any type. */
  const nearValid = fc.dictionary(
    fc.constantFrom(
      "name",
      "email",
      "password",
      "role",
      "personId",
      "containerId",
      "containerIds",
      "crew",
      "notBefore",
      "notAfter",
      "purpose",
      "reason",
      "comment",
      "seal",
      "documentType",
      "documentNumber",
      "validFrom",
      "validUntil",
      "timeZone",
      "policy",
      "kind",
      "type",
      "body",
      "ttlMinutes",
      "standingWindows",
      "impact",
      "claim",
      "proof",
    ),
    fc.oneof(
      anyJson,
      fc.constantFrom("2026-11-23T08:00:00Z", "2026-02-30T08:00:00Z", "Europe/Berlin", "idCard"),
      fc.integer({ min: -1, max: 100_000 }),
    ),
    { maxKeys: 6 },
  );

  const INSTANTS = ["2026-11-23T08:00:00.000Z", "2026-11-23T10:00:00Z", "2030-01-01T00:00:00Z"];

  /** Values of the shape a schema asks for, with the fixture's ids where an id is asked for. */
  function shaped(schema: JsonSchema | undefined, name = "", depth = 0): fc.Arbitrary<unknown> {
    if (schema === undefined || depth > 5) return anyJson;
    if (schema.const !== undefined) return fc.constant(schema.const);
    if (schema.enum !== undefined) return fc.constantFrom(...schema.enum);
    const members = schema.anyOf ?? schema.oneOf;
    if (members !== undefined && members.length > 0)
      return fc.oneof(...members.map((member) => shaped(member, name, depth + 1)));
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    switch (type) {
      case "object": {
        const properties = schema.properties ?? {};
        const required = new Set(schema.required ?? []);
        const record: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [key, property] of Object.entries(properties))
          record[key] = shaped(property, key, depth + 1);
        return fc.record(record, {
          requiredKeys: Object.keys(properties).filter((key) => required.has(key)),
        });
      }
      case "array": {
        const item = Array.isArray(schema.items) ? schema.items[0] : schema.items;
        return fc.array(shaped(item, name, depth + 1), {
          minLength: schema.minItems ?? 0,
          maxLength: Math.min(schema.maxItems ?? 3, 3),
        });
      }
      case "integer":
        return fc.integer({ min: schema.minimum ?? -10, max: schema.maximum ?? 100_000 });
      case "number":
        return fc.double({ min: schema.minimum ?? -10, max: schema.maximum ?? 1e6, noNaN: true });
      case "boolean":
        return fc.boolean();
      case "null":
        return fc.constant(null);
      case "string":
        if (schema.format === "date-time" || /At$|^valid|^not|^from$|^to$/.test(name))
          return fc.constantFrom(...INSTANTS);
        if (/Ids?$|^crew$/.test(name)) return fc.constantFrom(...ids);
        if (/email/i.test(name)) return fc.constantFrom("new@bank.example", "x@y");
        return fc.oneof(
          fc.string({ maxLength: 12 }),
          fc.constantFrom("Europe/Berlin", "12:00", "1"),
        );
      default:
        return anyJson;
    }
  }

  it("bodies of the shape each route asks for, as a security admin", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.nat(),
        fc.nat().chain((which) => {
          const route = routes[which % routes.length] as Route;
          return fc.tuple(fc.constant(route), shaped(route.body));
        }),
        async (_, pick, [route, body]) => {
          const url = urlOf(route, pick);
          const res = await f.app.inject({
            method: route.method as "POST",
            url,
            headers: { ...f.as("securityAdmin"), "content-type": "application/json" },
            payload: JSON.stringify(body ?? {}),
          });
          expectCodedAnswer(res, `${route.method} ${url} ${JSON.stringify(body).slice(0, 200)}`);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("arbitrary and near-valid JSON bodies on every route, as an officer", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.nat(),
        fc.oneof(anyJson, nearValid),
        fc.constantFrom(
          "securityAdmin",
          "branchManager",
          "citDispatcher",
          "citCrew",
        ) as fc.Arbitrary<"securityAdmin" | "branchManager" | "citDispatcher" | "citCrew">,
        async (which, pick, body, role) => {
          const route = routes[which % routes.length] as Route;
          const url = urlOf(route, pick);
          const res = await f.app.inject({
            method: route.method as "POST",
            url,
            headers: { ...f.as(role), "content-type": "application/json" },
            payload: JSON.stringify(body),
          });
          expectCodedAnswer(res, `${route.method} ${url} as ${role}`);
        },
      ),
      { numRuns: 250 },
    );
  });

  it("text that is not JSON, or not UTF-8, on every route", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.constantFrom('{"a":1,"a":2}', "{", "[]", "null", '"x"', "1e999"),
          fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
        ),
        async (which, payload) => {
          const route = routes[which % routes.length] as Route;
          const url = urlOf(route, which);
          const res = await f.app.inject({
            method: route.method as "POST",
            url,
            headers: { ...f.as("securityAdmin"), "content-type": "application/json" },
            payload,
          });
          expectCodedAnswer(res, `${route.method} ${url} with ${String(payload).slice(0, 40)}`);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("without credentials every route but login, logout and enrolment answers 401 with a code", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.oneof(anyJson, nearValid), async (which, body) => {
        const route = routes[which % routes.length] as Route;
        const url = urlOf(route, which);
        const res = await f.app.inject({
          method: route.method as "POST",
          url,
          headers: { "content-type": "application/json" },
          payload: JSON.stringify(body),
        });
        expectCodedAnswer(res, `${route.method} ${url} anonymous`);
        if (!/\/auth\/(login|logout)$|\/enrolment$/.test(route.url)) {
          expect(res.statusCode).toBe(401);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("a lone surrogate in a body is refused with a code, never a 500", async () => {
    const calls = routes
      .filter((candidate) => candidate.method !== "DELETE")
      .flatMap((route) => [1, 2, 3, 6].map((pick) => ({ route, url: urlOf(route, pick) })));
    const payloads = ["name", "reason", "comment", "purpose"].map(
      (field) => `{"${field}":"\\ud800 x"}`,
    );
    for (const { route, url } of calls) {
      for (const payload of payloads) {
        const res = await f.app.inject({
          method: route.method as "POST",
          url,
          headers: { ...f.as("securityAdmin"), "content-type": "application/json" },
          payload,
        });
        expectCodedAnswer(res, `${route.method} ${url} with ${payload}`);
      }
    }
  });
});
