import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CliIo, main } from "../../src/cli.js";
import { SqliteLockStore } from "../../src/store/sqlite-store.js";
import { FakeHardware } from "./fake-hardware.js";
import { TestFleet } from "./test-fleet.js";

const run = promisify(execFile);
const BIN = join(import.meta.dirname, "../../bin/lockfleet-edge.js");

let dir: string;
let fleet: TestFleet;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "lockfleet-cli-"));
  fleet = new TestFleet({ brokerUrl: "mqtt://127.0.0.1:1" });
  await fleet.listen();
});

afterEach(async () => {
  await fleet.close();
  rmSync(dir, { recursive: true, force: true });
});

function io(overrides: Partial<CliIo> & { input?: string } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo = {
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    readLine: async () => overrides.input ?? "",
    env: {},
    ...overrides,
  };
  return { cli, out: () => out.join(""), err: () => err.join("") };
}

const common = () => ["--data", join(dir, "data"), "--kek-file", join(dir, "kek")];

describe("lockfleet-edge command line", () => {
  it("provision reads the token from stdin with --token - and status shows the device", async () => {
    const p = io({ input: `${fleet.token()}\n` });
    const code = await main(
      ["provision", "--fleet", fleet.url, "--token", "-", "--profile", "virtual", ...common()],
      p.cli,
    );
    expect(p.err()).toBe("");
    expect(code).toBe(0);
    const deviceId = fleet.enrolled[0]?.deviceId ?? "missing";
    expect(p.out()).toContain(`provisioned ${deviceId}`);
    const s = io();
    expect(await main(["status", "--json", ...common()], s.cli)).toBe(0);
    expect(JSON.parse(s.out())).toMatchObject({ provisioned: true, deviceId, profile: "virtual" });
  });

  it("a second provision is refused with E_ALREADY_PROVISIONED and exit code 1", async () => {
    await main(
      [
        "provision",
        "--fleet",
        fleet.url,
        "--token",
        fleet.token(),
        "--profile",
        "virtual",
        ...common(),
      ],
      io().cli,
    );
    const again = io();
    const code = await main(
      [
        "provision",
        "--fleet",
        fleet.url,
        "--token",
        fleet.token(),
        "--profile",
        "virtual",
        ...common(),
      ],
      again.cli,
    );
    expect(code).toBe(1);
    expect(again.err()).toMatch(/^E_ALREADY_PROVISIONED: /);
  });

  it("missing arguments are a usage error (exit code 2)", async () => {
    const p = io();
    expect(await main(["provision", "--fleet", fleet.url, ...common()], p.cli)).toBe(2);
    expect(p.err()).toMatch(/^E_USAGE: provision needs/);
    const unknown = io();
    expect(await main(["frobnicate"], unknown.cli)).toBe(2);
    expect(unknown.err()).toMatch(/^E_USAGE: unknown command/);
  });

  it("run with a profile other than the provisioned one fails with E_PROFILE_MISMATCH", async () => {
    await main(
      [
        "provision",
        "--fleet",
        fleet.url,
        "--token",
        fleet.token(),
        "--profile",
        "virtual",
        ...common(),
      ],
      io().cli,
    );
    const p = io({ openHardware: async () => new FakeHardware("virtual") });
    expect(await main(["run", "--profile", "raspberry-pi", ...common()], p.cli)).toBe(1);
    expect(p.err()).toMatch(/^E_PROFILE_MISMATCH: /);
  });

  it("run starts the lock and stops cleanly on the stop signal", async () => {
    await main(
      [
        "provision",
        "--fleet",
        fleet.url,
        "--token",
        fleet.token(),
        "--profile",
        "virtual",
        ...common(),
      ],
      io().cli,
    );
    let stop: () => void = () => {};
    const hardware = new FakeHardware("virtual");
    const p = io({
      openHardware: async () => hardware,
      stopSignal: new Promise<void>((resolve) => {
        stop = resolve;
      }),
    });
    const running = main(["run", ...common()], p.cli);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hardware.display_[0]).toBe("ENTER CODE");
    stop();
    expect(await running).toBe(0);
    expect(hardware.closed).toBe(true);
    expect(p.out()).toContain('"msg":"lock started"');
  });

  it("selftest prints each part, records the report in the audit trail and exits 1 when a part is faulty", async () => {
    await main(
      [
        "provision",
        "--fleet",
        fleet.url,
        "--token",
        fleet.token(),
        "--profile",
        "virtual",
        ...common(),
      ],
      io().cli,
    );
    const hardware = new FakeHardware("virtual");
    hardware.selfTestParts = [
      { part: "keypad", result: "ok" },
      { part: "buzzer", result: "fault", detail: "no sound" },
    ];
    const p = io({ openHardware: async () => hardware });
    expect(await main(["selftest", "--profile", "virtual", ...common()], p.cli)).toBe(1);
    expect(p.out()).toMatch(/keypad\s+ok/);
    expect(p.out()).toMatch(/buzzer\s+fault\s+no sound/);
    expect(p.out()).toContain("recorded in the audit trail");
    const deviceId = fleet.enrolled[0]?.deviceId ?? "";
    const store = SqliteLockStore.open(join(dir, "data", "lock.sqlite"), deviceId);
    const records = store.auditRange(1, store.auditHead().seq);
    store.close();
    expect(records.find((r) => r.kind === "selfTest.completed")?.data.parts).toEqual(
      hardware.selfTestParts,
    );
  });

  it("factory-reset needs the master code", async () => {
    await main(
      [
        "provision",
        "--fleet",
        fleet.url,
        "--token",
        fleet.token(),
        "--profile",
        "virtual",
        ...common(),
      ],
      io().cli,
    );
    const wrong = io();
    expect(await main(["factory-reset", "--master-code", "00000000", ...common()], wrong.cli)).toBe(
      1,
    );
    expect(wrong.err()).toMatch(/^E_MASTER_CODE: /);
    const missing = io();
    expect(await main(["factory-reset", ...common()], missing.cli)).toBe(2);
    const right = io({ input: "12345678\n" });
    expect(await main(["factory-reset", "--master-code", "-", ...common()], right.cli)).toBe(0);
    const status = io();
    await main(["status", "--json", ...common()], status.cli);
    expect(JSON.parse(status.out()).provisioned).toBe(false);
  });

  it("the bin runs from the sources without a build and reports an unreachable fleet", async () => {
    const result = await run(process.execPath, [
      BIN,
      "provision",
      "--fleet",
      "http://127.0.0.1:9",
      "--token",
      "enr_0123456789abcdef",
      "--profile",
      "virtual",
      ...common(),
    ]).catch((error: { code: number; stderr: string }) => error);
    expect("code" in result ? result.code : 0).toBe(1);
    expect("stderr" in result ? result.stderr : "").toMatch(/^E_FLEET_UNREACHABLE: /);
  }, 20_000);
});
