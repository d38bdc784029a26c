/**
 * Lock-core figures: complete dual-control openings per second (keys, release, door, relock,
 * every audit record committed) and the resident memory of a core with 100 users.
 */

import { recordFigure } from "../../scripts/bench-figures.js";
import {
  type FactorySetup,
  generateDeviceIdentity,
  LockHarness,
  ManualClock,
  MemoryLockStore,
} from "../src/index.js";
import { dualControlOpenings } from "./dual-control-openings.js";

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

export async function run(): Promise<void> {
  const users: FactorySetup["users"] = Array.from({ length: 100 }, (_, index) => ({
    slot: index,
    personId: `p-${index}`,
    role: "user" as const,
    enabled: true,
    code: String(10_000_000 + index * 7919).slice(0, 8),
  }));
  users[0] = {
    ...users[0],
    slot: 0,
    personId: "p-0",
    role: "manager",
    enabled: true,
    code: "80000000",
  } as NonNullable<FactorySetup["users"]>[number];
  const clock = new ManualClock(Date.parse("2026-11-23T08:00:00Z"));
  const lock = new LockHarness({
    store: new MemoryLockStore("bench-1"),
    identity: generateDeviceIdentity("bench-1", "bank-bench"),
    clock,
    factory: { timeZone: "Europe/Berlin", policy: { timeDelayMin: 0 }, users },
  });
  const cycles = 2000;
  const started = process.hrtime.bigint();
  dualControlOpenings(lock, users, cycles);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  recordFigure(
    "lock core: dual-control openings (in-memory store)",
    "openings/s",
    cycles / seconds,
    "higher",
  );
  console.log(
    `lock core: ${Math.round(cycles / seconds)} complete dual-control openings/s (in-memory store)`,
  );
  globalThis.gc?.();
  const usage = process.memoryUsage();
  console.log(
    `lock core: rss ${mib(usage.rss)} MiB, heap used ${mib(usage.heapUsed)} MiB with 100 users after ${cycles} openings`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
