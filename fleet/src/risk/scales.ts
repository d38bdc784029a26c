/**
 * The common five-level risk scales (likelihood 1 rare … 5 almost certain, impact 1 negligible
 * … 5 severe), score = likelihood × impact, and the documented thresholds that turn a measured
 * rate into a likelihood. Pure: no storage, no clock.
 */

export const RISK_CATEGORIES = [
  "windowOverrun",
  "closeSeal",
  "openingOutsideWindow",
  "alarmDuringWindow",
  "revokedWindow",
  "refusedCredentials",
] as const;
export type RiskCategory = (typeof RISK_CATEGORIES)[number];

export const RISK_LEVELS = ["low", "medium", "high", "critical"] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

export const LIKELIHOOD_LABELS = [
  "rare",
  "unlikely",
  "possible",
  "likely",
  "almost certain",
] as const;
export const IMPACT_LABELS = ["negligible", "minor", "moderate", "major", "severe"] as const;

export interface CategoryDefinition {
  title: string;
  /** What the rate is measured against. */
  rateOf: string;
  /** The bank's impact until it sets its own. */
  defaultImpact: number;
  /**
   * A rate of 0 is likelihood 1 (rare); any occurrence is at least 2 (unlikely); a rate at or
   * above `thresholds[0]` is 3 (possible), `[1]` 4 (likely), `[2]` 5 (almost certain).
   */
  thresholds: readonly [number, number, number];
}

export const CATEGORY_DEFINITIONS: Readonly<Record<RiskCategory, CategoryDefinition>> = {
  windowOverrun: {
    title: "Access windows overrun (opening or close after the window's end)",
    rateOf: "share of approved windows that started in the period",
    defaultImpact: 3,
    thresholds: [0.02, 0.05, 0.15],
  },
  closeSeal: {
    title: "Close seals late or missing after an opening under a window",
    rateOf: "share of openings under the provider's windows",
    defaultImpact: 4,
    thresholds: [0.02, 0.05, 0.15],
  },
  openingOutsideWindow: {
    title: "Openings by the provider's people outside any approved window",
    rateOf: "share of openings by the provider's people on the contract's containers",
    defaultImpact: 5,
    thresholds: [0.01, 0.03, 0.1],
  },
  alarmDuringWindow: {
    title: "Alarms during the provider's windows (forced open, door ajar, bolt jam, duress)",
    rateOf: "alarms per approved window",
    defaultImpact: 4,
    thresholds: [0.02, 0.05, 0.15],
  },
  revokedWindow: {
    title: "Access windows revoked by the bank",
    rateOf: "share of approved windows",
    defaultImpact: 2,
    thresholds: [0.05, 0.1, 0.25],
  },
  refusedCredentials: {
    title: "One-time codes and close seals refused",
    rateOf: "refusals per approved window",
    defaultImpact: 3,
    thresholds: [0.05, 0.1, 0.25],
  },
};

/** Openings whose close seal came more than this after the opening count as late. */
export const LATE_SEAL_MS = 60 * 60_000;

/** Alarm kinds held against the provider when raised on its container during its window. */
export const WINDOW_ALARM_KINDS = [
  "forcedUser",
  "doorForcedOpen",
  "doorAjar",
  "lockJammed",
] as const;

/** The period measured when none is given: the last 90 days. */
export const DEFAULT_PERIOD_MS = 90 * 24 * 60 * 60_000;

/** The review date of a new entry: one year on (MaRisk AT 9 asks for regular review). */
export const DEFAULT_REVIEW_MS = 365 * 24 * 60 * 60_000;

/**
 * The likelihood a measurement supports. With nothing to measure against (no windows, no
 * openings) there is no evidence of occurrence, so 1; the evidence says so (`denominator: 0`).
 */
export function derivedLikelihood(
  category: RiskCategory,
  numerator: number,
  denominator: number,
): number {
  if (numerator <= 0) return 1;
  const rate = denominator > 0 ? numerator / denominator : 1;
  const [possible, likely, almostCertain] = CATEGORY_DEFINITIONS[category].thresholds;
  if (rate >= almostCertain) return 5;
  if (rate >= likely) return 4;
  if (rate >= possible) return 3;
  return 2;
}

export function riskScore(likelihood: number, impact: number): number {
  return likelihood * impact;
}

/** Score bands of the 5×5 matrix: 1–4 low, 5–9 medium, 10–16 high, 20–25 critical. */
export function riskLevel(score: number): RiskLevel {
  if (score >= 20) return "critical";
  if (score >= 10) return "high";
  if (score >= 5) return "medium";
  return "low";
}

/** What the export hands internal audit so the figures can be checked without the code. */
export function scaleDocument() {
  return {
    likelihood: LIKELIHOOD_LABELS.map((label, index) => ({ value: index + 1, label })),
    impact: IMPACT_LABELS.map((label, index) => ({ value: index + 1, label })),
    score: "likelihood × impact",
    levels: [
      { level: "low", scores: "1–4" },
      { level: "medium", scores: "5–9" },
      { level: "high", scores: "10–16" },
      { level: "critical", scores: "20–25" },
    ],
    derivation:
      "likelihood 1 when nothing occurred, 2 on any occurrence, 3/4/5 when the rate reaches the category's thresholds",
    lateSealAfterMinutes: LATE_SEAL_MS / 60_000,
    windowAlarmKinds: [...WINDOW_ALARM_KINDS],
    categories: RISK_CATEGORIES.map((category) => ({
      category,
      ...CATEGORY_DEFINITIONS[category],
    })),
  };
}
