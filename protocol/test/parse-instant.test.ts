import { describe, expect, it } from "vitest";
import { formatInstant, parseInstant } from "../src/validate.js";

describe("parseInstant", () => {
  it.each([
    ["2024-02-29T23:59:59.999Z", Date.UTC(2024, 1, 29, 23, 59, 59, 999)],
    ["2000-02-29T00:00:00Z", Date.UTC(2000, 1, 29)],
    ["2026-01-01T00:00:00.5Z", Date.UTC(2026, 0, 1, 0, 0, 0, 500)],
    ["2026-01-01T00:00:00.05Z", Date.UTC(2026, 0, 1, 0, 0, 0, 50)],
    ["0050-01-01T00:00:00Z", Date.parse("0050-01-01T00:00:00Z")],
  ])("reads %s", (text, millis) => {
    expect(parseInstant(text)).toBe(millis);
  });

  it.each([
    "2026-02-30T00:00:00Z",
    "2023-02-29T00:00:00Z",
    "2100-02-29T00:00:00Z",
    "2026-04-31T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-00-01T00:00:00Z",
    "2026-01-00T00:00:00Z",
    "2026-12-02T24:00:00Z",
    "2026-12-02T10:60:00Z",
    "2026-12-02T10:00:60Z",
    "2026-1a-01T00:00:00Z",
  ])("refuses %s, which names no real instant", (text) => {
    expect(parseInstant(text)).toBeNaN();
  });

  it("reads back what formatInstant writes", () => {
    for (let millis = 0; millis < 2 ** 42; millis += 7_919_999_999_123) {
      expect(parseInstant(formatInstant(millis))).toBe(millis);
    }
  });
});
