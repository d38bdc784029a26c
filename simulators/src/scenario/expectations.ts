/**
 * Checks an `expect` step against what the lock shows. Each check answers with the sentence
 * a person reads when it fails: `expected bolt "retracted", got "thrown"`.
 */
import type { AuditRecord, LockState } from "@lockfleet/protocol";
import type { EventMatch, Expectation } from "./schema.js";

/** What can be observed of the virtual lock at one instant. */
export interface Observation {
  state: LockState;
  display: readonly [string, string];
  silentAlarmPulses: number;
  buzzer: string;
  lastEvent: AuditRecord | undefined;
  /** Audit records since the previous expect step (or the start). */
  recentEvents: readonly AuditRecord[];
  /** "since step 4" or "since the start", for messages. */
  recentSince: string;
}

const show = (value: unknown): string => JSON.stringify(value);

function showDisplay(lines: readonly [string, string]): string {
  return show(lines[1] === "" ? lines[0] : `${lines[0]} | ${lines[1]}`);
}

function showEvent(record: AuditRecord | undefined): string {
  if (record === undefined) return "no event";
  return show({ kind: record.kind, actor: record.actor, data: record.data });
}

/** Every field of `expected` is in `actual` with a matching value; arrays match element-wise. */
export function matchesSubset(expected: unknown, actual: unknown): boolean {
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((item, index) => matchesSubset(item, actual[index]))
    );
  }
  if (typeof expected === "object" && expected !== null) {
    if (typeof actual !== "object" || actual === null || Array.isArray(actual)) return false;
    return Object.entries(expected).every(([key, value]) =>
      matchesSubset(value, (actual as Record<string, unknown>)[key]),
    );
  }
  return Object.is(expected, actual);
}

export function eventMatches(match: EventMatch | string, record: AuditRecord): boolean {
  if (typeof match === "string") return record.kind === match;
  if (record.kind !== match.kind) return false;
  if (match.actor !== undefined && record.actor !== match.actor) return false;
  return match.data === undefined || matchesSubset(match.data, record.data);
}

function checkDisplay(
  expected: NonNullable<Expectation["display"]>,
  lines: readonly [string, string],
) {
  if (typeof expected === "string") {
    if (lines.some((line) => line.includes(expected))) return undefined;
    return `expected display to show ${show(expected)}, got ${showDisplay(lines)}`;
  }
  if (Array.isArray(expected)) {
    if (expected[0] === lines[0] && expected[1] === lines[1]) return undefined;
    return `expected display ${show(expected)}, got ${show(lines)}`;
  }
  const { exact } = expected as { exact: string };
  if (lines.includes(exact)) return undefined;
  return `expected a display line exactly ${show(exact)}, got ${showDisplay(lines)}`;
}

function checkSilentAlarm(expected: number | boolean, pulses: number): string | undefined {
  if (typeof expected === "number") {
    return pulses === expected
      ? undefined
      : `expected silentAlarm ${expected} pulse(s) since the start, got ${pulses}`;
  }
  if (expected === pulses > 0) return undefined;
  return expected
    ? "expected silentAlarm to have pulsed, got no pulse"
    : `expected no silentAlarm pulse, got ${pulses}`;
}

/** The first unmet part of an expectation, as a sentence; undefined when all are met. */
export function unmetExpectation(expect: Expectation, seen: Observation): string | undefined {
  const { state } = seen;
  if (expect.bolt !== undefined && state.bolt !== expect.bolt) {
    return `expected bolt ${show(expect.bolt)}, got ${show(state.bolt)}`;
  }
  if (expect.door !== undefined && state.door !== expect.door) {
    return `expected door ${show(expect.door)}, got ${show(state.door)}`;
  }
  if (expect.cycle !== undefined && state.cycle.phase !== expect.cycle) {
    return `expected cycle ${show(expect.cycle)}, got ${show(state.cycle.phase)}`;
  }
  if (expect.display !== undefined) {
    const unmet = checkDisplay(expect.display, seen.display);
    if (unmet !== undefined) return unmet;
  }
  if (expect.silentAlarm !== undefined) {
    const unmet = checkSilentAlarm(expect.silentAlarm, seen.silentAlarmPulses);
    if (unmet !== undefined) return unmet;
  }
  if (expect.buzzer !== undefined && seen.buzzer !== expect.buzzer) {
    return `expected buzzer ${show(expect.buzzer)}, got ${show(seen.buzzer)}`;
  }
  if (expect.alarms !== undefined) {
    const expected = [...expect.alarms].sort();
    const actual = [...state.activeAlarms].sort();
    if (show(expected) !== show(actual)) {
      return `expected alarms ${show(expected)}, got ${show(actual)}`;
    }
  }
  if (expect.timeLocked !== undefined && state.timeLocked !== expect.timeLocked) {
    return `expected timeLocked ${expect.timeLocked}, got ${state.timeLocked}`;
  }
  if (expect.lastEvent !== undefined) {
    if (seen.lastEvent === undefined || !eventMatches(expect.lastEvent, seen.lastEvent)) {
      return `expected lastEvent ${show(expect.lastEvent)}, got ${showEvent(seen.lastEvent)}`;
    }
  }
  for (const wanted of expect.events ?? []) {
    if (!seen.recentEvents.some((record) => eventMatches(wanted, record))) {
      const kinds = seen.recentEvents.map((record) => record.kind);
      return `expected event ${show(wanted)} ${seen.recentSince}, got ${show(kinds)}`;
    }
  }
  return undefined;
}
