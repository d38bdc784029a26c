/**
 * Audit-store figures on real files (SQLite, WAL, synchronous=FULL): audit appends per second,
 * the open time of a 1,000,000-event log (clean, after a crash from the last checkpoint, and
 * after a crash verifying the whole chain), and the resident memory of a lock-core process
 * working on that log.
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatInstant } from "@lockfleet/protocol";
import Database from "better-sqlite3";
import { recordFigure } from "../../scripts/bench-figures.js";
import { SCHEMA_VERSION } from "../src/store/migrations.js";
import { SqliteLockStore } from "../src/store/sqlite-store.js";

const DEVICE = "bench-1";
const MILLION = 1_000_000;
const START = Date.parse("2026-11-23T08:00:00.000Z");
const here = dirname(fileURLToPath(import.meta.url));
/** The 1,000,000-event log is built once and kept between bench runs (rebuilt when unusable). */
const CACHE_DIR = join(tmpdir(), "lockfleet-bench");
const MILLION_LOG = join(CACHE_DIR, `audit-1m-v${SCHEMA_VERSION}.sqlite`);

function event(index: number) {
  return {
    at: START + index * 1000,
    kind: "code.accepted" as const,
    actor: `p-${index % 100}`,
    data: { slot: index % 100, via: "code", round: 1, given: 1, required: 2 },
  };
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function appendsPerSecond(dir: string): Promise<void> {
  const store = SqliteLockStore.open(join(dir, "appends.sqlite"), DEVICE);
  const budgetMs = 3000;
  let appended = 0;
  let started = process.hrtime.bigint();
  while (ms(started) < budgetMs) {
    store.commit({ events: [event(appended)] });
    appended += 1;
  }
  const single = appended / (ms(started) / 1000);
  appended = 0;
  started = process.hrtime.bigint();
  while (ms(started) < budgetMs) {
    store.commit({
      sections: { penalty: { consecutiveWrong: appended % 4, lockouts: 0 } },
      events: Array.from({ length: 5 }, (_, index) => event(appended + index)),
    });
    appended += 5;
  }
  const batched = appended / (ms(started) / 1000);
  store.close();
  recordFigure(
    "audit store: appends, one record per commit (synchronous=FULL)",
    "appends/s",
    single,
    "higher",
  );
  recordFigure(
    "audit store: appends, 5 records + state per commit",
    "appends/s",
    batched,
    "higher",
  );
  console.log(
    `audit store: ${Math.round(single)} appends/s, one record per commit (SQLite WAL, synchronous=FULL, fsync each)`,
  );
  console.log(
    `audit store: ${Math.round(batched)} appends/s, 5 records + a state section per commit (a typical unit of work)`,
  );
}

function usableMillionLog(): boolean {
  if (!existsSync(MILLION_LOG)) return false;
  try {
    const store = SqliteLockStore.open(MILLION_LOG, DEVICE);
    const head = store.auditHead().seq;
    store.close();
    return head === MILLION;
  } catch {
    return false;
  }
}

/** Through the store itself, in commits of 10,000 records, with a signed-format checkpoint at the end. */
function buildMillionLog(): number {
  rmSync(MILLION_LOG, { force: true });
  rmSync(`${MILLION_LOG}-wal`, { force: true });
  rmSync(`${MILLION_LOG}-shm`, { force: true });
  const started = process.hrtime.bigint();
  const store = SqliteLockStore.open(MILLION_LOG, DEVICE);
  const batch = 10_000;
  for (let from = 0; from < MILLION; from += batch) {
    store.commit({ events: Array.from({ length: batch }, (_, index) => event(from + index)) });
  }
  const head = store.auditHead();
  store.saveCheckpoint({
    deviceId: DEVICE,
    seq: head.seq - 1000,
    headHash: store.auditRange(head.seq - 1000, head.seq - 1000)[0]?.hash ?? "",
    at: formatInstant(START),
    keyId: `${DEVICE}-k1`,
    signature: "bm90LWNoZWNrZWQtaW4tdGhlLWJlbmNo",
  });
  store.close();
  return ms(started);
}

function markUnclean(path: string, dropCheckpoints: boolean): void {
  const db = new Database(path);
  try {
    db.prepare("UPDATE meta SET value = '0' WHERE key = 'clean_shutdown'").run();
    if (dropCheckpoints) db.prepare("DELETE FROM checkpoints").run();
  } finally {
    db.close();
  }
}

function timedOpen(path: string): { openMs: number; clean: boolean } {
  const started = process.hrtime.bigint();
  const store = SqliteLockStore.open(path, DEVICE);
  const openMs = ms(started);
  const clean = store.previousShutdownWasClean;
  store.close();
  return { openMs, clean };
}

/** Resident memory of a separate process running only a lock core on the log (no bench around it). */
function coreProcessMemory(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--conditions=@lockfleet/source",
        "--import",
        "tsx",
        "--expose-gc",
        join(here, "core-memory.ts"),
        path,
        DEVICE,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    let errors = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      errors += chunk;
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code === 0) resolve(output.trim());
      else reject(new Error(`core-memory.ts failed: ${errors}`));
    });
  });
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "lockfleet-bench-audit-"));
  try {
    console.log(`audit store: files in ${tmpdir()}`);
    await appendsPerSecond(dir);
    mkdirSync(CACHE_DIR, { recursive: true });
    if (usableMillionLog()) {
      console.log(`audit store: reusing the 1,000,000-event log ${MILLION_LOG}`);
    } else {
      const buildMs = buildMillionLog();
      console.log(
        `audit store: built a 1,000,000-event log in ${(buildMs / 1000).toFixed(1)} s (${Math.round(MILLION / (buildMs / 1000))} appends/s in commits of 10,000)`,
      );
    }
    const copy = join(dir, "million.sqlite");
    copyFileSync(MILLION_LOG, copy);
    const clean = timedOpen(copy);
    recordFigure("audit store: open a 1,000,000-event log, clean", "ms", clean.openMs, "lower");
    console.log(
      `audit store: open of a 1,000,000-event log after a clean shutdown: ${clean.openMs.toFixed(0)} ms`,
    );
    markUnclean(copy, false);
    const fromCheckpoint = timedOpen(copy);
    recordFigure(
      "audit store: open after a crash, from the last checkpoint",
      "ms",
      fromCheckpoint.openMs,
      "lower",
    );
    console.log(
      `audit store: open after a crash, chain verified from the last checkpoint (1,000 records): ${fromCheckpoint.openMs.toFixed(0)} ms`,
    );
    markUnclean(copy, true);
    const whole = timedOpen(copy);
    recordFigure(
      "audit store: open after a crash, whole 1,000,000-record chain",
      "s",
      whole.openMs / 1000,
      "lower",
    );
    console.log(
      `audit store: open after a crash without a checkpoint, whole 1,000,000-record chain verified: ${(whole.openMs / 1000).toFixed(1)} s`,
    );
    console.log(`lock core: ${await coreProcessMemory(copy)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
