import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  CodedError,
  codeOf,
  errorBodyDetail,
  PROTOCOL_ERRORS,
  protocolError,
} from "../src/errors.js";

describe("errorBodyDetail", () => {
  it("reads a service's {code, message} error body as 'CODE: message'", () => {
    expect(errorBodyDetail('{"code":"E_ENROLMENT_TOKEN","message":"the token is not valid"}')).toBe(
      "E_ENROLMENT_TOKEN: the token is not valid",
    );
    expect(errorBodyDetail('{"code":"E_X"}')).toBe("E_X: ");
  });

  it("anything else is no error body: JSON without a code, null, HTML, nothing", () => {
    for (const text of ['{"message":"x"}', "null", '"E_X"', "<html>502</html>", ""]) {
      expect(errorBodyDetail(text)).toBeUndefined();
    }
  });
});

describe("the protocol's error catalogue", () => {
  it("names every code the protocol's sources use, each with its meaning", () => {
    const used = new Set<string>();
    const sources = new URL("../src/", import.meta.url);
    for (const file of readdirSync(sources, { recursive: true, encoding: "utf8" })) {
      if (!file.endsWith(".ts")) continue;
      const text = readFileSync(new URL(file, sources), "utf8");
      for (const match of text.matchAll(/"(E_[A-Z0-9_]+)"/g)) used.add(match[1] as string);
    }
    expect(used.size).toBeGreaterThan(20);
    const missing = [...used].filter((code) => !(code in PROTOCOL_ERRORS));
    expect(missing).toEqual([]);
    for (const meaning of Object.values(PROTOCOL_ERRORS))
      expect(meaning.length).toBeGreaterThan(10);
  });

  it("a coded error carries its code as a field, the sentence apart, and reads 'CODE: sentence'", () => {
    const error = protocolError("E_BAD_INPUT", "an opening number is a positive integer");
    expect(error).toBeInstanceOf(CodedError);
    expect(codeOf(error)).toBe("E_BAD_INPUT");
    expect(error.sentence).toBe("an opening number is a positive integer");
    expect(error.message).toBe("E_BAD_INPUT: an opening number is a positive integer");
    // A code is never read out of a message: a plain error that looks coded has none.
    expect(codeOf(new Error("E_BAD_INPUT: looks coded"))).toBeUndefined();
  });
});
