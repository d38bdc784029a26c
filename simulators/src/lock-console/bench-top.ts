/**
 * A bench-top lock: a device set up without a fleet, as a technician has it on the bench
 * before enrolment (the edge's `writeUnlinkedDevice`: no command can reach it, its fleet link
 * is off). Two users are installed on the first start so that a person can open it at the
 * keypad: dual control without time delay (an enrolled lock takes its container's policy).
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type SeedUser, writeUnlinkedDevice } from "@lockfleet/edge";
import { DEFAULT_LOCK_POLICY } from "@lockfleet/protocol";

export const BENCH_ORG = "bench";
export const BENCH_TIME_ZONE = "Europe/Berlin";

/** The bench users (slot, role, code): documented in the README, never used on a real lock. */
export const BENCH_USERS: readonly SeedUser[] = [
  { slot: 1, personId: "p-bench-anna", role: "user", enabled: true, code: "11223344" },
  { slot: 2, personId: "p-bench-ben", role: "manager", enabled: true, code: "55667788" },
];

const KEK_FILE = "kek";
const BENCH_MARK = "bench-top.json";

/** The data directory's key-encryption key (created once, mode 0600). */
export function consoleKek(dataDir: string): Uint8Array {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, KEK_FILE);
  if (!existsSync(path)) writeFileSync(path, randomBytes(32), { mode: 0o600 });
  return new Uint8Array(readFileSync(path));
}

export function isBenchTop(dataDir: string): boolean {
  return existsSync(join(dataDir, BENCH_MARK));
}

/** Writes identity.json and config.json of a bench-top lock; returns its device id. */
export function setUpBenchTop(dataDir: string, profile: string, kek: Uint8Array): string {
  const deviceId = `lock-bench-${randomBytes(4).toString("hex")}`;
  writeUnlinkedDevice(
    dataDir,
    {
      deviceId,
      org: BENCH_ORG,
      containerId: "bench",
      timeZone: BENCH_TIME_ZONE,
      profile,
      policy: { ...DEFAULT_LOCK_POLICY, timeDelayMin: 0, duressDelayMin: 0 },
    },
    kek,
  );
  writeFileSync(join(dataDir, BENCH_MARK), `${JSON.stringify({ deviceId })}\n`, { mode: 0o600 });
  return deviceId;
}
