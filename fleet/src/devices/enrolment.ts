/**
 * Enrolment and each lock's credentials: enrolment tokens, the signed claim that turns one
 * into an enrolled lock with MQTT credentials and a one-time-code secret, the broker's check
 * of those credentials, and the per-lock secrets sealed to the lock's key.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import {
  canonicalJson,
  DEFAULT_LOCK_POLICY,
  EnrolmentRequest,
  type EnrolmentResponse,
  ed25519,
  formatInstant,
  fromBase64url,
  isTopicSegment,
  parseInstant,
  pinnedEnrolmentToken,
  type SealedSecret,
  sealSecret,
  sha256Hex,
  validate,
} from "@lockfleet/protocol";
import type { DeviceIdentity } from "../broker/index.js";
import { FleetError } from "../errors.js";
import { newDeviceId } from "../ids.js";
import { MAX_TRUSTED_FLEET_KEYS } from "./fleet-keys.js";
import type { HubContext } from "./hub-context.js";
import { toLive } from "./live-device.js";

const MIN_TOKEN_TTL_MS = 1_000;
const MAX_TOKEN_TTL_MS = 30 * 24 * 60 * 60_000;

function sha256(bytes: Uint8Array | string): Buffer {
  return createHash("sha256").update(bytes).digest();
}

export class Enrolment {
  readonly #ctx: HubContext;
  readonly #brokerUrl: string;

  constructor(ctx: HubContext, brokerUrl: string) {
    this.#ctx = ctx;
    this.#brokerUrl = brokerUrl;
  }

  createEnrolmentToken(input: {
    orgId: string;
    containerId: string;
    deviceId?: string;
    ttlMs: number;
    createdBy: string;
  }): { token: string; expiresAt: string } {
    if (!isTopicSegment(input.orgId)) {
      throw new FleetError(
        "E_SCHEMA",
        `organisation id "${input.orgId}" is not a valid topic level`,
      );
    }
    if (input.deviceId !== undefined) {
      if (!isTopicSegment(input.deviceId)) {
        throw new FleetError(
          "E_SCHEMA",
          `device id "${input.deviceId}" is not a valid topic level`,
        );
      }
      if (this.#ctx.repository.device(input.deviceId) !== undefined) {
        throw new FleetError(
          "E_DEVICE_EXISTS",
          `device ${input.deviceId} is already enrolled`,
          409,
        );
      }
    }
    if (
      !Number.isInteger(input.ttlMs) ||
      input.ttlMs < MIN_TOKEN_TTL_MS ||
      input.ttlMs > MAX_TOKEN_TTL_MS
    ) {
      throw new FleetError(
        "E_SCHEMA",
        `an enrolment token lives between ${MIN_TOKEN_TTL_MS} ms and 30 days, not ${input.ttlMs} ms`,
      );
    }
    const container = this.#ctx.repository.container(input.containerId);
    if (container === undefined || (container !== null && container.orgId !== input.orgId)) {
      throw new FleetError(
        "E_NOT_FOUND",
        `container ${input.containerId} does not exist or is outside your scope`,
        404,
      );
    }
    const random = `lfe_${randomBytes(24).toString("base64url")}`;
    // The broker CA's pin travels with the token, outside the enrolment exchange.
    const token =
      this.#ctx.lockTrust === undefined
        ? random
        : pinnedEnrolmentToken(random, this.#ctx.lockTrust.pin);
    const now = this.#ctx.clock();
    const expiresAt = formatInstant(now + input.ttlMs);
    this.#ctx.repository.insertToken({
      token_hash: sha256Hex(token),
      org_id: input.orgId,
      container_id: input.containerId,
      device_id: input.deviceId ?? null,
      created_by: input.createdBy,
      created_at: formatInstant(now),
      expires_at: expiresAt,
    });
    return { token, expiresAt };
  }

  /**
   * Enrols a lock: the claim must be signed by the key it names (proof of possession), the
   * token unused and unexpired. Issues MQTT credentials (stored hashed) and the per-lock
   * one-time-code secret (stored under the KEK, handed over sealed to the lock's X25519 key).
   */
  async enrol(request: EnrolmentRequest): Promise<EnrolmentResponse> {
    const checked = validate(EnrolmentRequest, request, "enrolment request");
    if (!checked.ok) throw new FleetError("E_SCHEMA", checked.error.message);
    const { claim, proof } = checked.value;
    const signingPublicKey = fromBase64url(claim.signingPublicKey);
    const encryptionPublicKey = fromBase64url(claim.encryptionPublicKey);
    const signed = new TextEncoder().encode(canonicalJson(claim));
    if (!ed25519.verify(signed, fromBase64url(proof), signingPublicKey)) {
      throw new FleetError(
        "E_ENROLMENT_PROOF",
        "the enrolment claim is not signed by the signing key it names",
        400,
      );
    }
    const tokenHash = sha256Hex(claim.token);
    const token = this.#ctx.repository.token(tokenHash);
    const now = this.#ctx.clock();
    const nowText = formatInstant(now);
    if (token === undefined) {
      throw new FleetError("E_ENROLMENT_TOKEN", "the enrolment token is not valid", 401);
    }
    if (token.used_at !== null) {
      throw new FleetError(
        "E_ENROLMENT_TOKEN_USED",
        `the enrolment token was already used at ${token.used_at}`,
        409,
      );
    }
    if (parseInstant(token.expires_at) <= now) {
      throw new FleetError(
        "E_ENROLMENT_TOKEN_EXPIRED",
        `the enrolment token expired at ${token.expires_at}`,
        410,
      );
    }
    const container = this.#ctx.repository.container(token.container_id);
    if (container === undefined) {
      throw new FleetError(
        "E_NOT_FOUND",
        `container ${token.container_id} of this token no longer exists`,
        404,
      );
    }
    const deviceId = token.device_id ?? newDeviceId();
    if (this.#ctx.repository.device(deviceId) !== undefined) {
      throw new FleetError("E_DEVICE_EXISTS", `device ${deviceId} is already enrolled`, 409);
    }
    const password = randomBytes(32).toString("base64url");
    const otpSecret = randomBytes(32);
    const fleetKeys = this.#ctx.keys
      .published()
      .slice(-MAX_TRUSTED_FLEET_KEYS)
      .map((key) => ({ keyId: key.keyId, publicKey: key.publicKey }));
    // On an external broker the fleet manages, the account exists before the lock is told of
    // it; an enrolment that fails after this removes it again.
    if (this.#ctx.accounts !== undefined) {
      await this.#ctx.accounts.createDevice({ org: token.org_id, deviceId, password });
    }
    const enrol = () =>
      this.#ctx.store.transaction(() => {
        if (!this.#ctx.repository.consumeToken(tokenHash, nowText, deviceId)) return false;
        this.#ctx.repository.insertDevice({
          deviceId,
          orgId: token.org_id,
          containerId: token.container_id,
          signingPublicKey: claim.signingPublicKey,
          encryptionPublicKey: claim.encryptionPublicKey,
          mqttUsername: deviceId,
          mqttPasswordHash: sha256(password).toString("hex"),
          hardwareProfile: claim.hardwareProfile,
          firmware: claim.firmware,
          enrolledAt: nowText,
          trustedKeyIds: fleetKeys.map((key) => key.keyId),
        });
        this.#ctx.repository.insertSecret(
          deviceId,
          this.#ctx.secrets.seal(otpSecret, otpPurpose(deviceId)),
        );
        return true;
      });
    const dropAccount = () =>
      this.#ctx.accounts
        ?.removeDevice(deviceId)
        .catch((error) =>
          this.#ctx.log.warn({ err: error, deviceId }, "E_BROKER_ACCOUNTS: account not removed"),
        );
    let enrolled: boolean;
    try {
      enrolled = enrol();
    } catch (error) {
      otpSecret.fill(0);
      await dropAccount();
      throw error;
    }
    if (!enrolled) {
      otpSecret.fill(0);
      await dropAccount();
      throw new FleetError("E_ENROLMENT_TOKEN_USED", "the enrolment token was already used", 409);
    }
    const row = this.#ctx.repository.device(deviceId);
    if (row !== undefined) this.#ctx.track(toLive(row));
    const sealedOtp = sealSecret(otpSecret, encryptionPublicKey);
    otpSecret.fill(0);
    this.#ctx.log.info(
      { deviceId, orgId: token.org_id, containerId: token.container_id },
      "lock enrolled",
    );
    return {
      deviceId,
      org: token.org_id,
      containerId: token.container_id,
      timeZone: container?.timeZone ?? "UTC",
      broker: {
        url: this.#brokerUrl,
        username: deviceId,
        password,
        ...(this.#ctx.lockTrust === undefined ? {} : { ca: this.#ctx.lockTrust.caPem }),
      },
      fleetKeys,
      policy: container?.policy ?? DEFAULT_LOCK_POLICY,
      otpSecret: sealedOtp,
    };
  }

  authenticate(
    username: string,
    password: Uint8Array,
    _clientId: string,
  ): { identity: DeviceIdentity } | { reason: string } {
    const device = this.#ctx.devices.get(username);
    if (device === undefined || device.status !== "active") {
      return { reason: `E_MQTT_AUTH: no active lock "${username.slice(0, 64)}"` };
    }
    const given = sha256(password);
    if (!timingSafeEqual(given, device.passwordHash)) {
      return { reason: `E_MQTT_AUTH: wrong password for lock ${device.deviceId}` };
    }
    return { identity: { kind: "device", org: device.orgId, deviceId: device.deviceId } };
  }

  // --- secrets for one lock ---

  sealForDevice(deviceId: string, secret: Uint8Array): SealedSecret {
    return sealSecret(secret, this.#ctx.device(deviceId).encryptionPublicKey);
  }

  /** The per-lock one-time-code secret, opened in memory only; the caller wipes it after use. */
  otpSecret(deviceId: string): Uint8Array {
    this.#ctx.device(deviceId);
    const row = this.#ctx.repository.secret(deviceId);
    if (row === undefined) {
      throw new FleetError("E_NO_OTP_SECRET", `lock ${deviceId} has no one-time-code secret`, 409);
    }
    return this.#ctx.secrets.open(row.sealed_otp_secret, otpPurpose(deviceId));
  }

  reserveOtpCounters(deviceId: string, count: number): number {
    if (!Number.isInteger(count) || count < 1 || count > 10_000) {
      throw new FleetError("E_SCHEMA", `cannot reserve ${count} one-time-code counters`);
    }
    this.#ctx.device(deviceId);
    return this.#ctx.repository.reserveOtpCounters(deviceId, count);
  }
}

export function otpPurpose(deviceId: string): string {
  return `otp-secret:${deviceId}`;
}
