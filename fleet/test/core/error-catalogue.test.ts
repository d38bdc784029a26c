/**
 * The fleet's error catalogue: every code the fleet's sources name is in it with a meaning and
 * who meets it, and the error classes take only catalogued codes (checked by the compiler with
 * the tests' tsconfig, shown here by `@ts-expect-error`).
 */
import { readdirSync, readFileSync } from "node:fs";
import { codeOf } from "@lockfleet/protocol";
import { describe, expect, it } from "vitest";
import type { CliError } from "../../src/cli.js";
import { ConfigError } from "../../src/config.js";
import { FLEET_ERRORS, type FleetCode, isFleetCode } from "../../src/error-catalogue.js";
import { FleetError } from "../../src/errors.js";

describe("the fleet's error catalogue", () => {
  it("names every code the fleet's sources use, each with its meaning in a sentence and its audience", () => {
    const used = new Set<string>();
    const sources = new URL("../../src/", import.meta.url);
    for (const file of readdirSync(sources, { recursive: true, encoding: "utf8" })) {
      if (!file.endsWith(".ts")) continue;
      const text = readFileSync(new URL(file, sources), "utf8");
      for (const match of text.matchAll(/"(E_[A-Z0-9_]+)"/g)) used.add(match[1] as string);
    }
    expect(used.size).toBeGreaterThan(150);
    expect([...used].filter((code) => !isFleetCode(code))).toEqual([]);
    for (const [code, { meaning, audience }] of Object.entries(FLEET_ERRORS)) {
      // a sentence for a reader: words, not a code or a fragment
      expect(meaning, code).toMatch(/^[a-z/].{10,}[^.]$/);
      expect(meaning, code).toContain(" ");
      expect(meaning, code).not.toMatch(/E_[A-Z]/);
      expect(["person", "operator"], code).toContain(audience);
    }
  });

  it("a refusal a person meets through the API is a person's code; start-up and the broker are the operator's", () => {
    for (const code of ["E_FORBIDDEN", "E_SCHEMA", "E_REASON_REQUIRED", "E_RELEASE_UNKNOWN_KEY"])
      expect(FLEET_ERRORS[code as FleetCode].audience, code).toBe("person");
    for (const code of ["E_CONFIG", "E_USAGE", "E_MQTT_TLS", "E_MIGRATION_FAILED"])
      expect(FLEET_ERRORS[code as FleetCode].audience, code).toBe("operator");
    expect(isFleetCode("E_SOMETHING_NEW")).toBe(false);
    expect(isFleetCode("toString")).toBe(false);
  });

  it("the fleet's errors carry a catalogued code as a field, never one read out of a message", () => {
    const errors = [
      new FleetError("E_WINDOW_STATE", "window w1 is approved", 409),
      new ConfigError("--port is not a port"),
    ];
    expect(errors.map(codeOf)).toEqual(["E_WINDOW_STATE", "E_CONFIG"]);
    expect(errors[0]?.message).toBe("E_WINDOW_STATE: window w1 is approved");
    // @ts-expect-error an uncatalogued code does not compile
    expect(new FleetError("E_NOT_IN_THE_CATALOGUE", "x").code).toBe("E_NOT_IN_THE_CATALOGUE");
    // @ts-expect-error the command line's errors take catalogued codes only
    const uncatalogued: ConstructorParameters<typeof CliError>[0] = "E_NOT_IN_THE_CATALOGUE";
    expect(isFleetCode(uncatalogued)).toBe(false);
  });
});
