/**
 * `lockfleet-edge run --install-root`: an update installed beside the running version is
 * switched as soon as the lock is locked and idle, and the controller exits with 75 so that
 * the launcher starts the version `current` now points to. The switch is on record in the
 * lock's audit log, and a missing release-keys file does not keep the lock from running.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CliIo, main } from "../../src/cli.js";
import { SqliteLockStore } from "../../src/store/sqlite-store.js";
import {
  currentSlot,
  initInstallRoot,
  installPaths,
  RESTART_EXIT_CODE,
  readUpdateState,
  writeUpdateState,
} from "../../src/update/install-layout.js";
import { FakeHardware } from "../runtime/fake-hardware.js";
import { TestFleet } from "../runtime/test-fleet.js";

let dir: string;
let fleet: TestFleet;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "lockfleet-cli-update-"));
  fleet = new TestFleet({ brokerUrl: "mqtt://127.0.0.1:1" });
  await fleet.listen();
});
afterEach(async () => {
  await fleet.close();
  rmSync(dir, { recursive: true, force: true });
});

function io(overrides: Partial<CliIo> = {}): { cli: CliIo; out: () => string } {
  const out: string[] = [];
  return {
    cli: {
      stdout: (text) => out.push(text),
      stderr: (text) => out.push(text),
      readLine: async () => "",
      env: {},
      ...overrides,
    },
    out: () => out.join(""),
  };
}

describe("lockfleet-edge run with an install root", () => {
  it("switches an installed update while locked and idle, and exits 75 for the launcher", async () => {
    const common = ["--data", join(dir, "data"), "--kek-file", join(dir, "kek")];
    const provision = [
      "provision",
      "--fleet",
      fleet.url,
      "--token",
      fleet.token(),
      "--profile",
      "virtual",
    ];
    expect(await main([...provision, ...common], io().cli)).toBe(0);
    const root = join(dir, "install");
    initInstallRoot(root);
    mkdirSync(join(installPaths(root).slot("b"), "edge", "dist"), { recursive: true });
    writeFileSync(join(installPaths(root).slot("b"), "edge", "dist", "cli.js"), "");
    writeUpdateState(root, {
      phase: "installed",
      releaseId: "rel-2.0.0",
      version: "2.0.0",
      rolloutId: "ro-1",
      fromSlot: "a",
      toSlot: "b",
      fromVersion: "0.1.0",
    });
    const p = io({
      openHardware: async () => new FakeHardware("virtual"),
      stopSignal: new Promise<void>(() => {}),
    });
    const code = await main(
      ["run", ...common, "--install-root", root, "--release-keys", join(dir, "missing.json")],
      p.cli,
    );
    expect(code).toBe(RESTART_EXIT_CODE);
    expect(p.out()).toContain("no release keys: software updates are refused");
    expect(currentSlot(root)).toBe("b");
    expect(readUpdateState(root)).toMatchObject({ phase: "trial", bootAttempts: 0 });
    const store = SqliteLockStore.open(
      join(dir, "data", "lock.sqlite"),
      fleet.enrolled[0]?.deviceId ?? "",
    );
    try {
      const records = store.auditRange(1, store.auditHead().seq);
      const switched = records.find((record) => record.kind === "update.switched");
      expect(switched?.data).toMatchObject({ releaseId: "rel-2.0.0", version: "2.0.0", slot: "b" });
    } finally {
      store.close();
    }
  });
});
