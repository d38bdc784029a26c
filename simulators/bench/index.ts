/**
 * The simulators' benchmarks (`npm run bench simulators`): figures, not pass/fail. Each suite
 * exports `run()`; add a suite with one line below.
 */
const suites: Array<() => Promise<{ run: () => Promise<void> }>> = [
  () => import("./runtime.bench.js"),
  () => import("./load.bench.js"),
];

export async function run(): Promise<void> {
  for (const suite of suites) await (await suite()).run();
}
