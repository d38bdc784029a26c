/**
 * Fuzzing the profile check: whatever a profile holds — arbitrary JSON, or a shipped profile
 * with one value changed, removed or added — the check answers ok or a coded refusal and never
 * throws.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkProfile, getProfile, PROFILE_ERROR_CODES, PROFILES } from "../src/index.js";

const CODES: readonly string[] = PROFILE_ERROR_CODES;
const anyJson = fc.jsonValue({ maxDepth: 3 });

function expectCoded(value: unknown): void {
  const result = checkProfile(value);
  if (!result.ok) {
    expect(CODES).toContain(result.error.code);
    expect(result.error.message.length).toBeGreaterThan(0);
  }
}

/** Every path to a value inside `value` (objects and arrays), the root excluded. */
function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (value === null || typeof value !== "object") return [];
  const entries = Array.isArray(value)
    ? value.map((item, index) => [index, item] as const)
    : Object.entries(value);
  return entries.flatMap(([key, item]) => [[...prefix, key], ...paths(item, [...prefix, key])]);
}

/** A copy of `value` with the value at `path` replaced (or removed when `replacement` is undefined). */
function mutate(value: unknown, path: Array<string | number>, replacement: unknown): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (replacement === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else {
    parent[last] = replacement;
  }
  return copy;
}

describe("fuzz: checking a hardware profile never throws", () => {
  it("arbitrary JSON", () => {
    fc.assert(
      fc.property(anyJson, (value) => {
        const result = checkProfile(value);
        expect(result.ok).toBe(false);
        expectCoded(value);
      }),
      { numRuns: 300 },
    );
  });

  it("a shipped profile with one value changed or removed", () => {
    const shipped = PROFILES.map((profile) => ({ profile, paths: paths(profile) }));
    fc.assert(
      fc.property(
        fc.nat({ max: shipped.length - 1 }),
        fc.nat(),
        fc.option(
          fc.oneof(
            anyJson,
            fc.integer({ min: -1, max: 300 }),
            fc.constantFrom("GPIO4", "P1-7", "A0", "D13", 13, "relay", "motor", "pinMatrix"),
          ),
          { nil: undefined },
        ),
        (which, pathIndex, replacement) => {
          const { profile, paths: all } = shipped[which] ?? (shipped[0] as (typeof shipped)[0]);
          const path = all[pathIndex % all.length] as Array<string | number>;
          expectCoded(mutate(profile, path, replacement));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("a shipped profile with an extra member anywhere", () => {
    const shipped = PROFILES.map((profile) => ({ profile, paths: paths(profile) }));
    fc.assert(
      fc.property(
        fc.nat({ max: shipped.length - 1 }),
        fc.nat(),
        fc.string({ minLength: 1, maxLength: 12 }),
        anyJson,
        (which, pathIndex, key, extra) => {
          const { profile, paths: all } = shipped[which] ?? (shipped[0] as (typeof shipped)[0]);
          const path = all[pathIndex % all.length] as Array<string | number>;
          const copy = structuredClone(profile) as unknown as Record<string, unknown>;
          let target: unknown = copy;
          for (const step of path) target = (target as Record<string | number, unknown>)[step];
          if (target !== null && typeof target === "object" && !Array.isArray(target)) {
            (target as Record<string, unknown>)[key] = extra;
          }
          expectCoded(copy);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a profile id of any text is found or refused with E_PROFILE_UNKNOWN", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.constantFrom("virtual", "raspberry-pi", "__proto__", "constructor"),
        ),
        (id) => {
          const found = getProfile(id);
          if (!found.ok) expect(found.error.code).toBe("E_PROFILE_UNKNOWN");
        },
      ),
      { numRuns: 300 },
    );
  });
});
