/** Identifiers: a short prefix naming the kind of thing, then 16 random hex digits. */
import { randomBytes } from "node:crypto";

export const ID_PATTERN = "^[a-z]{2,8}_[0-9a-f]{16}$";

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(8).toString("hex")}`;
}

/** Device ids are a valid MQTT topic level: `lock-` and 12 hex digits. */
export function newDeviceId(): string {
  return `lock-${randomBytes(6).toString("hex")}`;
}
