import { randomBytes } from "node:crypto";
import { closeSeal, OTP_COUNTER_LOOKAHEAD, oneTimeCode } from "@lockfleet/protocol";
import { describe, expect, it } from "vitest";
import { otpCandidateCounters } from "../../src/lock/one-time-codes.js";
import {
  DEVICE,
  entry,
  MINUTE,
  SECOND,
  type Setup,
  type SetupOptions,
  START,
  setup,
  USERS,
} from "./fixtures.js";

const HOUR = 60 * MINUTE;
/** A one-hour window on the one-time-code grid, starting at the lock's start time. */
const WINDOW = { notBefore: START, notAfter: START + HOUR };

function withSecret(options: SetupOptions = {}) {
  const t = setup({ ...options, policy: { dualControl: "single", ...options.policy } });
  const secret = randomBytes(32);
  const result = t.lock.command(t.sign("otp.secret", { secret: t.seal(secret), counter: 0 }));
  expect(result.status).toBe("ok");
  const code = (counter: number, window = WINDOW, personId: string = USERS.cora.personId) =>
    oneTimeCode(secret, { lockId: DEVICE, counter, personId, ...window });
  return { t, secret, code };
}

/** Courier: own code, then the one-time code. */
function courierOpens(t: Setup, otp: string): boolean {
  t.lock.press(entry(USERS.cora));
  t.lock.press(`${otp}#`);
  t.lock.advance(500);
  const opened = t.lock.core.state().bolt === "retracted";
  if (opened) t.lock.advance(15 * SECOND); // relock
  return opened;
}

describe("one-time codes", () => {
  it("a courier's own code alone asks for the one-time code and does not open", () => {
    const { t } = withSecret();
    t.lock.press(entry(USERS.cora));
    expect(t.display()).toBe("ONE-TIME CODE | ");
    t.lock.advance(500);
    expect(t.lock.core.state().bolt).toBe("thrown");
  });

  it("a valid one-time code inside its window opens, recorded with the person and counter", () => {
    const { t, code } = withSecret();
    expect(courierOpens(t, code(1))).toBe(true);
    expect(t.records().find((r) => r.kind === "otp.accepted")).toMatchObject({
      actor: "p-cora",
      data: { counter: 1 },
    });
  });

  it("each one-time code is accepted once", () => {
    const { t, code } = withSecret();
    expect(courierOpens(t, code(1))).toBe(true);
    expect(courierOpens(t, code(1))).toBe(false);
    expect(
      t
        .records()
        .filter((r) => r.kind === "otp.rejected")
        .at(-1)?.data,
    ).toMatchObject({
      reason: "noMatch",
    });
  });

  it("crew members may key consecutive counters in any order, each once", () => {
    const { t, code } = withSecret();
    expect(courierOpens(t, code(3))).toBe(true);
    expect(courierOpens(t, code(2))).toBe(true);
    expect(courierOpens(t, code(2))).toBe(false);
    expect(courierOpens(t, code(3))).toBe(false);
    expect(courierOpens(t, code(4))).toBe(true);
    expect(t.store.readSection("otp")).toMatchObject({ highest: 4 });
  });

  it("the highest accepted counter never goes back; codes too far below it are refused", () => {
    const { t, code } = withSecret();
    expect(courierOpens(t, code(OTP_COUNTER_LOOKAHEAD))).toBe(true);
    expect(courierOpens(t, code(2 * OTP_COUNTER_LOOKAHEAD))).toBe(true);
    expect(courierOpens(t, code(1))).toBe(false); // unused, but older than the lookahead
    expect(courierOpens(t, code(OTP_COUNTER_LOOKAHEAD + 1))).toBe(true);
    expect(t.store.readSection("otp")).toMatchObject({ highest: 2 * OTP_COUNTER_LOOKAHEAD });
  });

  it("the candidate counters exclude used ones and stay within the lookahead", () => {
    const counters = otpCandidateCounters({ highest: 20, used: [20, 18] });
    expect(counters).not.toContain(20);
    expect(counters).not.toContain(18);
    expect(counters).toContain(19);
    expect(Math.min(...counters)).toBe(20 - OTP_COUNTER_LOOKAHEAD + 1);
    expect(Math.max(...counters)).toBe(20 + OTP_COUNTER_LOOKAHEAD);
  });

  it(`the lock looks at most ${OTP_COUNTER_LOOKAHEAD} counters ahead`, () => {
    const { t, code } = withSecret();
    expect(courierOpens(t, code(OTP_COUNTER_LOOKAHEAD + 1))).toBe(false);
    expect(courierOpens(t, code(OTP_COUNTER_LOOKAHEAD))).toBe(true);
  });

  it("a one-time code is accepted only inside its window", () => {
    const { t, code } = withSecret();
    const later = { notBefore: START + 2 * HOUR, notAfter: START + 3 * HOUR };
    expect(courierOpens(t, code(1, later))).toBe(false);
    t.lock.advance(2 * HOUR);
    t.syncTime();
    expect(courierOpens(t, code(1, WINDOW))).toBe(false); // window over
    expect(courierOpens(t, code(1, later))).toBe(true);
  });

  it("a one-time code of another person is refused", () => {
    const { t, code } = withSecret();
    expect(courierOpens(t, code(1, WINDOW, "p-other"))).toBe(false);
  });

  it("a wrong one-time code counts towards the penalty; the courier's correct code does not reset it", () => {
    const { t } = withSecret();
    for (let i = 0; i < 4; i++) {
      t.lock.press(entry(USERS.cora));
      t.lock.press("12345678#");
    }
    expect(t.display()).toMatch(/^PENALTY/);
  });

  it("without an installed secret no one-time code is accepted", () => {
    const t = setup({ policy: { dualControl: "single" } });
    t.lock.press(entry(USERS.cora));
    t.lock.press("12345678#");
    expect(t.records().at(-1)).toMatchObject({
      kind: "otp.rejected",
      data: { reason: "noSecretInstalled" },
    });
    t.lock.advance(500);
    expect(t.lock.core.state().bolt).toBe("thrown");
  });

  it("the accepted counter survives a restart: the code is not accepted again after a power cut", () => {
    const { t, code } = withSecret();
    expect(courierOpens(t, code(1))).toBe(true);
    t.restart(false);
    t.syncTime();
    expect(courierOpens(t, code(1))).toBe(false);
  });

  it("a re-installed secret never lowers the counter", () => {
    const { t, code } = withSecret();
    expect(courierOpens(t, code(5))).toBe(true);
    t.lock.command(t.sign("otp.secret", { secret: t.seal(randomBytes(32)), counter: 0 }));
    expect(t.store.readSection("otp")).toMatchObject({ highest: 5 });
  });

  it("the lock answers a one-time-code opening with the close seal the fleet derives", () => {
    const { t, secret, code } = withSecret();
    expect(courierOpens(t, code(1))).toBe(true);
    const expected = closeSeal(secret, {
      lockId: DEVICE,
      counter: 1,
      personId: "p-cora",
      ...WINDOW,
    });
    expect(t.records().find((r) => r.kind === "lock.relocked")?.data.closeSeal).toBe(expected);
    expect(t.display()).toBe(`LOCKED | SEAL ${expected}`);
  });

  it("with a time delay the confirmation does not need a second one-time code", () => {
    const { t, code } = withSecret({ policy: { timeDelayMin: 5 } });
    t.lock.press(entry(USERS.cora));
    t.lock.press(`${code(1)}#`);
    t.lock.advance(5 * MINUTE);
    t.lock.press(entry(USERS.cora));
    t.lock.advance(500);
    expect(t.lock.core.state().bolt).toBe("retracted");
  });

  it("the one-time code is still subject to the time delay, time lock and penalty", () => {
    const { t, code } = withSecret({ policy: { timeDelayMin: 5 } });
    t.lock.press(entry(USERS.cora));
    t.lock.press(`${code(1)}#`);
    t.lock.advance(500);
    expect(t.lock.core.state().bolt).toBe("thrown");
    expect(t.display()).toMatch(/^TIME DELAY/);
  });

  it("the same courier twice is refused before the one-time code is asked for, so no code is spent", () => {
    const { t, code } = withSecret({ policy: { dualControl: "dual" } });
    t.lock.press(entry(USERS.cora));
    t.lock.press(`${code(1)}#`);
    const head = t.head();
    t.lock.press(entry(USERS.cora));
    expect(t.display()).not.toBe("ONE-TIME CODE | ");
    expect(t.since(head).find((r) => r.kind === "code.rejected")).toMatchObject({
      actor: "p-cora",
      data: { reason: "samePerson" },
    });
    expect(t.store.readSection("otp")).toMatchObject({ highest: 1, used: [1] });
    // The next person completes this cycle; counter 2 is still there for the next opening.
    t.lock.press(entry(USERS.anna));
    t.lock.advance(500);
    expect(t.lock.core.state().bolt).toBe("retracted");
    t.lock.advance(15 * SECOND);
    t.lock.press(entry(USERS.cora));
    t.lock.press(`${code(2)}#`);
    t.lock.press(entry(USERS.anna));
    t.lock.advance(500);
    expect(t.lock.core.state().bolt).toBe("retracted");
  });

  it("a one-time code accepted when the cycle then refuses its holder stays spent, and the record says so", () => {
    const dirk = { ...USERS.cora, slot: 11, personId: "p-dirk", code: "86429753" };
    const { t, code } = withSecret({
      policy: { dualControl: "dual", mixedParties: false },
      factory: { users: [{ ...USERS.anna }, { ...USERS.cora }, dirk] },
    });
    t.lock.press(entry(dirk));
    t.lock.press(`${code(1, WINDOW, "p-dirk")}#`);
    t.lock.press(entry(USERS.cora));
    expect(t.display()).toBe("ONE-TIME CODE | ");
    // While Cora keys in her code, the fleet makes the container require mixed parties.
    const change = t.lock.command(
      t.sign("policy.change", {
        policy: { ...t.lock.core.policy, mixedParties: true },
        approvedBy: ["p-sec1"],
      }),
    );
    expect(change.status).toBe("ok");
    const head = t.head();
    t.lock.press(`${code(2)}#`);
    t.lock.advance(500);
    expect(t.lock.core.state().bolt).toBe("thrown");
    const after = t.since(head);
    expect(after.map((r) => r.kind)).not.toContain("otp.accepted");
    expect(after.find((r) => r.kind === "otp.rejected")).toMatchObject({
      actor: "p-cora",
      data: { reason: "mixedPartiesRequired", counter: 2, counterSpent: true },
    });
    expect(t.store.readSection("otp")).toMatchObject({ highest: 2, used: [1, 2] });
    // A code shown once is burnt: keyed in again for a cycle that would accept her, it is refused.
    t.lock.press("*");
    expect(t.lock.core.state().cycle.phase).toBe("idle");
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.cora));
    const again = t.head();
    t.lock.press(`${code(2)}#`);
    expect(t.since(again).find((r) => r.kind === "otp.rejected")).toMatchObject({
      data: { reason: "noMatch" },
    });
    t.lock.advance(500);
    expect(t.lock.core.state().bolt).toBe("thrown");
  });
});
