/**
 * Device-runtime figures, each measured in a fresh child process so that the numbers are the
 * device's own and not the bench runner's: time from process start to a usable lock (first
 * start, which sets up the store, and a restart), resident memory idle, and during a burst of
 * 1,000 audit events (door contact changes, each committed to SQLite on disk). The fleet link
 * is off here (edge does not ship a broker); key-press-to-display latency on the virtual
 * Johnny-Five board is in simulators/bench/runtime.bench.ts.
 */

import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { recordFigure } from "../../scripts/bench-figures.js";

function mib(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

async function provisionBenchDevice(dataDir: string): Promise<Buffer> {
  const { writeUnlinkedDevice } = await import("../src/runtime/unlinked-device.js");
  const kek = randomBytes(32);
  writeUnlinkedDevice(
    dataDir,
    {
      deviceId: "lock-bench-1",
      org: "bank-bench",
      containerId: "safe-bench",
      timeZone: "Europe/Berlin",
      profile: "virtual",
    },
    kek,
  );
  return kek;
}

/**
 * The child, as plain JavaScript so that the same code measures the TypeScript sources (through
 * tsx, as in a clone) and the build (plain node, as on the device). `RUNTIME_URL` is replaced.
 */
const CHILD_SCRIPT = `
const [dataDir, kekText] = process.argv.slice(2);
const beforeImport = performance.now();
const { DeviceRuntime } = await import(RUNTIME_URL);
const importMs = performance.now() - beforeImport;
class BenchHardware {
  profileId = "virtual";
  listeners = new Map();
  on(event, listener) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(listener);
    return () => this.listeners.get(event).delete(listener);
  }
  emit(event, ...args) { for (const listener of this.listeners.get(event) ?? []) listener(...args); }
  readInputs() { return { door: false, bolt: "thrown", tamper: false }; }
  driveBolt(position) { setTimeout(() => this.emit("bolt", position), 5); }
  display() {}
  buzzer() {}
  pulseSilentAlarm() {}
  async selfTest(deviceId) { return { deviceId, at: new Date().toISOString(), hardwareProfile: "virtual", parts: [] }; }
  async close() {}
}
const hardware = new BenchHardware();
const beforeStart = performance.now();
const runtime = await DeviceRuntime.start({ dataDir, kek: Buffer.from(kekText, "base64url"), hardware, mqtt: { enabled: false } });
const startMs = performance.now() - beforeStart;
const readyMs = performance.now();
await new Promise((resolve) => setTimeout(resolve, 2000));
const idleRss = process.memoryUsage().rss;
const headBefore = runtime.store.auditHead().seq;
let peak = process.memoryUsage().rss;
const burstStart = performance.now();
let open = false;
while (runtime.store.auditHead().seq - headBefore < 1000) {
  for (let i = 0; i < 25; i += 1) { open = !open; hardware.emit("door", open); }
  peak = Math.max(peak, process.memoryUsage().rss);
  await new Promise((resolve) => setImmediate(resolve));
}
const burstMs = performance.now() - burstStart;
await new Promise((resolve) => setTimeout(resolve, 200));
peak = Math.max(peak, process.memoryUsage().rss);
const burstEvents = runtime.store.auditHead().seq - headBefore;
await runtime.stop();
process.send({ importMs, startMs, readyMs, idleRss, peak, burstEvents, burstMs });
`;

interface RawFigures {
  importMs: number;
  startMs: number;
  readyMs: number;
  idleRss: number;
  peak: number;
  burstEvents: number;
  burstMs: number;
}

function runChild(
  script: string,
  execArgv: string[],
  dataDir: string,
  kek: Buffer,
): Promise<RawFigures> {
  return new Promise((resolve, reject) => {
    const worker = fork(script, [dataDir, kek.toString("base64url")], {
      execArgv,
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    let figures: RawFigures | undefined;
    worker.on("message", (message) => {
      figures = message as RawFigures;
    });
    worker.on("error", reject);
    worker.on("exit", (code) => {
      if (figures !== undefined) resolve(figures);
      else reject(new Error(`E_BENCH: runtime bench child exited with ${code}`));
    });
  });
}

function report(label: string, first: RawFigures, restart: RawFigures): void {
  const name = `device runtime, ${label.startsWith("build") ? "built" : "sources through tsx"}`;
  recordFigure(`${name}: start to ready, restart`, "ms", restart.readyMs, "lower");
  recordFigure(`${name}: resident memory idle`, "MiB", mib(restart.idleRss), "lower");
  recordFigure(
    `${name}: resident memory peak, 1,000 audit events`,
    "MiB",
    mib(restart.peak),
    "lower",
  );
  const ms = (value: number) => `${value.toFixed(0)} ms`;
  console.log(`device runtime, ${label} (fake hardware, fleet link off, SQLite on disk):`);
  console.log(
    `  start-up to ready, first start: ${ms(first.readyMs)} from process start (imports ${ms(first.importMs)}, DeviceRuntime.start incl. store set-up ${ms(first.startMs)})`,
  );
  console.log(
    `  start-up to ready, restart:     ${ms(restart.readyMs)} from process start (imports ${ms(restart.importMs)}, DeviceRuntime.start ${ms(restart.startMs)})`,
  );
  console.log(`  resident memory idle:           ${mib(restart.idleRss)} MiB`);
  console.log(
    `  resident memory, ${restart.burstEvents} audit events: peak ${mib(restart.peak)} MiB (burst ${ms(restart.burstMs)}, ${Math.round((restart.burstEvents / restart.burstMs) * 1000)} events/s)`,
  );
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "lockfleet-runtime-bench-"));
  try {
    const here = dirname(fileURLToPath(import.meta.url));
    const variants: Array<{ label: string; url: string; execArgv: string[] }> = [
      {
        label: "TypeScript sources through tsx",
        url: pathToFileURL(join(here, "../src/runtime/device-runtime.ts")).href,
        execArgv: ["--conditions=@lockfleet/source", "--import", "tsx"],
      },
    ];
    const built = join(here, "../dist/runtime/device-runtime.js");
    if (existsSync(built)) {
      variants.push({
        label: "build (dist), plain node as on the device",
        url: pathToFileURL(built).href,
        execArgv: [],
      });
    } else {
      console.log("device runtime: no build (npm run build) — build figures skipped");
    }
    for (const [index, variant] of variants.entries()) {
      const script = join(dir, `child-${index}.mjs`);
      writeFileSync(script, CHILD_SCRIPT.replace("RUNTIME_URL", JSON.stringify(variant.url)));
      const dataDir = join(dir, `data-${index}`);
      const kek = await provisionBenchDevice(dataDir);
      const first = await runChild(script, variant.execArgv, dataDir, kek);
      const restart = await runChild(script, variant.execArgv, dataDir, kek);
      report(variant.label, first, restart);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
