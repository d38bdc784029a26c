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
  const millis = Date.parse(text);
  if (Number.isNaN(millis)) return Number.NaN;
  const [datePart, timePart = ""] = text.split("T");
  const iso = new Date(millis).toISOString();
  return iso.startsWith(`${datePart}T${timePart.slice(0, 8)}`) ? millis : Number.NaN;
}

export function formatInstant(millis: number): string {
  return new Date(millis).toISOString();
}
