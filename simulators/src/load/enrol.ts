/**
 * Enrols simulated locks through the fleet's HTTP enrolment API, as a technician would enrol
 * real ones (SPEC §5 "Provisioning"): with a security admin's API token, one enrolment token
 * per lock for a container (`POST /api/v1/enrolment-tokens`), then the lock's own claim signed
 * with its new Ed25519 key as proof of possession (`POST /api/v1/enrolment`). The fleet answers
 * with the device id, broker credentials and the fleet keys the lock trusts.
 */
import {
  canonicalJson,
  type EnrolmentClaim,
  type EnrolmentRequest,
  EnrolmentResponse,
  ed25519,
  errorBodyDetail,
  formatInstant,
  toBase64url,
  validate,
  x25519,
} from "@lockfleet/protocol";
import { LoadError } from "../errors.js";
import type { SimulatedLockIdentity } from "./sim-lock.js";

export { LoadError } from "../errors.js";

export interface EnrolOptions {
  /** Base URL of the fleet service, e.g. http://127.0.0.1:8080 */
  fleetUrl: string;
  /** A security admin's API token (`lft_…`); never logged. */
  apiToken: string;
  /** The container the locks are enrolled for; the first one the admin sees when absent. */
  containerId?: string;
  count: number;
  /** Enrolments in flight at once [16]. */
  concurrency?: number;
  /** Called after each enrolled lock (progress). */
  onEnrolled?: (done: number) => void;
}

export interface EnrolledLocks {
  containerId: string;
  /** The broker URL the fleet gave the locks. */
  brokerUrl: string;
  locks: SimulatedLockIdentity[];
}

const API = "/api/v1/";
const FIRMWARE = "lockfleet-sim-load";

export async function enrolSimulatedLocks(options: EnrolOptions): Promise<EnrolledLocks> {
  const containerId = options.containerId ?? (await firstContainer(options));
  const locks: SimulatedLockIdentity[] = [];
  let brokerUrl = "";
  let next = 0;
  const worker = async () => {
    while (next < options.count) {
      next += 1;
      const enrolled = await enrolOne(options, containerId);
      brokerUrl = enrolled.brokerUrl;
      locks.push(enrolled.identity);
      options.onEnrolled?.(locks.length);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency ?? 16, options.count) }, worker),
  );
  return { containerId, brokerUrl, locks };
}

async function enrolOne(
  options: EnrolOptions,
  containerId: string,
): Promise<{ identity: SimulatedLockIdentity; brokerUrl: string }> {
  const { token } = (await call(options, "POST", "enrolment-tokens", { containerId }, true)) as {
    token: string;
  };
  const claim = enrolmentClaim(token);
  const answer = await call(options, "POST", "enrolment", claim.request, false);
  return claim.accept(answer);
}

/**
 * The lock's side of one enrolment: new keys, the claim signed as proof of possession, and
 * (`accept`) the identity made from the fleet's checked answer.
 */
export function enrolmentClaim(token: string): {
  request: EnrolmentRequest;
  accept(answer: unknown): { identity: SimulatedLockIdentity; brokerUrl: string };
} {
  const signing = ed25519.generateKeyPair();
  const encryption = x25519.generateKeyPair();
  const claim: EnrolmentClaim = {
    token,
    signingPublicKey: toBase64url(signing.publicKey),
    encryptionPublicKey: toBase64url(encryption.publicKey),
    hardwareProfile: "virtual",
    firmware: FIRMWARE,
    requestedAt: formatInstant(Date.now()),
  };
  const request: EnrolmentRequest = {
    claim,
    proof: toBase64url(
      ed25519.sign(new TextEncoder().encode(canonicalJson(claim)), signing.secretKey),
    ),
  };
  return {
    request,
    accept(answer) {
      const checked = validate(EnrolmentResponse, answer, "enrolment response");
      if (!checked.ok) {
        throw new LoadError(
          "E_LOAD_ENROLMENT",
          `the fleet's answer is not an enrolment response: ${checked.error.message}`,
        );
      }
      const enrolment = checked.value;
      return {
        brokerUrl: enrolment.broker.url,
        identity: {
          deviceId: enrolment.deviceId,
          org: enrolment.org,
          username: enrolment.broker.username,
          password: enrolment.broker.password,
          signing,
          fleetKeys: enrolment.fleetKeys,
          ...(enrolment.broker.ca === undefined ? {} : { brokerCa: enrolment.broker.ca }),
        },
      };
    },
  };
}

async function firstContainer(options: EnrolOptions): Promise<string> {
  const page = (await call(options, "GET", "containers", undefined, true)) as {
    items?: Array<{ id: string }>;
  };
  const first = page.items?.[0];
  if (first === undefined) {
    throw new LoadError(
      "E_LOAD_NO_CONTAINER",
      "the admin's organisation has no container to enrol locks for; create one or give --container",
    );
  }
  return first.id;
}

async function call(
  options: EnrolOptions,
  method: "GET" | "POST",
  path: string,
  body: unknown,
  authenticated: boolean,
): Promise<unknown> {
  const url = new URL(`${API}${path}`, options.fleetUrl);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        accept: "application/json",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(authenticated ? { authorization: `Bearer ${options.apiToken}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new LoadError(
      "E_LOAD_FLEET_UNREACHABLE",
      `the fleet at ${url.origin} cannot be reached (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const detail = errorBodyDetail(text) ?? `HTTP ${response.status}`;
    throw new LoadError("E_LOAD_ENROLMENT", `${method} ${API}${path} refused (${detail})`);
  }
  return parsed;
}
