/**
 * Fuzzing the parsers that take outside input: whatever arrives, each answers with a coded
 * refusal (or a plain false/undefined where that is its contract) and never throws.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { enrolmentTokenPin } from "../src/broker-pin.js";
import { canonicalJson, isCanonicalJsonText } from "../src/canonical-json.js";
import { verifyOpeningSeal } from "../src/close-seal.js";
import { toBase64url } from "../src/crypto/bytes.js";
import { nodeEd25519 } from "../src/crypto/ed25519.js";
import { openSealedSecret } from "../src/crypto/sealed-box.js";
import { openCommand, openEnvelope, peekEnvelopeId, signEnvelope } from "../src/envelope.js";
import { PROTOCOL_ERROR_CODES } from "../src/errors.js";
import { MemoryReplayGuard } from "../src/replay-guard.js";
import { COMMAND_TYPES } from "../src/schemas/commands.js";
import { parseTopic } from "../src/topics.js";

const NOW = Date.parse("2026-11-23T10:00:00.000Z");
const DEVICE = "lock-0042";
const KEY_ID = "fleet-2026-11";
const fleetKey = nodeEd25519.keyPairFromSeed(new Uint8Array(32).fill(7));
const utf8 = new TextEncoder();
const CODES: readonly string[] = PROTOCOL_ERROR_CODES;

function options() {
  return {
    deviceId: DEVICE,
    now: NOW,
    keys: new Map([[KEY_ID, fleetKey.publicKey]]),
    replayGuard: new MemoryReplayGuard(),
  };
}

/** Any JSON value, including the odd corners (deep nesting, unicode, big and tiny numbers). */
const anyJson = fc.jsonValue({ maxDepth: 4 });

/** A payload signed with the trusted key: reaches every check after the signature. */
function signedRaw(payload: string): string {
  const signature = nodeEd25519.sign(utf8.encode(payload), fleetKey.secretKey);
  return JSON.stringify({ payload, signature: toBase64url(signature) });
}

/** Header fields of an honest envelope, each of which the arbitrary may replace. */
const headerish = fc.record(
  {
    v: fc.oneof(fc.constant(1), anyJson),
    type: fc.oneof(fc.constantFrom(...COMMAND_TYPES), fc.string(), anyJson),
    deviceId: fc.oneof(fc.constant(DEVICE), fc.string(), anyJson),
    id: fc.oneof(fc.constant("cmd-1"), anyJson),
    seq: fc.oneof(fc.integer(), fc.double(), anyJson),
    issuedAt: fc.oneof(fc.constant("2026-11-23T09:59:00.000Z"), fc.string(), anyJson),
    expiresAt: fc.oneof(fc.constant("2026-11-23T10:05:00.000Z"), fc.string(), anyJson),
    keyId: fc.oneof(fc.constant(KEY_ID), fc.string(), anyJson),
    body: anyJson,
  },
  { requiredKeys: [] },
);

function expectCodedRefusalOrSuccess(result: ReturnType<typeof openEnvelope>): void {
  if (!result.ok) {
    expect(CODES).toContain(result.error.code);
    expect(typeof result.error.message).toBe("string");
  }
}

describe("fuzz: envelope opening never throws, only refuses with a code", () => {
  it("arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const result = openEnvelope(bytes, options());
        expect(result.ok).toBe(false);
        expectCodedRefusalOrSuccess(result);
      }),
      { numRuns: 300 },
    );
  });

  it("arbitrary text and arbitrary JSON", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: "grapheme" }),
          anyJson.map((value) => JSON.stringify(value)),
        ),
        (text) => {
          const result = openEnvelope(text, options());
          expect(result.ok).toBe(false);
          expectCodedRefusalOrSuccess(result);
          expect(() => peekEnvelopeId(text)).not.toThrow();
        },
      ),
      { numRuns: 300 },
    );
  });

  it("{payload, signature} of arbitrary members", () => {
    fc.assert(
      fc.property(anyJson, anyJson, (payload, signature) => {
        const result = openEnvelope(JSON.stringify({ payload, signature }), options());
        expect(result.ok).toBe(false);
        expectCodedRefusalOrSuccess(result);
      }),
      { numRuns: 300 },
    );
  });

  it("arbitrary payloads signed with the trusted key (every check after the signature)", () => {
    fc.assert(
      fc.property(fc.oneof(headerish, anyJson), fc.boolean(), (value, canonical) => {
        let text: string;
        try {
          text = canonical ? canonicalJson(value) : JSON.stringify(value);
        } catch {
          text = JSON.stringify(value);
        }
        if (text === undefined) return;
        const raw = signedRaw(text);
        expectCodedRefusalOrSuccess(openEnvelope(raw, options()));
        expectCodedRefusalOrSuccess(openCommand(raw, options()));
      }),
      { numRuns: 400 },
    );
  });

  it("a valid command with one character of its wire text changed", () => {
    const wire = JSON.stringify(
      signEnvelope(
        {
          type: "remote.block",
          deviceId: DEVICE,
          id: "cmd-1",
          seq: 5,
          issuedAt: NOW - 1000,
          expiresAt: NOW + 60_000,
          keyId: KEY_ID,
          body: { reason: "fuzz" },
        },
        fleetKey.secretKey,
      ),
    );
    fc.assert(
      fc.property(
        fc.nat({ max: wire.length - 1 }),
        fc.string({ minLength: 0, maxLength: 3, unit: "binary" }),
        (at, insert) => {
          const mutated = wire.slice(0, at) + insert + wire.slice(at + 1);
          const result = openEnvelope(mutated, options());
          expectCodedRefusalOrSuccess(result);
          if (result.ok) expect(mutated).toBe(wire);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("fuzz: other parsers of outside input never throw", () => {
  it("parseTopic answers a coded refusal for anything that is not a lockfleet topic", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(fc.string(), { maxLength: 7 }).map((levels) => levels.join("/")),
        ),
        (topic) => {
          const result = parseTopic(topic);
          if (!result.ok) expect(result.error.code).toBe("E_BAD_TOPIC");
        },
      ),
      { numRuns: 300 },
    );
  });

  it("isCanonicalJsonText answers true or false", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: "binary" }),
          anyJson.map((value) => JSON.stringify(value)),
        ),
        (text) => {
          expect(typeof isCanonicalJsonText(text)).toBe("boolean");
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a sealed secret of arbitrary shape is refused with E_SEALED_BOX", () => {
    const recipient = new Uint8Array(32).fill(3);
    fc.assert(
      fc.property(anyJson, (sealed) => {
        try {
          openSealedSecret(sealed as never, recipient);
        } catch (error) {
          expect((error as { code?: unknown }).code).toBe("E_SEALED_BOX");
          return;
        }
        throw new Error("an arbitrary sealed box opened");
      }),
      { numRuns: 300 },
    );
  });

  it("an opening seal check answers false for anything malformed", () => {
    const secret = new Uint8Array(32).fill(1);
    fc.assert(
      fc.property(fc.string(), anyJson, anyJson, (lockId, openingNumber, seal) => {
        expect(
          typeof verifyOpeningSeal(secret, lockId, openingNumber as never, seal as never),
        ).toBe("boolean");
      }),
      { numRuns: 300 },
    );
  });

  it("an enrolment token's pin is read or absent, never an exception", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (token) => {
        const pin = enrolmentTokenPin(token);
        if (pin !== undefined) expect(pin).toMatch(/^[A-Za-z0-9_-]{43}$/);
      }),
      { numRuns: 300 },
    );
  });
});

describe("found by fuzzing", () => {
  it("E_SCHEMA: an instant in a body that does not exist (2026-02-30, 24:61) is refused, though signed", () => {
    for (const time of [
      "2026-02-30T08:00:00Z",
      "2026-11-23T24:61:00.000Z",
      "1578-60-14T02:60:82.275Z",
    ]) {
      const wire = JSON.stringify(
        signEnvelope(
          {
            type: "time.sync",
            deviceId: DEVICE,
            id: "cmd-t",
            seq: 1,
            issuedAt: NOW - 1000,
            expiresAt: NOW + 60_000,
            keyId: KEY_ID,
            body: { time },
          },
          fleetKey.secretKey,
        ),
      );
      const result = openCommand(wire, options());
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error.code).toBe("E_SCHEMA");
      expect(!result.ok && result.error.message).toContain("/time");
    }
  });

  it("a real instant in a body still opens", () => {
    const wire = JSON.stringify(
      signEnvelope(
        {
          type: "time.sync",
          deviceId: DEVICE,
          id: "cmd-t",
          seq: 1,
          issuedAt: NOW - 1000,
          expiresAt: NOW + 60_000,
          keyId: KEY_ID,
          body: { time: "2028-02-29T23:59:59.999Z" },
        },
        fleetKey.secretKey,
      ),
    );
    expect(openCommand(wire, options()).ok).toBe(true);
  });
});
