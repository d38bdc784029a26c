import { readdirSync, readFileSync } from "node:fs";
import { EDGE_ERRORS } from "@lockfleet/edge";
import { codeOf, PROTOCOL_ERRORS } from "@lockfleet/protocol";
import { describe, expect, it } from "vitest";
import {
  DemoError,
  FLEET_CODES_READ,
  LoadError,
  SIMULATOR_ERRORS,
  SimulatorError,
} from "../src/errors.js";

describe("the simulators' error catalogue", () => {
  it("names every code the simulators' sources raise or print, each with its meaning", () => {
    const used = new Set<string>();
    const sources = new URL("../src/", import.meta.url);
    for (const file of readdirSync(sources, { recursive: true, encoding: "utf8" })) {
      if (!file.endsWith(".ts")) continue;
      const text = readFileSync(new URL(file, sources), "utf8");
      // quoted codes, and template strings that start with a code ("`E_X: …`")
      for (const match of text.matchAll(/"(E_[A-Z0-9_]+)"|`(E_[A-Z0-9_]+):/g)) {
        used.add((match[1] ?? match[2]) as string);
      }
    }
    expect(used.size).toBeGreaterThan(30);
    const known = new Set<string>([
      ...Object.keys(SIMULATOR_ERRORS),
      ...Object.keys(EDGE_ERRORS),
      ...Object.keys(PROTOCOL_ERRORS),
      ...FLEET_CODES_READ,
    ]);
    expect([...used].filter((code) => !known.has(code))).toEqual([]);
    for (const meaning of Object.values(SIMULATOR_ERRORS))
      expect(meaning.length).toBeGreaterThan(10);
  });

  it("each error class carries its code as a typed field, read without parsing the message", () => {
    const errors = [
      new SimulatorError("E_LOCK_OFF", "the lock has no power"),
      new LoadError("E_LOAD_OFFLINE", "lock-1 is not connected"),
      new DemoError("E_DEMO_API", "POST /api/v1/rights answered 409", {
        fleetCode: "E_RIGHT_EXISTS",
      }),
    ];
    expect(errors.map(codeOf)).toEqual(["E_LOCK_OFF", "E_LOAD_OFFLINE", "E_DEMO_API"]);
    expect(errors[0]?.message).toBe("E_LOCK_OFF: the lock has no power");
    const refused = errors[2];
    expect(refused instanceof DemoError && refused.fleetCode).toBe("E_RIGHT_EXISTS");
  });
});
