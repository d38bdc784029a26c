/**
 * `npm run soak -- --minutes N [--seed S] [--data DIR]`: the demo world under random faults
 * for N minutes, then a consistency report (simulators/src/soak/soak.ts). Not part of
 * `npm test`. Exit code 0 when consistent, 1 when not, 2 for bad arguments.
 */
import { parseArgs } from "node:util";
import { formatSoakReport, runSoak } from "../simulators/src/soak/soak.js";

const USAGE = "usage: npm run soak -- --minutes N [--seed S] [--data DIR]";

function positive(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`E_USAGE: --${name} takes a positive number (got "${text}")\n${USAGE}`);
    process.exit(2);
  }
  return value;
}

let values: { minutes?: string; seed?: string; data?: string };
try {
  ({ values } = parseArgs({
    options: { minutes: { type: "string" }, seed: { type: "string" }, data: { type: "string" } },
    strict: true,
  }));
} catch (error) {
  console.error(`E_USAGE: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  process.exit(2);
}
const minutes = positive(values.minutes, "minutes") ?? 5;
const seed = positive(values.seed, "seed");
const report = await runSoak({
  minutes,
  ...(seed === undefined ? {} : { seed }),
  ...(values.data === undefined ? {} : { dataDir: values.data }),
  say: (line) => console.log(line),
});
console.log(formatSoakReport(report));
process.exit(report.consistent ? 0 : 1);
