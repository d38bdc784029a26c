import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  codeBehindDuressEntry,
  codeMatches,
  duressEntryFor,
  hashCode,
  isDigits,
  isTrivialCode,
} from "../../src/lock/codes.js";

const key = randomBytes(32);

describe("codes are stored as keyed hashes", () => {
  it("the hash of a code depends on the device key, so another lock's hashes do not match", () => {
    const other = randomBytes(32);
    expect(hashCode(key, 1, "11223344")).not.toBe(hashCode(other, 1, "11223344"));
    expect(codeMatches(other, 1, "11223344", hashCode(key, 1, "11223344"))).toBe(false);
  });

  it("equal codes of two users do not hash alike (the slot is bound in)", () => {
    expect(hashCode(key, 1, "11223344")).not.toBe(hashCode(key, 2, "11223344"));
  });

  it("the hash contains nothing of the code and is not a plain SHA-256 of it", () => {
    const hash = hashCode(key, 1, "11223344");
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain("11223344");
  });

  it("a code matches only its own hash; a missing hash never matches", () => {
    const hash = hashCode(key, 7, "90817263");
    expect(codeMatches(key, 7, "90817263", hash)).toBe(true);
    expect(codeMatches(key, 7, "90817264", hash)).toBe(false);
    expect(codeMatches(key, 7, "90817263", undefined)).toBe(false);
  });
});

describe("duress by last digit + 1 without carry", () => {
  it("raises the last digit by one, 9 becoming 0 without carrying into the digit before", () => {
    expect(duressEntryFor("11223344")).toBe("11223345");
    expect(duressEntryFor("12345679")).toBe("12345670");
    expect(codeBehindDuressEntry("12345670")).toBe("12345679");
    expect(codeBehindDuressEntry("11223345")).toBe("11223344");
  });

  it("codeBehindDuressEntry undoes duressEntryFor for every last digit", () => {
    for (let digit = 0; digit <= 9; digit++) {
      const code = `5566778${digit}`;
      expect(codeBehindDuressEntry(duressEntryFor(code))).toBe(code);
    }
  });
});

describe("trivial codes", () => {
  it.each(["11111111", "12345678", "87654321", "000000", "98765432"])("%s is trivial", (code) => {
    expect(isTrivialCode(code)).toBe(true);
  });

  it.each(["11223344", "24681357", "90817263", "13572468"])("%s is not trivial", (code) => {
    expect(isTrivialCode(code)).toBe(false);
  });

  it("isDigits checks digits and length", () => {
    expect(isDigits("0123", 4)).toBe(true);
    expect(isDigits("0123", 5)).toBe(false);
    expect(isDigits("01a3")).toBe(false);
    expect(isDigits("")).toBe(false);
  });
});
