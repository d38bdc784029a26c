/**
 * Durations in scenario files: a number and a unit, repeated — "90s", "5m", "1h30m", "2d",
 * "250ms". Written the way a security officer would say them, checked strictly.
 */

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;

/** The text form, also used by the scenario schema so a bad duration is a schema error. */
export const DURATION_PATTERN = "^(\\d+(ms|d|h|m|s))+$";

const PART = /(\d+)(ms|d|h|m|s)/g;

/** Milliseconds of a duration text, or undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  if (!new RegExp(DURATION_PATTERN).test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) {
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/** "1h30m", "5m", "0s": the shortest text for a whole number of milliseconds. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = ms;
  let text = "";
  for (const [unit, size] of Object.entries(UNIT_MS)) {
    const amount = Math.floor(rest / size);
    if (amount > 0) text += `${amount}${unit}`;
    rest -= amount * size;
  }
  return text;
}
