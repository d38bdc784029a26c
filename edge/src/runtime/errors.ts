/**
 * Errors of the device runtime and its command line: a stable code and a sentence a field
 * technician can act on (CONVENTIONS: `E_CODE: what happened`).
 */

export type RuntimeErrorCode =
  | "E_PROFILE_UNKNOWN"
  | "E_PROFILE_INVALID"
  | "E_PROFILE_MISMATCH"
  | "E_PROFILE_VIRTUAL"
  | "E_FLEET_UNREACHABLE"
  | "E_ENROLMENT_REFUSED"
  | "E_ENROLMENT_INVALID"
  | "E_ENROLMENT_PIN"
  | "E_ALREADY_PROVISIONED"
  | "E_NOT_PROVISIONED"
  | "E_KEK_MISSING"
  | "E_KEK_INVALID"
  | "E_KEK_PERMISSIONS"
  | "E_SEALED"
  | "E_CONFIG"
  | "E_MASTER_CODE"
  | "E_AUDIT_UNACKNOWLEDGED"
  | "E_PENALTY_RUNNING"
  | "E_HARDWARE"
  | "E_USAGE"
  | "E_DATA_DIR_IN_USE";

export class RuntimeError extends Error {
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.name = "RuntimeError";
  }
}

/** The stable code of any error that carries one (`E_…: sentence`), else undefined. */
export function errorCode(error: unknown): string | undefined {
  if (error instanceof RuntimeError) return error.code;
  if (error instanceof Error) return /^(E_[A-Z0-9_]+):/.exec(error.message)?.[1];
  return undefined;
}
