import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertDevice } from "../alarms/fixtures.js";
import { createFixture, type Fixture } from "../fixtures.js";
import { insertAudit } from "./fixtures.js";

let f: Fixture;
const LOCK_A = "lock-aaaaaaaaaa01";
const LOCK_B = "lock-bbbbbbbbbb01";
let from: string;
let to: string;

beforeAll(async () => {
  f = await createFixture();
  insertDevice(f.app.db, { deviceId: LOCK_A, orgId: f.bank.id, containerId: f.container.id });
  insertDevice(f.app.db, { deviceId: LOCK_B, orgId: f.bankB.id, containerId: f.containerB.id });
  const now = f.clock.now();
  const at = (minutes: number) => new Date(now - minutes * 60_000).toISOString();
  const alice = f.accounts.securityAdmin.person.id;
  insertAudit(f.app.db, LOCK_A, at(90), "cycle.confirmed", alice, {
    openingNumber: 1,
    persons: [alice],
  });
  insertAudit(f.app.db, LOCK_B, at(80), "cycle.confirmed", "per_bankb", {
    openingNumber: 1,
    persons: ["per_bankb"],
  });
  from = new Date(now - 24 * 3600_000).toISOString();
  to = new Date(now + 60_000).toISOString();
});
afterAll(async () => {
  await f?.close();
});

const url = (kind: string, query: Record<string, string> = {}) =>
  `/api/v1/reports/${kind}?${new URLSearchParams({ from, to, ...query })}`;

describe("GET /api/v1/reports/:kind", () => {
  it("gives the bank's openings as JSON with the bank's lock only", async () => {
    const response = await f.app.inject({
      method: "GET",
      url: url("openings"),
      headers: f.as("auditor"),
    });
    expect(response.statusCode).toBe(200);
    const report = response.json();
    expect(report).toMatchObject({
      kind: "openings",
      orgId: f.bank.id,
      title: "Openings per container and person",
    });
    expect(report.table.rows.map((r: { lock: string }) => r.lock)).toEqual([LOCK_A]);
  });

  it("downloads CSV as an attachment with RFC 4180 line endings", async () => {
    const response = await f.app.inject({
      method: "GET",
      url: url("openings", { format: "csv" }),
      headers: f.as("securityAdmin"),
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/csv/);
    expect(response.headers["content-disposition"]).toMatch(
      /^attachment; filename="openings_\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    expect(response.body.split("\r\n")[0]).toBe(
      "Lock time,Container,Lock,Opening no.,Person id,Person",
    );
    expect(response.body).toContain(LOCK_A);
    expect(response.body).not.toContain(LOCK_B);
  });

  it("downloads a PDF", async () => {
    const response = await f.app.inject({
      method: "GET",
      url: url("alarms", { format: "pdf", containerId: f.container.id }),
      headers: f.as("branchManager"),
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("application/pdf");
    expect(response.rawPayload.subarray(0, 5).toString("latin1")).toBe("%PDF-");
  });

  it("each download is written to the admin log", async () => {
    const before = f.app.db
      .prepare("SELECT count(*) FROM admin_log WHERE action = 'report.generate'")
      .pluck()
      .get() as number;
    await f.app.inject({ method: "GET", url: url("rights"), headers: f.as("auditor") });
    const after = f.app.db
      .prepare("SELECT count(*) FROM admin_log WHERE action = 'report.generate'")
      .pluck()
      .get() as number;
    expect(after).toBe(before + 1);
  });

  it("another bank asking for this bank's container is refused as if it did not exist", async () => {
    const response = await f.app.inject({
      method: "GET",
      url: url("openings", { containerId: f.container.id }),
      headers: f.as("bankBAdmin"),
    });
    expect(response.statusCode).toBe(404);
    expect(response.json().code).toBe("E_NOT_FOUND");
    const own = await f.app.inject({
      method: "GET",
      url: url("openings"),
      headers: f.as("bankBAdmin"),
    });
    expect(own.json().table.rows.map((r: { lock: string }) => r.lock)).toEqual([LOCK_B]);
  });

  it("a person of another bank cannot be reported on", async () => {
    const response = await f.app.inject({
      method: "GET",
      url: url("openings", { personId: f.accounts.securityAdmin.person.id }),
      headers: f.as("bankBAdmin"),
    });
    expect(response.statusCode).toBe(404);
  });

  it("CIT roles, technicians and anonymous callers get no reports", async () => {
    for (const who of ["citDispatcher", "citCrew", "technician"] as const) {
      const response = await f.app.inject({
        method: "GET",
        url: url("openings"),
        headers: f.as(who),
      });
      expect(response.statusCode, who).toBe(403);
    }
    expect((await f.app.inject({ method: "GET", url: url("openings") })).statusCode).toBe(401);
  });

  it("refuses an unknown report and a bad period", async () => {
    const unknown = await f.app.inject({
      method: "GET",
      url: url("salaries"),
      headers: f.as("auditor"),
    });
    expect(unknown.statusCode).toBe(400);
    const inverted = await f.app.inject({
      method: "GET",
      url: `/api/v1/reports/openings?from=${to}&to=${from}`,
      headers: f.as("auditor"),
    });
    expect(inverted.json().code).toBe("E_REPORT_PERIOD");
  });
});
