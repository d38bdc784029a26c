/**
 * The register for internal audit: JSON with the scales and thresholds it was measured by, or
 * CSV (RFC 4180: CRLF between records, a field quoted when it holds a comma, a quote, CR or LF,
 * quotes doubled). Text a spreadsheet would run as a formula (starting with = + - @, tab or CR)
 * is prefixed with an apostrophe against CSV injection; numbers stay numbers.
 */
import type { RiskEntry } from "./risk-service.js";
import { scaleDocument } from "./scales.js";

export type CsvCell = string | number | null;

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: CsvCell): string {
  if (value === null) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLines(rows: ReadonlyArray<readonly CsvCell[]>): string {
  return `${rows.map((row) => row.map(csvCell).join(",")).join("\r\n")}\r\n`;
}

const COLUMNS: ReadonlyArray<[string, (entry: RiskEntry) => CsvCell]> = [
  ["Entry", (e) => e.id],
  ["Contract", (e) => e.contractName],
  ["Contract id", (e) => e.contractId],
  ["Provider", (e) => e.providerName],
  ["Provider id", (e) => e.citOrgId],
  ["Category", (e) => e.category],
  ["Title", (e) => e.title],
  ["Likelihood", (e) => e.likelihood],
  ["Derived likelihood", (e) => e.derivedLikelihood],
  ["Override likelihood", (e) => e.override?.likelihood ?? null],
  ["Override justification", (e) => e.override?.justification ?? null],
  ["Override by", (e) => e.override?.by ?? null],
  ["Override at", (e) => e.override?.at ?? null],
  ["Impact", (e) => e.impact],
  ["Score", (e) => e.score],
  ["Level", (e) => e.level],
  ["Owner", (e) => e.owner],
  ["Measures", (e) => e.measures],
  ["Review date", (e) => e.reviewDate],
  ["Period from", (e) => e.evidence.period.from],
  ["Period to", (e) => e.evidence.period.to],
  ["Occurrences", (e) => e.evidence.numerator],
  ["Measured against", (e) => e.evidence.denominator],
  ["Rate", (e) => e.evidence.rate],
  [
    "Counts",
    (e) =>
      Object.entries(e.evidence.counts)
        .map(([key, value]) => `${key}=${value}`)
        .join("; "),
  ],
  [
    "Evidence",
    (e) =>
      [
        ...e.evidence.references.map((r) => `${r.type}:${r.id}:${r.finding}`),
        ...(e.evidence.referencesOmitted > 0 ? [`+${e.evidence.referencesOmitted} more`] : []),
      ].join("; "),
  ],
  ["Computed at", (e) => e.computedAt],
];

export function registerToCsv(entries: readonly RiskEntry[]): string {
  return csvLines([
    COLUMNS.map(([label]) => label),
    ...entries.map((entry) => COLUMNS.map(([, cell]) => cell(entry))),
  ]);
}

export function registerToJson(
  entries: readonly RiskEntry[],
  meta: { bankOrgId: string; generatedAt: string; generatedBy: string },
) {
  return { ...meta, scales: scaleDocument(), entries };
}
