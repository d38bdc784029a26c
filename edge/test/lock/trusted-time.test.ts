import { DEFAULT_LOCK_POLICY, ed25519, TIME_SET_CONFIRM_TOLERANCE_MS } from "@lockfleet/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BACKWARD_MOVES_KEPT,
  backwardBudgetMs,
  decideTimeSet,
  decideTimeSync,
} from "../../src/lock/trusted-time.js";
import { entry, MINUTE, SECOND, type Setup, START, setup, USERS } from "./fixtures.js";

const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
/** Saturday and Sunday locked; the lock starts on a Monday morning, outside the period. */
const weekend = { startDay: 6, startTime: "00:00", endDay: 1, endTime: "00:00" } as const;
const TWO_OFFICERS = ["p-sec-1", "p-sec-2"];

function opened(t: Setup): boolean {
  t.lock.press(entry(USERS.anna));
  t.lock.press(entry(USERS.ben));
  t.lock.advance(500);
  const result = t.lock.core.state().bolt === "retracted";
  t.lock.advance(15 * SECOND);
  return result;
}

/** A time sync as the fleet issues it at lock time `at` (clock right): valid for 60 s. */
function fleetSync(t: Setup, at: number) {
  return t.sign("time.sync", { time: iso(at) }, { issuedAt: at, expiresInMs: 60 * SECOND });
}

describe("trusted time", () => {
  it("a signed time sync sets the lock's time and every change is logged", () => {
    const t = setup({ trusted: false });
    expect(t.lock.core.trustedTime).toBe(false);
    const result = t.lock.command(t.sign("time.sync", { time: iso(START + 3 * MINUTE) }));
    expect(result.status).toBe("ok");
    expect(t.lock.core.trustedTime).toBe(true);
    expect(Math.abs(t.lock.core.lockTime() - (START + 3 * MINUTE))).toBeLessThan(2 * SECOND);
    expect(t.records().at(-2)).toMatchObject({
      kind: "time.changed",
      actor: "fleet",
      data: { command: "time.sync" },
    });
  });

  it("a time sync's expiry is checked against the lock's clock, not the time it carries", () => {
    const t = setup();
    const issued = t.lock.core.lockTime();
    const withheld = fleetSync(t, issued); // expires at T+60 s
    t.lock.advance(4.5 * MINUTE); // delivered at lock time T+4.5 min
    const before = t.lock.core.lockTime();
    const result = t.lock.command(withheld);
    expect(result).toMatchObject({ status: "error", error: { code: "E_EXPIRED" } });
    expect(result.error?.message).toContain("lock time");
    expect(t.lock.core.lockTime()).toBe(before);
    expect(t.records().at(-1)).toMatchObject({
      kind: "command.rejected",
      data: { code: "E_EXPIRED" },
    });
    expect(t.kinds()).not.toContain("time.rejected");
  });

  it("withheld time syncs delivered late, one after the other, do not move the clock", () => {
    const t = setup();
    const first = fleetSync(t, t.lock.core.lockTime());
    t.lock.advance(20 * SECOND);
    const second = fleetSync(t, t.lock.core.lockTime());
    t.lock.advance(4.5 * MINUTE);
    const before = t.lock.core.lockTime();
    expect(t.lock.command(first).error?.code).toBe("E_EXPIRED");
    expect(t.lock.command(second).error?.code).toBe("E_EXPIRED");
    expect(t.lock.core.lockTime()).toBe(before);
    expect(t.records().filter((r) => r.kind === "time.changed")).toHaveLength(1); // set-up
  });

  it("a withheld time sync still valid moves the clock back at most the daily bound (60 s)", () => {
    const t = setup();
    expect(backwardBudgetMs(t.lock.core.policy)).toBe(60 * SECOND);
    const withheld = fleetSync(t, t.lock.core.lockTime());
    t.lock.advance(55 * SECOND);
    const before = t.lock.core.lockTime();
    expect(t.lock.command(withheld).status).toBe("ok"); // 55 s back, within the bound
    expect(t.lock.core.lockTime()).toBe(before - 55 * SECOND);
    // Another 10 s back the same day would pass the bound: refused, whoever signed it.
    const now = t.lock.core.lockTime();
    const refused = t.lock.command(t.sign("time.sync", { time: iso(now - 10 * SECOND) }));
    expect(refused).toMatchObject({ status: "error", error: { code: "E_TIME_BACKWARDS" } });
    expect(refused.error?.message).toContain("time.set");
    expect(t.records().at(-2)).toMatchObject({
      kind: "time.rejected",
      data: { command: "time.sync", reason: "backwardBoundPerDay", usedMs: 55 * SECOND },
    });
    expect(t.lock.core.lockTime()).toBe(now);
  });

  it("the daily bound is a rolling 24 h and survives a restart", () => {
    const t = setup();
    const back = (ms: number) => {
      const now = t.lock.core.lockTime();
      return t.lock.command(t.sign("time.sync", { time: iso(now - ms) }, { issuedAt: now }));
    };
    expect(back(40 * SECOND).status).toBe("ok");
    expect(back(30 * SECOND).error?.code).toBe("E_TIME_BACKWARDS");
    t.restart(false);
    expect(back(30 * SECOND).error?.code).toBe("E_TIME_BACKWARDS");
    expect(back(20 * SECOND).status).toBe("ok"); // 60 s used: the bound exactly
    t.lock.advance(23 * HOUR);
    expect(back(1 * SECOND).error?.code).toBe("E_TIME_BACKWARDS");
    t.lock.advance(1 * HOUR + MINUTE);
    expect(back(30 * SECOND).status).toBe("ok");
  });

  it("forward corrections of any size are accepted and do not use up the bound", () => {
    const t = setup();
    const now = t.lock.core.lockTime();
    expect(t.lock.command(t.sign("time.sync", { time: iso(now + 2 * HOUR) })).status).toBe("ok");
    expect(t.lock.core.lockTime()).toBe(now + 2 * HOUR);
    const later = t.lock.core.lockTime();
    expect(t.lock.command(t.sign("time.sync", { time: iso(later - 60 * SECOND) })).status).toBe(
      "ok",
    );
  });

  it("the bound is the lock's policy: raising it is a weakening that needs two approvers and is logged", () => {
    const t = setup();
    const wider = { ...t.lock.core.policy, timeBackwardSecPerDay: 600 };
    const alone = t.lock.command(
      t.sign("policy.change", { policy: wider, approvedBy: ["p-sec-1"] }),
    );
    expect(alone.error?.code).toBe("E_APPROVALS_REQUIRED");
    const both = t.lock.command(
      t.sign("policy.change", { policy: wider, approvedBy: TWO_OFFICERS }),
    );
    expect(both.status).toBe("ok");
    const changed = t.records().findLast((r) => r.kind === "policy.changed");
    expect(changed?.data.weakenings).toEqual(["clock may go back 60 → 600 s per day"]);
    const now = t.lock.core.lockTime();
    expect(t.lock.command(t.sign("time.sync", { time: iso(now - 5 * MINUTE) })).status).toBe("ok");
    // Narrowing it again is not a weakening: one approver will do.
    const narrower = { ...wider, timeBackwardSecPerDay: 0 };
    expect(
      t.lock.command(t.sign("policy.change", { policy: narrower, approvedBy: ["p-sec-1"] })).status,
    ).toBe("ok");
    const after = t.lock.core.lockTime();
    expect(t.lock.command(t.sign("time.sync", { time: iso(after - 1) })).error?.code).toBe(
      "E_TIME_BACKWARDS",
    );
  });

  it("a lock whose clock runs far behind accepts the sync the fleet states in the lock's own clock", () => {
    const t = setup({ factory: { weekly: [weekend] } });
    t.clock.setWallTime(START - 30 * DAY); // the RTC lost its battery
    t.restart(false);
    const lockNow = t.lock.core.lockTime();
    // The fleet measured the drift from the lock's state: validity in the lock's clock.
    const result = t.lock.command(
      t.sign("time.sync", { time: iso(START + MINUTE) }, { issuedAt: lockNow }),
    );
    expect(result.status).toBe("ok");
    expect(Math.abs(t.lock.core.lockTime() - (START + MINUTE))).toBeLessThan(2 * SECOND);
  });

  it("a sync stated in the fleet's clock to a lock far behind is not yet valid there: the clock stays", () => {
    const t = setup();
    t.clock.setWallTime(START - 30 * DAY);
    t.restart(false);
    const before = t.lock.core.lockTime();
    const result = t.lock.command(
      t.sign("time.sync", { time: iso(START) }, { issuedAt: START, expiresInMs: 60 * SECOND }),
    );
    expect(result.error?.code).toBe("E_NOT_YET_VALID");
    expect(t.lock.core.lockTime()).toBe(before);
    expect(t.lock.core.trustedTime).toBe(false);
  });

  it("a forged time sync is refused and the time stays untrusted", () => {
    const t = setup({ trusted: false });
    const forger = ed25519.generateKeyPair();
    const result = t.lock.command(
      t.sign("time.sync", { time: iso(START + HOUR) }, { secretKey: forger.secretKey }),
    );
    expect(result).toMatchObject({ error: { code: "E_BAD_SIGNATURE" } });
    expect(t.lock.core.trustedTime).toBe(false);
  });

  it("a replayed time sync is refused", () => {
    const t = setup({ trusted: false });
    const sync = t.sign("time.sync", { time: iso(START) });
    t.lock.command(sync);
    expect(t.lock.command(sync)).toMatchObject({ error: { code: "E_REPLAY" } });
  });

  it("no trusted time since boot: a time-locked container stays locked", () => {
    const t = setup({ trusted: false, factory: { weekly: [weekend] } });
    expect(t.lock.core.isTimeLocked()).toBe(true);
    expect(opened(t)).toBe(false);
    expect(t.records().find((r) => r.kind === "code.rejected")?.data).toMatchObject({
      reason: "timeLocked",
    });
    t.syncTime();
    expect(opened(t)).toBe(true);
  });

  it("a container without any time lock opens without trusted time", () => {
    const t = setup({ trusted: false });
    expect(opened(t)).toBe(true);
  });

  it("trusted time is lost with a restart: the container stays locked until the next sync", () => {
    const t = setup({ factory: { weekly: [weekend] } });
    expect(opened(t)).toBe(true);
    t.restart(false);
    expect(t.lock.core.trustedTime).toBe(false);
    expect(opened(t)).toBe(false);
    t.syncTime();
    expect(opened(t)).toBe(true);
  });

  it("a refused time sync leaves time untrusted after a restart: time locks stay locked", () => {
    const t = setup({ factory: { weekly: [weekend] } });
    const withheld = fleetSync(t, t.lock.core.lockTime());
    t.restart(false);
    t.lock.advance(5 * MINUTE);
    expect(t.lock.command(withheld).error?.code).toBe("E_EXPIRED");
    expect(t.lock.core.trustedTime).toBe(false);
    expect(opened(t)).toBe(false);
  });

  it("a time sync that would move into a weekly lock period locks the container", () => {
    const t = setup({ factory: { weekly: [weekend] } });
    const saturday = START + 5 * DAY;
    t.lock.command(t.sign("time.sync", { time: iso(saturday) }));
    expect(t.lock.core.isTimeLocked()).toBe(true);
    expect(opened(t)).toBe(false);
  });
});

describe("the backward bound over random sequences", () => {
  type Step =
    | { kind: "advance"; ms: number }
    | { kind: "sync"; jumpMs: number }
    | { kind: "restart" };
  const step: fc.Arbitrary<Step> = fc.oneof(
    {
      arbitrary: fc.record({
        kind: fc.constant("advance" as const),
        ms: fc.oneof(
          fc.integer({ min: 0, max: 2 * MINUTE }),
          fc.integer({ min: 0, max: 9 * HOUR }),
        ),
      }),
      weight: 3,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant("sync" as const),
        jumpMs: fc.oneof(
          { arbitrary: fc.integer({ min: -90 * SECOND, max: 30 * SECOND }), weight: 4 },
          // A lock found a day behind: the jump that would let old moves fall out of a window
          // counted in lock time rather than real time.
          { arbitrary: fc.integer({ min: 1, max: 2 * HOUR }), weight: 1 },
          { arbitrary: fc.integer({ min: 20 * HOUR, max: 30 * HOUR }), weight: 1 },
        ),
      }),
      weight: 5,
    },
    { arbitrary: fc.constant({ kind: "restart" as const }), weight: 1 },
  );

  it("within any 24 h of real time the clock goes back at most the daily bound, across forward jumps and restarts", () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
        const t = setup();
        const moves: Array<{ real: number; ms: number }> = [];
        for (const action of steps) {
          if (action.kind === "advance") t.lock.advance(action.ms);
          else if (action.kind === "restart") t.restart(false);
          else {
            const now = t.lock.core.lockTime();
            const result = t.lock.command(t.sign("time.sync", { time: iso(now + action.jumpMs) }));
            if (result.status === "ok" && action.jumpMs < 0) {
              moves.push({ real: t.clock.now(), ms: -action.jumpMs });
              accepted += 1;
            }
            if (result.status === "error") {
              expect(result.error?.code).toBe("E_TIME_BACKWARDS");
              refused += 1;
            }
          }
        }
        for (const move of moves) {
          const withinDay = moves.filter((m) => m.real <= move.real && m.real > move.real - DAY);
          expect(withinDay.reduce((sum, m) => sum + m.ms, 0)).toBeLessThanOrEqual(MINUTE);
        }
      }),
      { numRuns: 200 },
    );
    expect(accepted).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(50);
  }, 60_000);
});

describe("a larger correction needs a confirmed time.set", () => {
  const tenMinutesBack = (t: Setup, overrides: { confirmJumpSec?: number } = {}) => {
    const now = t.lock.core.lockTime();
    return t.sign("time.set", {
      time: iso(now - 10 * MINUTE),
      confirmJumpSec: overrides.confirmJumpSec ?? -600,
      approvedBy: TWO_OFFICERS,
      reason: "real-time clock ten minutes fast",
    });
  };

  it("two distinct approvers set the clock back beyond the daily bound, on record", () => {
    const t = setup({ trusted: false });
    const before = t.lock.core.lockTime();
    const result = t.lock.command(tenMinutesBack(t));
    expect(result.status).toBe("ok");
    expect(t.lock.core.lockTime()).toBe(before - 10 * MINUTE);
    expect(t.lock.core.trustedTime).toBe(true);
    expect(t.records().findLast((r) => r.kind === "time.changed")).toMatchObject({
      actor: "p-sec-1",
      data: {
        command: "time.set",
        jumpMs: -10 * MINUTE,
        confirmJumpSec: -600,
        approvedBy: TWO_OFFICERS,
        reason: "real-time clock ten minutes fast",
      },
    });
  });

  it("one approver, or the same one twice, is not enough", () => {
    const t = setup();
    const before = t.lock.core.lockTime();
    for (const approvedBy of [[], ["p-sec-1"]]) {
      const result = t.lock.command(
        t.sign("time.set", {
          time: iso(before - 10 * MINUTE),
          confirmJumpSec: -600,
          approvedBy,
          reason: "fast clock",
        }),
      );
      expect(result.error?.code).toBe("E_APPROVALS_REQUIRED");
    }
    expect(t.lock.core.lockTime()).toBe(before);
  });

  it("a jump other than the one confirmed is refused and logged", () => {
    const t = setup();
    const before = t.lock.core.lockTime();
    const result = t.lock.command(tenMinutesBack(t, { confirmJumpSec: -60 }));
    expect(result.error?.code).toBe("E_TIME_NOT_CONFIRMED");
    expect(t.records().at(-2)).toMatchObject({
      kind: "time.rejected",
      data: { command: "time.set", reason: "notAsConfirmed", confirmJumpSec: -60 },
    });
    expect(t.lock.core.lockTime()).toBe(before);
  });

  it("a withheld time.set is expired at the lock", () => {
    const t = setup();
    const now = t.lock.core.lockTime();
    const withheld = t.sign(
      "time.set",
      {
        time: iso(now - 10 * MINUTE),
        confirmJumpSec: -600,
        approvedBy: TWO_OFFICERS,
        reason: "fast clock",
      },
      { issuedAt: now, expiresInMs: 60 * SECOND },
    );
    t.lock.advance(2 * MINUTE);
    const before = t.lock.core.lockTime();
    expect(t.lock.command(withheld).error?.code).toBe("E_EXPIRED");
    expect(t.lock.core.lockTime()).toBe(before);
  });

  it("a confirmed correction does not use up the daily bound", () => {
    const t = setup();
    expect(t.lock.command(tenMinutesBack(t)).status).toBe("ok");
    const now = t.lock.core.lockTime();
    expect(t.lock.command(t.sign("time.sync", { time: iso(now - 50 * SECOND) })).status).toBe("ok");
  });
});

describe("time decisions", () => {
  it("forward jumps of any size are accepted; backward ones within the bound per 24 h", () => {
    const budget = 60 * SECOND;
    expect(backwardBudgetMs(DEFAULT_LOCK_POLICY)).toBe(budget);
    expect(decideTimeSync(1_000_000, 1_000_000 + HOUR, { offsetMs: 0 }, budget)).toEqual({
      accepted: true,
      offsetMs: HOUR,
      jumpMs: HOUR,
      backward: [],
    });
    expect(decideTimeSync(1_000_000, 1_000_000 - budget, { offsetMs: 7 }, budget)).toEqual({
      accepted: true,
      offsetMs: 7 - budget,
      jumpMs: -budget,
      backward: [{ at: 1_000_000 - budget, ms: budget }],
    });
    expect(
      decideTimeSync(1_000_000, 1_000_000 - budget - 1, { offsetMs: 0 }, budget).accepted,
    ).toBe(false);
    const used = { offsetMs: 0, backward: [{ at: 1_000_000, ms: 30 * SECOND }] };
    expect(decideTimeSync(1_000_000 + HOUR, 1_000_000 + HOUR - 31 * SECOND, used, budget)).toEqual({
      accepted: false,
      jumpMs: -31 * SECOND,
      usedMs: 30 * SECOND,
      budgetMs: budget,
    });
    expect(decideTimeSync(1_000_000 + DAY, 1_000_000 + DAY - budget, used, budget).accepted).toBe(
      true,
    );
  });

  it("moves kept for the budget are bounded and merged, never forgotten within the day", () => {
    let section = { offsetMs: 0, backward: [] as { at: number; ms: number }[] };
    let now = 10 * DAY;
    for (let i = 0; i < BACKWARD_MOVES_KEPT + 10; i += 1) {
      const decision = decideTimeSync(now, now - 1, section, HOUR);
      if (!decision.accepted) throw new Error("refused");
      section = { offsetMs: decision.offsetMs, backward: decision.backward };
      now += 1000;
    }
    expect(section.backward).toHaveLength(BACKWARD_MOVES_KEPT);
    expect(section.backward.reduce((sum, move) => sum + move.ms, 0)).toBe(BACKWARD_MOVES_KEPT + 10);
  });

  it("a time.set is accepted only within the tolerance of the confirmed jump", () => {
    const tolerance = TIME_SET_CONFIRM_TOLERANCE_MS;
    expect(decideTimeSet(HOUR, 0, 5, -HOUR)).toEqual({
      accepted: true,
      offsetMs: 5 - HOUR,
      jumpMs: -HOUR,
    });
    expect(decideTimeSet(HOUR, 0, 0, -HOUR + tolerance).accepted).toBe(true);
    expect(decideTimeSet(HOUR, 0, 0, -HOUR + tolerance + 1).accepted).toBe(false);
  });
});
