/**
 * Child process of the audit-store bench: a lock core (100 users) on the SQLite log given,
 * 500 dual-control openings, then its resident memory.
 *
 *   node --conditions=@lockfleet/source --import tsx --expose-gc core-memory.ts FILE DEVICE_ID
 */
import { generateDeviceIdentity, LockHarness, ManualClock } from "../src/lock/harness.js";
import { SqliteLockStore } from "../src/store/sqlite-store.js";
import { dualControlOpenings } from "./dual-control-openings.js";

const [path, deviceId] = process.argv.slice(2);
if (path === undefined || deviceId === undefined) {
  throw new Error("usage: core-memory.ts FILE DEVICE_ID");
}
const users = Array.from({ length: 99 }, (_, index) => ({
  slot: index + 1,
  personId: `p-${index + 1}`,
  role: "user" as const,
  enabled: true,
  code: `${String(index + 1).padStart(2, "0")}907531`,
}));
const lock = new LockHarness({
  store: SqliteLockStore.open(path, deviceId),
  identity: generateDeviceIdentity(deviceId, "bank-bench"),
  clock: new ManualClock(Date.parse("2026-11-24T08:00:00.000Z")),
  factory: { timeZone: "Europe/Berlin", policy: { timeDelayMin: 0 }, users },
});
const openings = 500;
dualControlOpenings(lock, users, openings);
lock.core.shutdown();
globalThis.gc?.();
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const usage = process.memoryUsage();
process.stdout.write(
  `resident memory of a core process on the 1,000,000-event SQLite log: rss ${mib(usage.rss)} MiB, heap used ${mib(usage.heapUsed)} MiB (100 users, after ${openings} openings; tsx loader included)\n`,
);
