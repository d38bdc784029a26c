import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex } from "../src/crypto/bytes.js";
import {
  CLOSE_SEAL_PURPOSE,
  closeSeal,
  dynamicTruncate,
  findOneTimeCode,
  isOtpWindow,
  type OneTimeCodeInput,
  OTP_PURPOSE,
  OTP_WINDOW_LENGTHS_MIN,
  OTP_WINDOW_STEP_MS,
  oneTimeCode,
  otpWindowsContaining,
} from "../src/one-time-code.js";

const MINUTE = 60_000;
const at = (iso: string) => Date.parse(iso);

/** RFC 4226 Appendix D: HOTP over HMAC-SHA-1 with the RFC's ASCII secret and 8-byte counters. */
const RFC4226_SECRET = new TextEncoder().encode("12345678901234567890");
function rfc4226Hmac(counter: number): Uint8Array {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  return createHmac("sha1", RFC4226_SECRET).update(message).digest();
}

describe("dynamic truncation (RFC 4226 §5.3) against RFC 4226 Appendix D", () => {
  it("the HMAC-SHA-1 of counter 0 is the RFC's", () => {
    expect(Buffer.from(rfc4226Hmac(0)).toString("hex")).toBe(
      "cc93cf18508d94934c64b65d8ba7667fb7cde4b0",
    );
  });

  // count, HOTP (6 digits), Truncated (decimal, 31 bits) as Appendix D lists them.
  it.each([
    [0, "755224", 1284755224],
    [1, "287082", 1094287082],
    [2, "359152", 137359152],
    [3, "969429", 1726969429],
    [4, "338314", 1640338314],
    [5, "254676", 868254676],
    [6, "287922", 1918287922],
    [7, "162583", 82162583],
    [8, "399871", 673399871],
    [9, "520489", 645520489],
  ])("counter %i: HOTP %s, truncated value %i", (counter, hotp, truncated) => {
    const hmac = rfc4226Hmac(counter);
    expect(dynamicTruncate(hmac, 6)).toBe(hotp);
    // 9 digits is the most a 31-bit value allows at full strength: the truncated value mod 10^9.
    expect(dynamicTruncate(hmac, 9)).toBe(String(truncated % 1e9).padStart(9, "0"));
    expect(dynamicTruncate(hmac, 8)).toBe(String(truncated % 1e8).padStart(8, "0"));
  });

  it("takes the offset from the last byte, so a 32-byte HMAC-SHA-256 works the same way", () => {
    const hmac = new Uint8Array(32);
    hmac[31] = 0x0b; // offset 11
    hmac.set([0xff, 0x00, 0x00, 0x2a], 11); // top bit masked off: 0x7f00002a
    expect(dynamicTruncate(hmac, 8)).toBe(String(0x7f00002a % 1e8).padStart(8, "0"));
  });

  it.each([5, 10, 7.5, Number.NaN])("refuses %s digits (E_BAD_INPUT)", (digits) => {
    expect(() => dynamicTruncate(rfc4226Hmac(0), digits)).toThrow(/^E_BAD_INPUT/);
  });

  it("refuses an HMAC shorter than 20 bytes (E_BAD_INPUT)", () => {
    expect(() => dynamicTruncate(new Uint8Array(19), 6)).toThrow(/^E_BAD_INPUT/);
  });
});

const SECRET = fromHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
const BASE: OneTimeCodeInput = {
  lockId: "lock-0042",
  counter: 1,
  personId: "p-cit-0007",
  notBefore: at("2026-11-23T08:00:00.000Z"),
  notAfter: at("2026-11-23T10:00:00.000Z"),
};

describe("known-answer vectors (also in protocol/README.md)", () => {
  const vectors: Array<[OneTimeCodeInput, string, string]> = [
    [BASE, "69697075", "68067167"],
    [{ ...BASE, counter: 2 }, "16421758", "17830313"],
    [
      {
        lockId: "lock-0042",
        counter: 17,
        personId: "p-cit-0011",
        notBefore: at("2026-12-24T06:15:00.000Z"),
        notAfter: at("2026-12-25T06:15:00.000Z"),
      },
      "26547278",
      "46223424",
    ],
  ];

  it.each(vectors)("%o gives code %s and close seal %s", (input, code, seal) => {
    expect(oneTimeCode(SECRET, input)).toBe(code);
    expect(closeSeal(SECRET, input)).toBe(seal);
  });

  it("is HMAC-SHA-256 over this exact canonical JSON, cut by dynamic truncation to 8 digits", () => {
    const message =
      '{"counter":1,"lockId":"lock-0042","notAfter":"2026-11-23T10:00:00.000Z",' +
      '"notBefore":"2026-11-23T08:00:00.000Z","personId":"p-cit-0007","purpose":"lockfleet/one-time-code/v1"}';
    const hmac = createHmac("sha256", SECRET).update(message, "utf8").digest();
    expect(hmac.toString("hex")).toBe(
      "74e3f46f0b5747219e800a4110217de3858e339d667eee9ae5f8053443558e3f",
    );
    expect(dynamicTruncate(hmac, 8)).toBe(oneTimeCode(SECRET, BASE));
    expect(OTP_PURPOSE).toBe("lockfleet/one-time-code/v1");
    expect(CLOSE_SEAL_PURPOSE).toBe("lockfleet/close-seal/v1");
  });
});

describe("derivation", () => {
  it("is deterministic and always 8 digits", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.uint8Array({ minLength: 16, maxLength: 64 }),
        (counter, secret) => {
          const code = oneTimeCode(secret, { ...BASE, counter });
          expect(code).toMatch(/^\d{8}$/);
          expect(oneTimeCode(secret, { ...BASE, counter })).toBe(code);
          expect(closeSeal(secret, { ...BASE, counter })).toBe(
            closeSeal(secret, { ...BASE, counter }),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it.each<[string, Partial<OneTimeCodeInput>]>([
    ["counter", { counter: 2 }],
    ["person", { personId: "p-cit-0008" }],
    ["lock", { lockId: "lock-0043" }],
    [
      "window start",
      {
        notBefore: BASE.notBefore + OTP_WINDOW_STEP_MS,
        notAfter: BASE.notAfter + OTP_WINDOW_STEP_MS,
      },
    ],
    ["window length", { notAfter: BASE.notBefore + 240 * MINUTE }],
  ])("a different %s gives a different code and seal", (_label, change) => {
    expect(oneTimeCode(SECRET, { ...BASE, ...change })).not.toBe(oneTimeCode(SECRET, BASE));
    expect(closeSeal(SECRET, { ...BASE, ...change })).not.toBe(closeSeal(SECRET, BASE));
  });

  it("another lock secret gives a different code", () => {
    const other = SECRET.slice();
    other[0] = 0xff;
    expect(oneTimeCode(other, BASE)).not.toBe(oneTimeCode(SECRET, BASE));
  });

  it("the close seal is not the code (another purpose)", () => {
    expect(closeSeal(SECRET, BASE)).not.toBe(oneTimeCode(SECRET, BASE));
  });

  it.each<[string, Partial<OneTimeCodeInput>]>([
    ["counter 0", { counter: 0 }],
    ["a negative counter", { counter: -1 }],
    ["a fractional counter", { counter: 1.5 }],
    ["a counter beyond 2^53", { counter: 2 ** 53 }],
    [
      "a window off the quarter-hour grid",
      { notBefore: BASE.notBefore + MINUTE, notAfter: BASE.notAfter + MINUTE },
    ],
    ["a window of a length not on the list", { notAfter: BASE.notBefore + 90 * MINUTE }],
    ["an empty window", { notAfter: BASE.notBefore }],
    ["a reversed window", { notBefore: BASE.notAfter, notAfter: BASE.notBefore }],
    ["an empty lock id", { lockId: "" }],
    ["a lock id with a topic wildcard", { lockId: "lock/#" }],
    ["an empty person id", { personId: "" }],
    ["a person id with a space", { personId: "p 7" }],
  ])("refuses %s (E_BAD_INPUT)", (_label, change) => {
    expect(() => oneTimeCode(SECRET, { ...BASE, ...change })).toThrow(/^E_BAD_INPUT/);
    expect(() => closeSeal(SECRET, { ...BASE, ...change })).toThrow(/^E_BAD_INPUT/);
  });

  it("refuses a secret shorter than 128 bits (E_BAD_INPUT)", () => {
    expect(() => oneTimeCode(new Uint8Array(15), BASE)).toThrow(/^E_BAD_INPUT/);
    expect(() => oneTimeCode(new Uint8Array(0), BASE)).toThrow(/^E_BAD_INPUT/);
    expect(oneTimeCode(new Uint8Array(16), BASE)).toMatch(/^\d{8}$/);
  });
});

describe("window grid", () => {
  it("accepts quarter-hour starts with a listed length, nothing else", () => {
    for (const length of OTP_WINDOW_LENGTHS_MIN) {
      expect(isOtpWindow(BASE.notBefore, BASE.notBefore + length * MINUTE)).toBe(true);
      expect(
        isOtpWindow(BASE.notBefore + 15 * MINUTE, BASE.notBefore + (15 + length) * MINUTE),
      ).toBe(true);
      expect(isOtpWindow(BASE.notBefore + 1, BASE.notBefore + 1 + length * MINUTE)).toBe(false);
      expect(isOtpWindow(BASE.notBefore + 5 * MINUTE, BASE.notBefore + (5 + length) * MINUTE)).toBe(
        false,
      );
    }
    expect(isOtpWindow(BASE.notBefore, BASE.notBefore + 30 * MINUTE)).toBe(false);
    expect(isOtpWindow(BASE.notBefore, BASE.notBefore + 2880 * MINUTE)).toBe(false);
    expect(isOtpWindow(Number.NaN, BASE.notAfter)).toBe(false);
  });

  it("otpWindowsContaining lists every grid window with notBefore ≤ at < notAfter, once each", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: at("2020-01-01T00:00:00Z"), max: at("2040-01-01T00:00:00Z") }),
        (instant) => {
          const windows = otpWindowsContaining(instant);
          // Per length L minutes there are L/15 quarter-hour starts whose window contains the instant.
          expect(windows).toHaveLength(
            OTP_WINDOW_LENGTHS_MIN.reduce((sum, length) => sum + length / 15, 0),
          );
          const keys = new Set(windows.map((w) => `${w.notBefore}/${w.notAfter}`));
          expect(keys.size).toBe(windows.length);
          for (const w of windows) {
            expect(isOtpWindow(w.notBefore, w.notAfter)).toBe(true);
            expect(w.notBefore <= instant && instant < w.notAfter).toBe(true);
          }
          // Nothing just outside is listed: the next start and the window that ended are absent.
          const nextStart =
            Math.floor(instant / OTP_WINDOW_STEP_MS) * OTP_WINDOW_STEP_MS + OTP_WINDOW_STEP_MS;
          expect(windows.some((w) => w.notBefore === nextStart)).toBe(false);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("at a window's end instant, that window is no longer listed", () => {
    const windows = otpWindowsContaining(BASE.notAfter);
    expect(
      windows.some((w) => w.notBefore === BASE.notBefore && w.notAfter === BASE.notAfter),
    ).toBe(false);
    expect(
      otpWindowsContaining(BASE.notAfter - 1).some(
        (w) => w.notBefore === BASE.notBefore && w.notAfter === BASE.notAfter,
      ),
    ).toBe(true);
  });
});

describe("findOneTimeCode (the lock's side)", () => {
  const code = oneTimeCode(SECRET, { ...BASE, counter: 5 });
  const query = {
    lockId: BASE.lockId,
    personId: BASE.personId,
    code,
    at: BASE.notBefore + 30 * MINUTE,
    counters: [1, 2, 3, 4, 5, 6, 7, 8],
  };

  it("finds the counter and the window the code was issued for", () => {
    expect(findOneTimeCode(SECRET, query)).toEqual({ ...BASE, counter: 5 });
  });

  it("finds it at the first and at the last millisecond of the window", () => {
    expect(findOneTimeCode(SECRET, { ...query, at: BASE.notBefore })?.counter).toBe(5);
    expect(findOneTimeCode(SECRET, { ...query, at: BASE.notAfter - 1 })?.counter).toBe(5);
  });

  it("refuses the code before its window opens and from its end on", () => {
    expect(findOneTimeCode(SECRET, { ...query, at: BASE.notBefore - 1 })).toBeUndefined();
    expect(findOneTimeCode(SECRET, { ...query, at: BASE.notAfter })).toBeUndefined();
    expect(
      findOneTimeCode(SECRET, { ...query, at: BASE.notAfter + 24 * 60 * MINUTE }),
    ).toBeUndefined();
  });

  it("refuses a used counter (the lock leaves it out of the list)", () => {
    expect(findOneTimeCode(SECRET, { ...query, counters: [1, 2, 3, 4, 6, 7, 8] })).toBeUndefined();
  });

  it("refuses the code for another person, another lock, or with another secret", () => {
    expect(findOneTimeCode(SECRET, { ...query, personId: "p-cit-0008" })).toBeUndefined();
    expect(findOneTimeCode(SECRET, { ...query, lockId: "lock-0043" })).toBeUndefined();
    expect(findOneTimeCode(new Uint8Array(32).fill(1), query)).toBeUndefined();
  });

  it("refuses the close seal typed in as if it were a code", () => {
    const seal = closeSeal(SECRET, { ...BASE, counter: 5 });
    expect(findOneTimeCode(SECRET, { ...query, code: seal })).toBeUndefined();
  });

  it("refuses a wrong code", () => {
    const wrong = String((Number(code) + 1) % 1e8).padStart(8, "0");
    expect(findOneTimeCode(SECRET, { ...query, code: wrong })).toBeUndefined();
  });
});
