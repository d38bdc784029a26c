/**
 * Rewrites the README's performance table from a benchmark report, between the markers
 * `<!-- bench-table:start -->` and `<!-- bench-table:end -->`, so the README only ever shows
 * figures that a run measured (with the commit, the machine and its load at the time).
 *
 *   node --import tsx scripts/bench-readme.ts [report.json] [README.md]
 *
 * Without a report it takes the newest one in bench/results/.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type BenchReport,
  formatValue,
  latestReportPath,
  loadSummary,
  readReport,
} from "./bench-report.js";

export const TABLE_START = "<!-- bench-table:start -->";
export const TABLE_END = "<!-- bench-table:end -->";

function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

export function renderTable(report: BenchReport, reportPath: string): string {
  const { machine } = report;
  const memory = `${Math.round(machine.memoryBytes / 1024 ** 3)} GiB`;
  const lines = [
    `Generated from \`${reportPath}\` (commit ${report.commit.slice(0, 10)}${report.dirty ? " with uncommitted changes" : ""}, ${report.date.slice(0, 16).replace("T", " ")} UTC) on ${machine.cores} × ${machine.cpu}, ${memory}, Node ${machine.node}; load average during the runs ${loadSummary(report)} (other work shared the machine when it is above ${machine.cores}).`,
    "",
    "| suite | what | figure |",
    "|---|---|---|",
  ];
  for (const figure of report.figures) {
    const suite = figure.suite?.split("/")[0] ?? "";
    lines.push(
      `| ${cell(suite)} | ${cell(figure.figure)} | ${cell(formatValue(figure.value, figure.unit))} |`,
    );
  }
  return lines.join("\n");
}

/** `readme` with the text between the markers replaced; an error if the markers are missing. */
export function replaceTable(readme: string, table: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) {
    throw new Error(
      `E_BENCH_README: the README has no ${TABLE_START} … ${TABLE_END} markers to put the table between`,
    );
  }
  return `${readme.slice(0, start + TABLE_START.length)}\n${table}\n${readme.slice(end)}`;
}

export function updateReadme(readmePath: string, reportPath: string, shownPath: string): void {
  const report = readReport(readFileSync(reportPath, "utf8"), reportPath);
  const readme = readFileSync(readmePath, "utf8");
  writeFileSync(readmePath, replaceTable(readme, renderTable(report, shownPath)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const resultsDir = join(root, "bench", "results");
  const reportPath = process.argv[2] ?? latestReportPath(resultsDir, readdirSync(resultsDir));
  if (reportPath === undefined) {
    console.error("E_BENCH_README: no report in bench/results/ (run npm run bench first)");
    process.exit(1);
  }
  const readmePath = process.argv[3] ?? join(root, "README.md");
  updateReadme(readmePath, reportPath, relative(root, reportPath));
  console.log(`${relative(root, readmePath)}: table rewritten from ${relative(root, reportPath)}`);
}
