import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CLOSE_SEAL_PATTERN,
  matchOtpCloseSeal,
  OPENING_SEAL_PURPOSE,
  openingSeal,
  openingSealMessage,
  sealsEqual,
  verifyOpeningSeal,
} from "../src/close-seal.js";
import { fromHex } from "../src/crypto/bytes.js";
import { closeSeal, dynamicTruncate, type OneTimeCodeInput } from "../src/one-time-code.js";

const SECRET = fromHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
const OTHER_SECRET = fromHex("1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100");

describe("opening seal known-answer vectors (also in protocol/README.md)", () => {
  // Computed independently (Python hmac + the RFC 4226 truncation) for these inputs.
  it.each([
    [1, "c20555ac7446319284830d1d374ee07e8c123d44e99d31dd87df26e28a7e50db", "90163936"],
    [2, "2cdb9ddd1787347f007e49fa5812d131905cb89e40a364b0a0682806a1be300c", "77628209"],
    [1_000_000, "7694af4b9e0aca7470e2e656e0821d7de763f3943dabe2c873e4bd169bcf3209", "59262688"],
  ])("lock-0042, opening %i: HMAC %s, seal %s", (openingNumber, mac, seal) => {
    const message = `{"lockId":"lock-0042","openingNumber":${openingNumber},"purpose":"lockfleet/opening-seal/v1"}`;
    expect(openingSealMessage("lock-0042", openingNumber)).toBe(message);
    expect(createHmac("sha256", SECRET).update(message, "utf8").digest("hex")).toBe(mac);
    expect(dynamicTruncate(fromHex(mac), 8)).toBe(seal);
    expect(openingSeal(SECRET, "lock-0042", openingNumber)).toBe(seal);
    expect(OPENING_SEAL_PURPOSE).toBe("lockfleet/opening-seal/v1");
  });
});

describe("opening seal", () => {
  it("depends on the secret, the lock and the opening number", () => {
    const seal = openingSeal(SECRET, "lock-0042", 7);
    expect(seal).toMatch(CLOSE_SEAL_PATTERN);
    expect(openingSeal(SECRET, "lock-0042", 8)).not.toBe(seal);
    expect(openingSeal(SECRET, "lock-0043", 7)).not.toBe(seal);
    expect(openingSeal(OTHER_SECRET, "lock-0042", 7)).not.toBe(seal);
  });

  it("is never the one-time-code close seal of the same lock (another purpose is HMACed)", () => {
    const input: OneTimeCodeInput = {
      lockId: "lock-0042",
      counter: 1,
      personId: "p-cit-0007",
      notBefore: Date.parse("2026-11-23T08:00:00.000Z"),
      notAfter: Date.parse("2026-11-23T10:00:00.000Z"),
    };
    expect(closeSeal(SECRET, input)).toBe("68067167");
    expect(openingSeal(SECRET, "lock-0042", 1)).not.toBe(closeSeal(SECRET, input));
  });

  it.each<[string, () => unknown]>([
    ["a secret shorter than 16 bytes", () => openingSeal(new Uint8Array(15), "lock-0042", 1)],
    ["opening number 0", () => openingSeal(SECRET, "lock-0042", 0)],
    ["a fractional opening number", () => openingSeal(SECRET, "lock-0042", 1.5)],
    ["a lock id that is no topic level", () => openingSeal(SECRET, "lock/0042", 1)],
  ])("refuses %s (E_BAD_INPUT)", (_what, derive) => {
    expect(derive).toThrow(/^E_BAD_INPUT/);
  });
});

describe("the fleet's check of an opening seal (attack: a lock or a person presents a seal)", () => {
  const seal = openingSeal(SECRET, "lock-0042", 7);

  it("accepts the seal of that opening of that lock", () => {
    expect(verifyOpeningSeal(SECRET, "lock-0042", 7, seal)).toBe(true);
  });

  it("refuses the seal of another opening, another lock or made with another secret", () => {
    expect(verifyOpeningSeal(SECRET, "lock-0042", 8, seal)).toBe(false);
    expect(verifyOpeningSeal(SECRET, "lock-0043", 7, seal)).toBe(false);
    expect(verifyOpeningSeal(OTHER_SECRET, "lock-0042", 7, seal)).toBe(false);
  });

  it.each<[string, unknown, unknown]>([
    ["a seal with a digit changed", 7, `${seal.slice(0, 7)}${(Number(seal[7]) + 1) % 10}`],
    ["a seal with a ninth digit", 7, `${seal}0`],
    ["a seal that is not text", 7, Number(seal)],
    ["an opening number that is text", "7", seal],
    ["opening number 0", 0, openingSeal(SECRET, "lock-0042", 1)],
    ["a negative opening number", -7, seal],
  ])("refuses %s without throwing", (_what, openingNumber, presented) => {
    expect(verifyOpeningSeal(SECRET, "lock-0042", openingNumber, presented)).toBe(false);
  });
});

describe("matching a one-time-code close seal", () => {
  const base: OneTimeCodeInput = {
    lockId: "lock-0042",
    counter: 1,
    personId: "p-cit-0007",
    notBefore: Date.parse("2026-11-23T08:00:00.000Z"),
    notAfter: Date.parse("2026-11-23T10:00:00.000Z"),
  };
  const candidates = [base, { ...base, counter: 2 }, { ...base, counter: 3 }];

  it("finds the code whose opening the seal closes (README vector: counter 2 → 17830313)", () => {
    expect(matchOtpCloseSeal(SECRET, candidates, "17830313")).toEqual({ ...base, counter: 2 });
  });

  it("finds nothing for the one-time code itself or for another lock's seal", () => {
    expect(matchOtpCloseSeal(SECRET, candidates, "69697075")).toBeUndefined();
    const otherLock = closeSeal(SECRET, { ...base, lockId: "lock-0043" });
    expect(matchOtpCloseSeal(SECRET, candidates, otherLock)).toBeUndefined();
  });

  it("compares seals of different lengths as unequal", () => {
    expect(sealsEqual("12345678", "1234567")).toBe(false);
    expect(sealsEqual("12345678", "12345678")).toBe(true);
  });
});
