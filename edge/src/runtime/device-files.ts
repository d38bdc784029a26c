/**
 * What a provisioned device keeps in its data directory:
 *
 * - `identity.json`: the device's own keys (Ed25519 signing, X25519 encryption, code-hash key),
 *   generated on the device at provisioning; public halves in clear, secret halves sealed under
 *   the key-encryption key.
 * - `config.json`: device id, organisation, broker URL and username, MQTT password (sealed),
 *   trusted fleet keys, hardware profile, time zone, policy and one-time-code secret from the
 *   enrolment (the latter still sealed to the device's X25519 key).
 * - `lock.sqlite`: the lock store (state sections, audit log, checkpoints).
 *
 * Files are written whole to a temporary name and renamed, mode 0600, so a power cut leaves the
 * old file or the new one, never half of one.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import {
  ed25519,
  fromBase64url,
  isValid,
  LockPolicy,
  type SealedSecret,
  toBase64url,
  x25519,
} from "@lockfleet/protocol";
import type { DeviceIdentity } from "../lock/ports.js";
import { RuntimeError } from "./errors.js";
import { isSealedValue, openValue, type SealedValue, sealValue } from "./secrets.js";

export const IDENTITY_FILE = "identity.json";
export const CONFIG_FILE = "config.json";
export const STORE_FILE = "lock.sqlite";
export const DEFAULT_DATA_DIR = "/var/lib/lockfleet";

export interface TlsFiles {
  /** PEM file of the CA that signed the broker's certificate. */
  ca?: string;
  /** Client certificate and key (PEM) where the broker asks for mutual TLS. */
  cert?: string;
  key?: string;
}

export interface DeviceConfig {
  version: 1;
  deviceId: string;
  org: string;
  containerId: string;
  timeZone: string;
  profile: string;
  fleetUrl: string;
  broker: { url: string; username: string; password: SealedValue; tls?: TlsFiles };
  fleetKeys: Array<{ keyId: string; publicKey: string }>;
  policy: LockPolicy;
  /** The per-lock one-time-code secret, sealed to this device's X25519 key by the fleet. */
  otpSecret: SealedSecret;
  provisionedAt: string;
}

export interface IdentityFile {
  version: 1;
  deviceId: string;
  org: string;
  signingKeyId: string;
  signingPublicKey: string;
  encryptionPublicKey: string;
  /** {signingSecretKey, encryptionSecretKey, codeHashKey}, base64url, sealed under the KEK. */
  secrets: SealedValue;
}

interface IdentitySecrets {
  signingSecretKey: string;
  encryptionSecretKey: string;
  codeHashKey: string;
}

const identityPurpose = (deviceId: string) => `identity|lockfleet/v1|${deviceId}`;
const passwordPurpose = (deviceId: string) => `mqtt-password|lockfleet/v1|${deviceId}`;

export function dataPaths(dataDir: string) {
  return {
    identity: join(dataDir, IDENTITY_FILE),
    config: join(dataDir, CONFIG_FILE),
    store: join(dataDir, STORE_FILE),
  };
}

export function isProvisioned(dataDir: string): boolean {
  const paths = dataPaths(dataDir);
  return existsSync(paths.identity) || existsSync(paths.config);
}

/** Writes `text` to `path` atomically with mode 0600. */
export function writeFileAtomic(path: string, text: string): void {
  const temporary = `${path}.tmp-${process.pid}`;
  const fd = openSync(temporary, "w", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new RuntimeError(
        "E_NOT_PROVISIONED",
        `${what} ${path} does not exist; run "lockfleet-edge provision" first`,
      );
    }
    throw new RuntimeError("E_CONFIG", `${what} ${path} cannot be read as JSON`, { cause: error });
  }
}

/** Seals the identity's secret halves under the KEK; the public halves stay readable. */
export function sealIdentity(identity: DeviceIdentity, kek: Uint8Array): IdentityFile {
  const secrets: IdentitySecrets = {
    signingSecretKey: toBase64url(identity.signing.secretKey),
    encryptionSecretKey: toBase64url(identity.encryptionSecretKey),
    codeHashKey: toBase64url(identity.codeHashKey),
  };
  const plaintext = Buffer.from(JSON.stringify(secrets), "utf8");
  const sealed = sealValue(kek, identityPurpose(identity.deviceId), plaintext);
  plaintext.fill(0);
  return {
    version: 1,
    deviceId: identity.deviceId,
    org: identity.org,
    signingKeyId: identity.signingKeyId,
    signingPublicKey: toBase64url(identity.signing.publicKey),
    encryptionPublicKey: toBase64url(
      x25519.keyPairFromSecretKey(identity.encryptionSecretKey).publicKey,
    ),
    secrets: sealed,
  };
}

export function writeIdentity(dataDir: string, identity: DeviceIdentity, kek: Uint8Array): void {
  writeFileAtomic(
    dataPaths(dataDir).identity,
    `${JSON.stringify(sealIdentity(identity, kek), null, 2)}\n`,
  );
}

export function readIdentityFile(dataDir: string): IdentityFile {
  const path = dataPaths(dataDir).identity;
  const file = readJson(path, "identity") as Partial<IdentityFile>;
  if (
    file.version !== 1 ||
    typeof file.deviceId !== "string" ||
    typeof file.org !== "string" ||
    typeof file.signingKeyId !== "string" ||
    typeof file.signingPublicKey !== "string" ||
    typeof file.encryptionPublicKey !== "string" ||
    !isSealedValue(file.secrets)
  ) {
    throw new RuntimeError("E_CONFIG", `identity ${path} is not a lockfleet identity file`);
  }
  return file as IdentityFile;
}

/** Opens the identity with the KEK and checks the secret halves match the public ones. */
export function readIdentity(dataDir: string, kek: Uint8Array): DeviceIdentity {
  const file = readIdentityFile(dataDir);
  const plaintext = openValue(kek, identityPurpose(file.deviceId), file.secrets);
  let secrets: IdentitySecrets;
  try {
    secrets = JSON.parse(plaintext.toString("utf8")) as IdentitySecrets;
  } finally {
    plaintext.fill(0);
  }
  const signingSecretKey = fromBase64url(secrets.signingSecretKey);
  const signing = ed25519.keyPairFromSeed(signingSecretKey.subarray(0, 32));
  const encryptionSecretKey = fromBase64url(secrets.encryptionSecretKey);
  if (
    toBase64url(signing.publicKey) !== file.signingPublicKey ||
    toBase64url(x25519.keyPairFromSecretKey(encryptionSecretKey).publicKey) !==
      file.encryptionPublicKey
  ) {
    throw new RuntimeError("E_CONFIG", "identity secret keys do not match their public keys");
  }
  return {
    deviceId: file.deviceId,
    org: file.org,
    signing,
    signingKeyId: file.signingKeyId,
    encryptionSecretKey,
    codeHashKey: fromBase64url(secrets.codeHashKey),
  };
}

export function sealPassword(deviceId: string, password: string, kek: Uint8Array): SealedValue {
  return sealValue(kek, passwordPurpose(deviceId), Buffer.from(password, "utf8"));
}

export function openPassword(config: DeviceConfig, kek: Uint8Array): string {
  return openValue(kek, passwordPurpose(config.deviceId), config.broker.password).toString("utf8");
}

export function writeConfig(dataDir: string, config: DeviceConfig): void {
  writeFileAtomic(dataPaths(dataDir).config, `${JSON.stringify(config, null, 2)}\n`);
}

export function readConfig(dataDir: string): DeviceConfig {
  const path = dataPaths(dataDir).config;
  const config = readJson(path, "configuration") as Partial<DeviceConfig>;
  const problems: string[] = [];
  const text = (name: keyof DeviceConfig) => {
    if (typeof config[name] !== "string" || (config[name] as string).length === 0)
      problems.push(name);
  };
  if (config.version !== 1) problems.push("version");
  for (const name of ["deviceId", "org", "containerId", "timeZone", "profile", "fleetUrl"] as const)
    text(name);
  const broker = config.broker;
  if (
    broker === undefined ||
    typeof broker.url !== "string" ||
    !/^(mqtt|mqtts|tcp|ssl):\/\//.test(broker.url) ||
    typeof broker.username !== "string" ||
    !isSealedValue(broker.password)
  ) {
    problems.push("broker");
  }
  if (
    !Array.isArray(config.fleetKeys) ||
    config.fleetKeys.length === 0 ||
    !config.fleetKeys.every(
      (key) => typeof key?.keyId === "string" && typeof key.publicKey === "string",
    )
  ) {
    problems.push("fleetKeys");
  }
  if (!isValid(LockPolicy, config.policy)) problems.push("policy");
  if (problems.length > 0) {
    throw new RuntimeError("E_CONFIG", `configuration ${path} is invalid: ${problems.join(", ")}`);
  }
  return config as DeviceConfig;
}
