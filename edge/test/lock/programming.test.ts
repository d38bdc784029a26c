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
    expect(t.display()).toBe("PROGRAM | 1DLY 2EYES 3WIN");
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
    expect(programPolicy(policy, "55")).toEqual({ ok: false, reason: "unknownFunction" });
    expect(programPolicy(policy, "1")).toEqual({ ok: false, reason: "format" });
  });
});
