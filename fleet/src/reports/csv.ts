/**
 * CSV export (RFC 4180): CRLF between records, a field quoted when it holds a comma, a quote,
 * CR or LF, quotes doubled inside. Text that a spreadsheet would run as a formula (starting
 * with = + - @, tab or CR) is prefixed with an apostrophe, as OWASP advises against CSV
 * injection; numbers stay numbers.
 */
import type { Cell, Report, Table } from "./report.js";

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvField(value: Cell | undefined): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  if (typeof value === "boolean") return value ? "true" : "false";
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function tableToCsv(table: Table): string {
  const lines = [table.columns.map((column) => csvField(column.label)).join(",")];
  for (const row of table.rows) {
    lines.push(table.columns.map((column) => csvField(row[column.key])).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}

export function reportToCsv(report: Report): string {
  return tableToCsv(report.table);
}

/** `openings_2026-10-24_2026-11-23.csv` */
export function reportFileName(report: Report, extension: "csv" | "pdf" | "json"): string {
  return `${report.kind}_${report.from.slice(0, 10)}_${report.to.slice(0, 10)}.${extension}`;
}
