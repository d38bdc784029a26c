import { describe, expect, it } from "vitest";
import {
  auditRecordHash,
  CHECKPOINT_PURPOSE,
  chainAuditRecord,
  sha256Hex,
  signCheckpoint,
  verifyAuditChain,
  verifyCheckpoint,
} from "../src/audit-chain.js";
import { canonicalJson } from "../src/canonical-json.js";
import { fromBase64url, toBase64url } from "../src/crypto/bytes.js";
import { type Ed25519Backend, nodeEd25519, tweetnaclEd25519 } from "../src/crypto/ed25519.js";
import { type AuditRecord, Checkpoint, GENESIS_HASH } from "../src/schemas/audit.js";
import { isValid } from "../src/validate.js";

const DEVICE = "lock-0042";

function chain(length: number): AuditRecord[] {
  const records: AuditRecord[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= length; seq++) {
    const record = chainAuditRecord(
      {
        deviceId: DEVICE,
        seq,
        at: new Date(Date.UTC(2026, 10, 23, 10, 0, seq)).toISOString(),
        kind: seq % 2 === 0 ? "bolt.retracted" : "code.accepted",
        actor: seq % 2 === 0 ? null : "p-bank-0001",
        data: { slot: seq },
      },
      prevHash,
    );
    records.push(record);
    prevHash = record.hash;
  }
  return records;
}

describe("hash chain", () => {
  it("hash = SHA-256 of the canonical JSON of the record without hash, prevHash included", () => {
    const [first] = chain(1);
    if (first === undefined) throw new Error("no record");
    const { hash, ...unhashed } = first;
    expect(hash).toBe(sha256Hex(canonicalJson(unhashed)));
    expect(auditRecordHash(unhashed)).toBe(hash);
    expect(first.prevHash).toBe(GENESIS_HASH);
    expect(GENESIS_HASH).toBe("0".repeat(64));
  });

  it("the hash input is the canonical JSON whatever the data holds (nested keys, escapes, numbers)", () => {
    const unhashed = {
      deviceId: DEVICE,
      seq: 7,
      at: "2026-11-23T10:00:07.5Z",
      kind: "code.rejected" as const,
      actor: null,
      data: { z: [1e21, -0, 0.1], a: { "10": 'é\n"', "9": "😀" } },
      prevHash: "a".repeat(64),
    };
    expect(auditRecordHash(unhashed)).toBe(sha256Hex(canonicalJson(unhashed)));
    expect(() => auditRecordHash({ ...unhashed, data: { x: "\ud800" } })).toThrow(/data\.x/);
  });

  it("an intact chain verifies from genesis and from any point with the previous head", () => {
    const records = chain(6);
    expect(verifyAuditChain(records)).toBeUndefined();
    const third = records[2];
    if (third === undefined) throw new Error("no record");
    expect(
      verifyAuditChain(records.slice(3), { seq: third.seq, hash: third.hash }),
    ).toBeUndefined();
    expect(verifyAuditChain([])).toBeUndefined();
  });

  it("E_CHAIN_GAP: a missing record", () => {
    const records = chain(5);
    records.splice(2, 1);
    expect(verifyAuditChain(records)).toMatchObject({ code: "E_CHAIN_GAP", seq: 4 });
  });

  it("E_CHAIN_GAP: a batch that does not start after the previous head", () => {
    expect(verifyAuditChain(chain(3).slice(1))).toMatchObject({ code: "E_CHAIN_GAP", seq: 2 });
  });

  it("E_CHAIN_LINK: a record re-hashed to fit but linked to another predecessor", () => {
    const records = chain(4);
    const third = records[2];
    if (third === undefined) throw new Error("no record");
    const { hash: _hash, prevHash: _prevHash, ...rest } = third;
    records[2] = chainAuditRecord(rest, "f".repeat(64));
    expect(verifyAuditChain(records)).toMatchObject({ code: "E_CHAIN_LINK", seq: 3 });
  });

  it("E_CHAIN_LINK: a continuation checked against the wrong previous head", () => {
    expect(verifyAuditChain(chain(3).slice(2), { seq: 2, hash: "a".repeat(64) })).toMatchObject({
      code: "E_CHAIN_LINK",
      seq: 3,
    });
  });

  it.each([
    ["the acting person", { actor: "p-bank-0002" }],
    ["the data", { data: { slot: 99 } }],
    ["the time", { at: "2026-11-23T11:00:00.000Z" }],
    ["the kind", { kind: "door.opened" }],
    ["the device", { deviceId: "lock-0043" }],
  ] as const)("E_CHAIN_HASH: a record whose %s was altered afterwards", (_label, change) => {
    const records = chain(4);
    const second = records[1];
    if (second === undefined) throw new Error("no record");
    records[1] = { ...second, ...change };
    expect(verifyAuditChain(records)).toMatchObject({ code: "E_CHAIN_HASH", seq: 2 });
  });

  it("a record cut out and the rest re-chained is caught by the checkpoint, not by the chain alone", () => {
    // The chain only proves order within what was kept; the signed head is the evidence of what existed.
    const device = nodeEd25519.keyPairFromSeed(new Uint8Array(32).fill(3));
    const original = chain(3);
    const head = original[2];
    if (head === undefined) throw new Error("no record");
    const checkpoint = signCheckpoint(
      { deviceId: DEVICE, seq: 3, headHash: head.hash, at: head.at, keyId: "dev-1" },
      device.secretKey,
    );
    const rewritten = chain(3).map((record) => ({ ...record, data: { slot: 0 } }));
    let prevHash = GENESIS_HASH;
    const relinked = rewritten.map(({ hash: _h, prevHash: _p, ...rest }) => {
      const record = chainAuditRecord(rest, prevHash);
      prevHash = record.hash;
      return record;
    });
    expect(verifyAuditChain(relinked)).toBeUndefined();
    expect(relinked[2]?.hash).not.toBe(checkpoint.headHash);
  });
});

describe.each<Ed25519Backend>([nodeEd25519, tweetnaclEd25519])(
  "checkpoints with $name",
  (backend) => {
    const device = backend.keyPairFromSeed(new Uint8Array(32).fill(5));
    const other = backend.keyPairFromSeed(new Uint8Array(32).fill(6));
    const records = chain(3);
    const head = records[2];
    if (head === undefined) throw new Error("no record");
    const unsigned = {
      deviceId: DEVICE,
      seq: 3,
      headHash: head.hash,
      at: head.at,
      keyId: "dev-lock-0042",
    };

    it("a signed checkpoint verifies with the device key and matches its schema", () => {
      const checkpoint = signCheckpoint(unsigned, device.secretKey, backend);
      expect(verifyCheckpoint(checkpoint, device.publicKey, backend)).toBe(true);
      expect(isValid(Checkpoint, checkpoint)).toBe(true);
    });

    it("signs canonical JSON of {purpose, deviceId, seq, headHash, at, keyId}", () => {
      const checkpoint = signCheckpoint(unsigned, device.secretKey, backend);
      const message = canonicalJson({ purpose: CHECKPOINT_PURPOSE, ...unsigned });
      expect(
        nodeEd25519.verify(
          new TextEncoder().encode(message),
          fromBase64url(checkpoint.signature),
          device.publicKey,
        ),
      ).toBe(true);
      expect(CHECKPOINT_PURPOSE).toBe("lockfleet/audit-checkpoint/v1");
    });

    it.each([
      ["seq", { seq: 2 }],
      ["head hash", { headHash: "0".repeat(64) }],
      ["device", { deviceId: "lock-0043" }],
      ["time", { at: "2026-11-23T12:00:00.000Z" }],
      ["key id", { keyId: "dev-other" }],
    ])("a checkpoint with a tampered %s does not verify", (_label, change) => {
      const checkpoint = signCheckpoint(unsigned, device.secretKey, backend);
      expect(verifyCheckpoint({ ...checkpoint, ...change }, device.publicKey, backend)).toBe(false);
    });

    it("a checkpoint signed by another device's key does not verify", () => {
      const checkpoint = signCheckpoint(unsigned, other.secretKey, backend);
      expect(verifyCheckpoint(checkpoint, device.publicKey, backend)).toBe(false);
    });

    it("a flipped signature bit, or a signature that is not base64url, gives false, not an exception", () => {
      const checkpoint = signCheckpoint(unsigned, device.secretKey, backend);
      const signature = fromBase64url(checkpoint.signature);
      signature[40] = (signature[40] ?? 0) ^ 0x80;
      expect(
        verifyCheckpoint(
          { ...checkpoint, signature: toBase64url(signature) },
          device.publicKey,
          backend,
        ),
      ).toBe(false);
      expect(verifyCheckpoint({ ...checkpoint, signature: "!!" }, device.publicKey, backend)).toBe(
        false,
      );
      expect(
        verifyCheckpoint(
          { ...checkpoint, signature: `${checkpoint.signature.slice(0, 85)}B` },
          device.publicKey,
          backend,
        ),
      ).toBe(false);
    });
  },
);
