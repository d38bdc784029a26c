import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  renderTable,
  replaceTable,
  TABLE_END,
  TABLE_START,
  updateReadme,
} from "../bench-readme.js";
import { type BenchReport, compareReports, mergeReports, readReport } from "../bench-report.js";

const samplePath = join(dirname(fileURLToPath(import.meta.url)), "fixtures/sample-report.json");
const sample = readReport(readFileSync(samplePath, "utf8"), samplePath);
const dir = mkdtempSync(join(tmpdir(), "lockfleet-bench-readme-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("README performance table", () => {
  it("is rewritten between the markers from the report, the rest of the README untouched", () => {
    const readme = join(dir, "README.md");
    writeFileSync(readme, `# title\n\nbefore\n${TABLE_START}\nold table\n${TABLE_END}\nafter\n`);
    updateReadme(readme, samplePath, "bench/results/sample.json");
    const text = readFileSync(readme, "utf8");
    expect(text.startsWith(`# title\n\nbefore\n${TABLE_START}\n`)).toBe(true);
    expect(text.endsWith(`\n${TABLE_END}\nafter\n`)).toBe(true);
    expect(text).not.toContain("old table");
    expect(text).toContain("| fleet | reconnect storm, embedded broker, all back | 9.50 s |");
    expect(text).toContain("| fleet | audit ingest | 51,235 records/s |");
    // A `|` in a figure's name must not split the table's row.
    expect(text).toContain("| fleet | a \\| in a name | 12.3 |");
    expect(text).toContain("commit 0123456789");
    expect(text).toContain("2 × Sample CPU, 8 GiB, Node v20.19.0");
    expect(text).toContain("load average during the runs 1.5–3.3");
  });

  it("a second rewrite gives the same README (the markers stay)", () => {
    const table = renderTable(sample, "x.json");
    const once = replaceTable(`a\n${TABLE_START}\n${TABLE_END}\nb`, table);
    expect(replaceTable(once, table)).toBe(once);
  });

  it("refuses a README without markers with a coded error", () => {
    expect(() => replaceTable("# no markers", "table")).toThrow(/E_BENCH_README/);
  });

  it("refuses a file that is not a report", () => {
    expect(() => readReport('{"figures": []}', "bad.json")).toThrow(/E_BENCH_REPORT/);
  });
});

describe("benchmark reports", () => {
  const later = (values: Record<string, number>, suite = "fleet/bench/index.ts"): BenchReport => ({
    ...sample,
    date: "2026-12-02T11:00:00.000Z",
    suites: [{ ...(sample.suites[0] as BenchReport["suites"][number]), suite }],
    figures: Object.entries(values).map(([figure, value]) => ({
      figure,
      value,
      unit: "s",
      better: "lower" as const,
      suite,
    })),
  });

  it("a run of one suite adds to the same commit's report, replacing only what it measured", () => {
    const merged = mergeReports(
      sample,
      later({ "audit ingest": 60_000, "edge idle": 70 }, "edge/bench/index.ts"),
    );
    expect(merged.figures.map((figure) => [figure.figure, figure.value])).toEqual([
      ["reconnect storm, embedded broker, all back", 9.5],
      ["a | in a name", 12.34],
      ["audit ingest", 60_000],
      ["edge idle", 70],
    ]);
    expect(merged.suites.map((run) => run.suite)).toEqual([
      "fleet/bench/index.ts",
      "edge/bench/index.ts",
    ]);
    // The same suite run again (another lock count) keeps both runs' settings and load.
    expect(mergeReports(sample, later({ x: 1 })).suites).toHaveLength(2);
    expect(mergeReports({ ...sample, commit: "other" }, later({ x: 1 })).figures).toHaveLength(1);
  });

  it("a comparison says which way each figure moved", () => {
    const lines = compareReports(
      sample,
      later({ "reconnect storm, embedded broker, all back": 8.5, "a | in a name": 12.4, fresh: 1 }),
    );
    expect(lines).toContain(
      "  reconnect storm, embedded broker, all back: 9.50 s → 8.50 s (-10.5 %, better)",
    );
    expect(lines).toContain("  a | in a name: 12.3 → 12.4 s (+0.5 %, same)");
    expect(lines).toContain("  fresh: 1 s (new)");
    expect(lines).toContain("  not measured in this run: 1 figures (fleet)");
  });
});
