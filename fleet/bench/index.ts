/** `npm run bench` for the fleet: prints figures (see scripts/bench.ts). */
import { runDeviceBenchmarks } from "./devices.js";

export async function run(): Promise<void> {
  await runDeviceBenchmarks();
}
