/**
 * The protocol's error catalogue: every code a protocol function or a lock's answer may carry,
 * with what it means. Each error carries its code as a field and a sentence for a person
 * (CONVENTIONS.md: errors); a code is read from that field, never parsed out of a message.
 */

/** Every way a protocol message can be refused (envelope, schema, signature, replay). */
export const MESSAGE_REFUSALS = {
  E_TOO_LARGE: "the message is larger than the protocol allows",
  E_MALFORMED: "the message is not the JSON the protocol expects",
  E_NOT_CANONICAL: "the signed payload is not in canonical JSON",
  E_SCHEMA: "a field is missing, of another type or out of range",
  E_UNKNOWN_TYPE: "the message names a type the protocol does not know",
  E_UNKNOWN_KEY: "the message is signed with a key the receiver does not trust",
  E_BAD_SIGNATURE: "the signature does not verify (strict RFC 8032)",
  E_WRONG_DEVICE: "the message names another lock",
  E_NOT_YET_VALID: "the message is not valid yet by the receiver's clock",
  E_EXPIRED: "the message expired by the receiver's clock",
  E_REPLAY: "the message was accepted before, or is older than the last one accepted",
  E_BAD_TOPIC: "the message arrived on a topic it does not belong on",
} as const;

export const PROTOCOL_ERROR_CODES = Object.keys(MESSAGE_REFUSALS) as Array<
  keyof typeof MESSAGE_REFUSALS
>;

export type ProtocolErrorCode = keyof typeof MESSAGE_REFUSALS;

/**
 * Why a lock refuses a command whose envelope it accepted: its own rules, which no command
 * overrides (SPEC §3 "Remote functions"). Carried in the command's result and in the lock's
 * `command.rejected` record.
 */
export const COMMAND_REFUSALS = {
  E_APPROVALS_REQUIRED: "the change weakens the lock and lacks its distinct approvers",
  E_SCHEMA: "the body breaks a rule its schema cannot state (ends before it begins…)",
  E_SEALED_BOX: "a sealed secret cannot be opened with this lock's key",
  E_BAD_CODE: "a code has not the number of digits this lock uses",
  E_BAD_KEY: "a fleet key is not 32 bytes of canonical base64url, or would retire itself",
  E_SLOT_TAKEN: "the user slot belongs to another person",
  E_NO_SUCH_USER: "no such person in that user slot",
  E_TIME_PROFILE_INVALID: "a user's time profile is not a schedule the lock can evaluate",
  E_TIME_LOCK_INVALID:
    "the time-lock schedule cannot be evaluated, or the change would shorten a running lock",
  E_WRONG_DEVICE: "the grant does not name this lock",
  E_GRANT_EXPIRED: "the grant ended before the lock received it",
  E_GRANT_REVOKED: "the grant was revoked on this lock",
  E_NO_SUCH_GRANT: "no such grant on this lock",
  E_TIME_BACKWARDS: "a time sync would move the clock back beyond its daily bound",
  E_TIME_NOT_CONFIRMED: "setting the clock moves it other than by the jump its approvers confirmed",
  E_ACK_MISMATCH: "the acknowledged audit head is not the lock's record at that seq",
} as const;

export type CommandRefusalCode = keyof typeof COMMAND_REFUSALS;

/** Reading an audit record's data as a kind (schemas/audit-data.ts). */
export const AUDIT_DATA_ERRORS = {
  E_AUDIT_KIND: "the audit record is of another kind than the one asked for",
  E_AUDIT_DATA: "the audit record's data does not read as its kind's schema",
} as const;

export type AuditDataErrorCode = keyof typeof AUDIT_DATA_ERRORS;

/** Refusals particular to device-signed messages (device-message.ts). */
export const DEVICE_MESSAGE_REFUSALS = {
  E_UNSIGNED: "a lock's message is not a signed envelope",
  E_WRONG_TOPIC: "a lock's message arrived on a topic other than its type's",
} as const;

/** A received audit chain that does not hold together (audit-chain.ts). */
export const AUDIT_CHAIN_ERRORS = {
  E_CHAIN_GAP: "a record's seq does not follow the one before",
  E_CHAIN_LINK: "a record's prevHash is not the hash of the record before",
  E_CHAIN_HASH: "a record does not hash to its own hash (altered)",
} as const;

/** A protocol function called with input it cannot take (a programming or data error). */
export const INPUT_ERRORS = {
  E_BAD_INPUT: "an argument is out of the range the function takes",
  E_BAD_ENCODING: "text is not canonical hex or base64url",
  E_BAD_KEY: "a key has not the length or form its algorithm needs",
  E_BAD_POINT: "an Ed25519 point encoding is not 32 bytes",
  E_BAD_TOPIC: "a topic level holds characters a topic may not",
  E_NOT_CANONICALISABLE: "a value cannot be written as canonical JSON",
  E_SEALED_BOX: "a sealed box cannot be opened with the key given",
} as const;

/** A release (software update metadata) or its target that a lock or the fleet refuses (release.ts). */
export const RELEASE_ERRORS = {
  E_RELEASE_MALFORMED: "the signed release is not JSON, names no key or has a malformed signature",
  E_RELEASE_UNKNOWN_KEY: "the release is signed by a key that is not a trusted release key",
  E_RELEASE_BAD_SIGNATURE: "the release signature does not verify over the received bytes",
  E_RELEASE_NOT_CANONICAL: "the release payload is not in RFC 8785 canonical form",
  E_RELEASE_SCHEMA: "the release metadata does not match its schema",
  E_UPDATE_ROLLBACK: "the release is not newer than the running version (rollback)",
  E_UPDATE_FROZEN: "the release metadata is past its expiry on the lock's trusted clock (freeze)",
  E_UPDATE_NOT_YET_VALID: "the release was issued later than the lock's trusted clock allows",
  E_UPDATE_NO_TRUSTED_TIME: "the lock has no trusted time to judge the release's expiry",
  E_UPDATE_PROFILE: "the release does not fit the lock's hardware profile",
  E_UPDATE_FROM_TOO_OLD: "the running version is below the release's minimum starting version",
  E_UPDATE_LENGTH: "the downloaded target has another length than the release names",
  E_UPDATE_HASH: "the downloaded target has another SHA-256 than the release names",
} as const;

/** A release-key set, or a release under the trusted keys, that a lock or the fleet refuses (release-keys.ts). */
export const RELEASE_KEYS_ERRORS = {
  E_RELEASE_KEYS_FILE: "the release-keys file cannot be read as a key list",
  E_RELEASE_KEYS_MALFORMED: "the signed key set is not JSON or its signatures are malformed",
  E_RELEASE_KEYS_NOT_CANONICAL: "the key set's payload is not in RFC 8785 canonical form",
  E_RELEASE_KEYS_SCHEMA: "the key set does not match its schema",
  E_RELEASE_KEYS_THRESHOLD: "the key set is not signed by a threshold of the keys trusted now",
  E_RELEASE_KEYS_NEW_THRESHOLD: "the key set is not signed by a threshold of its own keys",
  E_RELEASE_KEYS_ROLLBACK: "the key set is not newer than the one trusted now (replayed)",
  E_RELEASE_KEYS_EXPIRED: "the newest key set is past its expiry on the trusted clock",
  E_RELEASE_KEYS_NOT_YET_VALID: "the key set was issued later than the trusted clock allows",
  E_RELEASE_KEYS_NO_TRUSTED_TIME: "no trusted time to judge the key set's expiry",
  E_RELEASE_KEYS_REBOUND: "a key id trusted now is bound to another public key in the new set",
  E_RELEASE_KEY_REVOKED: "the release is signed by a key an accepted key set left out",
} as const;

/** The protocol's whole catalogue. */
export const PROTOCOL_ERRORS = {
  ...MESSAGE_REFUSALS,
  ...DEVICE_MESSAGE_REFUSALS,
  ...AUDIT_CHAIN_ERRORS,
  ...INPUT_ERRORS,
  ...COMMAND_REFUSALS,
  ...AUDIT_DATA_ERRORS,
  ...RELEASE_ERRORS,
  ...RELEASE_KEYS_ERRORS,
} as const;

export type ProtocolCode = keyof typeof PROTOCOL_ERRORS;

/**
 * An error with its stable code as a typed field and a sentence for a person; its message
 * reads "E_CODE: sentence" for logs. Each package narrows `C` to its own catalogue.
 */
export class CodedError<C extends string = string> extends Error {
  readonly code: C;
  /** The sentence without the code. */
  readonly sentence: string;

  constructor(code: C, sentence: string, options?: { cause?: unknown }) {
    super(`${code}: ${sentence}`, options);
    this.name = "CodedError";
    this.code = code;
    this.sentence = sentence;
  }
}

/** An error of the protocol's own catalogue. */
export function protocolError(code: ProtocolCode, sentence: string): CodedError<ProtocolCode> {
  return new CodedError(code, sentence);
}

/** The code of an error that carries one as a field (a CodedError), else undefined. */
export function codeOf(error: unknown): string | undefined {
  return error instanceof CodedError ? error.code : undefined;
}

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
