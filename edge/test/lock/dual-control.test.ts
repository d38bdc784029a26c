import { describe, expect, it } from "vitest";
import type { SeedUser } from "../../src/index.js";
import {
  alreadyCounted,
  codesRequired,
  mixedPartiesPossible,
} from "../../src/lock/dual-control.js";
import type { Authorisation } from "../../src/lock/state.js";
import { entry, SECOND, type Setup, setup, USERS } from "./fixtures.js";

function opened(t: Setup): boolean {
  t.lock.advance(500);
  return t.lock.core.state().bolt === "retracted";
}

const CIT_COLLEAGUE: SeedUser = {
  slot: 11,
  personId: "p-cid",
  role: "user",
  tenantId: "cit-x",
  enabled: true,
  code: "86420975",
};

describe("dual control", () => {
  it("dual control is the default: one code alone does not open", () => {
    const t = setup({ policy: {} });
    expect(t.lock.core.policy.dualControl).toBe("dual");
    t.lock.press(entry(USERS.anna));
    expect(t.display()).toBe("CODE 2 OF 2 | ");
    expect(opened(t)).toBe(false);
    t.lock.press(entry(USERS.ben));
    expect(opened(t)).toBe(true);
  });

  it("the second code is typed under CODE 2 OF 2, not under a fresh ENTER CODE", () => {
    const t = setup({ policy: {} });
    t.lock.press(entry(USERS.anna));
    const second = entry(USERS.ben);
    t.lock.press(second.slice(0, 3));
    expect(t.display()).toBe("CODE 2 OF 2 | ***");
    t.lock.press(second.slice(3));
    expect(opened(t)).toBe(true);
  });

  it("parallel codes without fixed groups: any two holders may combine", () => {
    const t = setup();
    const pairs: Array<[{ slot: number; code: string }, { slot: number; code: string }]> = [
      [USERS.anna, USERS.ben],
      [USERS.ben, USERS.carl],
      [USERS.carl, USERS.anna],
    ];
    for (const [first, second] of pairs) {
      t.lock.press(entry(first));
      t.lock.press(entry(second));
      expect(opened(t)).toBe(true);
      t.lock.advance(15 * SECOND); // door not opened: relocks
      expect(t.lock.core.state().bolt).toBe("thrown");
    }
  });

  it("single control opens with one code", () => {
    const t = setup({ policy: { dualControl: "single" } });
    t.lock.press(entry(USERS.carl));
    expect(opened(t)).toBe(true);
  });

  it("triple control needs three distinct persons", () => {
    const t = setup({ policy: { dualControl: "triple" } });
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben));
    expect(t.display()).toBe("CODE 3 OF 3 | ");
    expect(opened(t)).toBe(false);
    t.lock.press(entry(USERS.carl));
    expect(opened(t)).toBe(true);
  });

  it("the second code must follow within 60 s (default); after that the cycle expires", () => {
    const t = setup();
    expect(t.lock.core.policy.secondCodeTimeoutSec).toBe(60);
    t.lock.press(entry(USERS.anna));
    t.lock.advance(61 * SECOND);
    expect(t.records().at(-1)).toMatchObject({
      kind: "cycle.expired",
      data: { reason: "secondCodeTimeout" },
    });
    t.lock.press(entry(USERS.ben));
    expect(opened(t)).toBe(false);
    expect(t.display()).toBe("CODE 2 OF 2 | ");
  });

  it("a second code within the timeout opens", () => {
    const t = setup();
    t.lock.press(entry(USERS.anna));
    t.lock.advance(55 * SECOND);
    t.lock.press(entry(USERS.ben));
    expect(opened(t)).toBe(true);
  });

  it("second code of the same user does not count", () => {
    const t = setup();
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.anna));
    expect(opened(t)).toBe(false);
    expect(t.records().at(-1)).toMatchObject({
      kind: "code.rejected",
      actor: "p-anna",
      data: { reason: "samePerson" },
    });
  });

  it("two codes of the same person in two slots never count twice", () => {
    const t = setup({
      factory: {
        users: [
          { ...USERS.anna },
          { slot: 40, personId: "p-anna", role: "user", enabled: true, code: "13572468" },
        ],
      },
    });
    t.lock.press(entry(USERS.anna));
    t.lock.press("4013572468#");
    expect(opened(t)).toBe(false);
    expect(t.records().at(-1)?.data).toMatchObject({ reason: "samePerson" });
  });

  it("the duress variant of the same person's code does not count as a second person", () => {
    const t = setup({ policy: { duressMode: "lastDigitPlusOne" } });
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.anna, "11223345"));
    expect(opened(t)).toBe(false);
    expect(t.records().at(-1)?.data).toMatchObject({ reason: "samePerson" });
  });

  it("mixed parties: two bank persons are refused, one bank and one CIT person open", () => {
    const t = setup({
      policy: { mixedParties: true },
      factory: { users: [{ ...USERS.anna }, { ...USERS.ben }, CIT_COLLEAGUE] },
    });
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben));
    expect(opened(t)).toBe(false);
    expect(t.records().at(-1)).toMatchObject({
      kind: "code.rejected",
      actor: "p-ben",
      data: { reason: "mixedPartiesRequired" },
    });
    t.lock.press(entry(CIT_COLLEAGUE));
    expect(opened(t)).toBe(true);
    const confirmed = t.records().find((r) => r.kind === "cycle.confirmed");
    expect(confirmed?.data.persons).toEqual(["p-anna", "p-cid"]);
  });

  it("mixed parties: two CIT persons are refused", () => {
    const t = setup({
      policy: { mixedParties: true },
      factory: {
        users: [
          CIT_COLLEAGUE,
          { ...CIT_COLLEAGUE, slot: 12, personId: "p-cit2", code: "75319864" },
        ],
      },
    });
    t.lock.press(entry(CIT_COLLEAGUE));
    t.lock.press("1275319864#");
    expect(opened(t)).toBe(false);
    expect(t.records().at(-1)?.data).toMatchObject({ reason: "mixedPartiesRequired" });
  });

  it("a wrong second code does not open and counts towards the penalty", () => {
    const t = setup();
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben, "00000000"));
    expect(opened(t)).toBe(false);
    expect(t.store.readSection("penalty")).toMatchObject({ consecutiveWrong: 1 });
  });

  it("cancel (*) during collection ends the cycle; the first code no longer counts", () => {
    const t = setup();
    t.lock.press(entry(USERS.anna));
    t.lock.press("*");
    expect(t.kinds()).toContain("cycle.cancelled");
    t.lock.press(entry(USERS.ben));
    expect(opened(t)).toBe(false);
  });
});

describe("dual-control rules", () => {
  const bank = (personId: string): Authorisation => ({
    personId,
    slot: 1,
    party: "bank",
    via: "code",
    duress: false,
  });
  const cit = (personId: string): Authorisation => ({ ...bank(personId), party: "cit" });

  it("single, dual and triple need one, two and three persons", () => {
    expect(codesRequired({ dualControl: "single" }, [])).toBe(1);
    expect(codesRequired({ dualControl: "dual" }, [])).toBe(2);
    expect(codesRequired({ dualControl: "triple" }, [])).toBe(3);
  });

  it("a grant without dual control lets its holder open alone", () => {
    expect(codesRequired({ dualControl: "triple" }, [{ ...bank("p-a"), single: true }])).toBe(1);
  });

  it("a person counts once, whatever code or slot they use", () => {
    expect(alreadyCounted([bank("p-a")], "p-a")).toBe(true);
    expect(alreadyCounted([bank("p-a")], "p-b")).toBe(false);
  });

  it("mixed parties: a second person of the same party leaves no room for the other", () => {
    const policy = { mixedParties: true };
    expect(mixedPartiesPossible(policy, [bank("p-a")], 2)).toBe(true);
    expect(mixedPartiesPossible(policy, [bank("p-a"), bank("p-b")], 2)).toBe(false);
    expect(mixedPartiesPossible(policy, [bank("p-a"), cit("p-c")], 2)).toBe(true);
    expect(mixedPartiesPossible(policy, [bank("p-a"), bank("p-b")], 3)).toBe(true);
    expect(mixedPartiesPossible({ mixedParties: false }, [bank("p-a"), bank("p-b")], 2)).toBe(true);
  });
});
