/**
 * Provisioning (SPEC §5): a technician enrols a device with a one-time token; the device
 * generates its own keys and proves it holds the signing key.
 */
import { type Static, Type } from "@sinclair/typebox";
import {
  DeviceId,
  Id,
  Instant,
  KeyId,
  OrgId,
  PublicKey,
  SealedSecret,
  Signature,
  Strict,
  TimeZone,
} from "./common.js";
import { LockPolicy } from "./lock.js";

/** The part of the request the device signs (canonical JSON) as proof of key possession. */
export const EnrolmentClaim = Strict({
  token: Type.String({ minLength: 16, maxLength: 128 }),
  signingPublicKey: PublicKey,
  encryptionPublicKey: PublicKey,
  hardwareProfile: Type.String({ minLength: 1, maxLength: 64 }),
  firmware: Type.String({ minLength: 1, maxLength: 64 }),
  requestedAt: Instant,
});
export type EnrolmentClaim = Static<typeof EnrolmentClaim>;

export const EnrolmentRequest = Strict({ claim: EnrolmentClaim, proof: Signature });
export type EnrolmentRequest = Static<typeof EnrolmentRequest>;

export const EnrolmentResponse = Strict({
  deviceId: DeviceId,
  org: OrgId,
  containerId: Id,
  timeZone: TimeZone,
  broker: Strict({
    url: Type.String({ pattern: "^(mqtt|mqtts|tcp|ssl)://" }),
    username: Type.String({ minLength: 1, maxLength: 128 }),
    password: Type.String({ minLength: 16, maxLength: 256 }),
    /**
     * PEM of the CA certificate the lock trusts for an mqtts:// broker (the broker's own
     * certificate when self-signed); its fingerprint is the pin in the enrolment token.
     */
    ca: Type.Optional(
      Type.String({ minLength: 64, maxLength: 16_384, pattern: "^-----BEGIN CERTIFICATE-----" }),
    ),
  }),
  fleetKeys: Type.Array(Strict({ keyId: KeyId, publicKey: PublicKey }), {
    minItems: 1,
    maxItems: 4,
  }),
  policy: LockPolicy,
  /** Per-lock one-time-code secret, sealed to the device's encryption key. */
  otpSecret: SealedSecret,
});
export type EnrolmentResponse = Static<typeof EnrolmentResponse>;
