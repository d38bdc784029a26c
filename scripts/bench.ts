/**
 * `npm run bench`: every package's benchmarks in turn, printing figures (no pass/fail —
 * speed goals are read from these numbers, never asserted in tests), and writing them to
 * `bench/results/<date>-<commit>.json` with the machine and its load at the time.
 *
 *   npm run bench                  every suite
 *   npm run bench -- fleet         the suites whose path starts with "fleet"
 *   npm run bench -- --compare     also print the change against the previous committed report
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { recordedFigures, startSuite } from "./bench-figures.js";
import {
  type BenchReport,
  compareReports,
  freeMemory,
  git,
  loadNow,
  mergeReports,
  previousCommittedReport,
  readReportFile,
  reportFileName,
  type SuiteRun,
  thisMachine,
} from "./bench-report.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const suites = [
  "protocol/bench/index.ts",
  "edge/bench/index.ts",
  "fleet/bench/index.ts",
  "simulators/bench/index.ts",
];
const args = process.argv.slice(2);
const compare = args.includes("--compare");
const only = args.find((arg) => !arg.startsWith("--"));

const settings = Object.fromEntries(
  Object.entries(process.env).filter(
    (entry): entry is [string, string] =>
      entry[0].startsWith("LOCKFLEET_BENCH_") && entry[1] !== undefined,
  ),
);
const runs: SuiteRun[] = [];
for (const suite of suites) {
  if (only !== undefined && !suite.startsWith(only)) continue;
  const file = join(root, suite);
  if (!existsSync(file)) continue;
  const loadBefore = loadNow();
  console.log(`\n== ${suite} (load average ${loadBefore.join(", ")})`);
  const startedAt = new Date();
  const freeMemoryBytes = freeMemory();
  startSuite(suite);
  const module = (await import(pathToFileURL(file).href)) as { run: () => Promise<void> };
  await module.run();
  runs.push({
    suite,
    startedAt: startedAt.toISOString(),
    seconds: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
    loadBefore,
    loadAfter: loadNow(),
    freeMemoryBytes,
    settings,
  });
}

if (runs.length > 0) {
  const commit = git(root, ["rev-parse", "HEAD"]);
  const dirty = git(root, ["status", "--porcelain", "--", ":!bench/results"]) !== "";
  const now = new Date();
  const name = reportFileName(now, commit);
  const resultsDir = join(root, "bench", "results");
  const path = join(resultsDir, name);
  const report: BenchReport = mergeReports(readReportFile(path), {
    commit,
    dirty,
    date: now.toISOString(),
    machine: thisMachine(),
    suites: runs,
    figures: [...recordedFigures()],
  });
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  console.log(
    `\nreport: bench/results/${name} (${report.figures.length} figures${dirty ? ", uncommitted changes in the worktree" : ""})`,
  );
  if (compare) {
    const previous = previousCommittedReport(root, name);
    if (previous === undefined) console.log("no earlier committed report to compare with");
    else console.log(compareReports(previous.report, report).join("\n"));
  }
}
