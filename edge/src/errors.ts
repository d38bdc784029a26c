/**
 * The edge's error catalogue: every code the lock controller raises, with what it means
 * (CONVENTIONS: one error catalogue per package). Each error is a CodedError carrying its
 * code as a typed field; a code is read from that field (`codeOf`), never parsed out of a
 * message. Command refusals (COMMAND_REFUSALS) and envelope refusals are the protocol's,
 * hardware-profile codes the profiles' own.
 */
import type { ProfileErrorCode } from "@lockfleet/hardware-profiles";
import { CodedError, type CommandRefusalCode, type ProtocolCode } from "@lockfleet/protocol";

/** The lock core: each one leaves the bolt thrown (fail-secure). */
export const LOCK_ERRORS = {
  E_BAD_KEY: "a key the keypad does not have was reported",
  E_NOT_PROVISIONED: "the lock store is empty and no factory set-up was given",
  E_BAD_CONFIG: "the factory set-up breaks the policy schema or the code length",
  E_STORE_CORRUPT: "the lock store lacks the policy or time-lock section",
  E_INTERNAL: "lock state changed outside a unit of work",
  E_REENTRANT: "an input reached the core while another was being handled",
  E_HARDWARE_PART: "a part the lock cannot work without failed while driven",
  E_CLOCK: "a manual clock was asked to move backwards",
} as const;

/** The lock store (store/). */
export const STORE_ERRORS = {
  E_STORAGE: "the store failed to write or read (disk full, I/O error)",
  E_STORE_DEVICE_MISMATCH: "the store belongs to another lock",
  E_STORE_VERSION: "the store was written by a newer firmware",
  E_AUDIT_CHAIN_BROKEN: "a record of the audit chain does not hash to its successor's link",
  E_STORE_MALFORMED: "the store file is damaged",
  E_ACK_MISMATCH: "an acknowledged audit head is not the store's record at that seq",
  E_STORE_CLOSED: "the store was used after it was closed",
} as const;

/** The device runtime and its command line (runtime/, cli.ts). */
export const RUNTIME_ERRORS = {
  E_PROFILE_UNKNOWN: "no shipped hardware profile has that id",
  E_PROFILE_INVALID: "the hardware profile fails its checks",
  E_PROFILE_MISMATCH: "the profile differs from the one the device was provisioned with",
  E_PROFILE_VIRTUAL: "a virtual-board profile was asked to run on real hardware",
  E_FLEET_UNREACHABLE: "the fleet did not answer",
  E_ENROLMENT_REFUSED: "the fleet refused the enrolment",
  E_ENROLMENT_INVALID: "the fleet's enrolment answer is not valid",
  E_ENROLMENT_PIN: "the enrolment token's pin does not match what the fleet presented",
  E_ALREADY_PROVISIONED: "the device is provisioned already",
  E_NOT_PROVISIONED: "the device is not provisioned yet",
  E_KEK_MISSING: "the key-encryption key is missing",
  E_KEK_INVALID: "the key-encryption key cannot be read",
  E_KEK_PERMISSIONS: "the key-encryption key file is readable by others",
  E_SEALED: "a device secret cannot be unsealed with this device's key",
  E_CONFIG: "a configuration file cannot be read",
  E_MASTER_CODE: "the master code is not correct",
  E_AUDIT_UNACKNOWLEDGED: "audit records the fleet has not acknowledged would be lost",
  E_PENALTY_RUNNING: "a wrong-code lockout is running",
  E_HARDWARE: "the hardware could not be opened",
  E_USAGE: "the command line is not valid",
  E_DATA_DIR_IN_USE: "another lock process uses the data directory",
  E_MQTT_CLOSED: "the fleet link is not running",
  E_SELF_TEST_FAILED: "a self-test the fleet asked for could not run",
} as const;

/** The hardware layer (hardware/); a profile the edge refuses keeps the profile's own code. */
export const HARDWARE_ERRORS = {
  E_HARDWARE_IO_UNAVAILABLE: "the IO plugin's package is not installed on this device",
  E_HARDWARE_SERIALPORT_UNAVAILABLE: "the serial port package has no binding for this machine",
  E_HARDWARE_IO_REQUIRED: "the profile runs on a board the edge cannot create itself",
  E_HARDWARE_NOT_READY: "the board did not become ready in time",
  E_HARDWARE_BOARD: "the board or its IO plugin reported an error",
  E_HARDWARE_PART: "a part could not be set up or driven",
  E_HARDWARE_CLOSED: "the hardware was used after close()",
} as const;

/** Software updates (update/): refusals and failures of a download, an install or a switch. */
export const UPDATE_ERRORS = {
  E_UPDATE_DOWNLOAD: "the target could not be downloaded from the address the offer names",
  E_UPDATE_LAYOUT: "the install root does not have the A/B layout the updater needs",
  E_UPDATE_STATE: "the update state does not hold what the next step needs",
  E_UPDATE_UNHEALTHY: "the new version failed its health check",
  E_UPDATE_FAILED: "an update step failed; the running version stays",
  E_UPDATE_UNSUPPORTED: "this lock runs without an install root and takes no updates",
  E_UPDATE_UNPACK: "the verified target could not be unpacked into the other slot",
  E_UPDATE_BUSY: "another update is in progress on this lock",
  E_UPDATE_ROLLED_BACK: "this release was rolled back on this lock before",
  E_RELEASE_KEYS: "the lock's release-keys file cannot be read",
} as const;

/** The edge's whole catalogue. */
export const EDGE_ERRORS = {
  ...LOCK_ERRORS,
  ...STORE_ERRORS,
  ...RUNTIME_ERRORS,
  ...HARDWARE_ERRORS,
  ...UPDATE_ERRORS,
} as const;

export type LockErrorCode = keyof typeof LOCK_ERRORS;
export type LockStoreErrorCode = keyof typeof STORE_ERRORS;
export type RuntimeErrorCode = keyof typeof RUNTIME_ERRORS;
export type UpdateErrorCode = keyof typeof UPDATE_ERRORS;
export type HardwareErrorCode = keyof typeof HARDWARE_ERRORS | ProfileErrorCode;
export type EdgeErrorCode = keyof typeof EDGE_ERRORS | ProfileErrorCode | CommandRefusalCode;

/** An error of the lock core itself (not a refusal): the core fails secure on it. */
export class LockError extends CodedError<LockErrorCode> {
  override readonly name = "LockError";
}

/** A refusal by the lock's own rules of a command it could open: the command's result says why. */
export class LockRuleError extends CodedError<CommandRefusalCode> {
  override readonly name = "LockRuleError";
}

/** A store refusing or failing: never swallowed (fail-secure). */
export class LockStoreError extends CodedError<LockStoreErrorCode> {
  override readonly name = "LockStoreError";
}

/** The device runtime and its command line: a sentence a field technician can act on. */
export class RuntimeError extends CodedError<RuntimeErrorCode> {
  override readonly name = "RuntimeError";
}

/** The hardware layer: a sentence a field technician can act on. */
export class HardwareError extends CodedError<HardwareErrorCode> {
  override readonly name = "HardwareError";
}

/** A software update step refused or failed: the running version stays (update/). */
export class UpdateError extends CodedError<UpdateErrorCode | ProtocolCode> {
  override readonly name = "UpdateError";
}
