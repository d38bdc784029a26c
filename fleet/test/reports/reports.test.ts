import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AlarmService } from "../../src/alarms/alarm-service.js";
import { csvField, reportToCsv, tableToCsv } from "../../src/reports/csv.js";
import { reportToPdf } from "../../src/reports/pdf.js";
import { REPORT_KINDS, type ReportQuery } from "../../src/reports/report.js";
import { ReportService, reportPeriod } from "../../src/reports/report-service.js";
import { FleetStore } from "../../src/storage/fleet-store.js";
import { type AlarmFixture, openFixtureDatabase } from "../alarms/fixtures.js";
import { IDS, insertAudit, iso, seedHardwareEvents, seedReports, T0 } from "./fixtures.js";

let fixture: AlarmFixture;
let reports: ReportService;
let alarms: AlarmService;
const clock = () => T0 + 24 * 60 * 60_000;
const period: ReportQuery = { orgId: IDS.bank, from: iso(-60), to: iso(24 * 60) };

beforeEach(() => {
  fixture = openFixtureDatabase();
  seedReports(fixture.db, clock);
  const store = new FleetStore(fixture.db);
  alarms = new AlarmService({ store, clock });
  reports = new ReportService(store, clock);
});
afterEach(async () => {
  await alarms.close();
  fixture.close();
});

describe("openings", () => {
  it("counts openings per container and per person from verified audit only of this bank", () => {
    const report = reports.build("openings", period, "Olga Officer");
    expect(report.table.rows.map((r) => [r.container, r.openingNumber, r.person])).toEqual([
      ["Hauptstelle / Vault", 7, "Alice Adler"],
      ["Hauptstelle / Vault", 7, '=HYPERLINK("http://x")'],
      ["Hauptstelle / ATM 1", 1, "Carl Crew"],
      ["Hauptstelle / ATM 1", 2, "Alice Adler"],
      ["Hauptstelle / ATM 1", 2, '=HYPERLINK("http://x")'],
    ]);
    const perContainer = Object.fromEntries(
      report.summaries[0]?.rows.map((r) => [r.name, r.count]) ?? [],
    );
    expect(perContainer).toEqual({ "Hauptstelle / ATM 1": 2, "Hauptstelle / Vault": 1 });
    const perPerson = Object.fromEntries(
      report.summaries[1]?.rows.map((r) => [r.name, r.count]) ?? [],
    );
    expect(perPerson["Alice Adler"]).toBe(2);
    expect(perPerson["Carl Crew"]).toBe(1);
    expect(JSON.stringify(report)).not.toContain("Sam Stranger");
  });

  it("filters by container and by person", () => {
    const vault = reports.build("openings", { ...period, containerId: IDS.vault }, "x");
    expect(new Set(vault.table.rows.map((r) => r.container))).toEqual(
      new Set(["Hauptstelle / Vault"]),
    );
    const crew = reports.build("openings", { ...period, personId: IDS.crew }, "x");
    expect(crew.table.rows.map((r) => r.openingNumber)).toEqual([1]);
  });

  it("an open audit gap on a lock is named in the notes", () => {
    alarms.raise({ deviceId: IDS.vaultLock, kind: "auditGap", source: "fleet", at: iso(70) });
    const report = reports.build("openings", period, "x");
    expect(report.notes.some((n) => n.includes("audit gaps") && n.includes(IDS.vaultLock))).toBe(
      true,
    );
  });
});

describe("openings outside windows", () => {
  it("lists only openings by CIT crews or couriers that no approved window covered", () => {
    // the crew comes back at 14:00, after its window closed at 11:00
    insertAudit(fixture.db, IDS.atmLock, iso(360), "cycle.confirmed", IDS.crew, {
      openingNumber: 3,
      persons: [IDS.crew, IDS.alice],
    });
    const report = reports.build("openings-outside-windows", period, "x");
    expect(report.table.rows).toEqual([
      {
        at: iso(360),
        container: "Hauptstelle / ATM 1",
        lock: IDS.atmLock,
        openingNumber: 3,
        persons: "Carl Crew; Alice Adler",
      },
    ]);
  });

  it("routine openings by bank staff alone are not listed, and the note says how many", () => {
    const report = reports.build("openings-outside-windows", period, "x");
    // opening 2 of the ATM: Alice and Bob of the bank, no window — routine, not listed
    expect(report.table.rows).toEqual([]);
    expect(report.notes.join(" ")).toContain("1 openings by bank staff alone are not listed");
  });

  it("a bank employee holding a courier right counts as a courier", () => {
    fixture.db
      .prepare(
        `INSERT INTO lock_rights (id, person_id, person_org_id, bank_org_id, container_id, role, created_by, created_at)
         VALUES ('rgt_courier', ?, ?, ?, ?, 'courier', ?, ?)`,
      )
      .run(IDS.alice, IDS.bank, IDS.bank, IDS.atm, IDS.officer, iso(0));
    const report = reports.build("openings-outside-windows", period, "x");
    expect(report.table.rows.map((r) => r.openingNumber)).toEqual([2]);
  });

  it("an opening after the window was revoked is outside it", () => {
    fixture.db
      .prepare("UPDATE access_windows SET status = 'revoked', revoked_at = ?")
      .run(iso(125));
    const report = reports.build("openings-outside-windows", period, "x");
    expect(report.table.rows.map((r) => r.openingNumber)).toEqual([1]);
  });
});

describe("alarms, rights and tenant activity", () => {
  it("the alarm report shows who acknowledged and the comment", () => {
    const { alarm } = alarms.raise({
      deviceId: IDS.atmLock,
      kind: "forcedUser",
      source: "device",
      at: iso(30),
    });
    alarms.acknowledge(alarm.id, { kind: "bank", orgId: IDS.bank }, IDS.officer, "police informed");
    const report = reports.build("alarms", period, "x");
    expect(report.table.rows).toEqual([
      expect.objectContaining({
        kind: "forcedUser",
        acknowledgedBy: "Olga Officer",
        comment: "police informed",
        status: "acknowledged",
      }),
    ]);
    const other = reports.build("alarms", { ...period, orgId: IDS.otherBank }, "x");
    expect(other.table.rows).toHaveLength(0);
  });

  it("rights granted and removed combine fleet decisions and lock confirmations", () => {
    const report = reports.build("rights", period, "x");
    expect(report.table.rows.map((r) => [r.source, r.action, r.person])).toEqual([
      ["fleet", "right.grant", "Alice Adler"],
      ["fleet", "person.disable", '=HYPERLINK("http://x")'],
      ["lock", "added on lock", "Alice Adler"],
      ["lock", "removed from lock", '=HYPERLINK("http://x")'],
    ]);
  });

  it("tenant activity holds the bank's and its CIT company's actions, not another bank's", () => {
    const report = reports.build("tenant-activity", period, "x");
    expect(report.table.rows.map((r) => r.action)).toEqual([
      "right.grant",
      "person.disable",
      "window.request",
    ]);
    const other = reports.build("tenant-activity", { ...period, orgId: IDS.otherBank }, "x");
    expect(other.table.rows.map((r) => r.actor)).toEqual(["Sam Stranger"]);
  });

  it("every kind builds with a title and the period", () => {
    for (const kind of REPORT_KINDS) {
      const report = reports.build(kind, period, "x");
      expect(report.title.length).toBeGreaterThan(3);
      expect(report).toMatchObject({
        kind,
        from: period.from,
        to: period.to,
        orgName: "Musterbank",
      });
    }
  });
});

describe("report period", () => {
  it("defaults to the last 30 days and refuses an inverted or overlong period", () => {
    const now = Date.parse("2026-11-23T00:00:00.000Z");
    expect(reportPeriod({}, now)).toEqual({
      from: "2026-10-24T00:00:00.000Z",
      to: "2026-11-23T00:00:00.000Z",
    });
    expect(() =>
      reportPeriod({ from: "2026-11-23T00:00:00Z", to: "2026-11-22T00:00:00Z" }, now),
    ).toThrow(/E_REPORT_PERIOD/);
    expect(() =>
      reportPeriod({ from: "2024-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z" }, now),
    ).toThrow(/E_REPORT_PERIOD/);
    expect(() => reportPeriod({ from: "yesterday" }, now)).toThrow(/E_REPORT_PERIOD/);
  });
});

/** RFC 4180 reader for the tests: quoted fields, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      i++;
    } else field += c;
  }
  return records;
}

describe("CSV", () => {
  it("quotes commas, quotes and line breaks as RFC 4180 says and ends records with CRLF", () => {
    expect(csvField('say "hi", then\r\nleave')).toBe('"say ""hi"", then\r\nleave"');
    expect(csvField("plain")).toBe("plain");
    expect(csvField(null)).toBe("");
    expect(csvField(-5)).toBe("-5");
    const csv = tableToCsv({
      title: "t",
      columns: [
        { key: "a", label: "A" },
        { key: "b", label: "B, second" },
      ],
      rows: [
        { a: 'x"y', b: "line1\nline2" },
        { a: 1, b: null },
      ],
    });
    expect(csv).toBe('A,"B, second"\r\n"x""y","line1\nline2"\r\n1,\r\n');
    expect(parseCsv(csv)).toEqual([
      ["A", "B, second"],
      ['x"y', "line1\nline2"],
      ["1", ""],
    ]);
  });

  it("text a spreadsheet would run as a formula is defused with an apostrophe", () => {
    for (const start of ["=", "+", "-", "@", "\t", "\r"]) {
      expect(csvField(`${start}cmd|' /C calc'!A0`).replace(/^"/, "").startsWith("'")).toBe(true);
    }
    const csv = reportToCsv(reports.build("openings", period, "x"));
    const rows = parseCsv(csv);
    expect(rows[0]).toEqual([
      "Lock time",
      "Container",
      "Lock",
      "Opening no.",
      "Person id",
      "Person",
    ]);
    expect(rows.some((r) => r[5] === `'=HYPERLINK("http://x")`)).toBe(true);
    expect(rows.every((r) => !(r[5] ?? "").startsWith("="))).toBe(true);
  });
});

/** The document title from the PDF's information dictionary (direct or indirect string). */
function pdfTitle(pdf: Buffer): string | undefined {
  const text = pdf.toString("latin1");
  const direct = /\/Title \(([^)]*)\)/.exec(text);
  if (direct !== null) return direct[1];
  const reference = /\/Title (\d+) 0 R/.exec(text);
  if (reference === null) return undefined;
  return new RegExp(`\\n${reference[1]} 0 obj\\n\\(([^)]*)\\)`).exec(text)?.[1];
}

describe("PDF", () => {
  it("is a PDF document carrying the report title", async () => {
    const report = reports.build("openings", period, "Olga Officer");
    const pdf = await reportToPdf(report);
    expect(pdf.subarray(0, 5).toString("latin1")).toBe("%PDF-");
    expect(pdfTitle(pdf)).toBe("Openings per container and person");
    expect(pdf.subarray(-6).toString("latin1")).toContain("%%EOF");
  });

  it("renders a report with many rows over several pages", async () => {
    const report = reports.build("openings", period, "x");
    report.table.rows = Array.from({ length: 200 }, (_, i) => ({
      at: iso(i),
      container: `C${i}`,
      person: "p",
    }));
    const pdf = await reportToPdf(report);
    const pages = pdf.toString("latin1").match(/\/Type \/Page\b/g) ?? [];
    expect(pages.length).toBeGreaterThan(2);
  });
});

describe("hardware events", () => {
  beforeEach(() => seedHardwareEvents(fixture.db));

  it("lists the locks' power, hardware, self-test and time records per container in chain order", () => {
    const report = reports.build("hardware-events", period, "x");
    expect(report.title).toBe("Lock hardware and power events");
    expect(report.table.rows.map((r) => [r.container, r.lock, r.at, r.event])).toEqual([
      ["Hauptstelle / ATM 1", IDS.atmLock, iso(21), "power.lost"],
      ["Hauptstelle / ATM 1", IDS.atmLock, iso(22), "time.changed"],
      ["Hauptstelle / ATM 1", IDS.atmLock, iso(50), "hardware.partFault"],
      ["Hauptstelle / ATM 1", IDS.atmLock, iso(210), "lock.fault"],
      ["Hauptstelle / Vault", IDS.vaultLock, iso(20), "power.failed"],
      ["Hauptstelle / Vault", IDS.vaultLock, iso(25), "power.restored"],
      ["Hauptstelle / Vault", IDS.vaultLock, iso(200), "selfTest.completed"],
      ["Hauptstelle / Vault", IDS.vaultLock, iso(201), "hardware.partRestored"],
    ]);
    const perKind = Object.fromEntries(
      report.summaries[0]?.rows.map((r) => [r.name, r.count]) ?? [],
    );
    expect(perKind["power.failed"]).toBe(1);
    expect(perKind["door.opened"]).toBeUndefined();
    const perContainer = Object.fromEntries(
      report.summaries[1]?.rows.map((r) => [r.name, r.count]) ?? [],
    );
    expect(perContainer).toEqual({ "Hauptstelle / ATM 1": 4, "Hauptstelle / Vault": 4 });
  });

  it("a self-test row summarises its per-part results; time and part rows carry their detail", () => {
    const rows = reports.build("hardware-events", period, "x").table.rows;
    const detail = (event: string) => rows.find((r) => r.event === event)?.detail;
    expect(detail("selfTest.completed")).toBe(
      "pi-lock-b: 2 ok; fault: buzzer; not fitted: display",
    );
    expect(detail("time.changed")).toBe(`${iso(22)} -> ${iso(21)} (jump -2 s)`);
    expect(detail("hardware.partRestored")).toBe("display");
    expect(detail("power.failed")).toBe("powerFailInput");
  });

  it("filters by container", () => {
    const vault = reports.build("hardware-events", { ...period, containerId: IDS.vault }, "x");
    expect(new Set(vault.table.rows.map((r) => r.lock))).toEqual(new Set([IDS.vaultLock]));
  });

  it("another bank's lock records never appear, and that bank sees only its own", () => {
    const report = reports.build("hardware-events", period, "x");
    expect(JSON.stringify(report)).not.toContain(IDS.otherLock);
    expect(JSON.stringify(report)).not.toContain("other bank");
    const other = reports.build("hardware-events", { ...period, orgId: IDS.otherBank }, "x");
    expect(other.table.rows.map((r) => [r.lock, r.event])).toEqual([
      [IDS.otherLock, "power.failed"],
      [IDS.otherLock, "lock.fault"],
    ]);
  });

  it("CSV quotes a part error holding a comma, quotes and a line break, and defuses a formula", () => {
    const csv = reportToCsv(reports.build("hardware-events", period, "x"));
    expect(csv).toContain('"display E_I2C: bus error, ""retry""\nfailed"');
    const rows = parseCsv(csv);
    expect(rows[0]).toEqual([
      "Container",
      "Lock",
      "Record no.",
      "Lock time",
      "Event",
      "Description",
      "Detail",
    ]);
    expect(rows.find((r) => r[4] === "hardware.partFault")?.[6]).toBe(
      'display E_I2C: bus error, "retry"\nfailed',
    );
    expect(rows.find((r) => r[4] === "lock.fault")?.[6]).toBe("'=cmd|' /C calc'!A0");
    expect(rows).toHaveLength(9);
  });
});
