/**
 * Fuzzing what reaches a lock over MQTT: whatever arrives on its command topics — arbitrary
 * bytes, arbitrary JSON, a valid command with a character changed, or a command of any type
 * validly signed with a body of the schema's shape but arbitrary values — the lock answers
 * with a coded result and a `command.rejected` or `command.accepted` record, never fails
 * (no `lock.fault`, no `E_INTERNAL`) and never retracts the bolt.
 */
import {
  auditDataOf,
  COMMAND_BODIES,
  type CommandType,
  PROTOCOL_ERROR_CODES,
} from "@lockfleet/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { setup } from "./fixtures.js";

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema | JsonSchema[];
  anyOf?: JsonSchema[];
  const?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

const anyJson = fc.jsonValue({ maxDepth: 3 });

/** Values of the shape a body schema asks for; strings match its patterns. */
function shaped(schema: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (schema === undefined || depth > 6) return anyJson;
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum !== undefined) return fc.constantFrom(...schema.enum);
  if (schema.anyOf !== undefined && schema.anyOf.length > 0)
    return fc.oneof(...schema.anyOf.map((member) => shaped(member, depth + 1)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "object": {
      const properties = schema.properties ?? {};
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, property] of Object.entries(properties))
        record[key] = shaped(property, depth + 1);
      return fc.record(record, { requiredKeys: schema.required ?? [] });
    }
    case "array": {
      const item = Array.isArray(schema.items) ? schema.items[0] : schema.items;
      const minLength = schema.minItems ?? 0;
      return fc.array(shaped(item, depth + 1), {
        minLength,
        maxLength: Math.max(minLength, Math.min(schema.maxItems ?? 3, 3)),
      });
    }
    case "integer":
      return fc.integer({
        min: Math.max(schema.minimum ?? -1000, -1e9),
        max: Math.min(schema.maximum ?? 1e6, 1e9),
      });
    case "number":
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case "boolean":
      return fc.boolean();
    case "string":
      if (schema.pattern !== undefined)
        return fc
          .stringMatching(new RegExp(schema.pattern))
          .filter(
            (text) =>
              text.length >= (schema.minLength ?? 0) &&
              text.length <= (schema.maxLength ?? Number.POSITIVE_INFINITY),
          );
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: schema.maxLength ?? 16 });
    default:
      return anyJson;
  }
}

const TYPES = Object.keys(COMMAND_BODIES) as CommandType[];
const CODES: readonly string[] = PROTOCOL_ERROR_CODES;

describe("fuzz: a lock never fails on what arrives on its command topics", () => {
  function expectSafe(
    t: ReturnType<typeof setup>,
    result: { status: string; error?: { code: string } },
    headBefore: number,
  ): void {
    if (result.status === "error") {
      expect(result.error?.code).toMatch(/^E_[A-Z0-9_]+$/);
      expect(result.error?.code).not.toBe("E_INTERNAL");
    }
    const records = t.since(headBefore);
    const kinds = records.map((record) => record.kind);
    expect(kinds).not.toContain("lock.fault");
    // What the lock wrote reads as its kind's data (protocol audit-data.ts), as the fleet reads it.
    for (const record of records) expect(auditDataOf(record, record.kind).ok).toBe(true);
    expect(t.display()).not.toContain("FAULT");
    expect(t.outputs.boltDriven).not.toBe("retracted");
    // The retained state the runtime publishes after every input can still be built.
    expect(() => t.lock.core.state()).not.toThrow();
  }

  it("arbitrary bytes, text and JSON are refused with an envelope code", () => {
    const t = setup();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 512 }),
          fc.string({ maxLength: 300 }),
          anyJson.map((value) => JSON.stringify(value)),
          fc
            .tuple(anyJson, anyJson)
            .map(([payload, signature]) => JSON.stringify({ payload, signature })),
        ),
        (received) => {
          const head = t.head();
          const result = t.lock.core.receiveCommand(received);
          expect(result.status).toBe("error");
          expect(CODES).toContain(result.error?.code);
          expectSafe(t, result, head);
          expect(t.since(head).map((record) => record.kind)).toEqual(["command.rejected"]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("a valid command with characters changed on the way", () => {
    const t = setup();
    fc.assert(
      fc.property(
        fc.nat(),
        fc.string({ maxLength: 3 }),
        fc.constantFrom(...(["remote.block", "timeLock.immediate", "selfTest.request"] as const)),
        (at, insert, type) => {
          const body =
            type === "remote.block"
              ? { reason: "fuzz" }
              : type === "timeLock.immediate"
                ? { minutes: 1 }
                : {};
          const wire = t.sign(type, body as never);
          const where = at % wire.length;
          const mutated = wire.slice(0, where) + insert + wire.slice(where + 1);
          const head = t.head();
          const result = t.lock.core.receiveCommand(mutated);
          expectSafe(t, result, head);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("commands of every type, validly signed, with bodies of the schema's shape", () => {
    const t = setup();
    fc.assert(
      fc.property(
        fc
          .constantFrom(...TYPES)
          .chain((type) =>
            fc.tuple(
              fc.constant(type),
              fc.oneof(
                { arbitrary: shaped(COMMAND_BODIES[type] as JsonSchema), weight: 4 },
                { arbitrary: anyJson, weight: 1 },
              ),
            ),
          ),
        ([type, body]) => {
          const head = t.head();
          const result = t.lock.core.receiveCommand(t.sign(type, body as never));
          expectSafe(t, result, head);
          // Undo what an accepted command may have left standing, so later runs are not all
          // refused by a block or a time lock.
          if (type === "remote.block" && result.status === "ok") {
            t.lock.core.receiveCommand(t.sign("remote.unblock", { approvedBy: ["p-anna"] }));
          }
        },
      ),
      { numRuns: 250 },
    );
  });
});

describe("found by fuzzing: signed commands that used to fault the lock", () => {
  it("a fleet key whose base64url is not canonical is refused with E_BAD_KEY, the lock works on", () => {
    const t = setup();
    const head = t.head();
    // 43 characters whose last one carries bits beyond the 32 bytes.
    const result = t.lock.core.receiveCommand(
      t.sign("fleetKey.install", { keyId: "fleet-x", publicKey: `${"A".repeat(42)}B` }),
    );
    expect(result).toMatchObject({ status: "error", error: { code: "E_BAD_KEY" } });
    expectSafeAfter(t, head);
  });

  it("a time sync to an instant that does not exist is refused with E_SCHEMA; the clock stays", () => {
    const t = setup();
    const before = t.lock.core.lockTime();
    const head = t.head();
    const result = t.lock.core.receiveCommand(
      t.sign("time.sync", { time: "2026-13-45T25:61:00Z" }),
    );
    expect(result).toMatchObject({ status: "error", error: { code: "E_SCHEMA" } });
    expect(t.lock.core.lockTime()).toBe(before);
    expectSafeAfter(t, head);
  });

  it("a running time lock beyond 400 years: shortening it is refused with E_TIME_LOCK_INVALID, the state still publishes", () => {
    const t = setup();
    const holiday = { from: "2026-11-20", to: "3000-01-08", yearlyRepeat: false };
    const installed = t.lock.core.receiveCommand(
      t.sign("timeLock.holidays", { holidays: [holiday], approvedBy: ["p-anna", "p-ben"] }),
    );
    expect(installed.status).toBe("ok");
    expect(t.lock.core.state()).toMatchObject({ timeLocked: true });
    const head = t.head();
    const removed = t.lock.core.receiveCommand(
      t.sign("timeLock.holidays", { holidays: [], approvedBy: ["p-anna", "p-ben"] }),
    );
    expect(removed).toMatchObject({ status: "error", error: { code: "E_TIME_LOCK_INVALID" } });
    expect(t.lock.core.isTimeLocked()).toBe(true);
    expectSafeAfter(t, head);
  });
});

function expectSafeAfter(t: ReturnType<typeof setup>, head: number): void {
  expect(t.since(head).map((record) => record.kind)).not.toContain("lock.fault");
  expect(t.display()).not.toContain("FAULT");
  expect(() => t.lock.core.state()).not.toThrow();
}
