/**
 * Key press to display update on the virtual Johnny-Five board: the whole device path — the
 * I2C keypad backpack read by Johnny-Five, the device runtime, the lock core committing the
 * key to SQLite, the LCD driver writing the HD44780 over I2C. Figure per key press: time from
 * the key going down to the LCD write after which the display shows the new text.
 */

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DeviceRuntime, openHardware, writeUnlinkedDevice } from "@lockfleet/edge";
import { getProfile, type HardwareProfile } from "@lockfleet/hardware-profiles";
import { recordFigure } from "../../scripts/bench-figures.js";
import { createVirtualBoard } from "../src/virtual-board/virtual-board.js";

const PRESSES = 100;

function provisionBenchDevice(dataDir: string): Buffer {
  const kek = randomBytes(32);
  writeUnlinkedDevice(
    dataDir,
    {
      deviceId: "lock-bench-keys",
      org: "bank-bench",
      containerId: "safe-bench",
      timeZone: "Europe/Berlin",
      profile: "virtual",
    },
    kek,
  );
  return kek;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "lockfleet-keys-bench-"));
  const found = getProfile("virtual");
  if (!found.ok) throw new Error(found.error.message);
  const profile = found.value as HardwareProfile;
  const board = createVirtualBoard(profile);
  const dataDir = join(dir, "data");
  const kek = provisionBenchDevice(dataDir);
  const runtime = await DeviceRuntime.start({
    dataDir,
    kek,
    hardware: await openHardware(profile, { io: board.io }),
    mqtt: { enabled: false },
  });
  const displayAddress = profile.parts.display?.address;
  const writes: number[] = [];
  board.io.on("i2c-write", (write: { address: number }) => {
    if (write.address === displayAddress) writes.push(performance.now());
  });
  const latencies: number[] = [];
  try {
    for (let i = 0; i < PRESSES; i += 1) {
      // A digit shows a '*'; the '*' key then clears the entry again: each press changes the LCD.
      const key = i % 2 === 0 ? String(i % 10) : "*";
      const before = board.lcdLines().join("|");
      writes.length = 0;
      const pressed = performance.now();
      const release = board.pressKey(key);
      let firstChange: number | undefined;
      while (firstChange === undefined && performance.now() - pressed < 1000) {
        await new Promise((resolve) => setImmediate(resolve));
        if (board.lcdLines().join("|") !== before) firstChange = writes.at(-1) ?? performance.now();
      }
      await release;
      await new Promise((resolve) => setTimeout(resolve, 30));
      if (firstChange !== undefined) latencies.push(firstChange - pressed);
    }
  } finally {
    await runtime.stop();
    board.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  recordFigure(
    "key press to display update, virtual board: median",
    "ms",
    percentile(sorted, 50),
    "lower",
  );
  recordFigure(
    "key press to display update, virtual board: p95",
    "ms",
    percentile(sorted, 95),
    "lower",
  );
  console.log(
    `key press to display update on the virtual board (${latencies.length} of ${PRESSES} presses): median ${percentile(sorted, 50).toFixed(1)} ms, p95 ${percentile(sorted, 95).toFixed(1)} ms, max ${(sorted.at(-1) ?? Number.NaN).toFixed(1)} ms`,
  );
}
