/**
 * `npm run bench`: every package's benchmarks in turn, printing figures (no pass/fail —
 * speed goals are read from these numbers, never asserted in tests).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const suites = [
  "protocol/bench/index.ts",
  "edge/bench/index.ts",
  "fleet/bench/index.ts",
  "simulators/bench/index.ts",
];
const only = process.argv[2];

for (const suite of suites) {
  if (only !== undefined && !suite.startsWith(only)) continue;
  const file = join(root, suite);
  if (!existsSync(file)) continue;
  console.log(`\n== ${suite}`);
  const module = (await import(pathToFileURL(file).href)) as { run: () => Promise<void> };
  await module.run();
}
