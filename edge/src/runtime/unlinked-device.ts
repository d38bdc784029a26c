/**
 * A device set up without a fleet, as a technician has it on the bench before enrolment (and
 * as the benchmarks run it): identity generated here and sealed under the data directory's KEK
 * exactly as `provision` does, a configuration that trusts a fleet key nobody holds (so no
 * command can reach it) and names no reachable broker (the runtime runs with its fleet link
 * off). The lock core applies every rule of its policy locally.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import {
  DEFAULT_LOCK_POLICY,
  ed25519,
  formatInstant,
  type LockPolicy,
  sealSecret,
  toBase64url,
  x25519,
} from "@lockfleet/protocol";
import { generateDeviceIdentity } from "../lock/harness.js";
import { type DeviceConfig, sealPassword, writeConfig, writeIdentity } from "./device-files.js";

/** Where an unlinked device's broker and fleet point: addresses nothing answers on. */
const NOWHERE = "127.0.0.1:9";

export interface UnlinkedDeviceOptions {
  deviceId: string;
  org: string;
  containerId: string;
  timeZone: string;
  /** Hardware profile id. */
  profile: string;
  /** Defaults to the protocol's default lock policy. */
  policy?: LockPolicy;
}

/** Writes `identity.json` and `config.json` of a device with no fleet (directory mode 0700). */
export function writeUnlinkedDevice(
  dataDir: string,
  options: UnlinkedDeviceOptions,
  kek: Uint8Array,
): DeviceConfig {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const identity = generateDeviceIdentity(options.deviceId, options.org);
  const encryptionPublicKey = x25519.keyPairFromSecretKey(identity.encryptionSecretKey).publicKey;
  const unheldFleetKey = ed25519.generateKeyPair();
  unheldFleetKey.secretKey.fill(0);
  const config: DeviceConfig = {
    version: 1,
    deviceId: options.deviceId,
    org: options.org,
    containerId: options.containerId,
    timeZone: options.timeZone,
    profile: options.profile,
    fleetUrl: `http://${NOWHERE}`,
    broker: {
      url: `mqtt://${NOWHERE}`,
      username: options.deviceId,
      password: sealPassword(options.deviceId, randomBytes(24).toString("base64url"), kek),
    },
    fleetKeys: [{ keyId: "unheld", publicKey: toBase64url(unheldFleetKey.publicKey) }],
    policy: options.policy ?? DEFAULT_LOCK_POLICY,
    otpSecret: sealSecret(randomBytes(32), encryptionPublicKey),
    provisionedAt: formatInstant(Date.now()),
  };
  writeIdentity(dataDir, identity, kek);
  writeConfig(dataDir, config);
  identity.signing.secretKey.fill(0);
  identity.encryptionSecretKey.fill(0);
  identity.codeHashKey.fill(0);
  return config;
}
