/**
 * `lockfleet-sim scenario FILE.json` as a person runs it: the real launcher in a child
 * process, on the shipped example scenarios and on broken ones. The exit code and the first
 * line of stderr are what a CI pipeline of a bank's security team would look at.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type AuditRecord, verifyAuditChain } from "@lockfleet/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { runScenario } from "../../src/scenario/run-scenario.js";

const LAUNCHER = fileURLToPath(new URL("../../bin/lockfleet-sim.js", import.meta.url));
const SCENARIOS = fileURLToPath(new URL("../../scenarios/", import.meta.url));
const SHIPPED = ["dual-control-with-delay", "duress-opening", "penalty-and-time-lock"];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function lockfleetSim(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [LAUNCHER, ...args],
      { timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function auditLines(stdout: string): AuditRecord[] {
  return stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as AuditRecord);
}

const work = mkdtempSync(join(tmpdir(), "lockfleet-scenario-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let fileNumber = 0;
function scenarioFile(content: unknown): string {
  fileNumber += 1;
  const path = join(work, `scenario-${fileNumber}.json`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

/** A small valid scenario: one user, single control, no delay. */
function baseScenario(steps: unknown[]): Record<string, unknown> {
  return {
    lock: {
      timeZone: "Europe/Berlin",
      start: "2026-11-23T08:00:00Z",
      policy: { dualControl: "single", timeDelayMin: 0 },
      users: [{ slot: 1, personId: "p-anna-weber", role: "user", code: "11223344" }],
    },
    steps,
  };
}

describe("shipped example scenarios", () => {
  for (const name of SHIPPED) {
    it(`${name}.json passes and prints a gap-free, hash-chained audit log as JSON lines`, async () => {
      const run = await lockfleetSim("scenario", join(SCENARIOS, `${name}.json`));
      expect(run.stderr).toMatch(/^PASSED /);
      expect(run.code).toBe(0);
      const records = auditLines(run.stdout);
      expect(records.length).toBeGreaterThan(10);
      expect(records.map((record) => record.seq)).toEqual(records.map((_, index) => index + 1));
      expect(verifyAuditChain(records)).toBeUndefined();
    });
  }
});

describe("expectations", () => {
  it("a failed expectation exits 1 naming the step, the field, the wanted and the seen value", async () => {
    const scenario = JSON.parse(
      readFileSync(join(SCENARIOS, "dual-control-with-delay.json"), "utf8"),
    ) as { steps: unknown[] };
    // Step 7 expects the delay; a bank that believed in 4 minutes would be told otherwise.
    scenario.steps[6] = { expect: { display: ["TIME DELAY", "04:00"] } };
    const run = await lockfleetSim("scenario", scenarioFile(scenario));
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(
      'E_EXPECTATION: step 7 expected display ["TIME DELAY","04:00"], got ["TIME DELAY","05:00"]',
    );
    // Everything the lock recorded up to the failure is printed; nothing after it.
    const kinds = auditLines(run.stdout).map((record) => record.kind);
    expect(kinds.at(-1)).toBe("cycle.delayStarted");
    expect(kinds).not.toContain("cycle.windowOpened");
  });

  it("stops at the first failed expectation: later steps are not run", async () => {
    const run = await lockfleetSim(
      "scenario",
      scenarioFile(
        baseScenario([
          { expect: { bolt: "retracted" } },
          { keys: "01 11223344 #" },
          { expect: { bolt: "thrown" } },
        ]),
      ),
    );
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('E_EXPECTATION: step 1 expected bolt "retracted", got "thrown"');
    expect(auditLines(run.stdout).map((record) => record.kind)).not.toContain("code.accepted");
  });

  it("every expect field is checked: each wrong one fails on its own", async () => {
    // In-process through the library (the same runner the command line uses), to spare ten
    // child processes.
    const wrong: Record<string, unknown> = {
      bolt: "thrown",
      door: "open",
      cycle: "delay",
      display: "TIME DELAY",
      silentAlarm: true,
      buzzer: "alarm",
      alarms: ["tamper"],
      timeLocked: true,
      lastEvent: { kind: "door.opened" },
      events: ["door.opened"],
    };
    for (const [field, value] of Object.entries(wrong)) {
      const steps = [{ keys: "01 11223344 #" }, { advance: "1s" }];
      const right = await runScenario(baseScenario([...steps, { expect: { bolt: "retracted" } }]));
      expect(right.status, field).toBe("passed");
      const result = await runScenario(baseScenario([...steps, { expect: { [field]: value } }]));
      expect(result.status, field).toBe("failed");
      if (result.status === "failed") {
        expect(result.code, field).toBe("E_EXPECTATION");
        expect(result.message, field).toMatch(
          new RegExp(`^E_EXPECTATION: step 3 expected ${field === "events" ? "event" : field}`),
        );
      }
    }
  });

  it("a command signed by the runner's fleet key is accepted; the same seq again is refused as a replay", async () => {
    const passing = baseScenario([
      { command: { type: "remote.block", body: { reason: "cash audit" } } },
      { keys: "01 11223344 #" },
      {
        expect: {
          display: "BLOCKED",
          lastEvent: { kind: "code.rejected", data: { reason: "blocked" } },
        },
      },
      { command: { type: "remote.block", body: { reason: "again" }, seq: 2, result: "E_REPLAY" } },
    ]);
    const ok = await lockfleetSim("scenario", scenarioFile(passing));
    expect(ok.stderr).toMatch(/^PASSED /);
    expect(ok.code).toBe(0);
    const rejected = auditLines(ok.stdout).find((record) => record.kind === "command.rejected");
    expect(rejected?.data).toMatchObject({ code: "E_REPLAY" });

    // Expecting the replay to be accepted must fail, with the lock's reason.
    const steps = passing.steps as unknown[];
    steps[3] = { command: { type: "remote.block", body: { reason: "again" }, seq: 2 } };
    const failing = await lockfleetSim("scenario", scenarioFile(passing));
    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(
      /^E_EXPECTATION: step 4 expected command remote.block to answer "ok", got "E_REPLAY"/,
    );
  });

  it("tamper, door and jam steps reach the lock: tamper, door-ajar and bolt-jam alarms", async () => {
    const scenario = baseScenario([
      { tamper: true },
      {
        expect: {
          alarms: ["tamper"],
          lastEvent: { kind: "alarm.raised", data: { alarm: "tamper" } },
        },
      },
      { tamper: false },
      { expect: { alarms: [] } },
      { keys: "01 11223344 #" },
      { advance: "1s" },
      { door: "open" },
      { advance: "61s" },
      { expect: { door: "ajar", buzzer: "alarm", display: "CLOSE DOOR", alarms: ["doorAjar"] } },
      { door: "close" },
      { jam: true },
      { advance: "10s" },
      {
        expect: {
          door: "closed",
          alarms: ["lockJammed"],
          lastEvent: { kind: "alarm.raised", data: { alarm: "lockJammed", driving: "thrown" } },
        },
      },
    ]);
    (scenario.lock as { policy: Record<string, unknown> }).policy.maxOpenSec = 60;
    const run = await lockfleetSim("scenario", scenarioFile(scenario));
    expect(run.stderr).toMatch(/^PASSED /);
    expect(run.code).toBe(0);
  });

  it("a power cycle restarts the lock from its SQLite file (--db) with a power-loss record", async () => {
    const db = join(work, "lock.sqlite");
    const run = await lockfleetSim(
      "scenario",
      scenarioFile(
        baseScenario([
          { keys: "01 11223344 #" },
          { power: "cycle", off: "2m" },
          { expect: { bolt: "thrown", cycle: "idle", events: ["power.lost"] } },
        ]),
      ),
      "--db",
      db,
    );
    expect(run.stderr).toMatch(new RegExp(`^PASSED .* store sqlite ${db}`));
    expect(run.code).toBe(0);

    const again = await lockfleetSim(
      "scenario",
      join(SCENARIOS, "duress-opening.json"),
      "--db",
      db,
    );
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^E_DB_EXISTS: /);
  });
});

describe("malformed scenario files exit 2 with a stable code", () => {
  const cases: [string, unknown, RegExp][] = [
    ["not JSON", "{ lock: ", /^E_SCENARIO_JSON: .* is not JSON/],
    ["no steps", { lock: baseScenario([]).lock }, /^E_SCENARIO_FORMAT: scenario at \/steps/],
    [
      "a misspelt step kind",
      baseScenario([{ kyes: "01 11223344 #" }]),
      /^E_SCENARIO_FORMAT: step 1: unknown step kind "kyes"/,
    ],
    [
      "two kinds in one step",
      baseScenario([{ keys: "1#", advance: "5m" }]),
      /^E_SCENARIO_FORMAT: step 1: one step does one thing; found "keys" and "advance"/,
    ],
    [
      "a duration without a unit",
      baseScenario([{ expect: { bolt: "thrown" } }, { advance: "5" }]),
      /^E_SCENARIO_FORMAT: step 2: advance at \/advance: not a duration/,
    ],
    [
      "an unknown expect field",
      baseScenario([{ expect: { colour: "red" } }]),
      /^E_SCENARIO_FORMAT: step 1: expect /,
    ],
    [
      "a time zone that is not IANA",
      {
        ...baseScenario([{ advance: "1s" }]),
        lock: { timeZone: "CET+1", start: "2026-11-23T08:00:00Z" },
      },
      /^E_SCENARIO_FORMAT: /,
    ],
    [
      "a code of the wrong length",
      {
        lock: {
          timeZone: "Europe/Berlin",
          start: "2026-11-23T08:00:00Z",
          users: [{ slot: 1, personId: "p-a", role: "user", code: "123456" }],
        },
        steps: [{ advance: "1s" }],
      },
      /^E_SCENARIO_FORMAT: lock.users: slot 1 code has 6 digits; this lock's codes have 8/,
    ],
    [
      "a command body that does not fit its type",
      baseScenario([{ command: { type: "timeLock.immediate", body: { hours: 2 } } }]),
      /^E_SCENARIO_FORMAT: step 1: timeLock.immediate body /,
    ],
    [
      "time running back",
      baseScenario([{ advance: "1h" }, { at: "2026-11-23T08:30:00Z" }]),
      /^E_SCENARIO_STEP: step 2: at 2026-11-23T08:30:00Z is before the scenario's time/,
    ],
  ];
  for (const [what, content, message] of cases) {
    it(what, async () => {
      const run = await lockfleetSim("scenario", scenarioFile(content));
      expect(run.stderr).toMatch(message);
      expect(run.code).toBe(2);
    });
  }

  it("a missing file", async () => {
    const run = await lockfleetSim("scenario", join(work, "no-such.json"));
    expect(run.stderr).toMatch(/^E_SCENARIO_FILE: cannot read .*no-such.json \(ENOENT\)/);
    expect(run.code).toBe(2);
  });

  it("a bad command line", async () => {
    const run = await lockfleetSim("scenario");
    expect(run.stderr).toMatch(/^E_USAGE: give exactly one scenario file/);
    expect(run.code).toBe(2);
  });
});
