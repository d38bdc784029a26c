/**
 * Canonical JSON per RFC 8785 (JSON Canonicalization Scheme).
 *
 * Signatures in lockfleet are computed over these exact bytes, so two implementations that
 * agree on RFC 8785 agree on what was signed. ECMAScript's own number and string
 * serialisation is what RFC 8785 prescribes; the work here is key ordering (by UTF-16 code
 * units) and refusing anything that is not I-JSON.
 */
import { CodedError } from "./errors.js";

export class CanonicalJsonError extends CodedError<"E_NOT_CANONICALISABLE"> {
  constructor(path: string, reason: string) {
    super("E_NOT_CANONICALISABLE", `${path || "value"} ${reason}`);
    this.name = "CanonicalJsonError";
  }
}

/** No protocol message nests this deep; the bound keeps hostile input off the call stack. */
export const CANONICAL_JSON_MAX_DEPTH = 256;
const MAX_DEPTH = CANONICAL_JSON_MAX_DEPTH;

export function canonicalJson(value: unknown): string {
  return serialise(value, undefined, new Set());
}

/** The canonical JSON of one string (what `canonicalJson` gives for it, without its set-up). */
export function canonicalJsonString(text: string): string {
  return serialiseString(text, undefined);
}

/**
 * Where a value sits, rendered only when an error names it: building a path string for every
 * member of a large message (an audit batch) would cost more than serialising it.
 */
type Path = { parent: Path; key: string | number } | undefined;

function render(path: Path): string {
  if (path === undefined) return "";
  const parent = render(path.parent);
  if (typeof path.key === "number") return `${parent}[${path.key}]`;
  return parent ? `${parent}.${path.key}` : path.key;
}

/**
 * `ancestors` holds the arrays and objects on the path from the root, so a cycle is refused
 * with a clear error instead of overflowing the stack (a shared, acyclic sub-object is fine).
 */
function serialise(value: unknown, path: Path, ancestors: Set<object>): string {
  switch (typeof value) {
    case "string":
      return serialiseString(value, path);
    case "number":
      if (!Number.isFinite(value))
        throw new CanonicalJsonError(render(path), `is ${value}, not a finite number`);
      // ES2015+ Number serialisation is the RFC 8785 algorithm; JSON.stringify(-0) is "0".
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      if (ancestors.has(value))
        throw new CanonicalJsonError(render(path), "refers to itself (a cycle)");
      if (ancestors.size >= MAX_DEPTH) {
        throw new CanonicalJsonError(render(path), `nests deeper than ${MAX_DEPTH} levels`);
      }
      ancestors.add(value);
      try {
        if (Array.isArray(value)) return serialiseArray(value, path, ancestors);
        if (!isPlainObject(value)) {
          throw new CanonicalJsonError(
            render(path),
            "is not a plain object (Date, Map, class instances are not JSON)",
          );
        }
        return serialiseObject(value, path, ancestors);
      } finally {
        ancestors.delete(value);
      }
    default:
      throw new CanonicalJsonError(
        render(path),
        `is of type ${typeof value}, which JSON cannot represent`,
      );
  }
}

function serialiseArray(array: readonly unknown[], path: Path, ancestors: Set<object>): string {
  // An index loop, not map(): map skips holes of a sparse array and would emit "[,1]".
  let out = "[";
  for (let index = 0; index < array.length; index++) {
    if (index > 0) out += ",";
    out += serialise(array[index], { parent: path, key: index }, ancestors);
  }
  return `${out}]`;
}

/** Members whose value is undefined are left out, as JSON.stringify does (optional fields). */
function serialiseObject(
  object: Record<string, unknown>,
  path: Path,
  ancestors: Set<object>,
): string {
  // Array.prototype.sort compares strings by UTF-16 code units, which is RFC 8785 §3.2.3.
  const keys = Object.keys(object).sort();
  let out = "{";
  let first = true;
  for (const key of keys) {
    const value = object[key];
    if (value === undefined) continue;
    const memberPath: Path = { parent: path, key };
    if (!first) out += ",";
    first = false;
    out += `${serialiseString(key, memberPath)}:${serialise(value, memberPath, ancestors)}`;
  }
  return `${out}}`;
}

// RFC 8785 accepts I-JSON only: every surrogate must belong to a pair.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// Most strings hold no surrogate at all; the cheap test spares them the look-around one.
const ANY_SURROGATE = /[\uD800-\uDFFF]/;

function serialiseString(text: string, path: Path): string {
  if (ANY_SURROGATE.test(text) && LONE_SURROGATE.test(text))
    throw new CanonicalJsonError(render(path), "contains a lone UTF-16 surrogate");
  return JSON.stringify(text);
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Parses JSON text and reports whether it already is in canonical form. */
export function isCanonicalJsonText(text: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  return isCanonicalJsonOf(parsed, text);
}

/**
 * Whether `text` is exactly the canonical JSON of `parsed`, its own `JSON.parse` result. The
 * common case is decided without serialising twice: native `JSON.stringify` writes numbers and
 * strings as RFC 8785 does and keys in the parsed order, so when it reproduces `text` and every
 * object's keys are already in code-unit order, with no lone surrogate and within the depth
 * bound, the text is canonical. Anything else is settled by `canonicalJson` itself.
 */
export function isCanonicalJsonOf(parsed: unknown, text: string): boolean {
  if (JSON.stringify(parsed) === text && alreadyCanonical(parsed, 0)) return true;
  try {
    return canonicalJson(parsed) === text;
  } catch {
    return false;
  }
}

function alreadyCanonical(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case "string":
      return !(ANY_SURROGATE.test(value) && LONE_SURROGATE.test(value));
    case "number":
      return Number.isFinite(value);
    case "boolean":
      return true;
    case "object": {
      if (value === null) return true;
      if (depth >= MAX_DEPTH - 1) return false;
      if (Array.isArray(value)) {
        for (const item of value) if (!alreadyCanonical(item, depth + 1)) return false;
        return true;
      }
      if (!isPlainObject(value)) return false;
      let previous: string | undefined;
      for (const key of Object.keys(value)) {
        if (previous !== undefined && !(previous < key)) return false;
        if (!alreadyCanonical(key, depth) || !alreadyCanonical(value[key], depth + 1)) return false;
        previous = key;
      }
      return true;
    }
    default:
      return false;
  }
}
