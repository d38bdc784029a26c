/**
 * The broker certificate pin a lock learns at enrolment (SPEC §4: locks reach the broker over
 * TLS with the fleet's certificate pinned at enrolment).
 *
 * The fleet hands the lock the CA certificate it must trust for the broker in the enrolment
 * response, and puts that certificate's SHA-256 fingerprint in the enrolment token itself:
 * `lfe_<random>.<pin>`. The token reaches the technician through the security admin, not over
 * the enrolment connection, so whoever can tamper with the enrolment exchange still cannot make
 * the lock trust another broker: the lock refuses a CA whose fingerprint is not the token's pin.
 */
import { createHash, X509Certificate } from "node:crypto";
import { toBase64url } from "./crypto/bytes.js";

/** The pin is 43 base64url characters (SHA-256) after the token's last dot. */
const PIN_PATTERN = /\.([A-Za-z0-9_-]{43})$/;

/** SHA-256 of the certificate's DER bytes, base64url (43 characters). Throws on a bad PEM. */
export function certificatePin(pem: string): string {
  const der = new X509Certificate(pem).raw;
  return toBase64url(createHash("sha256").update(der).digest());
}

/** The enrolment token with the broker CA's pin appended. */
export function pinnedEnrolmentToken(token: string, pin: string): string {
  return `${token}.${pin}`;
}

/** The broker CA pin carried by an enrolment token, or undefined for a token without one. */
export function enrolmentTokenPin(token: string): string | undefined {
  return PIN_PATTERN.exec(token)?.[1];
}
