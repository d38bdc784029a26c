/**
 * A minimal fleet for device-runtime tests: the enrolment route over real HTTP (port 0),
 * speaking the protocol's EnrolmentRequest/EnrolmentResponse, and a fleet signing key to sign
 * commands as the fleet would. The real fleet's DeviceHub does more (tokens in a database,
 * broker credentials); this one keeps tokens in memory and uses each once.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type CommandBody,
  type CommandType,
  canonicalJson,
  DEFAULT_LOCK_POLICY,
  EnrolmentRequest,
  type EnrolmentResponse,
  ed25519,
  encodeEnvelope,
  fromBase64url,
  type LockPolicy,
  sealSecret,
  signEnvelope,
  toBase64url,
  validate,
} from "@lockfleet/protocol";

export interface TestFleetOptions {
  brokerUrl: string;
  org?: string;
  policy?: Partial<LockPolicy>;
  timeZone?: string;
}

export interface Enrolled {
  deviceId: string;
  org: string;
  signingPublicKey: Uint8Array;
  encryptionPublicKey: Uint8Array;
  otpSecret: Uint8Array;
  password: string;
}

let counter = 0;

/** A unique id usable as a topic level, for tests sharing one broker. */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

export class TestFleet {
  readonly key = ed25519.generateKeyPair();
  readonly keyId = "fleet-k1";
  readonly org: string;
  readonly enrolled: Enrolled[] = [];
  readonly requests: unknown[] = [];
  readonly #tokens = new Set<string>();
  readonly #options: TestFleetOptions;
  #server: Server | undefined;
  #seq = new Map<string, number>();
  url = "";

  constructor(options: TestFleetOptions) {
    this.#options = options;
    this.org = options.org ?? uniqueId("bank");
  }

  /** A fresh one-time enrolment token. */
  token(): string {
    const token = `enr_${toBase64url(randomBytes(18))}`;
    this.#tokens.add(token);
    return token;
  }

  async listen(): Promise<string> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const reply = (status: number, body: unknown) => {
          response.writeHead(status, { "content-type": "application/json" });
          response.end(JSON.stringify(body));
        };
        if (request.method !== "POST" || request.url !== "/api/v1/enrolment") {
          reply(404, { code: "E_NOT_FOUND", message: "no such route" });
          return;
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          reply(400, { code: "E_SCHEMA", message: "not JSON" });
          return;
        }
        this.requests.push(parsed);
        const checked = validate(EnrolmentRequest, parsed, "enrolment");
        if (!checked.ok) {
          reply(400, { code: "E_SCHEMA", message: checked.error.message });
          return;
        }
        const { claim, proof } = checked.value;
        const signingPublicKey = fromBase64url(claim.signingPublicKey);
        const proven = ed25519.verify(
          new TextEncoder().encode(canonicalJson(claim)),
          fromBase64url(proof),
          signingPublicKey,
        );
        if (!proven) {
          reply(400, { code: "E_ENROLMENT_PROOF", message: "proof does not verify" });
          return;
        }
        if (!this.#tokens.delete(claim.token)) {
          reply(401, {
            code: "E_ENROLMENT_TOKEN_INVALID",
            message: "the enrolment token is unknown, used or expired",
          });
          return;
        }
        const deviceId = uniqueId("lock");
        const otpSecret = randomBytes(32);
        const password = toBase64url(randomBytes(24));
        const encryptionPublicKey = fromBase64url(claim.encryptionPublicKey);
        this.enrolled.push({
          deviceId,
          org: this.org,
          signingPublicKey,
          encryptionPublicKey,
          otpSecret,
          password,
        });
        const body: EnrolmentResponse = {
          deviceId,
          org: this.org,
          containerId: uniqueId("safe"),
          timeZone: this.#options.timeZone ?? "Europe/Berlin",
          broker: { url: this.#options.brokerUrl, username: deviceId, password },
          fleetKeys: [{ keyId: this.keyId, publicKey: toBase64url(this.key.publicKey) }],
          policy: { ...DEFAULT_LOCK_POLICY, ...this.#options.policy },
          otpSecret: sealSecret(otpSecret, encryptionPublicKey),
        };
        reply(200, body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.#server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** A command envelope for `deviceId`, signed with the fleet key (seq strictly increasing per device). */
  sign<T extends CommandType>(
    deviceId: string,
    type: T,
    body: CommandBody<T>,
    overrides: {
      seq?: number;
      issuedAt?: number;
      expiresInMs?: number;
      deviceId?: string;
      secretKey?: Uint8Array;
      id?: string;
    } = {},
  ): string {
    const seq = overrides.seq ?? (this.#seq.get(deviceId) ?? 0) + 1;
    this.#seq.set(deviceId, Math.max(seq, this.#seq.get(deviceId) ?? 0));
    const issuedAt = overrides.issuedAt ?? Date.now();
    return encodeEnvelope(
      signEnvelope(
        {
          type,
          deviceId: overrides.deviceId ?? deviceId,
          id: overrides.id ?? `cmd-${seq}`,
          seq,
          issuedAt,
          expiresAt: issuedAt + (overrides.expiresInMs ?? 60_000),
          keyId: this.keyId,
          body,
        },
        overrides.secretKey ?? this.key.secretKey,
      ),
    );
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) =>
      this.#server ? this.#server.close(() => resolve()) : resolve(),
    );
  }
}
