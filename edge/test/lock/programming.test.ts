import { describe, expect, it } from "vitest";
import { programPolicy } from "../../src/lock/programming.js";
import { entry, MINUTE, SECOND, type Setup, type SetupOptions, setup, USERS } from "./fixtures.js";

const MASTER = {
  slot: 0,
  personId: "p-master",
  role: "master" as const,
  enabled: true,
  code: "90817263",
};

function lockWithMaster(options: SetupOptions = {}): Setup {
  return setup({
    ...options,
    factory: { users: [{ ...USERS.anna }, { ...USERS.ben }, { ...MASTER }] },
  });
}

/** Anna and Ben open the container; the door stands open. */
function openContainer(t: Setup): void {
  t.lock.press(entry(USERS.anna));
  t.lock.press(entry(USERS.ben));
  t.lock.advance(500);
  t.lock.door(true);
  expect(t.lock.core.state().cycle.phase).toBe("open");
}

describe("programming at the keypad", () => {
  it("a master at the open container may weaken the policy: shorter delay, fewer eyes", () => {
    const t = lockWithMaster({ policy: { timeDelayMin: 10 } });
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben));
    t.lock.advance(10 * MINUTE);
    openContainer(t);
    t.lock.press(entry(MASTER));
    expect(t.display()).toBe("PRG 1DLY 2EYE | 3WIN 4DUR 5MIX");
    t.lock.press("12#");
    expect(t.display()).toBe("PROGRAMMED | ");
    t.lock.press("21#");
    expect(t.lock.core.policy).toMatchObject({ timeDelayMin: 2, dualControl: "single" });
    const changes = t
      .records()
      .filter((r) => r.kind === "policy.changed" && r.data.via === "keypad");
    expect(changes.map((r) => r.actor)).toEqual(["p-master", "p-master"]);
    expect(changes[0]?.data.weakenings).toEqual(["time delay 10 → 2 min"]);
  });

  it("never from a single user at a closed lock: a master's code at the closed lock programmes nothing", () => {
    const t = lockWithMaster();
    t.lock.press(entry(MASTER));
    expect(t.records().at(-1)?.data).toMatchObject({ reason: "masterMayNotOpen" });
    t.lock.press("15#");
    expect(t.lock.core.policy.timeDelayMin).toBe(0);
    expect(t.records().filter((r) => r.data.via === "keypad")).toHaveLength(0);
  });

  it("a user who is not a master cannot programme at the open container", () => {
    const t = lockWithMaster({ policy: { timeDelayMin: 3 } });
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben));
    t.lock.advance(3 * MINUTE);
    openContainer(t);
    t.lock.press(entry(USERS.anna));
    t.lock.press("10#");
    expect(t.lock.core.policy.timeDelayMin).toBe(3);
  });

  it("values outside their ranges are refused", () => {
    const t = lockWithMaster();
    openContainer(t);
    t.lock.press(entry(MASTER));
    for (const entered of ["1100", "30", "320", "24", "9", "95"]) {
      t.lock.press(`${entered}#`);
      expect(t.records().at(-1)).toMatchObject({ kind: "code.rejected" });
    }
    expect(t.kinds().filter((k) => k === "policy.changed")).toHaveLength(1); // the factory set-up
  });

  it("a master sets the duress delay and the mixed-party rule; dropping mixed parties is a recorded weakening", () => {
    const t = lockWithMaster({ policy: { mixedParties: false } });
    openContainer(t);
    t.lock.press(entry(MASTER));
    t.lock.press("415#");
    t.lock.press("51#");
    expect(t.lock.core.policy).toMatchObject({ duressDelayMin: 15, mixedParties: true });
    t.lock.press("50#");
    expect(t.lock.core.policy.mixedParties).toBe(false);
    const changes = t
      .records()
      .filter((r) => r.kind === "policy.changed" && r.data.via === "keypad");
    expect(changes.map((r) => r.data.changed)).toEqual([
      "duressDelayMin",
      "mixedParties",
      "mixedParties",
    ]);
    expect(changes.map((r) => r.data.weakenings)).toEqual([
      [],
      [],
      ["mixed parties no longer required"],
    ]);
  });

  it("a master unsets the duress delay with 4 0 #: a duress opening runs on the normal delay again", () => {
    const t = lockWithMaster({ policy: { duressDelayMin: 10 } });
    openContainer(t);
    t.lock.press(entry(MASTER));
    t.lock.press("40#");
    expect(t.lock.core.policy).not.toHaveProperty("duressDelayMin");
    expect(t.records().findLast((r) => r.kind === "policy.changed")?.data).toMatchObject({
      via: "keypad",
      changed: "duressDelayMin",
      weakenings: ["shorter duress delay"],
    });
  });

  it("programming ends when the container is locked again", () => {
    const t = lockWithMaster();
    openContainer(t);
    t.lock.press(entry(MASTER));
    t.lock.door(false);
    t.lock.advance(4 * SECOND);
    t.lock.press("15#");
    expect(t.lock.core.policy.timeDelayMin).toBe(0);
  });

  it("programPolicy maps function digits to policy fields within their ranges", () => {
    const policy = lockWithMaster().lock.core.policy;
    expect(programPolicy(policy, "199")).toMatchObject({ ok: true, changed: "timeDelayMin" });
    expect(programPolicy(policy, "23")).toMatchObject({
      ok: true,
      policy: { dualControl: "triple" },
    });
    expect(programPolicy(policy, "319")).toMatchObject({
      ok: true,
      policy: { confirmationWindowMin: 19 },
    });
    expect(programPolicy(policy, "320")).toEqual({ ok: false, reason: "outOfRange" });
    expect(programPolicy(policy, "410")).toMatchObject({
      ok: true,
      changed: "duressDelayMin",
      policy: { duressDelayMin: 10 },
    });
    expect(programPolicy(policy, "51")).toMatchObject({ ok: true, policy: { mixedParties: true } });
    expect(programPolicy(policy, "50")).toMatchObject({
      ok: true,
      policy: { mixedParties: false },
    });
    expect(programPolicy(policy, "52")).toEqual({ ok: false, reason: "outOfRange" });
    expect(programPolicy(policy, "65")).toEqual({ ok: false, reason: "unknownFunction" });
    expect(programPolicy(policy, "1")).toEqual({ ok: false, reason: "format" });
  });
});
