/**
 * Canonical JSON per RFC 8785 (JSON Canonicalization Scheme).
 *
 * Signatures in lockfleet are computed over these exact bytes, so two implementations that
 * agree on RFC 8785 agree on what was signed. ECMAScript's own number and string
 * serialisation is what RFC 8785 prescribes; the work here is key ordering (by UTF-16 code
 * units) and refusing anything that is not I-JSON.
 */
export class CanonicalJsonError extends Error {
  readonly code = "E_NOT_CANONICALISABLE";
  constructor(path: string, reason: string) {
    super(`E_NOT_CANONICALISABLE: ${path || "value"} ${reason}`);
    this.name = "CanonicalJsonError";
  }
}

export function canonicalJson(value: unknown): string {
  return serialise(value, "");
}

function serialise(value: unknown, path: string): string {
  switch (typeof value) {
    case "string":
      return serialiseString(value, path);
    case "number":
      if (!Number.isFinite(value))
        throw new CanonicalJsonError(path, `is ${value}, not a finite number`);
      // ES2015+ Number serialisation is the RFC 8785 algorithm; JSON.stringify(-0) is "0".
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      if (Array.isArray(value)) {
        return `[${value.map((item, index) => serialise(item, `${path}[${index}]`)).join(",")}]`;
      }
      if (!isPlainObject(value)) {
        throw new CanonicalJsonError(
          path,
          "is not a plain object (Date, Map, class instances are not JSON)",
        );
      }
      return serialiseObject(value, path);
    default:
      throw new CanonicalJsonError(path, `is of type ${typeof value}, which JSON cannot represent`);
  }
}

function serialiseObject(object: Record<string, unknown>, path: string): string {
  // Array.prototype.sort compares strings by UTF-16 code units, which is RFC 8785 §3.2.3.
  const keys = Object.keys(object)
    .filter((key) => object[key] !== undefined)
    .sort();
  const members = keys.map((key) => {
    const memberPath = path ? `${path}.${key}` : key;
    return `${serialiseString(key, memberPath)}:${serialise(object[key], memberPath)}`;
  });
  return `{${members.join(",")}}`;
}

// RFC 8785 accepts I-JSON only: every surrogate must belong to a pair.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function serialiseString(text: string, path: string): string {
  if (LONE_SURROGATE.test(text))
    throw new CanonicalJsonError(path, "contains a lone UTF-16 surrogate");
  return JSON.stringify(text);
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Parses JSON text and reports whether it already is in canonical form. */
export function isCanonicalJsonText(text: string): boolean {
  try {
    return canonicalJson(JSON.parse(text)) === text;
  } catch {
    return false;
  }
}
