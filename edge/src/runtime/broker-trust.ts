/**
 * Which broker a lock trusts after enrolment. The fleet hands over the CA certificate of its
 * broker in the enrolment response and its SHA-256 pin in the enrolment token; the lock keeps
 * that CA as the only one it trusts for the broker, so it refuses any broker whose certificate
 * that CA did not issue (another CA, a self-signed impostor). A token that carries a pin also
 * forbids a plain mqtt:// broker: nobody between the lock and the fleet can downgrade it.
 */
import { certificatePin, type EnrolmentResponse, enrolmentTokenPin } from "@lockfleet/protocol";
import { RuntimeError } from "./errors.js";

/** File in the data directory holding the broker CA the lock trusts (PEM, public). */
export const BROKER_CA_FILE = "broker-ca.pem";

export function isTlsBrokerUrl(url: string): boolean {
  return /^(mqtts|ssl):/.test(url);
}

/**
 * Checks the broker part of an enrolment against the token's pin; returns the CA certificate
 * (PEM) to keep for an mqtts:// broker, or undefined when the fleet gave none.
 */
export function checkBrokerTrust(
  token: string,
  broker: EnrolmentResponse["broker"],
): string | undefined {
  const pin = enrolmentTokenPin(token);
  const tls = isTlsBrokerUrl(broker.url);
  let actual: string | undefined;
  if (broker.ca !== undefined) {
    try {
      actual = certificatePin(broker.ca);
    } catch (error) {
      throw new RuntimeError(
        "E_ENROLMENT_INVALID",
        "the broker CA certificate in the enrolment is not a readable certificate",
        { cause: error },
      );
    }
  }
  if (pin !== undefined) {
    if (!tls) {
      throw new RuntimeError(
        "E_ENROLMENT_PIN",
        "the enrolment token pins the broker's certificate, but the fleet's answer names a plain mqtt:// broker; the enrolment was tampered with",
      );
    }
    if (actual !== pin) {
      throw new RuntimeError(
        "E_ENROLMENT_PIN",
        `the broker CA certificate in the enrolment (SHA-256 ${actual ?? "none"}) is not the one pinned in the enrolment token (${pin}); the enrolment was tampered with or the token is another fleet's`,
      );
    }
  }
  return tls ? broker.ca : undefined;
}
