import { ed25519 } from "@lockfleet/protocol";
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_BACKWARD_TIME_JUMP_MS, decideTimeSync } from "../../src/lock/trusted-time.js";
import { entry, MINUTE, SECOND, type Setup, START, setup, USERS } from "./fixtures.js";

const HOUR = 60 * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString();
/** Saturday and Sunday locked; the lock starts on a Monday morning, outside the period. */
const weekend = { startDay: 6, startTime: "00:00", endDay: 1, endTime: "00:00" } as const;

function opened(t: Setup): boolean {
  t.lock.press(entry(USERS.anna));
  t.lock.press(entry(USERS.ben));
  t.lock.advance(500);
  const result = t.lock.core.state().bolt === "retracted";
  t.lock.advance(15 * SECOND);
  return result;
}

describe("trusted time", () => {
  it("a signed time sync sets the lock's time and every change is logged", () => {
    const t = setup({ trusted: false });
    expect(t.lock.core.trustedTime).toBe(false);
    const result = t.lock.command(t.sign("time.sync", { time: iso(START + 3 * MINUTE) }));
    expect(result.status).toBe("ok");
    expect(t.lock.core.trustedTime).toBe(true);
    expect(Math.abs(t.lock.core.lockTime() - (START + 3 * MINUTE))).toBeLessThan(2 * SECOND);
    expect(t.records().at(-2)).toMatchObject({ kind: "time.changed", actor: "fleet" });
  });

  it("a backward jump beyond the bound (5 min) is refused and logged", () => {
    const t = setup();
    const before = t.lock.core.lockTime();
    const back = before - 10 * MINUTE;
    const result = t.lock.command(t.sign("time.sync", { time: iso(back) }, { issuedAt: back }));
    expect(result).toMatchObject({ status: "error", error: { code: "E_TIME_BACKWARDS" } });
    expect(t.kinds()).toContain("time.rejected");
    expect(t.lock.core.lockTime()).toBe(before);
  });

  it("a backward jump within the bound is accepted and logged", () => {
    const t = setup();
    const before = t.lock.core.lockTime();
    const back = before - 2 * MINUTE;
    const result = t.lock.command(t.sign("time.sync", { time: iso(back) }, { issuedAt: back }));
    expect(result.status).toBe("ok");
    expect(t.lock.core.lockTime()).toBe(before - 2 * MINUTE);
    expect(
      t.records().find((r) => r.kind === "time.changed" && r.data.jumpMs === -2 * MINUTE),
    ).toBeDefined();
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

  it("before the first sync, a real-time clock far behind does not keep the time sync out", () => {
    const t = setup({ factory: { weekly: [weekend] } });
    t.clock.setWallTime(START - 30 * 24 * HOUR); // the RTC lost its battery
    t.restart(false);
    const result = t.lock.command(
      t.sign("time.sync", { time: iso(START + MINUTE) }, { issuedAt: START + MINUTE }),
    );
    expect(result.status).toBe("ok");
    expect(Math.abs(t.lock.core.lockTime() - (START + MINUTE))).toBeLessThan(2 * SECOND);
  });

  it("a lock whose clock runs behind accepts the forward correction", () => {
    const t = setup();
    const ahead = t.lock.core.lockTime() + 2 * HOUR;
    const result = t.lock.command(t.sign("time.sync", { time: iso(ahead) }, { issuedAt: ahead }));
    expect(result.status).toBe("ok");
    expect(t.lock.core.lockTime()).toBe(ahead);
  });

  it("a time sync that would move into a weekly lock period locks the container", () => {
    const t = setup({ factory: { weekly: [weekend] } });
    const saturday = START + 5 * 24 * HOUR;
    t.lock.command(t.sign("time.sync", { time: iso(saturday) }, { issuedAt: saturday }));
    expect(t.lock.core.isTimeLocked()).toBe(true);
    expect(opened(t)).toBe(false);
  });
});

describe("time sync decisions", () => {
  it("forward jumps of any size are accepted; backward ones only within the bound", () => {
    const bound = DEFAULT_MAX_BACKWARD_TIME_JUMP_MS;
    expect(bound).toBe(5 * MINUTE);
    expect(decideTimeSync(1_000_000, 1_000_000 + HOUR, 0, bound)).toEqual({
      accepted: true,
      offsetMs: HOUR,
      jumpMs: HOUR,
    });
    expect(decideTimeSync(1_000_000, 1_000_000 - bound, 7, bound)).toEqual({
      accepted: true,
      offsetMs: 7 - bound,
      jumpMs: -bound,
    });
    expect(decideTimeSync(1_000_000, 1_000_000 - bound - 1, 0, bound).accepted).toBe(false);
  });
});
