/**
 * Invariants of the lock core over many random sequences of keys, door, sensors, commands,
 * time and restarts (fast-check).
 */
import { type AuditRecord, auditDataOf } from "@lockfleet/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { LockStore } from "../../src/store/lock-store.js";
import { MemoryLockStore } from "../../src/store/memory-store.js";
import { DEVICE, MINUTE, USERS } from "./fixtures.js";
import { World } from "./world.js";

type Who = "anna" | "ben" | "carl" | "cora";
type Action =
  | { kind: "code"; who: Who; variant: "right" | "wrong" | "duress" }
  | { kind: "key"; key: string }
  /** Anna, Ben and Carl one after the other: enough persons for any dual-control mode. */
  | { kind: "everyone" }
  | { kind: "advance"; ms: number }
  | { kind: "door"; open: boolean }
  | { kind: "tamper"; active: boolean }
  | { kind: "jam"; jammed: boolean }
  | { kind: "restart"; clean: boolean }
  | { kind: "command"; which: "block" | "unblock" | "immediate" };

const who = fc.constantFrom<Who>("anna", "ben", "carl", "cora");
const advance = fc.record({
  kind: fc.constant("advance" as const),
  ms: fc.oneof(
    fc.integer({ min: 0, max: 2_000 }),
    fc.integer({ min: 2_000, max: 2 * MINUTE }),
    fc.integer({ min: 2 * MINUTE, max: 20 * MINUTE }),
  ),
});
const code = (variants: Array<"right" | "wrong" | "duress">) =>
  fc.record({ kind: fc.constant("code" as const), who, variant: fc.constantFrom(...variants) });
const door = fc.record({ kind: fc.constant("door" as const), open: fc.boolean() });
const key = fc.record({ kind: fc.constant("key" as const), key: fc.constantFrom("*", "#", "0") });

const everyone = fc.constant({ kind: "everyone" as const });

const anyAction: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: code(["right", "right", "wrong", "duress"]), weight: 4 },
  { arbitrary: everyone, weight: 4 },
  { arbitrary: advance, weight: 4 },
  { arbitrary: door, weight: 2 },
  { arbitrary: key, weight: 1 },
  {
    arbitrary: fc.record({ kind: fc.constant("tamper" as const), active: fc.boolean() }),
    weight: 1,
  },
  { arbitrary: fc.record({ kind: fc.constant("jam" as const), jammed: fc.boolean() }), weight: 1 },
  {
    arbitrary: fc.record({ kind: fc.constant("restart" as const), clean: fc.boolean() }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("command" as const),
      which: fc.constantFrom("block" as const, "unblock" as const, "immediate" as const),
    }),
    weight: 1,
  },
);

const policy = fc.record({
  dualControl: fc.constantFrom("single" as const, "dual" as const, "triple" as const),
  timeDelayMin: fc.constantFrom(0, 1, 2),
  duressDelayMin: fc.constantFrom(0, 3),
  confirmationWindowMin: fc.constantFrom(1, 3),
});

function keysOf(action: Extract<Action, { kind: "code" }>): string {
  const user = USERS[action.who];
  const slot = String(user.slot).padStart(2, "0");
  if (action.variant === "wrong") return `${slot}00000000#`;
  if (action.variant === "duress") {
    const last = Number(user.code.at(-1));
    return `${slot}${user.code.slice(0, -1)}${(last + 1) % 10}#`;
  }
  return `${slot}${user.code}#`;
}

function memoryWorld(options: { policy: object; identity?: World["identity"] }): World {
  return new World({
    store: new MemoryLockStore(DEVICE),
    reopen: (store: LockStore, clean: boolean) => (store as MemoryLockStore).reopen(clean),
    policy: { duressMode: "lastDigitPlusOne", ...options.policy },
    ...(options.identity === undefined ? {} : { identity: options.identity }),
  });
}

function perform(world: World, action: Action): void {
  switch (action.kind) {
    case "code":
      world.lock.press(keysOf(action));
      return;
    case "key":
      world.lock.press(action.key);
      return;
    case "everyone":
      for (const person of ["anna", "ben", "carl"] as const)
        world.lock.press(keysOf({ kind: "code", who: person, variant: "right" }));
      return;
    case "advance":
      world.lock.advance(action.ms);
      return;
    case "door":
      world.lock.door(action.open);
      return;
    case "tamper":
      world.lock.tamper(action.active);
      return;
    case "jam":
      world.outputs.jammed = action.jammed;
      return;
    case "restart":
      world.restart(action.clean);
      return;
    case "command":
      if (action.which === "block") world.command("remote.block", { reason: "test" });
      else if (action.which === "unblock") world.command("remote.unblock", { approvedBy: ["p-s"] });
      else world.command("timeLock.immediate", { minutes: 3 });
      return;
  }
}

const REQUIRED = { single: 1, dual: 2, triple: 3 } as const;

describe("lock core properties", () => {
  it("the bolt never retracts outside a completed cycle", () => {
    let releases = 0;
    fc.assert(
      fc.property(policy, fc.array(anyAction, { maxLength: 60 }), (lockPolicy, actions) => {
        const world = memoryWorld({ policy: lockPolicy });
        /** A retraction driven in the unit of work now being committed, checked by its records. */
        let retracting: { at: number; timeLocked: boolean; blocked: boolean } | undefined;
        let delayStartedAt: number | undefined;
        const delayMs = lockPolicy.timeDelayMin * MINUTE;
        const onRecords = (records: readonly AuditRecord[]) => {
          if (records.some((r) => r.kind === "cycle.delayStarted"))
            delayStartedAt = world.clock.monotonic();
          if (retracting === undefined) return;
          const confirmed = records.find((r) => r.kind === "cycle.confirmed");
          expect(confirmed, "a retraction without a confirmed cycle on record").toBeDefined();
          const persons = (confirmed?.data.persons ?? []) as string[];
          expect(new Set(persons).size).toBe(persons.length);
          expect(persons.length).toBeGreaterThanOrEqual(REQUIRED[lockPolicy.dualControl]);
          expect(retracting.timeLocked).toBe(false);
          expect(retracting.blocked).toBe(false);
          if (delayMs > 0) {
            expect(confirmed?.data.confirmedBy, "released without the confirmation").toBeDefined();
            expect(
              retracting.at - (delayStartedAt ?? Number.POSITIVE_INFINITY),
            ).toBeGreaterThanOrEqual(delayMs);
          }
          retracting = undefined;
          releases += 1;
        };
        const watch = () => world.lock.core.on("audit", onRecords);
        world.outputs.onDrive = (position) => {
          if (position !== "retracted") return;
          const core = world.lock.core;
          retracting = {
            at: world.clock.monotonic(),
            timeLocked: core.isTimeLocked(),
            blocked: core.state().blocked,
          };
        };
        watch();
        for (const action of actions) {
          const head = world.store.auditHead().seq;
          perform(world, action);
          if (action.kind === "restart") {
            watch();
            const boot = world.store.auditRange(head + 1, Number.MAX_SAFE_INTEGER, 1000);
            if (boot.some((r) => r.kind === "cycle.delayStarted"))
              delayStartedAt = world.clock.monotonic();
          }
          expect(retracting, "a retraction that no committed record accounts for").toBeUndefined();
        }
      }),
      { numRuns: 200 },
    );
    // The property is not vacuous: many of the random runs did open the lock.
    expect(releases).toBeGreaterThan(25);
  }, 60_000);

  it("every record the lock writes reads as its kind's typed data", () => {
    const kinds = new Set<string>();
    fc.assert(
      fc.property(policy, fc.array(anyAction, { maxLength: 40 }), (lockPolicy, actions) => {
        const world = memoryWorld({ policy: lockPolicy });
        for (const action of actions) perform(world, action);
        const records = world.store.auditRange(1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
        for (const record of records) {
          const read = auditDataOf(record, record.kind);
          expect(read.ok ? undefined : read.error.message).toBeUndefined();
          kinds.add(record.kind);
        }
      }),
      { numRuns: 60 },
    );
    // Not vacuous: the random runs wrote records of many kinds, openings and relocks among them.
    expect(kinds).toContain("lock.relocked");
    expect(kinds.size).toBeGreaterThan(20);
  }, 60_000);

  it("a duress cycle is indistinguishable on display, buzzer and timing", () => {
    const plain: fc.Arbitrary<Action> = fc.oneof(
      { arbitrary: code(["right", "right", "wrong"]), weight: 6 },
      { arbitrary: everyone, weight: 2 },
      { arbitrary: advance, weight: 4 },
      { arbitrary: door, weight: 2 },
      { arbitrary: key, weight: 1 },
    );
    // Any time delay, not only the 5 min default; the duress delay unset (the default) or set
    // no longer than the time delay: then nothing may tell the two openings apart.
    const indistinguishablePolicy = fc
      .record({
        dualControl: fc.constantFrom("single" as const, "dual" as const, "triple" as const),
        timeDelayMin: fc.oneof(fc.constantFrom(0, 1, 2, 3, 5), fc.integer({ min: 0, max: 99 })),
        duressDelay: fc.oneof(
          { arbitrary: fc.constant("unset" as const), weight: 3 },
          { arbitrary: fc.constantFrom(0, 1, 2, 5), weight: 1 },
        ),
        confirmationWindowMin: fc.constantFrom(1, 3),
      })
      .map(({ duressDelay, ...p }) =>
        duressDelay === "unset"
          ? p
          : { ...p, duressDelayMin: Math.min(duressDelay, p.timeDelayMin) },
      );
    let duressOpenings = 0;
    const delaysSeen = new Set<number>();
    fc.assert(
      fc.property(
        indistinguishablePolicy,
        fc.array(plain, { minLength: 1, maxLength: 40 }),
        fc.nat(),
        (lockPolicy, actions, pick) => {
          const entries = actions.flatMap((action, index) =>
            action.kind === "code" && action.variant === "right" && action.who !== "cora"
              ? [index]
              : [],
          );
          fc.pre(entries.length > 0);
          const chosen = entries[pick % entries.length] as number;
          const underDuress = actions.map((action, index) =>
            index === chosen && action.kind === "code"
              ? { ...action, variant: "duress" as const }
              : action,
          );
          const normal = memoryWorld({ policy: lockPolicy });
          const duress = memoryWorld({ policy: lockPolicy, identity: normal.identity });
          for (const action of actions) perform(normal, action);
          for (const action of underDuress) perform(duress, action);
          expect(duress.outputs.calls).toEqual(normal.outputs.calls);
          expect(duress.lock.core.display).toEqual(normal.lock.core.display);
          const { auditHead: _a, ...normalState } = normal.lock.core.state();
          const { auditHead: _b, ...duressState } = duress.lock.core.state();
          expect(duressState).toEqual(normalState);
          expect(normal.outputs.silentAlarmPulses).toBe(0);
          if (duress.outputs.silentAlarmPulses > 0) {
            duressOpenings += 1;
            delaysSeen.add(lockPolicy.timeDelayMin);
          }
        },
      ),
      { numRuns: 150 },
    );
    expect(duressOpenings).toBeGreaterThan(50);
    expect([...delaysSeen].filter((minutes) => minutes !== 5).length).toBeGreaterThan(5);
  }, 60_000);

  it("no sequence of keys and restarts gets more wrong codes in than the penalty allows", () => {
    const step: fc.Arbitrary<Action> = fc.oneof(
      {
        arbitrary: fc.record({
          kind: fc.constant("code" as const),
          who: fc.constantFrom<Who>("anna", "ben", "carl"),
          variant: fc.oneof(
            { arbitrary: fc.constant("right" as const), weight: 1 },
            { arbitrary: fc.constant("wrong" as const), weight: 5 },
          ),
        }),
        weight: 6,
      },
      { arbitrary: key, weight: 1 },
      {
        arbitrary: fc.record({
          kind: fc.constant("advance" as const),
          ms: fc.oneof(
            fc.integer({ min: 0, max: 30_000 }),
            fc.integer({ min: 0, max: 25 * MINUTE }),
          ),
        }),
        weight: 2,
      },
      {
        arbitrary: fc.record({ kind: fc.constant("restart" as const), clean: fc.boolean() }),
        weight: 2,
      },
    );
    let lockouts = 0;
    fc.assert(
      fc.property(fc.array(step, { maxLength: 50 }), (actions) => {
        const world = memoryWorld({ policy: {} });
        for (const action of actions) perform(world, action);
        const limit = world.lock.core.policy.wrongCodeLimit;
        let inLockout = false;
        let consecutive = 0;
        const records = world.store.auditRange(1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
        records.forEach((record, index) => {
          if (record.kind === "penalty.started") {
            inLockout = true;
            lockouts += 1;
          } else if (record.kind === "penalty.ended") inLockout = false;
          else if (record.kind === "code.accepted" || record.kind === "code.rejected") {
            // Nothing typed during a lockout is evaluated.
            expect(inLockout, `${record.kind} #${record.seq} during a lockout`).toBe(false);
            const counted = record.data.consecutiveWrong;
            if (typeof counted !== "number") {
              consecutive = 0; // a correct code ends the series
              return;
            }
            // The count goes on across restarts…
            expect(counted).toBe(consecutive + 1);
            consecutive = counted;
            // …and the limit starts a lockout at once.
            if (counted >= limit) expect(records[index + 1]?.kind).toBe("penalty.started");
          }
        });
      }),
      { numRuns: 150 },
    );
    expect(lockouts).toBeGreaterThan(20);
  }, 60_000);
});
