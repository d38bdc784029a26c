/**
 * What the lock core needs from the world, injected (CONVENTIONS: the lock core is pure).
 * Production wires the system clock and Johnny-Five; tests and the scenario runner wire a
 * manual clock and virtual hardware.
 */
import type { Ed25519KeyPair } from "@lockfleet/protocol";

export interface Clock {
  /** Wall-clock time of the device's real-time clock, epoch milliseconds (may be wrong until synced). */
  now(): number;
  /** Monotonic milliseconds since an arbitrary origin; never jumps. All durations use this. */
  monotonic(): number;
}

export type BoltPosition = "thrown" | "retracted";
export type BuzzerSound = "key" | "accept" | "reject" | "release" | "alarm" | "off";

/** Outputs the core drives. Inputs come back as calls on the core (keys, door, bolt sensor…). */
export interface LockOutputs {
  driveBolt(position: BoltPosition): void;
  /** Two lines of a character display. */
  display(lines: readonly [string, string]): void;
  buzzer(sound: BuzzerSound): void;
  /** Pulses the silent-alarm relay towards the alarm system. */
  pulseSilentAlarm(): void;
}

/** The device's own secrets, generated on the device at provisioning; never stored by the core. */
export interface DeviceIdentity {
  deviceId: string;
  org: string;
  /** Ed25519 key pair signing audit checkpoints. */
  signing: Ed25519KeyPair;
  signingKeyId: string;
  /** X25519 secret key opening secrets sealed to this lock. */
  encryptionSecretKey: Uint8Array;
  /** Device-local key for the keyed hashes of codes. */
  codeHashKey: Uint8Array;
}
