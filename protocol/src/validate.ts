/**
 * Runtime validation against the protocol's schemas: one compiled checker per schema, and a
 * schema error that names the offending field.
 */
import type { Static, TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { fail, type Result, succeed } from "./errors.js";

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checkerFor<T extends TSchema>(schema: T): TypeCheck<T> {
  let checker = compiled.get(schema);
  if (checker === undefined) {
    checker = TypeCompiler.Compile(schema);
    compiled.set(schema, checker);
  }
  return checker as TypeCheck<T>;
}

export function isValid<T extends TSchema>(schema: T, value: unknown): value is Static<T> {
  return checkerFor(schema).Check(value);
}

/** Validates `value`; on failure names the first offending field (`what` says which message). */
export function validate<T extends TSchema>(
  schema: T,
  value: unknown,
  what = "message",
): Result<Static<T>> {
  const checker = checkerFor(schema);
  if (checker.Check(value)) return succeed(value);
  const first = checker.Errors(value).First();
  const where = first?.path ? first.path : "/";
  return fail(
    "E_SCHEMA",
    `${what} is not valid at ${where}: ${first?.message ?? "does not match its schema"}`,
  );
}

/**
 * Milliseconds since the epoch for a protocol instant, or NaN when the text is not a real
 * UTC instant (Date.parse alone would roll 2026-02-30 over into March).
 */
export function parseInstant(text: string): number {
  const strict = parseStrictInstant(text);
  if (strict !== undefined) return strict;
  const millis = Date.parse(text);
  if (Number.isNaN(millis)) return Number.NaN;
  const [datePart, timePart = ""] = text.split("T");
  const iso = new Date(millis).toISOString();
  return iso.startsWith(`${datePart}T${timePart.slice(0, 8)}`) ? millis : Number.NaN;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The protocol's own layout, `YYYY-MM-DDThh:mm:ss(.f{1,3})?Z`, read digit by digit: every
 * record of an audit batch carries one, and going through Date and back to text for each cost
 * more than checking the record's chain. The same answer as the general path below; undefined
 * for any other layout (and years before 100, which Date.UTC would move to the 1900s).
 */
function parseStrictInstant(text: string): number | undefined {
  const length = text.length;
  if (length !== 20 && (length < 22 || length > 24)) return undefined;
  if (
    text.charCodeAt(4) !== 45 || // -
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 || // T
    text.charCodeAt(13) !== 58 || // :
    text.charCodeAt(16) !== 58 ||
    text.charCodeAt(length - 1) !== 90 || // Z
    (length > 20 && text.charCodeAt(19) !== 46) // .
  ) {
    return undefined;
  }
  const digits = (from: number, to: number): number => {
    let value = 0;
    for (let index = from; index < to; index++) {
      const digit = text.charCodeAt(index) - 48;
      if (digit < 0 || digit > 9) return Number.NaN;
      value = value * 10 + digit;
    }
    return value;
  };
  const year = digits(0, 4);
  const month = digits(5, 7);
  const day = digits(8, 10);
  const hour = digits(11, 13);
  const minute = digits(14, 16);
  const second = digits(17, 19);
  const fraction = length > 20 ? digits(20, length - 1) * 10 ** (24 - length) : 0;
  if (Number.isNaN(year + month + day + hour + minute + second + fraction) || year < 100) {
    return undefined;
  }
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (month < 1 || day < 1 || day > days || hour > 23 || minute > 59 || second > 59) {
    return Number.NaN;
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, fraction);
}

export function formatInstant(millis: number): string {
  return new Date(millis).toISOString();
}
