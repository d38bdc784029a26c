import { describe, expect, it } from "vitest";
import { canonicalJson } from "../src/canonical-json.js";
import { fromBase64url, toBase64url } from "../src/crypto/bytes.js";
import { type Ed25519Backend, nodeEd25519, tweetnaclEd25519 } from "../src/crypto/ed25519.js";
import {
  DEFAULT_CLOCK_SKEW_MS,
  type EnvelopeFields,
  encodeEnvelope,
  MAX_ENVELOPE_BYTES,
  type OpenEnvelopeOptions,
  openCommand,
  openEnvelope,
  peekEnvelopeId,
  signEnvelope,
} from "../src/envelope.js";
import { MemoryReplayGuard } from "../src/replay-guard.js";

const backends: Ed25519Backend[] = [nodeEd25519, tweetnaclEd25519];
const utf8 = new TextEncoder();

const NOW = Date.parse("2026-11-23T10:00:00.000Z");
const DEVICE = "lock-0042";
const KEY_ID = "fleet-2026-11";
const fleetKey = nodeEd25519.keyPairFromSeed(new Uint8Array(32).fill(7));
const strangerKey = nodeEd25519.keyPairFromSeed(new Uint8Array(32).fill(9));

function fields(overrides: Partial<EnvelopeFields> = {}): EnvelopeFields {
  return {
    type: "remote.block",
    deviceId: DEVICE,
    id: "cmd-7f3a9c",
    seq: 10,
    issuedAt: NOW - 1000,
    expiresAt: NOW + 5 * 60_000,
    keyId: KEY_ID,
    body: { reason: "branch closed after robbery" },
    ...overrides,
  };
}

function options(overrides: Partial<OpenEnvelopeOptions> = {}): OpenEnvelopeOptions {
  return {
    deviceId: DEVICE,
    now: NOW,
    keys: new Map([[KEY_ID, fleetKey.publicKey]]),
    ...overrides,
  };
}

/** A wire envelope whose payload is `payload` exactly as given, validly signed by `secretKey`. */
function signRaw(payload: string, secretKey = fleetKey.secretKey): string {
  const signature = nodeEd25519.sign(utf8.encode(payload), secretKey);
  return JSON.stringify({ payload, signature: toBase64url(signature) });
}

/** The header an honest signer would produce, as an object, for hand-built payloads. */
function header(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    v: 1,
    type: "remote.block",
    deviceId: DEVICE,
    id: "cmd-1",
    seq: 10,
    issuedAt: "2026-11-23T09:59:59.000Z",
    expiresAt: "2026-11-23T10:05:00.000Z",
    keyId: KEY_ID,
    body: { reason: "test" },
    ...overrides,
  };
}

function errorCode(received: string | Uint8Array, opts: Partial<OpenEnvelopeOptions> = {}) {
  const result = openEnvelope(received, options(opts));
  return result.ok ? "ok" : result.error.code;
}

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
/** The same signature with S replaced by S + L: valid for lax verifiers, refused by RFC 8032. */
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
)("backends %s", (_label, signer, opener) => {
  it(`${signer.name} → ${opener.name}: round trip returns every field and the verified payload`, () => {
    const envelope = signEnvelope(fields(), fleetKey.secretKey, signer);
    const result = openEnvelope(encodeEnvelope(envelope), options({ backend: opener }));
    expect(result).toEqual({
      ok: true,
      value: {
        type: "remote.block",
        deviceId: DEVICE,
        id: "cmd-7f3a9c",
        seq: 10,
        issuedAt: NOW - 1000,
        expiresAt: NOW + 5 * 60_000,
        keyId: KEY_ID,
        body: { reason: "branch closed after robbery" },
        payload: envelope.payload,
      },
    });
  });

  it(`${signer.name} → ${opener.name}: S + L malleated signature is refused`, () => {
    const envelope = signEnvelope(fields(), fleetKey.secretKey, signer);
    const malleated = toBase64url(malleate(fromBase64url(envelope.signature)));
    const wire = encodeEnvelope({ ...envelope, signature: malleated });
    expect(errorCode(wire, { backend: opener })).toBe("E_BAD_SIGNATURE");
  });
});

describe("signEnvelope", () => {
  it("signs the canonical JSON of exactly {v, type, deviceId, id, seq, issuedAt, expiresAt, keyId, body}", () => {
    const envelope = signEnvelope(fields(), fleetKey.secretKey);
    expect(envelope.payload).toBe(
      '{"body":{"reason":"branch closed after robbery"},"deviceId":"lock-0042",' +
        '"expiresAt":"2026-11-23T10:05:00.000Z","id":"cmd-7f3a9c","issuedAt":"2026-11-23T09:59:59.000Z",' +
        '"keyId":"fleet-2026-11","seq":10,"type":"remote.block","v":1}',
    );
    expect(
      nodeEd25519.verify(
        utf8.encode(envelope.payload),
        fromBase64url(envelope.signature),
        fleetKey.publicKey,
      ),
    ).toBe(true);
  });

  it("gives identical bytes with either backend (Ed25519 is deterministic)", () => {
    expect(signEnvelope(fields(), fleetKey.secretKey, nodeEd25519)).toEqual(
      signEnvelope(fields(), fleetKey.secretKey, tweetnaclEd25519),
    );
  });
});

describe("openEnvelope refuses, with a stable code", () => {
  const good = () => encodeEnvelope(signEnvelope(fields(), fleetKey.secretKey));

  it("E_TOO_LARGE: a payload over the bound, before reading it", () => {
    const big = encodeEnvelope(
      signEnvelope(
        fields({ body: { reason: "x".repeat(MAX_ENVELOPE_BYTES) } }),
        fleetKey.secretKey,
      ),
    );
    expect(errorCode(big)).toBe("E_TOO_LARGE");
    expect(errorCode(good(), { maxBytes: 100 })).toBe("E_TOO_LARGE");
    // Counted in UTF-8 bytes, not in characters, and also for binary input.
    expect(errorCode(`{"payload":"${"€".repeat(40)}"}`, { maxBytes: 100 })).toBe("E_TOO_LARGE");
    expect(errorCode(new Uint8Array(MAX_ENVELOPE_BYTES + 1))).toBe("E_TOO_LARGE");
    // Garbage that is too large is refused as too large, not parsed.
    expect(errorCode("{".repeat(MAX_ENVELOPE_BYTES + 1))).toBe("E_TOO_LARGE");
  });

  it.each([
    ["not JSON", "{payload"],
    ["a JSON array", "[1,2]"],
    ["no signature", JSON.stringify({ payload: "{}" })],
    ["an extra wire field", JSON.stringify({ payload: "{}", signature: "A".repeat(86), via: "x" })],
    ["a signature of the wrong length", JSON.stringify({ payload: "{}", signature: "AAAA" })],
    ["a payload that is not JSON", JSON.stringify({ payload: "{", signature: "A".repeat(86) })],
    ["a payload without keyId", JSON.stringify({ payload: '{"v":1}', signature: "A".repeat(86) })],
    ["a payload that is a string", JSON.stringify({ payload: '"x"', signature: "A".repeat(86) })],
  ])("E_MALFORMED: %s", (_label, wire) => {
    expect(errorCode(wire)).toBe("E_MALFORMED");
  });

  it("E_MALFORMED: bytes that are not UTF-8", () => {
    expect(errorCode(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).toBe("E_MALFORMED");
  });

  it("E_MALFORMED (not an exception): a signature whose base64url has non-zero spare bits", () => {
    const envelope = signEnvelope(fields(), fleetKey.secretKey);
    // The 86th character carries 2 bits of the signature and 4 spare bits that must be zero.
    const last = envelope.signature.at(-1) ?? "A";
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const sloppy = alphabet.charAt(alphabet.indexOf(last) | 1);
    const wire = encodeEnvelope({
      ...envelope,
      signature: envelope.signature.slice(0, 85) + sloppy,
    });
    expect(errorCode(wire)).toBe("E_MALFORMED");
  });

  it("E_UNKNOWN_KEY: a keyId the lock does not trust, through a map or a lookup function", () => {
    const wire = encodeEnvelope(
      signEnvelope(fields({ keyId: "fleet-2027-01" }), fleetKey.secretKey),
    );
    expect(errorCode(wire)).toBe("E_UNKNOWN_KEY");
    expect(errorCode(wire, { keys: () => undefined })).toBe("E_UNKNOWN_KEY");
    expect(
      errorCode(good(), { keys: (keyId) => (keyId === KEY_ID ? fleetKey.publicKey : undefined) }),
    ).toBe("ok");
  });

  it("E_UNKNOWN_KEY: keyId names like __proto__ are not found on Object.prototype", () => {
    const wire = encodeEnvelope(signEnvelope(fields({ keyId: "constructor" }), fleetKey.secretKey));
    expect(errorCode(wire)).toBe("E_UNKNOWN_KEY");
  });

  it("E_BAD_SIGNATURE: one flipped bit anywhere in the payload or the signature", () => {
    const envelope = signEnvelope(fields(), fleetKey.secretKey);
    const flippedPayload = envelope.payload.replace("robbery", "robberz");
    expect(errorCode(encodeEnvelope({ ...envelope, payload: flippedPayload }))).toBe(
      "E_BAD_SIGNATURE",
    );
    for (const byte of [0, 31, 32, 63]) {
      const signature = fromBase64url(envelope.signature);
      signature[byte] = (signature[byte] ?? 0) ^ 0x01;
      const wire = encodeEnvelope({ ...envelope, signature: toBase64url(signature) });
      expect(errorCode(wire)).toBe("E_BAD_SIGNATURE");
    }
  });

  it("E_BAD_SIGNATURE: signed by another key that claims the fleet's keyId", () => {
    const forged = encodeEnvelope(signEnvelope(fields(), strangerKey.secretKey));
    expect(errorCode(forged)).toBe("E_BAD_SIGNATURE");
  });

  it("E_BAD_SIGNATURE: a re-serialised copy with the same content (reordered keys) does not verify", () => {
    const envelope = signEnvelope(fields(), fleetKey.secretKey);
    const parsed = JSON.parse(envelope.payload) as Record<string, unknown>;
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(parsed).reverse()));
    expect(reordered).not.toBe(envelope.payload);
    expect(errorCode(encodeEnvelope({ ...envelope, payload: reordered }))).toBe("E_BAD_SIGNATURE");
    const pretty = JSON.stringify(parsed, null, 2);
    expect(errorCode(encodeEnvelope({ ...envelope, payload: pretty }))).toBe("E_BAD_SIGNATURE");
  });

  it("verifies the payload text received, whatever JSON escaping carried it on the wire", () => {
    const envelope = signEnvelope(fields({ body: { reason: "Tür / Tresor" } }), fleetKey.secretKey);
    const escaped = encodeEnvelope(envelope).replace("ü", "\\u00fc").replaceAll("/", "\\/");
    expect(escaped).not.toBe(encodeEnvelope(envelope));
    expect(errorCode(escaped)).toBe("ok");
    expect(errorCode(utf8.encode(encodeEnvelope(envelope)))).toBe("ok");
  });

  it("E_NOT_CANONICAL: a validly signed payload that is not in canonical form", () => {
    const canonical = canonicalJson(header());
    expect(errorCode(signRaw(canonical))).toBe("ok");
    expect(errorCode(signRaw(JSON.stringify(header())))).toBe("E_NOT_CANONICAL"); // unsorted
    expect(errorCode(signRaw(canonical.replace('"seq":10', '"seq":10.0')))).toBe("E_NOT_CANONICAL");
    expect(errorCode(signRaw(canonical.replace('"v":1', '"v":1,"v":1')))).toBe("E_NOT_CANONICAL");
    expect(errorCode(signRaw(`${canonical} `))).toBe("E_NOT_CANONICAL");
  });

  it("E_NOT_CANONICAL (not an exception): signed numbers JSON turns into Infinity, and lone surrogates", () => {
    const canonical = canonicalJson(header());
    expect(errorCode(signRaw(canonical.replace('"seq":10', '"seq":1e400')))).toBe(
      "E_NOT_CANONICAL",
    );
    expect(errorCode(signRaw(canonical.replace('"test"', '"\\ud800"')))).toBe("E_NOT_CANONICAL");
  });

  it.each([
    ["an unknown version", { v: 2 }],
    ["a header field too many", { priority: "high" }],
    ["a missing id", { id: undefined }],
    ["seq 0", { seq: 0 }],
    ["a fractional seq", { seq: 1.5 }],
    ["a local time instead of UTC", { issuedAt: "2026-11-23T10:59:59+01:00" }],
    ["an impossible date", { expiresAt: "2026-02-30T10:00:00.000Z" }],
    ["expiry not after issue", { expiresAt: "2026-11-23T09:59:59.000Z" }],
    ["a device id with a topic wildcard", { deviceId: "lock-+" }],
  ])("E_SCHEMA: header with %s", (_label, overrides) => {
    expect(errorCode(signRaw(canonicalJson(header(overrides))))).toBe("E_SCHEMA");
  });

  it.each([
    ["an empty reason", { reason: "" }],
    ["an unknown field (closed objects)", { reason: "x", openNow: true }],
    ["a missing field", {}],
  ])("E_SCHEMA: body with %s", (_label, body) => {
    expect(errorCode(signRaw(canonicalJson(header({ body }))))).toBe("E_SCHEMA");
  });

  it("E_UNKNOWN_TYPE: a type no body schema exists for, including inherited names", () => {
    expect(errorCode(signRaw(canonicalJson(header({ type: "door.openNow" }))))).toBe(
      "E_UNKNOWN_TYPE",
    );
    expect(errorCode(signRaw(canonicalJson(header({ type: "toString" }))))).toBe("E_UNKNOWN_TYPE");
    expect(errorCode(signRaw(canonicalJson(header())), { bodies: {} })).toBe("E_UNKNOWN_TYPE");
  });

  it("E_WRONG_DEVICE: a valid command for another lock is refused", () => {
    const wire = encodeEnvelope(
      signEnvelope(fields({ deviceId: "lock-0043" }), fleetKey.secretKey),
    );
    expect(errorCode(wire)).toBe("E_WRONG_DEVICE");
  });

  it("E_NOT_YET_VALID: issued further in the future than the allowed clock skew", () => {
    const issuedAt = NOW + DEFAULT_CLOCK_SKEW_MS + 1;
    const wire = encodeEnvelope(
      signEnvelope(fields({ issuedAt, expiresAt: issuedAt + 60_000 }), fleetKey.secretKey),
    );
    expect(errorCode(wire)).toBe("E_NOT_YET_VALID");
    expect(errorCode(wire, { clockSkewMs: DEFAULT_CLOCK_SKEW_MS + 1 })).toBe("ok");
  });

  it("E_EXPIRED: at and after expiresAt, not a millisecond before", () => {
    const wire = encodeEnvelope(signEnvelope(fields(), fleetKey.secretKey));
    const expiresAt = NOW + 5 * 60_000;
    expect(errorCode(wire, { now: expiresAt - 1 })).toBe("ok");
    expect(errorCode(wire, { now: expiresAt })).toBe("E_EXPIRED");
    expect(errorCode(wire, { now: expiresAt + 86_400_000 })).toBe("E_EXPIRED");
  });

  it("E_REPLAY: the same envelope twice, and a lower seq after a higher one", () => {
    const replayGuard = new MemoryReplayGuard();
    const first = encodeEnvelope(signEnvelope(fields({ seq: 10 }), fleetKey.secretKey));
    expect(errorCode(first, { replayGuard })).toBe("ok");
    expect(errorCode(first, { replayGuard })).toBe("E_REPLAY");
    const higher = encodeEnvelope(
      signEnvelope(fields({ id: "cmd-2", seq: 12 }), fleetKey.secretKey),
    );
    const lower = encodeEnvelope(
      signEnvelope(fields({ id: "cmd-3", seq: 11 }), fleetKey.secretKey),
    );
    expect(errorCode(higher, { replayGuard })).toBe("ok");
    expect(errorCode(lower, { replayGuard })).toBe("E_REPLAY");
    expect(replayGuard.highest("fleet")).toBe(12);
  });

  it("a refused envelope does not advance the replay guard, so it cannot burn future seqs", () => {
    const replayGuard = new MemoryReplayGuard();
    const forged = encodeEnvelope(signEnvelope(fields({ seq: 1_000_000 }), strangerKey.secretKey));
    const expired = encodeEnvelope(
      signEnvelope(
        fields({ seq: 999_999, issuedAt: NOW - 120_000, expiresAt: NOW - 60_000 }),
        fleetKey.secretKey,
      ),
    );
    const elsewhere = encodeEnvelope(
      signEnvelope(fields({ seq: 999_998, deviceId: "lock-9" }), fleetKey.secretKey),
    );
    expect(errorCode(forged, { replayGuard })).toBe("E_BAD_SIGNATURE");
    expect(errorCode(expired, { replayGuard })).toBe("E_EXPIRED");
    expect(errorCode(elsewhere, { replayGuard })).toBe("E_WRONG_DEVICE");
    expect(replayGuard.highest("fleet")).toBe(0);
    expect(errorCode(good(), { replayGuard })).toBe("ok");
  });

  it("keeps one sequence per sender name", () => {
    const replayGuard = new MemoryReplayGuard();
    const wire = good();
    expect(errorCode(wire, { replayGuard, sender: "fleet-a" })).toBe("ok");
    expect(errorCode(wire, { replayGuard, sender: "fleet-b" })).toBe("ok");
    expect(errorCode(wire, { replayGuard, sender: "fleet-a" })).toBe("E_REPLAY");
  });

  it("checks in order: size, form, key, signature, canonical form, schema, type, device, time, replay", () => {
    // Each envelope is wrong in two ways; the earlier check names the refusal.
    const forgedAndExpired = encodeEnvelope(
      signEnvelope(
        fields({ issuedAt: NOW - 120_000, expiresAt: NOW - 60_000 }),
        strangerKey.secretKey,
      ),
    );
    expect(errorCode(forgedAndExpired)).toBe("E_BAD_SIGNATURE");
    const forgedForOtherLock = encodeEnvelope(
      signEnvelope(fields({ deviceId: "lock-9" }), strangerKey.secretKey),
    );
    expect(errorCode(forgedForOtherLock)).toBe("E_BAD_SIGNATURE");
    const unknownKeyAndForged = encodeEnvelope(
      signEnvelope(fields({ keyId: "k-x" }), strangerKey.secretKey),
    );
    expect(errorCode(unknownKeyAndForged)).toBe("E_UNKNOWN_KEY");
    expect(errorCode(good(), { maxBytes: 10, deviceId: "lock-9" })).toBe("E_TOO_LARGE");
    const badBodyOtherLock = signRaw(canonicalJson(header({ deviceId: "lock-9", body: {} })));
    expect(errorCode(badBodyOtherLock)).toBe("E_SCHEMA");
    const otherLockExpired = encodeEnvelope(
      signEnvelope(
        fields({ deviceId: "lock-9", issuedAt: NOW - 120_000, expiresAt: NOW - 60_000 }),
        fleetKey.secretKey,
      ),
    );
    expect(errorCode(otherLockExpired)).toBe("E_WRONG_DEVICE");
  });

  it("a refusal names what was refused in a sentence for a person", () => {
    const result = openEnvelope(
      encodeEnvelope(signEnvelope(fields(), strangerKey.secretKey)),
      options(),
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(/fleet-2026-11/);
  });
});

describe("openCommand", () => {
  it("returns the body typed by the command type", () => {
    const wire = encodeEnvelope(
      signEnvelope(
        fields({ type: "timeLock.immediate", body: { minutes: 90 } }),
        fleetKey.secretKey,
      ),
    );
    const result = openCommand(wire, options());
    expect(result.ok).toBe(true);
    if (result.ok && result.value.type === "timeLock.immediate")
      expect(result.value.body.minutes).toBe(90);
  });
});

describe("peekEnvelopeId", () => {
  it("reads the id without verifying, so a rejection can name what it answers", () => {
    const forged = encodeEnvelope(signEnvelope(fields({ id: "cmd-xyz" }), strangerKey.secretKey));
    expect(peekEnvelopeId(forged)).toBe("cmd-xyz");
    expect(peekEnvelopeId(utf8.encode(forged))).toBe("cmd-xyz");
  });

  it.each([
    ["not JSON", "{"],
    ["no payload", "{}"],
    ["payload not JSON", JSON.stringify({ payload: "{" })],
    ["id not a string", JSON.stringify({ payload: '{"id":7}' })],
    ["id longer than 64", JSON.stringify({ payload: JSON.stringify({ id: "x".repeat(65) }) })],
    ["null", "null"],
  ])("gives undefined for %s", (_label, wire) => {
    expect(peekEnvelopeId(wire)).toBeUndefined();
  });
});

describe("MemoryReplayGuard", () => {
  it("starts at 0 per sender and keeps the highest accepted seq", () => {
    const guard = new MemoryReplayGuard();
    expect(guard.highest("fleet")).toBe(0);
    guard.accept("fleet", 5);
    guard.accept("fleet", 9);
    expect(guard.highest("fleet")).toBe(9);
    expect(guard.highest("other")).toBe(0);
  });

  it("refuses to accept a seq at or below the highest (E_REPLAY)", () => {
    const guard = new MemoryReplayGuard();
    guard.accept("fleet", 5);
    expect(() => guard.accept("fleet", 5)).toThrow(/^E_REPLAY/);
    expect(() => guard.accept("fleet", 4)).toThrow(/^E_REPLAY/);
    expect(guard.highest("fleet")).toBe(5);
  });
});
