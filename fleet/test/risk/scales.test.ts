/** The five-level scales, the documented thresholds and the score bands. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CATEGORY_DEFINITIONS,
  derivedLikelihood,
  RISK_CATEGORIES,
  riskLevel,
  riskScore,
} from "../../src/risk/scales.js";

describe("derived likelihood", () => {
  it("nothing occurred is rare (1), whatever it is measured against", () => {
    for (const category of RISK_CATEGORIES) {
      expect(derivedLikelihood(category, 0, 0)).toBe(1);
      expect(derivedLikelihood(category, 0, 1000)).toBe(1);
    }
  });

  it("any occurrence is at least unlikely (2), the thresholds are inclusive", () => {
    // window overrun: 2 %, 5 %, 15 % of windows
    expect(derivedLikelihood("windowOverrun", 1, 1000)).toBe(2);
    expect(derivedLikelihood("windowOverrun", 1, 51)).toBe(2);
    expect(derivedLikelihood("windowOverrun", 1, 50)).toBe(3);
    expect(derivedLikelihood("windowOverrun", 1, 20)).toBe(4);
    expect(derivedLikelihood("windowOverrun", 3, 20)).toBe(5);
    // openings outside windows: stricter, 1 %, 3 %, 10 %
    expect(derivedLikelihood("openingOutsideWindow", 1, 100)).toBe(3);
    expect(derivedLikelihood("openingOutsideWindow", 3, 100)).toBe(4);
    expect(derivedLikelihood("openingOutsideWindow", 1, 10)).toBe(5);
  });

  it("an occurrence with nothing to measure it against is almost certain", () => {
    // e.g. a refused seal for a window that began before the period
    expect(derivedLikelihood("refusedCredentials", 1, 0)).toBe(5);
  });

  it("a higher rate never gives a lower likelihood", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...RISK_CATEGORIES),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        (category, denominator, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          return (
            derivedLikelihood(category, low, denominator) <=
            derivedLikelihood(category, high, denominator)
          );
        },
      ),
    );
  });

  it("every category documents three rising thresholds and an impact on the scale", () => {
    for (const category of RISK_CATEGORIES) {
      const { thresholds, defaultImpact } = CATEGORY_DEFINITIONS[category];
      expect(thresholds[0]).toBeGreaterThan(0);
      expect(thresholds[0]).toBeLessThan(thresholds[1]);
      expect(thresholds[1]).toBeLessThan(thresholds[2]);
      expect(defaultImpact).toBeGreaterThanOrEqual(1);
      expect(defaultImpact).toBeLessThanOrEqual(5);
    }
  });
});

describe("score and level", () => {
  it("score is likelihood × impact, banded low 1–4, medium 5–9, high 10–16, critical 20–25", () => {
    const seen: Record<string, number[]> = { low: [], medium: [], high: [], critical: [] };
    for (let likelihood = 1; likelihood <= 5; likelihood += 1) {
      for (let impact = 1; impact <= 5; impact += 1) {
        const score = riskScore(likelihood, impact);
        seen[riskLevel(score)]?.push(score);
      }
    }
    const range = (scores: number[] | undefined) => [
      Math.min(...(scores ?? [])),
      Math.max(...(scores ?? [])),
    ];
    expect(range(seen.low)).toEqual([1, 4]);
    expect(range(seen.medium)).toEqual([5, 9]);
    expect(range(seen.high)).toEqual([10, 16]);
    expect(range(seen.critical)).toEqual([20, 25]);
  });
});
