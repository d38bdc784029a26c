/**
 * Errors of the hardware layer: a stable code and a sentence a field technician can act on.
 * A profile the edge refuses keeps the profile's own code (E_PROFILE_PIN_REUSED, …).
 */
import type { ProfileErrorCode } from "@lockfleet/hardware-profiles";

export type HardwareErrorCode =
  | ProfileErrorCode
  /** The IO plugin's package is not installed on this device (raspi-io off ARM). */
  | "E_HARDWARE_IO_UNAVAILABLE"
  /** The serial port package has no native binding for this machine. */
  | "E_HARDWARE_SERIALPORT_UNAVAILABLE"
  /** A profile that runs on a board the edge cannot create itself (the virtual board). */
  | "E_HARDWARE_IO_REQUIRED"
  /** The board did not become ready in time. */
  | "E_HARDWARE_NOT_READY"
  /** The board or its IO plugin reported an error. */
  | "E_HARDWARE_BOARD"
  /** A part could not be set up or driven (its message names the part). */
  | "E_HARDWARE_PART"
  /** The hardware was used after close(). */
  | "E_HARDWARE_CLOSED";

export class HardwareError extends Error {
  constructor(
    readonly code: HardwareErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.name = "HardwareError";
  }
}
