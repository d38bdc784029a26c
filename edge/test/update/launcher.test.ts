/**
 * The launcher outside both slots: it starts whatever `current` points to, and a trial version
 * that dies before it can confirm its health is rolled back after MAX_TRIAL_BOOTS starts —
 * by code that is in neither slot. Real processes, real files.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import {
  currentSlot,
  initInstallRoot,
  installPaths,
  MAX_TRIAL_BOOTS,
  pointCurrent,
  readUpdateState,
  reconcileBoot,
  writeUpdateState,
} from "../../src/update/install-layout.js";
import { launch, parseLauncherArgs } from "../../src/update/launcher.js";

const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), "lockfleet-launcher-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function entry(slot: "a" | "b", script: string): void {
  const dir = join(installPaths(root).slot(slot), "bin");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "start.mjs"), script);
}

describe("the launcher", () => {
  initInstallRoot(root);
  entry(
    "a",
    "if (process.argv.includes('run')) process.stdout.write('a ' + process.argv.slice(2).join(' '));\n",
  );
  entry("b", "process.exit(3);\n");

  it("runs the current slot's entry with its arguments and the install root", async () => {
    const launcher = fileURLToPath(new URL("../../src/update/launcher.ts", import.meta.url));
    const { stdout } = await run(process.execPath, [
      "--import",
      "tsx",
      launcher,
      "--install-root",
      root,
      "--entry",
      "bin/start.mjs",
      "--",
      "run",
      "--data",
      "/tmp/d",
    ]);
    expect(stdout).toBe(`a run --data /tmp/d --install-root ${root}`);
  });

  it("a trial version that dies before it confirms its health is rolled back after three starts", async () => {
    writeUpdateState(root, {
      phase: "trial",
      releaseId: "rel-2",
      version: "2.0.0",
      fromSlot: "a",
      toSlot: "b",
      bootAttempts: 0,
    });
    pointCurrent(root, "b");
    const plan = parseLauncherArgs(["--install-root", root, "--entry", "bin/start.mjs"]);
    const quiet = () => true;
    for (let start = 1; start <= MAX_TRIAL_BOOTS; start += 1) {
      expect(await launch(plan, quiet)).toBe(3);
      expect(readUpdateState(root).bootAttempts).toBe(start);
      expect(currentSlot(root)).toBe("b");
    }
    // The next start goes back to the version that ran before.
    expect(await launch(plan, quiet)).toBe(0);
    expect(currentSlot(root)).toBe("a");
    const state = readUpdateState(root);
    expect(state.phase).toBe("rolledBack");
    expect(state.code).toBe("E_UPDATE_UNHEALTHY");
    expect(state.recorded).toBe(false);
  });

  it("a damaged state file is not a reason to change slots", () => {
    writeFileSync(installPaths(root).state, "{not json");
    const decision = reconcileBoot(root);
    expect(decision.slot).toBe("a");
    expect(decision.state.phase).toBe("idle");
    expect(decision.state.code).toBe("E_UPDATE_STATE");
  });

  it("a launcher without its options says what it needs", () => {
    expect(() => parseLauncherArgs(["--entry", "x"])).toThrow(/E_USAGE/);
  });
});
