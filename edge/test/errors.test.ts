import { readdirSync, readFileSync } from "node:fs";
import { PROFILE_ERROR_CODES } from "@lockfleet/hardware-profiles";
import { codeOf, PROTOCOL_ERRORS } from "@lockfleet/protocol";
import { describe, expect, it } from "vitest";
import { EDGE_ERRORS, LockError, LockRuleError, RuntimeError } from "../src/errors.js";

describe("the edge's error catalogue", () => {
  it("names every code the edge's sources raise, each with its meaning", () => {
    const used = new Set<string>();
    const sources = new URL("../src/", import.meta.url);
    for (const file of readdirSync(sources, { recursive: true, encoding: "utf8" })) {
      if (!file.endsWith(".ts")) continue;
      const text = readFileSync(new URL(file, sources), "utf8");
      for (const match of text.matchAll(/"(E_[A-Z0-9_]+)"/g)) used.add(match[1] as string);
    }
    expect(used.size).toBeGreaterThan(30);
    const known = new Set([
      ...Object.keys(EDGE_ERRORS),
      ...Object.keys(PROTOCOL_ERRORS),
      ...PROFILE_ERROR_CODES,
    ]);
    expect([...used].filter((code) => !known.has(code))).toEqual([]);
    for (const meaning of Object.values(EDGE_ERRORS)) expect(meaning.length).toBeGreaterThan(10);
  });

  it("each error class carries its code as a typed field, read without parsing the message", () => {
    const errors = [
      new LockError("E_REENTRANT", "an input while another is handled"),
      new LockRuleError("E_SLOT_TAKEN", "user slot 3 belongs to another person"),
      new RuntimeError("E_MASTER_CODE", "the master code is not correct"),
    ];
    expect(errors.map(codeOf)).toEqual(["E_REENTRANT", "E_SLOT_TAKEN", "E_MASTER_CODE"]);
    expect(errors[1]?.message).toBe("E_SLOT_TAKEN: user slot 3 belongs to another person");
  });
});
