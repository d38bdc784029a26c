import { describe, expect, it } from "vitest";
import {
  CANONICAL_JSON_MAX_DEPTH,
  CanonicalJsonError,
  canonicalJson,
  isCanonicalJsonText,
} from "../src/canonical-json.js";

/** The IEEE 754 double whose bit pattern is `hex` (big-endian), as RFC 8785 Appendix B lists them. */
function double(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe("RFC 8785 examples", () => {
  it("§3.2.2: numbers, strings and literals serialise as the RFC shows", () => {
    // The RFC's input text, parsed as a receiver would parse it.
    const input = JSON.parse(
      String.raw`{
        "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
        "literals": [null, true, false]
      }`,
    );
    expect(canonicalJson(input)).toBe(
      String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
    );
  });

  it("§3.2.4: the canonical text of §3.2.2 is the UTF-8 bytes the RFC prints", () => {
    const input = {
      // biome-ignore lint/correctness/noPrecisionLoss: RFC 8785 §3.2.2 prints this literal on purpose
      numbers: [333333333.33333329, 1e30, 4.5, 2e-3, 1e-27],
      string: '\u20ac$\u000f\nA\'B"\\\\"/',
      literals: [null, true, false],
    };
    const rfcDump = `
      7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72
      75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a
      5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31
      65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37
      5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30
      30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d`;
    expect(Buffer.from(canonicalJson(input), "utf8").toString("hex")).toBe(
      rfcDump.replace(/\s+/g, ""),
    );
  });

  it("§3.2.3: keys sort by UTF-16 code units, not by code points or UTF-8 bytes", () => {
    const input = {
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis",
    };
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
    // By code point U+1F600 would sort after U+FB33; by UTF-16 its high surrogate D83D sorts first.
    expect(canonicalJson({ "\ufb33": 1, "\u{1f600}": 2 })).toBe('{"\u{1f600}":2,"\ufb33":1}');
  });

  it.each([
    ["0000000000000000", "0"],
    ["8000000000000000", "0"],
    ["0000000000000001", "5e-324"],
    ["8000000000000001", "-5e-324"],
    ["7fefffffffffffff", "1.7976931348623157e+308"],
    ["ffefffffffffffff", "-1.7976931348623157e+308"],
    ["4340000000000000", "9007199254740992"],
    ["c340000000000000", "-9007199254740992"],
    ["4430000000000000", "295147905179352830000"],
    ["44b52d02c7e14af5", "9.999999999999997e+22"],
    ["44b52d02c7e14af6", "1e+23"],
    ["44b52d02c7e14af7", "1.0000000000000001e+23"],
    ["444b1ae4d6e2ef4e", "999999999999999700000"],
    ["444b1ae4d6e2ef4f", "999999999999999900000"],
    ["444b1ae4d6e2ef50", "1e+21"],
    ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
    ["3eb0c6f7a0b5ed8d", "0.000001"],
    ["41b3de4355555553", "333333333.3333332"],
    ["41b3de4355555554", "333333333.33333325"],
    ["41b3de4355555555", "333333333.3333333"],
    ["41b3de4355555556", "333333333.3333334"],
    ["41b3de4355555557", "333333333.33333343"],
    ["becbf647612f3696", "-0.0000033333333333333333"],
    ["43143ff3c1cb0959", "1424953923781206.2"],
  ])("Appendix B: IEEE 754 %s serialises as %s", (hex, expected) => {
    expect(canonicalJson(double(hex))).toBe(expected);
    expect(canonicalJson([double(hex)])).toBe(`[${expected}]`);
  });

  it.each([
    ["7fffffffffffffff", "NaN"],
    ["7ff0000000000000", "Infinity"],
    ["fff0000000000000", "-Infinity"],
  ])("Appendix B: IEEE 754 %s (%s) is refused", (hex) => {
    expect(() => canonicalJson(double(hex))).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ seq: double(hex) })).toThrow(/E_NOT_CANONICALISABLE: seq/);
  });
});

describe("string escaping", () => {
  it("escapes exactly the quote, the backslash and control characters, the short forms where JSON has them", () => {
    expect(canonicalJson('"\\')).toBe('"\\"\\\\"');
    expect(canonicalJson("\b\t\n\f\r")).toBe('"\\b\\t\\n\\f\\r"');
    expect(canonicalJson("\u0000\u0001\u001f")).toBe('"\\u0000\\u0001\\u001f"');
    // Lower-case hex, and nothing above U+001F is escaped (not even '/', DEL or U+2028).
    expect(canonicalJson("\u000b/\u007f\u2028é😀")).toBe('"\\u000b/\u007f\u2028é😀"');
  });

  it("refuses a lone surrogate, which is not I-JSON, in values and in keys", () => {
    expect(() => canonicalJson("\ud800")).toThrow(/lone UTF-16 surrogate/);
    expect(() => canonicalJson("a\udc00b")).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ "\ud83d": 1 })).toThrow(CanonicalJsonError);
    expect(canonicalJson("\ud83d\ude00")).toBe('"😀"');
  });
});

describe("structures", () => {
  it("sorts keys at every level and keeps array order", () => {
    const value = { b: [3, { z: 1, a: [{ y: null, x: false }] }, 1], a: { d: "x", c: {} }, "": [] };
    expect(canonicalJson(value)).toBe(
      '{"":[],"a":{"c":{},"d":"x"},"b":[3,{"a":[{"x":false,"y":null}],"z":1},1]}',
    );
  });

  it("gives the same text whatever order the keys were inserted in", () => {
    expect(canonicalJson({ seq: 1, id: "c-1", v: 1 })).toBe(
      canonicalJson({ v: 1, id: "c-1", seq: 1 }),
    );
  });

  it("sorts numeric-looking keys as strings, not in JavaScript's integer-key order", () => {
    expect(canonicalJson({ 10: "ten", 9: "nine", 1: "one", a: "a" })).toBe(
      '{"1":"one","10":"ten","9":"nine","a":"a"}',
    );
  });

  it("leaves out members whose value is undefined, as JSON.stringify does with optional fields", () => {
    expect(canonicalJson({ a: 1, windowId: undefined })).toBe('{"a":1}');
  });

  it("accepts objects without a prototype and a shared sub-object that is not a cycle", () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.k = 1;
    const shared = { x: 1 };
    expect(canonicalJson({ bare, p: shared, q: [shared] })).toBe(
      '{"bare":{"k":1},"p":{"x":1},"q":[{"x":1}]}',
    );
  });

  it("keeps a __proto__ key that came from JSON.parse as an ordinary member", () => {
    expect(canonicalJson(JSON.parse('{"__proto__":{"admin":true},"a":1}'))).toBe(
      '{"__proto__":{"admin":true},"a":1}',
    );
  });
});

describe("what JSON cannot represent is refused", () => {
  it.each([
    ["undefined", undefined],
    ["a function", () => 1],
    ["a symbol", Symbol("s")],
    ["a bigint", 10n],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["a Date", new Date(0)],
    ["a Map", new Map()],
    ["a Uint8Array", new Uint8Array(2)],
    ["a class instance", new (class Grant {})()],
  ])("%s", (_label, value) => {
    expect(() => canonicalJson(value)).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ body: [value] })).toThrow(/E_NOT_CANONICALISABLE: body\[0\]/);
  });

  it("a function as a member value", () => {
    expect(() => canonicalJson({ run: () => 1 })).toThrow(
      /E_NOT_CANONICALISABLE: run is of type function/,
    );
  });

  it("undefined and holes inside arrays (JSON.stringify would silently write null)", () => {
    expect(() => canonicalJson([1, undefined])).toThrow(/\[1\] is of type undefined/);
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point of the test
    expect(() => canonicalJson([1, , 3])).toThrow(CanonicalJsonError);
  });

  it("a cycle, with an error rather than a stack overflow", () => {
    const looped: Record<string, unknown> = { a: 1 };
    looped.self = looped;
    expect(() => canonicalJson(looped)).toThrow(/E_NOT_CANONICALISABLE: self refers to itself/);
    const list: unknown[] = [];
    list.push({ list });
    expect(() => canonicalJson(list)).toThrow(/cycle/);
  });

  it("nesting beyond the depth bound", () => {
    let deep: unknown = 1;
    for (let i = 0; i < CANONICAL_JSON_MAX_DEPTH; i++) deep = [deep];
    expect(() => canonicalJson(deep)).not.toThrow();
    expect(() => canonicalJson([deep])).toThrow(/nests deeper/);
  });
});

describe("isCanonicalJsonText", () => {
  it.each([
    '{"a":1,"b":[true,null]}',
    '"text"',
    "1e+30",
    "[]",
    '{"€":1,"😀":2}',
    // Parsed objects list integer-like keys first; canonical order is by code unit all the same.
    '{"10":1,"9":2}',
  ])("accepts canonical %s", (text) => {
    expect(isCanonicalJsonText(text)).toBe(true);
  });

  it.each([
    ['{"b":1,"a":2}', "unsorted keys"],
    ['{"9":1,"10":2}', "integer-like keys in numeric order"],
    ['{"a":{"d":1,"c":2}}', "unsorted keys one level down"],
    ['{"a":"\udc00x"}', "a lone low surrogate in a member"],
    [`${"[".repeat(300)}${"]".repeat(300)}`, "nesting deeper than the bound"],
    ['{"a": 1}', "whitespace"],
    ['{"a":1.0}', "a trailing zero"],
    ['{"a":1E30}', "an upper-case exponent"],
    ['{"a":"\\u00e9"}', "an unnecessary escape"],
    ['{"a":1,"a":1}', "a duplicate key"],
    ["9007199254740993", "an integer beyond 2^53, which does not survive parsing"],
    ["1e400", "a number that parses to Infinity"],
    ['"\\ud800"', "a lone surrogate"],
    ["{", "broken JSON"],
  ])("refuses %s (%s)", (text) => {
    expect(isCanonicalJsonText(text)).toBe(false);
  });
});
