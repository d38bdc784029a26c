/**
 * The figures a benchmark run measured, collected for the report `scripts/bench.ts` writes to
 * `bench/results/`. A benchmark prints its figure for a person and records it here for the
 * next run to compare with; recording is a no-op cost, so a suite run on its own (outside
 * `npm run bench`) simply leaves them unread.
 */

export interface Figure {
  /** What was measured, stable from run to run: the key a comparison matches on. */
  figure: string;
  unit: string;
  value: number;
  /** The suite that measured it (`fleet/bench/index.ts`), set by the runner. */
  suite?: string;
  /** Whether a larger value is better (throughput) or worse (latency, memory); for --compare. */
  better: "higher" | "lower";
}

const recorded: Figure[] = [];
let currentSuite: string | undefined;

/** Keep one figure; a figure measured twice in one run keeps its last value. */
export function recordFigure(
  figure: string,
  unit: string,
  value: number,
  better: Figure["better"],
): void {
  if (!Number.isFinite(value)) return;
  const existing = recorded.findIndex((item) => item.figure === figure);
  const entry: Figure = { figure, unit, value, better };
  if (currentSuite !== undefined) entry.suite = currentSuite;
  if (existing >= 0) recorded.splice(existing, 1, entry);
  else recorded.push(entry);
}

export function startSuite(suite: string): void {
  currentSuite = suite;
}

export function recordedFigures(): readonly Figure[] {
  return recorded;
}
