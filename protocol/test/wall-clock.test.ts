import { describe, expect, it } from "vitest";
import { WallClock } from "../src/wall-clock.js";

const HOUR_MS = 3_600_000;

describe("WallClock", () => {
  const zurich = new WallClock("Europe/Zurich");

  it("reads winter time as UTC+1 and summer time as UTC+2", () => {
    const winter = Date.UTC(2026, 0, 15, 12, 0, 0);
    const summer = Date.UTC(2026, 6, 15, 12, 0, 0);
    expect(zurich.wallTimeAt(winter)).toBe(Date.UTC(2026, 0, 15, 13, 0, 0));
    expect(zurich.wallTimeAt(summer)).toBe(Date.UTC(2026, 6, 15, 14, 0, 0));
    expect(zurich.offsetAt(winter)).toBe(HOUR_MS);
    expect(zurich.offsetAt(summer)).toBe(2 * HOUR_MS);
  });

  it("changes offset at the instant clocks go forward, not at local midnight", () => {
    // 2026-03-29 01:00 UTC: 02:00 CET becomes 03:00 CEST.
    const change = Date.UTC(2026, 2, 29, 1, 0, 0);
    expect(zurich.wallTimeAt(change - 1000)).toBe(Date.UTC(2026, 2, 29, 1, 59, 59));
    expect(zurich.wallTimeAt(change)).toBe(Date.UTC(2026, 2, 29, 3, 0, 0));
  });

  it("reads the repeated autumn hour twice, an hour apart", () => {
    // 2026-10-25 01:00 UTC: 03:00 CEST goes back to 02:00 CET.
    const firstPass = Date.UTC(2026, 9, 25, 0, 30, 0);
    const secondPass = firstPass + HOUR_MS;
    expect(zurich.wallTimeAt(firstPass)).toBe(Date.UTC(2026, 9, 25, 2, 30, 0));
    expect(zurich.wallTimeAt(secondPass)).toBe(Date.UTC(2026, 9, 25, 2, 30, 0));
  });

  it("drops milliseconds: the offset stays whole seconds", () => {
    const at = Date.UTC(2026, 0, 15, 12, 0, 0) + 999;
    expect(zurich.wallTimeAt(at)).toBe(Date.UTC(2026, 0, 15, 13, 0, 0));
    expect(zurich.offsetAt(at)).toBe(HOUR_MS);
  });

  it("reads midnight as hour 0, never 24", () => {
    const utc = new WallClock("UTC");
    const midnight = Date.UTC(2026, 4, 1, 0, 0, 0);
    expect(utc.wallTimeAt(midnight)).toBe(midnight);
  });

  it("refuses a time zone the platform does not know", () => {
    expect(() => new WallClock("Mars/Olympus_Mons")).toThrow(RangeError);
  });
});
