/**
 * Device-signed messages (SPEC §4 "Only the lock speaks for the lock"): what a lock publishes
 * is verified over the received bytes with its own key; every way to speak for it without that
 * key is refused with a stable code. node:crypto and tweetnacl cross-check each other.
 */
import { describe, expect, it } from "vitest";
import { chainAuditRecord } from "../src/audit-chain.js";
import { canonicalJson } from "../src/canonical-json.js";
import { fromBase64url, toBase64url } from "../src/crypto/bytes.js";
import { type Ed25519Backend, nodeEd25519, tweetnaclEd25519 } from "../src/crypto/ed25519.js";
import {
  DEVICE_MESSAGE_LIFETIME_MS,
  type DeviceMessageBody,
  type DeviceMessageType,
  MAX_DEVICE_MESSAGE_BYTES,
  type OpenDeviceMessageOptions,
  openDeviceMessage,
  peekDeviceMessage,
  signDeviceMessage,
} from "../src/device-message.js";
import { encodeEnvelope, signEnvelope } from "../src/envelope.js";
import { GENESIS_HASH } from "../src/schemas/audit.js";
import type { LockState } from "../src/schemas/state.js";
import { formatInstant } from "../src/validate.js";

const NOW = Date.parse("2026-11-23T10:00:00.000Z");
const DEVICE = "lock-0042";
const lockKey = nodeEd25519.keyPairFromSeed(new Uint8Array(32).fill(3));
const otherLockKey = nodeEd25519.keyPairFromSeed(new Uint8Array(32).fill(4));
const backends: Ed25519Backend[] = [nodeEd25519, tweetnaclEd25519];

function state(overrides: Partial<LockState> = {}): LockState {
  return {
    deviceId: DEVICE,
    org: "bank-a",
    at: formatInstant(NOW),
    bolt: "thrown",
    door: "closed",
    cycle: { phase: "idle", codesRequired: 2, codesGiven: 0 },
    timeLocked: false,
    blocked: false,
    activeAlarms: [],
    trustedTime: true,
    auditHead: { seq: 0, hash: GENESIS_HASH },
    ...overrides,
  };
}

function sign<T extends DeviceMessageType>(
  type: T,
  body: DeviceMessageBody<T>,
  options: { seq?: number; at?: number; secretKey?: Uint8Array; backend?: Ed25519Backend } = {},
): string {
  return signDeviceMessage(
    type,
    body,
    { deviceId: DEVICE, keyId: `${DEVICE}-k1`, secretKey: options.secretKey ?? lockKey.secretKey },
    options.seq ?? 7,
    options.at ?? NOW,
    options.backend,
  );
}

function open(text: string, overrides: Partial<OpenDeviceMessageOptions> = {}) {
  return openDeviceMessage(text, {
    deviceId: DEVICE,
    topic: "state",
    publicKey: lockKey.publicKey,
    now: NOW + 1_000,
    ...overrides,
  });
}

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
function malleate(signature: Uint8Array): Uint8Array {
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i] ?? 0);
  s += L;
  const out = signature.slice();
  for (let i = 32; i < 64; i++, s >>= 8n) out[i] = Number(s & 0xffn);
  return out;
}

describe.each(
  backends.flatMap((signer) =>
    backends.map((opener) => [`${signer.name} → ${opener.name}`, signer, opener] as const),
  ),
)("device messages %s", (_label, signer, opener) => {
  it("a state signed by the lock opens with its key: type, seq, body and the verified payload", () => {
    const text = sign("state", state(), { backend: signer });
    const opened = open(text, { backend: opener });
    expect(opened.ok).toBe(true);
    if (!opened.ok) return;
    expect(opened.value).toMatchObject({ type: "state", deviceId: DEVICE, seq: 7 });
    expect(opened.value.body).toEqual(state());
    expect(opened.value.payload).toBe(JSON.parse(text).payload);
    expect(opened.value.signature).toBe(JSON.parse(text).signature);
  });

  it("an S + L malleated signature is refused (strict RFC 8032)", () => {
    const wire = JSON.parse(sign("state", state(), { backend: signer }));
    wire.signature = toBase64url(malleate(fromBase64url(wire.signature)));
    const opened = open(JSON.stringify(wire), { backend: opener });
    expect(opened.ok ? "" : opened.error.code).toBe("E_BAD_SIGNATURE");
  });
});

describe("only the lock speaks for the lock", () => {
  it("an unsigned message is refused with E_UNSIGNED", () => {
    const opened = open(JSON.stringify(state({ bolt: "retracted" })));
    expect(opened.ok ? "" : opened.error.code).toBe("E_UNSIGNED");
  });

  it("a message signed by another lock's key is refused with E_BAD_SIGNATURE", () => {
    const opened = open(sign("state", state(), { secretKey: otherLockKey.secretKey }));
    expect(opened.ok ? "" : opened.error.code).toBe("E_BAD_SIGNATURE");
  });

  it("a message naming another lock, in its header or in its body, is refused with E_WRONG_DEVICE", () => {
    const header = open(sign("state", state()), { deviceId: "lock-0043" });
    expect(header.ok ? "" : header.error.code).toBe("E_WRONG_DEVICE");
    const record = chainAuditRecord(
      {
        deviceId: "lock-0043",
        seq: 1,
        at: formatInstant(NOW),
        kind: "door.opened",
        actor: null,
        data: {},
      },
      GENESIS_HASH,
    );
    const body = open(sign("audit", { records: [record] }), { topic: "event" });
    expect(body.ok ? "" : body.error.code).toBe("E_WRONG_DEVICE");
  });

  it("a message on another topic than its type's is refused with E_WRONG_TOPIC", () => {
    const opened = open(sign("state", state()), { topic: "event" });
    expect(opened.ok ? "" : opened.error.code).toBe("E_WRONG_TOPIC");
  });

  it("a payload that is not its own canonical form is refused, though signed (E_NOT_CANONICAL)", () => {
    const payload = JSON.stringify({
      v: 1,
      type: "state",
      deviceId: DEVICE,
      id: "state-7",
      seq: 7,
      issuedAt: formatInstant(NOW),
      expiresAt: formatInstant(NOW + 60_000),
      keyId: "k",
      body: state(),
    });
    expect(payload).not.toBe(canonicalJson(JSON.parse(payload)));
    const signature = nodeEd25519.sign(new TextEncoder().encode(payload), lockKey.secretKey);
    const opened = open(JSON.stringify({ payload, signature: toBase64url(signature) }));
    expect(opened.ok ? "" : opened.error.code).toBe("E_NOT_CANONICAL");
  });

  it("a validity longer than its type allows is refused, though signed (E_SCHEMA)", () => {
    const envelope = signEnvelope(
      {
        type: "state",
        deviceId: DEVICE,
        id: "state-8",
        seq: 8,
        issuedAt: NOW,
        expiresAt: NOW + DEVICE_MESSAGE_LIFETIME_MS.state + 1,
        keyId: "k",
        body: state(),
      },
      lockKey.secretKey,
    );
    const opened = open(encodeEnvelope(envelope));
    expect(opened.ok ? "" : opened.error.code).toBe("E_SCHEMA");
  });

  it("expired and not-yet-valid are judged by the receiver's clock; the lock's signed time is kept", () => {
    const text = sign("state", state());
    const expired = open(text, { now: NOW + DEVICE_MESSAGE_LIFETIME_MS.state });
    expect(expired.ok ? "" : expired.error.code).toBe("E_EXPIRED");
    expect(expired.ok ? undefined : expired.signedAt).toBe(NOW);
    const early = open(text, { now: NOW - 61_000 });
    expect(early.ok ? "" : early.error.code).toBe("E_NOT_YET_VALID");
  });

  it("an alarm notice or an audit batch stays valid for a day (late is still true)", () => {
    const record = chainAuditRecord(
      {
        deviceId: DEVICE,
        seq: 1,
        at: formatInstant(NOW),
        kind: "door.opened",
        actor: null,
        data: {},
      },
      GENESIS_HASH,
    );
    const batch = sign("audit", { records: [record] });
    expect(open(batch, { topic: "event", now: NOW + 60 * 60_000 }).ok).toBe(true);
    expect(open(batch, { topic: "event", now: NOW + 24 * 60 * 60_000 }).ok).toBe(false);
  });

  it("a message over the size bound is refused unread (E_TOO_LARGE)", () => {
    const opened = open("x".repeat(MAX_DEVICE_MESSAGE_BYTES + 1));
    expect(opened.ok ? "" : opened.error.code).toBe("E_TOO_LARGE");
  });

  it("peekDeviceMessage reads type, seq and lock time without verifying (never to act on)", () => {
    expect(peekDeviceMessage(sign("state", state(), { seq: 42 }))).toMatchObject({
      type: "state",
      seq: 42,
      issuedAt: NOW,
    });
    expect(peekDeviceMessage(JSON.stringify(state()))).toBeUndefined();
  });
});
