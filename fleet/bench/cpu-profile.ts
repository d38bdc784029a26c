/**
 * A CPU profile of one phase of a benchmark, in the fleet's own process, written as a
 * `.cpuprofile` (Chrome DevTools, speedscope) when LOCKFLEET_BENCH_CPU_PROFILE names a folder,
 * and summarised on the console: the functions that took the most time of their own.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

/** Runs `phase`, profiled when LOCKFLEET_BENCH_CPU_PROFILE is set; returns what it returned. */
export async function profiled<T>(name: string, phase: () => Promise<T>): Promise<T> {
  const dir = process.env.LOCKFLEET_BENCH_CPU_PROFILE;
  if (dir === undefined || dir === "") return phase();
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 500 });
  await session.post("Profiler.start");
  try {
    return await phase();
  } finally {
    const { profile } = (await session.post("Profiler.stop")) as { profile: Profile };
    session.disconnect();
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${name}-${Date.now()}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    console.log(`  CPU profile of ${name}: ${file}`);
    for (const line of summarise(profile, 15)) console.log(`    ${line}`);
  }
}

/** The `top` functions by their own time, with their share of the samples. */
export function summarise(profile: Profile, top: number): string[] {
  const hits = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const count = node.hitCount ?? 0;
    if (count === 0) continue;
    total += count;
    const { functionName, url, lineNumber } = node.callFrame;
    const where =
      url === "" ? "" : ` ${url.replace(/^.*\/(node_modules|src)\//, "$1/")}:${lineNumber + 1}`;
    const key = `${functionName === "" ? "(anonymous)" : functionName}${where}`;
    hits.set(key, (hits.get(key) ?? 0) + count);
  }
  return [...hits]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, count]) => `${((count / total) * 100).toFixed(1).padStart(5)} %  ${key}`);
}
