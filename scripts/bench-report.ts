/**
 * The report a benchmark run leaves behind: `bench/results/<date>-<commit>.json` with every
 * figure, the machine it ran on and how loaded that machine was, so one change's figures can
 * be compared with the last (`npm run bench -- --compare`) and the README's table is made from
 * measured numbers only (`scripts/bench-readme.ts`).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import type { Figure } from "./bench-figures.js";

export interface Machine {
  cpu: string;
  cores: number;
  memoryBytes: number;
  node: string;
  platform: string;
}

/** One suite's run: when, and the load average (1, 5, 15 min) before and after it. */
export interface SuiteRun {
  suite: string;
  startedAt: string;
  seconds: number;
  loadBefore: number[];
  loadAfter: number[];
  /** Memory free on the machine when the suite started (other work shares it). */
  freeMemoryBytes: number;
  /** The LOCKFLEET_BENCH_* settings the suite ran with. */
  settings: Record<string, string>;
}

export interface BenchReport {
  commit: string;
  /** Uncommitted changes in the worktree when measured. */
  dirty: boolean;
  date: string;
  machine: Machine;
  suites: SuiteRun[];
  figures: Figure[];
}

export function git(root: string, args: string[]): string {
  return execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
}

export function thisMachine(): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    memoryBytes: totalmem(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

export function loadNow(): number[] {
  return loadavg().map((value) => Math.round(value * 100) / 100);
}

export function freeMemory(): number {
  return freemem();
}

export function reportFileName(date: Date, commit: string): string {
  return `${date.toISOString().slice(0, 10)}-${commit.slice(0, 10)}.json`;
}

/**
 * A run of some suites adds to the report of the same commit and day: figures measured again
 * replace the earlier ones, the others stay, so `npm run bench -- edge` then `-- fleet` make one
 * report (each run listed with its settings and the machine's load).
 */
export function mergeReports(earlier: BenchReport | undefined, now: BenchReport): BenchReport {
  if (earlier === undefined || earlier.commit !== now.commit) return now;
  const measured = new Set(now.figures.map((figure) => figure.figure));
  return {
    ...now,
    dirty: earlier.dirty || now.dirty,
    // Every run stays listed with its settings and load: the figures it left may differ.
    suites: [...earlier.suites, ...now.suites],
    figures: [...earlier.figures.filter((figure) => !measured.has(figure.figure)), ...now.figures],
  };
}

export function readReport(text: string, source: string): BenchReport {
  const parsed = JSON.parse(text) as Partial<BenchReport>;
  if (
    typeof parsed.commit !== "string" ||
    typeof parsed.date !== "string" ||
    !Array.isArray(parsed.figures) ||
    !Array.isArray(parsed.suites) ||
    typeof parsed.machine !== "object"
  ) {
    throw new Error(
      `E_BENCH_REPORT: ${source} is not a benchmark report (commit, date, machine, suites, figures)`,
    );
  }
  return parsed as BenchReport;
}

export function readReportFile(path: string): BenchReport | undefined {
  return existsSync(path) ? readReport(readFileSync(path, "utf8"), path) : undefined;
}

/**
 * The newest report committed at HEAD other than `exclude` (the one this run writes), read from
 * git so that an uncommitted report never counts as the previous one.
 */
export function previousCommittedReport(
  root: string,
  exclude: string,
): { name: string; report: BenchReport } | undefined {
  let names: string[];
  try {
    names = git(root, ["ls-tree", "--name-only", "HEAD", "bench/results/"])
      .split("\n")
      .filter((name) => name.endsWith(".json") && !name.endsWith(`/${exclude}`));
  } catch {
    return undefined;
  }
  const reports = names.map((name) => ({
    name,
    report: readReport(git(root, ["show", `HEAD:${name}`]), name),
  }));
  reports.sort((a, b) => a.report.date.localeCompare(b.report.date));
  return reports.at(-1);
}

/** The newest report on disk (committed or not): the one the README's table is made from. */
export function latestReportPath(resultsDir: string, names: readonly string[]): string | undefined {
  const reports = names
    .filter((name) => name.endsWith(".json"))
    .map((name) => ({ name, report: readReportFile(join(resultsDir, name)) }))
    .filter((item): item is { name: string; report: BenchReport } => item.report !== undefined);
  reports.sort((a, b) => a.report.date.localeCompare(b.report.date));
  const latest = reports.at(-1);
  return latest === undefined ? undefined : join(resultsDir, latest.name);
}

export function formatValue(value: number, unit: string): string {
  // Counts (locks missing, bytes) are whole; measured values keep three significant digits.
  const digits =
    Number.isInteger(value) || Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  const number = value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return unit === "" ? number : `${number} ${unit}`;
}

/** Lines comparing `now` with `before`, figure by figure, saying which way is better. */
export function compareReports(before: BenchReport, now: BenchReport): string[] {
  const lines = [
    `compared with ${before.commit.slice(0, 10)} (${before.date}); load average then ${loadSummary(before)}, now ${loadSummary(now)}`,
  ];
  const previous = new Map(before.figures.map((figure) => [figure.figure, figure]));
  for (const figure of now.figures) {
    const old = previous.get(figure.figure);
    if (old === undefined) {
      lines.push(`  ${figure.figure}: ${formatValue(figure.value, figure.unit)} (new)`);
      continue;
    }
    const change = old.value === 0 ? Number.NaN : (figure.value - old.value) / old.value;
    const improved = figure.better === "higher" ? change > 0 : change < 0;
    const verdict = Math.abs(change) < 0.02 ? "same" : improved ? "better" : "worse";
    const sign = change > 0 ? "+" : "";
    lines.push(
      `  ${figure.figure}: ${formatValue(old.value, old.unit)} → ${formatValue(figure.value, figure.unit)} (${sign}${(change * 100).toFixed(1)} %, ${verdict})`,
    );
  }
  const measured = new Set(now.figures.map((figure) => figure.figure));
  const unmeasured = before.figures.filter((old) => !measured.has(old.figure));
  if (unmeasured.length > 0) {
    // A run of one suite would otherwise list every other suite's figure.
    const suites = [...new Set(unmeasured.map((old) => old.suite?.split("/")[0] ?? "?"))];
    lines.push(`  not measured in this run: ${unmeasured.length} figures (${suites.join(", ")})`);
  }
  return lines;
}

export function loadSummary(report: BenchReport): string {
  const values = report.suites.flatMap((run) => [run.loadBefore[0], run.loadAfter[0]]);
  const numbers = values.filter((value): value is number => value !== undefined);
  if (numbers.length === 0) return "unknown";
  return `${Math.min(...numbers).toFixed(1)}–${Math.max(...numbers).toFixed(1)}`;
}
