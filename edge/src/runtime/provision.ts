/**
 * Provisioning, status and factory reset of the device (SPEC §5 "Provisioning").
 *
 * The device generates its own keys; the fleet only ever sees the public halves. A technician
 * enrols it with a one-time token: the device signs a claim (token, its public keys, hardware
 * profile, firmware) with its new Ed25519 key as proof of possession, POSTs it to
 * `<fleet>/api/v1/enrolment`, and stores what comes back (device id, broker URL and
 * credentials, trusted fleet keys, policy, the one-time-code secret sealed to the device).
 * A provisioned device refuses to enrol again until a factory reset with the master code.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  canonicalJson,
  type EnrolmentClaim,
  type EnrolmentRequest,
  EnrolmentResponse,
  ed25519,
  errorBodyDetail,
  formatInstant,
  openSealedSecret,
  toBase64url,
  validate,
  x25519,
} from "@lockfleet/protocol";
import { codeMatches } from "../lock/codes.js";
import { FIRMWARE_VERSION } from "../lock/lock-core.js";
import type { DeviceIdentity } from "../lock/ports.js";
import type { StoredUser } from "../lock/state.js";
import { failSecureMarkPath } from "../store/fail-secure-mark.js";
import { SqliteLockStore } from "../store/sqlite-store.js";
import { BROKER_CA_FILE, checkBrokerTrust } from "./broker-trust.js";
import { lockDataDir } from "./data-dir-lock.js";
import {
  type DeviceConfig,
  dataPaths,
  isProvisioned,
  readConfig,
  readIdentity,
  readIdentityFile,
  sealPassword,
  type TlsFiles,
  writeConfig,
  writeFileAtomic,
  writeIdentity,
} from "./device-files.js";
import { RuntimeError } from "./errors.js";
import { redactUrl } from "./mqtt-link.js";
import { resolveProfile } from "./profile.js";
import { loadKek, loadOrCreateKek, locateKek } from "./secrets.js";

export const ENROLMENT_PATH = "/api/v1/enrolment";

export interface ProvisionOptions {
  /** Base URL of the fleet service, e.g. https://fleet.bank.example */
  fleetUrl: string;
  /** The one-time enrolment token a security admin created for this container. */
  token: string;
  /** Hardware profile id this device is built as. */
  profile: string;
  dataDir: string;
  /** Key-encryption key; when absent it is read (or created) at kekFile / the systemd credential / /etc/lockfleet/kek. */
  kek?: Uint8Array;
  kekFile?: string;
  /** TLS files for an mqtts:// broker signed by a private CA (paths, kept in the configuration). */
  brokerTls?: TlsFiles;
  timeoutMs?: number;
  /** For tests: the HTTP client (default: global fetch). */
  fetch?: typeof fetch;
}

export interface ProvisionResult {
  deviceId: string;
  org: string;
  containerId: string;
  profile: string;
  brokerUrl: string;
  dataDir: string;
  signingPublicKey: string;
}

export async function provision(options: ProvisionOptions): Promise<ProvisionResult> {
  if (isProvisioned(options.dataDir)) {
    const existing = safeDeviceId(options.dataDir);
    throw new RuntimeError(
      "E_ALREADY_PROVISIONED",
      `${options.dataDir} already holds a provisioned device${existing ? ` (${existing})` : ""}; run "lockfleet-edge factory-reset --master-code …" first`,
    );
  }
  const profile = resolveProfile(options.profile);
  let endpoint: URL;
  try {
    endpoint = new URL(ENROLMENT_PATH, options.fleetUrl);
    if (endpoint.protocol !== "https:" && endpoint.protocol !== "http:") throw new Error("scheme");
  } catch {
    throw new RuntimeError("E_USAGE", `--fleet ${options.fleetUrl} is not an http(s) URL`);
  }
  if (options.token.length < 16 || options.token.length > 128) {
    throw new RuntimeError(
      "E_ENROLMENT_REFUSED",
      "the enrolment token must have 16–128 characters (as the fleet issued it)",
    );
  }
  const kek = options.kek ?? loadOrCreateKek(locateKek(options.kekFile));

  const signing = ed25519.generateKeyPair();
  const encryption = x25519.generateKeyPair();
  const claim: EnrolmentClaim = {
    token: options.token,
    signingPublicKey: toBase64url(signing.publicKey),
    encryptionPublicKey: toBase64url(encryption.publicKey),
    hardwareProfile: profile.id,
    firmware: FIRMWARE_VERSION,
    requestedAt: formatInstant(Date.now()),
  };
  const request: EnrolmentRequest = {
    claim,
    proof: toBase64url(
      ed25519.sign(new TextEncoder().encode(canonicalJson(claim)), signing.secretKey),
    ),
  };

  const response = await postEnrolment(endpoint, request, options);
  const checked = validate(EnrolmentResponse, response, "enrolment response");
  if (!checked.ok) {
    throw new RuntimeError(
      "E_ENROLMENT_INVALID",
      `the fleet's answer is not an enrolment response: ${checked.error.message}`,
    );
  }
  const enrolment = checked.value;
  // Before anything is kept: the broker CA must be the one the token pins.
  const brokerCa = checkBrokerTrust(options.token, enrolment.broker);
  try {
    openSealedSecret(enrolment.otpSecret, encryption.secretKey).fill(0);
  } catch (error) {
    throw new RuntimeError(
      "E_ENROLMENT_INVALID",
      "the one-time-code secret in the enrolment is not sealed to this device's key",
      { cause: error },
    );
  }

  const identity: DeviceIdentity = {
    deviceId: enrolment.deviceId,
    org: enrolment.org,
    signing,
    signingKeyId: `${enrolment.deviceId}-k1`,
    encryptionSecretKey: encryption.secretKey,
    codeHashKey: randomBytes(32),
  };
  const config: DeviceConfig = {
    version: 1,
    deviceId: enrolment.deviceId,
    org: enrolment.org,
    containerId: enrolment.containerId,
    timeZone: enrolment.timeZone,
    profile: profile.id,
    fleetUrl: options.fleetUrl,
    broker: {
      url: enrolment.broker.url,
      username: enrolment.broker.username,
      password: sealPassword(enrolment.deviceId, enrolment.broker.password, kek),
      ...(brokerCa !== undefined
        ? { tls: { ...options.brokerTls, ca: join(options.dataDir, BROKER_CA_FILE) } }
        : options.brokerTls === undefined
          ? {}
          : { tls: options.brokerTls }),
    },
    fleetKeys: enrolment.fleetKeys,
    policy: enrolment.policy,
    otpSecret: enrolment.otpSecret,
    provisionedAt: formatInstant(Date.now()),
  };
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  if (brokerCa !== undefined) writeFileAtomic(join(options.dataDir, BROKER_CA_FILE), brokerCa);
  writeIdentity(options.dataDir, identity, kek);
  writeConfig(options.dataDir, config);
  identity.encryptionSecretKey.fill(0);
  identity.codeHashKey.fill(0);
  return {
    deviceId: enrolment.deviceId,
    org: enrolment.org,
    containerId: enrolment.containerId,
    profile: profile.id,
    brokerUrl: redactUrl(enrolment.broker.url),
    dataDir: options.dataDir,
    signingPublicKey: claim.signingPublicKey,
  };
}

async function postEnrolment(
  endpoint: URL,
  request: EnrolmentRequest,
  options: ProvisionOptions,
): Promise<unknown> {
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
  } catch (error) {
    throw new RuntimeError(
      "E_FLEET_UNREACHABLE",
      `the fleet at ${endpoint.origin} cannot be reached: ${unreachableReason(error, endpoint)}`,
      { cause: error },
    );
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const detail = errorBodyDetail(text) ?? `HTTP ${response.status}`;
    if (response.status >= 500) {
      throw new RuntimeError(
        "E_FLEET_UNREACHABLE",
        `the fleet at ${endpoint.origin} failed to answer the enrolment (${detail})`,
      );
    }
    throw new RuntimeError(
      "E_ENROLMENT_REFUSED",
      `the fleet refused the enrolment token (${detail}); ask the security admin for a new one`,
    );
  }
  if (body === undefined) {
    throw new RuntimeError("E_ENROLMENT_INVALID", "the fleet's answer is not JSON");
  }
  return body;
}

function safeDeviceId(dataDir: string): string | undefined {
  try {
    return readIdentityFile(dataDir).deviceId;
  } catch {
    return undefined;
  }
}

export interface DeviceStatus {
  provisioned: boolean;
  dataDir: string;
  deviceId?: string;
  org?: string;
  containerId?: string;
  profile?: string;
  timeZone?: string;
  fleetUrl?: string;
  brokerUrl?: string;
  provisionedAt?: string;
  signingPublicKey?: string;
  fleetKeyIds?: string[];
  /** Size of the lock store on disk (bytes), when it exists. */
  storeBytes?: number;
  kek: { path: string; source: string; present: boolean };
}

/** What is provisioned here; reads only the files (safe while the service runs). */
export function deviceStatus(dataDir: string, kekFile?: string): DeviceStatus {
  const location = locateKek(kekFile);
  const kek = { path: location.path, source: location.source, present: existsSync(location.path) };
  if (!isProvisioned(dataDir)) return { provisioned: false, dataDir, kek };
  const identity = readIdentityFile(dataDir);
  const config = readConfig(dataDir);
  const storePath = dataPaths(dataDir).store;
  return {
    provisioned: true,
    dataDir,
    deviceId: config.deviceId,
    org: config.org,
    containerId: config.containerId,
    profile: config.profile,
    timeZone: config.timeZone,
    fleetUrl: config.fleetUrl,
    brokerUrl: redactUrl(config.broker.url),
    provisionedAt: config.provisionedAt,
    signingPublicKey: identity.signingPublicKey,
    fleetKeyIds: config.fleetKeys.map((key) => key.keyId),
    ...(existsSync(storePath) ? { storeBytes: statSync(storePath).size } : {}),
    kek,
  };
}

export interface FactoryResetOptions {
  dataDir: string;
  /** The current master code (slot 00). */
  masterCode: string;
  kek?: Uint8Array;
  kekFile?: string;
  /** Reset even though the fleet has not acknowledged every audit record (they are lost). */
  discardUnacknowledgedAudit?: boolean;
}

/** The factory master code of a lock store not yet created (the core's default, cut to the code length). */
const FACTORY_MASTER_CODE = "12345678";

/**
 * Erases the device's identity, configuration and lock store after checking the master code.
 * The service must be stopped first. Refuses while a wrong-code penalty runs, and while audit
 * records wait for the fleet's acknowledgement (unless told to discard them).
 */
export function factoryReset(options: FactoryResetOptions): { deviceId: string } {
  if (!isProvisioned(options.dataDir)) {
    throw new RuntimeError("E_NOT_PROVISIONED", `${options.dataDir} holds no provisioned device`);
  }
  const kek = options.kek ?? loadKek(locateKek(options.kekFile));
  const identity = readIdentity(options.dataDir, kek);
  const config = readConfig(options.dataDir);
  const paths = dataPaths(options.dataDir);
  // Never under a running controller: it refuses with E_DATA_DIR_IN_USE.
  const dirLock = lockDataDir(options.dataDir);
  try {
    resetStore(options, identity, config, paths);
  } finally {
    dirLock.release();
  }
  return { deviceId: identity.deviceId };
}

function resetStore(
  options: FactoryResetOptions,
  identity: DeviceIdentity,
  config: DeviceConfig,
  paths: ReturnType<typeof dataPaths>,
): void {
  if (existsSync(paths.store)) {
    const store = SqliteLockStore.open(paths.store, identity.deviceId);
    try {
      const penalty = store.readSection<{ runningMs?: number }>("penalty");
      if (penalty?.runningMs !== undefined) {
        throw new RuntimeError(
          "E_PENALTY_RUNNING",
          "a wrong-code penalty lockout is running; try again when it has ended",
        );
      }
      const users = store.readSection<Record<string, StoredUser>>("users") ?? {};
      if (!codeMatches(identity.codeHashKey, 0, options.masterCode, users["0"]?.codeHash)) {
        throw new RuntimeError("E_MASTER_CODE", "the master code is not correct");
      }
      const unacknowledged = store.auditHead().seq - store.acknowledgedSeq();
      if (unacknowledged > 0 && options.discardUnacknowledgedAudit !== true) {
        throw new RuntimeError(
          "E_AUDIT_UNACKNOWLEDGED",
          `${unacknowledged} audit records have not been acknowledged by the fleet; connect the lock first, or pass --discard-audit to lose them`,
        );
      }
    } finally {
      store.close();
    }
  } else if (options.masterCode !== FACTORY_MASTER_CODE.slice(0, config.policy.codeLength)) {
    throw new RuntimeError("E_MASTER_CODE", "the master code is not correct");
  }
  for (const path of [
    paths.config,
    paths.identity,
    paths.store,
    `${paths.store}-wal`,
    `${paths.store}-shm`,
    join(options.dataDir, BROKER_CA_FILE),
    failSecureMarkPath(paths.store),
  ]) {
    rmSync(path, { force: true });
  }
}

/** Why a request to the fleet failed, in words a technician can act on. */
export function unreachableReason(error: unknown, endpoint: URL): string {
  const cause =
    error instanceof Error
      ? (error.cause as { code?: string; message?: string } | undefined)
      : undefined;
  const code = cause?.code;
  const host = endpoint.hostname;
  const port = endpoint.port || (endpoint.protocol === "https:" ? "443" : "80");
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return `no answer in time (ETIMEDOUT); check the address, the network and any firewall between this lock and ${host}`;
  }
  switch (code) {
    case "ECONNREFUSED":
      return `nothing answers on ${host} port ${port} (ECONNREFUSED); is the fleet running, and is the port right?`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `the name ${host} is not known (${code}); check the address and this device's DNS settings`;
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `no route to ${host} (${code}); check this device's network connection`;
    case "ECONNRESET":
      return `the connection to ${host} was cut (ECONNRESET); a proxy or firewall may be in the way`;
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return `no answer from ${host} (${code}); check the network and any firewall`;
    case "CERT_HAS_EXPIRED":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return `the fleet's TLS certificate is not trusted here (${code}); check the address and the certificate`;
    default: {
      const detail = cause?.message ?? (error instanceof Error ? error.message : String(error));
      return code === undefined ? detail : `${detail} (${code})`;
    }
  }
}
