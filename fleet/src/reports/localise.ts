/**
 * A report as the bank reads it in CSV and PDF: every instant in a named time zone (the
 * bank's, or the one asked for) to the second, without milliseconds, and — in German — its
 * titles and column names in German. JSON keeps UTC instants for programs.
 */
import type { Cell, Report, Table } from "./report.js";

export const REPORT_LANGUAGES = ["en", "de"] as const;
export type ReportLanguage = (typeof REPORT_LANGUAGES)[number];

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** Titles, column names and notes' fixed words in German; anything else stays as it is. */
const GERMAN: Readonly<Record<string, string>> = {
  "Openings per container and person": "Öffnungen je Behältnis und Person",
  "Openings outside access windows": "Öffnungen außerhalb von Zugangsfenstern",
  Alarms: "Alarme",
  "Rights granted and removed": "Erteilte und entfernte Rechte",
  "Tenant activity": "Aktivität der Mandanten",
  "Lock hardware and power events": "Hardware- und Stromereignisse der Schlösser",
  "Openings (one row per person taking part)": "Öffnungen (eine Zeile je beteiligter Person)",
  "Openings by CIT crews or couriers not covered by an approved access window":
    "Öffnungen durch WTU-Besatzungen oder Kuriere ohne freigegebenes Zugangsfenster",
  "Alarms raised or seen in the period": "Im Zeitraum ausgelöste oder gemeldete Alarme",
  "Actions in the fleet's admin log": "Aktionen im Verwaltungsprotokoll der Flotte",
  "Openings per container": "Öffnungen je Behältnis",
  "Openings per person": "Öffnungen je Person",
  "Outside windows per container": "Außerhalb von Fenstern je Behältnis",
  "Lock time": "Schlosszeit",
  Container: "Behältnis",
  Lock: "Schloss",
  "Opening no.": "Öffnung Nr.",
  "Person id": "Personen-ID",
  Person: "Person",
  Persons: "Personen",
  Raised: "Ausgelöst",
  Alarm: "Alarm",
  Priority: "Priorität",
  Occurrences: "Vorkommen",
  Escalation: "Eskalation",
  Status: "Status",
  Acknowledged: "Quittiert",
  By: "Von",
  Comment: "Kommentar",
  Time: "Zeit",
  Action: "Aktion",
  Actor: "Handelnde Person",
  Target: "Ziel",
  Organisation: "Organisation",
  Source: "Quelle",
  Event: "Ereignis",
  Detail: "Einzelheit",
  Description: "Beschreibung",
  Count: "Anzahl",
  "Record no.": "Eintrag Nr.",
};

/** Report frame words for the PDF. */
export const PDF_WORDS: Readonly<
  Record<
    ReportLanguage,
    {
      period: string;
      to: string;
      generated: string;
      by: string;
      notes: string;
      times: string;
      empty: string;
    }
  >
> = {
  en: {
    period: "Period",
    to: "to",
    generated: "Generated",
    by: "by",
    notes: "Notes",
    times: "Times in",
    empty: "No entries in this period.",
  },
  de: {
    period: "Zeitraum",
    to: "bis",
    generated: "Erstellt",
    by: "von",
    notes: "Hinweise",
    times: "Zeiten in",
    empty: "Keine Einträge in diesem Zeitraum.",
  },
};

/** Whether `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** "2026-12-02 03:33:01" — local wall time in `zone`, to the second. */
export function localTime(iso: string, zone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(iso));
  const part = (type: Intl.DateTimeFormatPartTypes) =>
    parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")} ${part("hour")}:${part("minute")}:${part("second")}`;
}

function word(text: string, language: ReportLanguage): string {
  return language === "de" ? (GERMAN[text] ?? text) : text;
}

function localiseCell(value: Cell | undefined, zone: string): Cell {
  if (typeof value === "string" && INSTANT.test(value)) return localTime(value, zone);
  return value ?? null;
}

function localiseTable(table: Table, zone: string, language: ReportLanguage): Table {
  return {
    title: word(table.title, language),
    columns: table.columns.map((column) => ({
      key: column.key,
      label: word(column.label, language),
    })),
    rows: table.rows.map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([key, value]) => [key, localiseCell(value, zone)]),
      ),
    ),
  };
}

/**
 * The report with its instants in `zone` (period and generation time included) and its
 * words in `language`; `timeZone` is added to the filters so the reader knows the zone.
 */
export function localiseReport(report: Report, zone: string, language: ReportLanguage): Report {
  return {
    ...report,
    title: word(report.title, language),
    from: localTime(report.from, zone),
    to: localTime(report.to, zone),
    generatedAt: localTime(report.generatedAt, zone),
    filters: { ...report.filters, timeZone: zone },
    table: localiseTable(report.table, zone, language),
    summaries: report.summaries.map((summary) => localiseTable(summary, zone, language)),
  };
}
