/**
 * Reports as the bank reads them: CSV and PDF times in the bank's time zone (or the one asked
 * for), to the second without milliseconds, German titles and columns on request; JSON keeps
 * UTC instants for programs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localiseReport, localTime } from "../../src/reports/localise.js";
import type { Report } from "../../src/reports/report.js";
import { insertDevice } from "../alarms/fixtures.js";
import { createFixture, type Fixture } from "../fixtures.js";
import { insertAudit } from "./fixtures.js";

let f: Fixture;
const LOCK = "lock-aaaaaaaaaa02";
const OPENED = "2026-12-01T23:30:05.123Z"; // 00:30:05 on 2 December in Berlin
let query: Record<string, string>;

beforeAll(async () => {
  f = await createFixture({ startAt: Date.parse("2026-12-02T10:00:00.000Z") });
  insertDevice(f.app.db, { deviceId: LOCK, orgId: f.bank.id, containerId: f.container.id });
  const alice = f.accounts.securityAdmin.person.id;
  insertAudit(f.app.db, LOCK, OPENED, "cycle.confirmed", alice, {
    openingNumber: 1,
    persons: [alice],
  });
  // 2 December as a Berlin day
  query = { from: "2026-12-01T23:00:00.000Z", to: "2026-12-02T23:00:00.000Z" };
});
afterAll(async () => {
  await f?.close();
});

const get = (format: string, extra: Record<string, string> = {}) =>
  f.app.inject({
    method: "GET",
    url: `/api/v1/reports/openings?${new URLSearchParams({ ...query, format, ...extra })}`,
    headers: f.as("auditor"),
  });

describe("report times in local time", () => {
  it("CSV times are the branch's local time to the second, without milliseconds", async () => {
    const response = await get("csv");
    expect(response.statusCode).toBe(200);
    const row = response.body.split("\r\n")[1] ?? "";
    expect(row.startsWith("2026-12-02 00:30:05,")).toBe(true);
    expect(response.body).not.toMatch(/\d\.\d{3}Z/);
  });

  it("another zone can be asked for; a zone that does not exist is refused with E_TIME_ZONE", async () => {
    const utc = await get("csv", { timeZone: "UTC" });
    expect((utc.body.split("\r\n")[1] ?? "").startsWith("2026-12-01 23:30:05,")).toBe(true);
    const bad = await get("csv", { timeZone: "Mars/Olympus" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe("E_TIME_ZONE");
  });

  it("German CSV headers with lang=de; JSON keeps UTC instants", async () => {
    const german = await get("csv", { lang: "de" });
    expect(german.body.split("\r\n")[0]).toBe(
      "Schlosszeit,Behältnis,Schloss,Öffnung Nr.,Personen-ID,Person",
    );
    const json = (await get("json")).json();
    expect(json.table.rows[0].at).toBe(OPENED);
  });

  it("a localised report names its zone and its period in local time", () => {
    const report = {
      kind: "alarms",
      title: "Alarms",
      orgId: "org_x",
      orgName: "Bank",
      from: "2026-12-01T23:00:00.000Z",
      to: "2026-12-02T23:00:00.000Z",
      generatedAt: "2026-12-02T10:00:00.999Z",
      generatedBy: "Ada",
      filters: {},
      table: { title: "Alarms raised or seen in the period", columns: [], rows: [] },
      summaries: [],
      notes: [],
    } satisfies Report;
    const local = localiseReport(report, "Europe/Berlin", "de");
    expect(local).toMatchObject({
      title: "Alarme",
      from: "2026-12-02 00:00:00",
      to: "2026-12-03 00:00:00",
      generatedAt: "2026-12-02 11:00:00",
      filters: { timeZone: "Europe/Berlin" },
    });
    expect(localTime("2026-07-01T22:00:00Z", "Europe/Berlin")).toBe("2026-07-02 00:00:00");
  });
});
