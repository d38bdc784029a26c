/**
 * The edge's benchmarks (`npm run bench edge`): figures, not pass/fail. Each suite exports
 * `run()`; add a suite with one line below.
 */
const suites: Array<() => Promise<{ run: () => Promise<void> }>> = [
  () => import("./audit-store.bench.js"),
  () => import("./lock-core.bench.js"),
  () => import("./runtime.bench.js"),
];

export async function run(): Promise<void> {
  for (const suite of suites) await (await suite()).run();
}
