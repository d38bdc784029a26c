/**
 * Fuzzing scenario files: whatever a file holds, the runner answers passed or failed with a
 * stable E_* code and never throws or rejects.
 */
import { COMMAND_TYPES } from "@lockfleet/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runScenario } from "../../src/scenario/run-scenario.js";

const CODES = [
  "E_SCENARIO_FILE",
  "E_SCENARIO_JSON",
  "E_SCENARIO_FORMAT",
  "E_SCENARIO_STEP",
  "E_EXPECTATION",
  "E_LOCK_FAULT",
];

async function expectCoded(input: unknown): Promise<void> {
  const result = await runScenario(input);
  if (result.status === "failed") {
    expect(CODES).toContain(result.code);
    expect(result.message.startsWith(result.code)).toBe(true);
  } else {
    expect(result.status).toBe("passed");
  }
}

const anyJson = fc.jsonValue({ maxDepth: 4 });

/** Mostly valid values, now and then a broken one, so runs get past the format check. */
function mostly<T>(valid: fc.Arbitrary<T>, broken: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: broken, weight: 1 });
}

const user = fc.record({
  slot: mostly(fc.integer({ min: 1, max: 99 }), fc.integer({ min: -1, max: 100 })),
  personId: mostly(fc.constantFrom("p-anna", "p-ben", "p-cit"), fc.constant("bad id")),
  role: mostly(fc.constantFrom("user", "manager", "master"), fc.constant("nobody")),
  code: mostly(
    fc.constantFrom("11223344", "55667788", "24681357"),
    fc.constantFrom("123", "1234567890"),
  ),
});

const lock = fc.record({
  timeZone: mostly(
    fc.constantFrom("Europe/Berlin", "America/New_York"),
    fc.constantFrom("Europe/Nowhere", ""),
  ),
  start: mostly(
    fc.constant("2026-11-23T08:00:00Z"),
    fc.constantFrom("2026-02-30T08:00:00Z", "yesterday"),
  ),
  policy: mostly(
    fc.constantFrom(
      { dualControl: "single", timeDelayMin: 0 },
      { dualControl: "dual", timeDelayMin: 1, confirmationWindowMin: 1 },
      { wrongCodeLimit: 2, penaltyMin: 1 },
    ),
    fc.dictionary(
      fc.constantFrom("timeDelayMin", "codeLength", "dualControl", "wrongCodeLimit", "bogus"),
      fc.oneof(fc.integer({ min: -5, max: 200 }), fc.string({ maxLength: 8 })),
      { maxKeys: 3 },
    ),
  ),
  users: fc.uniqueArray(user, {
    maxLength: 3,
    selector: (u) => JSON.stringify([u.slot, u.personId]),
  }),
});

const keys = fc.oneof(
  fc.constantFrom(
    "01 11223344 #",
    "02 55667788 #",
    "03 24681357 #",
    "01 11223345 #",
    "*",
    "00 12345678 #",
  ),
  fc.stringMatching(/^[0-9#*]{1,12}$/),
);

const step = fc.oneof(
  { arbitrary: fc.record({ keys }), weight: 6 },
  {
    arbitrary: fc.record({
      advance: mostly(
        fc.constantFrom("1s", "90s", "5m", "1h30m", "2d"),
        fc.constantFrom("0s", "-1m", "5x"),
      ),
    }),
    weight: 3,
  },
  fc.record({
    at: mostly(
      fc.constant("2026-11-24T08:00:00Z"),
      fc.constantFrom("2026-11-23T07:00:00Z", "never"),
    ),
  }),
  fc.record({ door: mostly(fc.constantFrom("open", "close"), fc.constant("ajar")) }),
  fc.record({ tamper: fc.boolean() }),
  fc.record({ jam: fc.boolean() }),
  fc.record(
    { power: fc.constant("cycle"), off: fc.constantFrom("1s", "10m") },
    { requiredKeys: ["power"] },
  ),
  {
    arbitrary: fc.record({
      command: mostly(
        fc.constantFrom(
          { type: "remote.block", body: { reason: "fuzz" } },
          { type: "remote.unblock", body: { approvedBy: ["p-anna"] } },
          { type: "timeLock.immediate", body: { minutes: 5 } },
          { type: "time.sync" },
          { type: "selfTest.request", body: {} },
          { type: "remote.block", body: { reason: "replayed" }, seq: 1, result: "E_REPLAY" },
        ),
        fc.record(
          {
            type: mostly(fc.constantFrom(...COMMAND_TYPES), fc.string({ maxLength: 12 })),
            body: fc.dictionary(fc.string({ maxLength: 10 }), anyJson, { maxKeys: 4 }),
            result: fc.constantFrom("ok", "E_REPLAY", "E_SCHEMA"),
            seq: fc.integer({ min: 1, max: 5 }),
            expiresIn: fc.constantFrom("1s", "10m"),
          },
          { requiredKeys: ["type"] },
        ),
      ),
    }),
    weight: 2,
  },
  fc.record({
    expect: mostly(
      fc
        .record(
          {
            bolt: fc.constantFrom("thrown", "retracted"),
            cycle: fc.constantFrom("idle", "collecting", "delay", "window", "released", "open"),
            display: fc.constantFrom("ENTER CODE", "TIME DELAY", "OPEN DOOR"),
            silentAlarm: fc.boolean(),
          },
          { requiredKeys: [] },
        )
        .filter((value) => Object.keys(value).length > 0),
      fc.dictionary(fc.constantFrom("bolt", "display", "events", "lastEvent", "other"), anyJson, {
        minKeys: 1,
        maxKeys: 2,
      }),
    ),
  }),
  { arbitrary: mostly(fc.constant({ door: "close" }), anyJson), weight: 1 },
);

describe("fuzz: a scenario file never makes the runner throw", () => {
  it("arbitrary JSON as the whole file", async () => {
    await fc.assert(
      fc.asyncProperty(anyJson, async (input) => {
        await expectCoded(input);
      }),
      { numRuns: 200 },
    );
  });

  it("scenarios of plausible and broken locks and steps", async () => {
    await fc.assert(
      fc.asyncProperty(
        lock,
        fc.array(step, { minLength: 1, maxLength: 10 }),
        async (scenarioLock, steps) => {
          await expectCoded({ lock: scenarioLock, steps });
        },
      ),
      { numRuns: 150 },
    );
  });
});
