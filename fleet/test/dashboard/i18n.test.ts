/**
 * The dashboard's language and time rules, on its own browser modules run in Node: every text
 * has a German entry, times show in the container's zone with the zone named and no
 * milliseconds, one format per language, report periods are whole local days, and a window
 * reads by its times (a window for 6 December is not active on 2 December).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { FLEET_ERRORS } from "../../src/error-catalogue.js";
import { dashboardDir } from "../../src/routes/dashboard.js";

// The modules are plain browser JavaScript (checked by fleet/tsconfig.dashboard.json); these
// are the parts of their surface the tests use.
interface I18n {
  setLanguage(language: "en" | "de"): void;
  t(text: string, values?: Record<string, string | number>): string;
}
interface Time {
  when(iso: string, zone?: string | null): string;
  localToIso(local: string, zone: string): string;
  nextDay(date: string): string;
  setZoneMode(mode: "container" | "viewer"): void;
}
interface Windows {
  windowStage(
    w: {
      status: string;
      notBefore: string;
      notAfter: string;
      approvedBy: string[];
      approvalsRequired: number;
    },
    now?: number,
  ): { stage: string; label: string };
}

const dir = dashboardDir();
const load = async <T>(name: string): Promise<T> =>
  (await import(/* @vite-ignore */ join(dir, name))) as T;

let i18n: I18n;
let time: Time;
let windows: Windows;
let german: Record<string, string>;
beforeAll(async () => {
  i18n = await load<I18n>("i18n.js");
  time = await load<Time>("time.js");
  windows = await load<Windows>("windows.js");
  german = (await load<{ GERMAN: Record<string, string> }>("i18n-de.js")).GERMAN;
});

describe("German and English for every page", () => {
  it("every text the dashboard passes through t() has a German entry", () => {
    const missing: string[] = [];
    for (const file of readdirSync(dir).filter((name) => /\.(js|html)$/.test(name))) {
      const source = readFileSync(join(dir, file), "utf8");
      const texts = [
        ...[...source.matchAll(/\bt\(\s*"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]),
        ...[...source.matchAll(/data-t(?:-label)?="([^"]*)"/g)].map((m) => m[1]),
      ];
      for (const text of texts) {
        if (text !== undefined && !(text in german)) missing.push(`${file}: ${text}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("every title, summary and column name of a report shown on the page has a German entry", () => {
    // the page shows the fleet's report tables and translates their words with t()
    const reports = join(dir, "..", "reports");
    const service = readFileSync(join(reports, "report-service.ts"), "utf8");
    const titles = readFileSync(join(reports, "report.ts"), "utf8");
    const words = [
      ...[...service.matchAll(/\b(?:title|label): "([^"]+)"/g)].map((m) => m[1]),
      ...[...service.matchAll(/countTable\(\s*"([^"]+)",\s*"([^"]+)"/g)].flatMap((m) => [
        m[1],
        m[2],
      ]),
      ...[...(titles.split("REPORT_TITLES")[1] ?? "").matchAll(/: "([^"]+)",/g)].map((m) => m[1]),
    ];
    expect(words.length).toBeGreaterThan(40);
    expect(words.filter((word) => word !== undefined && !(word in german))).toEqual([]);
  });

  it("every placeholder of an English text is kept in its German text", () => {
    const broken = Object.entries(german).filter(([english, translated]) => {
      const names = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      return names(english).join() !== names(translated).join();
    });
    expect(broken).toEqual([]);
  });

  it("one date format per language, in the container's zone with the zone named, to the second", () => {
    time.setZoneMode("container");
    i18n.setLanguage("de");
    expect(time.when("2026-12-02T02:33:01.123Z", "Europe/Berlin")).toBe("02.12.2026, 03:33:01 MEZ");
    i18n.setLanguage("en");
    expect(time.when("2026-12-02T02:33:01.123Z", "Europe/Berlin")).toBe("02/12/2026, 03:33:01 CET");
    expect(time.when("2026-07-02T02:33:01Z", "Europe/Berlin")).toBe("02/07/2026, 04:33:01 CEST");
  });

  it("texts read in the chosen language with their values filled in", () => {
    i18n.setLanguage("de");
    expect(i18n.t("Rights of {name}", { name: "Anna Weber" })).toBe("Rechte von Anna Weber");
    i18n.setLanguage("en");
    expect(i18n.t("Rights of {name}", { name: "Anna Weber" })).toBe("Rights of Anna Weber");
  });
});

describe("the fleet's errors in German", () => {
  interface Api {
    ApiError: new (status: number, code: string, message: string) => Error;
    errorText(error: unknown): string;
  }

  it("an error reads in German by its stable code, in English as the fleet said it, and unknown codes fall back to the fleet's sentence", async () => {
    const api = await load<Api>("api.js");
    const refused = new api.ApiError(409, "E_SAME_APPROVER", "this person has already approved");
    i18n.setLanguage("de");
    expect(api.errorText(refused)).toBe(
      "Diese Person hat schon zugestimmt; die zweite Freigabe muss von jemand anderem kommen. (E_SAME_APPROVER)",
    );
    expect(api.errorText(new api.ApiError(400, "E_SOMETHING_NEW", "a new refusal"))).toBe(
      "a new refusal (E_SOMETHING_NEW)",
    );
    i18n.setLanguage("en");
    expect(api.errorText(refused)).toBe("this person has already approved (E_SAME_APPROVER)");
  });

  it("every code the fleet answers a person with has a German sentence", async () => {
    const { GERMAN_ERRORS } = await load<{ GERMAN_ERRORS: Record<string, string> }>("errors-de.js");
    // the catalogue says who meets a code: the operator's (command line, start-up, broker,
    // the locks' messages) never reach the page
    const forPeople = Object.entries(FLEET_ERRORS)
      .filter(([, entry]) => entry.audience === "person")
      .map(([code]) => code);
    expect(forPeople.length).toBeGreaterThan(100);
    expect(forPeople.filter((code) => !(code in GERMAN_ERRORS))).toEqual([]);
  });
});

describe("report periods in local days", () => {
  it("a local day in Berlin starts at 23:00 or 22:00 UTC the day before, across a DST change", () => {
    expect(time.localToIso("2026-12-02", "Europe/Berlin")).toBe("2026-12-01T23:00:00.000Z");
    expect(time.localToIso("2026-07-02", "Europe/Berlin")).toBe("2026-07-01T22:00:00.000Z");
    // 29 March 2026: clocks go from 02:00 to 03:00 in Berlin
    expect(time.localToIso("2026-03-29T03:30", "Europe/Berlin")).toBe("2026-03-29T01:30:00.000Z");
    expect(time.localToIso("2026-03-29T01:30", "Europe/Berlin")).toBe("2026-03-29T00:30:00.000Z");
  });

  it("the last day is included: the period ends at the start of the next local day", () => {
    expect(time.nextDay("2026-12-31")).toBe("2027-01-01");
    expect(time.localToIso(time.nextDay("2026-12-02"), "Europe/Berlin")).toBe(
      "2026-12-02T23:00:00.000Z",
    );
  });
});

describe("window states read requested → approved/scheduled → active → closed", () => {
  const window = {
    status: "active",
    notBefore: "2026-12-06T07:00:00.000Z",
    notAfter: "2026-12-06T11:00:00.000Z",
    approvedBy: ["per_a", "per_b"],
    approvalsRequired: 2,
  };
  it("a window for 6 December is scheduled, not active, on 2 December", () => {
    i18n.setLanguage("en");
    expect(windows.windowStage(window, Date.parse("2026-12-02T10:00:00Z"))).toEqual({
      stage: "scheduled",
      label: "approved, scheduled",
    });
    expect(windows.windowStage(window, Date.parse("2026-12-06T08:00:00Z")).stage).toBe("active");
    expect(windows.windowStage(window, Date.parse("2026-12-06T12:00:00Z")).stage).toBe("ended");
    expect(windows.windowStage({ ...window, status: "closed" }).stage).toBe("closed");
  });

  it("a request shows how many of the approvals it has", () => {
    i18n.setLanguage("en");
    expect(
      windows.windowStage({ ...window, status: "requested", approvedBy: ["per_a"] }).label,
    ).toBe("requested (1 of 2 approvals)");
  });
});
