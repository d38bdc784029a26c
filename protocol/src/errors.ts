/**
 * Stable machine codes for every way a protocol message can be refused. Each rejection
 * carries one of these plus a sentence for a person (CONVENTIONS.md: errors).
 */
export const PROTOCOL_ERROR_CODES = [
  "E_TOO_LARGE",
  "E_MALFORMED",
  "E_NOT_CANONICAL",
  "E_SCHEMA",
  "E_UNKNOWN_TYPE",
  "E_UNKNOWN_KEY",
  "E_BAD_SIGNATURE",
  "E_WRONG_DEVICE",
  "E_NOT_YET_VALID",
  "E_EXPIRED",
  "E_REPLAY",
  "E_BAD_TOPIC",
] as const;

export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

export interface ProtocolError<Code extends string = ProtocolErrorCode> {
  code: Code;
  message: string;
}

export type Result<T, Code extends string = ProtocolErrorCode> =
  | { ok: true; value: T }
  | { ok: false; error: ProtocolError<Code> };

export function fail<Code extends string>(
  code: Code,
  message: string,
): { ok: false; error: ProtocolError<Code> } {
  return { ok: false, error: { code, message } };
}

export function succeed<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

/**
 * "E_CODE: message" from the text of an error answer carrying the `{code, message}` body every
 * lockfleet service answers with; undefined for any other text (the caller says what it saw).
 */
export function errorBodyDetail(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { code?: unknown; message?: unknown } | null;
    return typeof parsed?.code === "string"
      ? `${parsed.code}: ${String(parsed.message ?? "")}`
      : undefined;
  } catch {
    return undefined;
  }
}
