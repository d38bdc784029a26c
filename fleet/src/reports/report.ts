/**
 * Reports for security officers and internal audit (SPEC §5 "Audit and reports"): a report is
 * a titled table of rows plus summary tables, rendered as JSON, CSV or PDF.
 */

export const REPORT_KINDS = [
  "openings",
  "openings-outside-windows",
  "alarms",
  "rights",
  "tenant-activity",
  "hardware-events",
] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export const REPORT_TITLES: Readonly<Record<ReportKind, string>> = {
  openings: "Openings per container and person",
  "openings-outside-windows": "Openings outside access windows",
  alarms: "Alarms",
  rights: "Rights granted and removed",
  "tenant-activity": "Tenant activity",
  "hardware-events": "Lock hardware and power events",
};

export function isReportKind(value: string): value is ReportKind {
  return (REPORT_KINDS as readonly string[]).includes(value);
}

export type Cell = string | number | boolean | null;

export interface Column {
  key: string;
  label: string;
}

export interface Table {
  title: string;
  columns: Column[];
  rows: Array<Record<string, Cell>>;
}

export interface Report {
  kind: ReportKind;
  title: string;
  orgId: string;
  orgName: string;
  from: string;
  to: string;
  generatedAt: string;
  generatedBy: string;
  /** Filters applied beyond the period (container, person). */
  filters: Record<string, string>;
  /** The report's rows; CSV exports this table. */
  table: Table;
  /** Counts and groupings shown with the table in JSON and PDF. */
  summaries: Table[];
  /** What the figures rest on, e.g. whether the audit chain of every lock is gap-free. */
  notes: string[];
}

export interface ReportQuery {
  orgId: string;
  from: string;
  to: string;
  containerId?: string | undefined;
  personId?: string | undefined;
}
