import { describe, expect, it } from "vitest";
import type { SeedUser } from "../../src/index.js";
import { entry, MINUTE, SECOND, type Setup, setup, USERS } from "./fixtures.js";

const SECTIONS = [
  "policy",
  "users",
  "penalty",
  "timeLock",
  "remote",
  "grants",
  "otp",
  "trust",
  "time",
  "cycle",
  "openings",
];

/** Everything the lock keeps: every stored section and every audit record, as text. */
function storedText(t: Setup): string {
  const sections = SECTIONS.map((name) => JSON.stringify(t.store.readSection(name) ?? null));
  return [...sections, ...t.records().map((record) => JSON.stringify(record))].join("\n");
}

function opened(t: Setup): boolean {
  t.lock.advance(500);
  return t.lock.core.state().bolt === "retracted";
}

/**
 * Code change at the keypad as a person does it, reading the display: `*`, id + code `#`, new
 * code `#`, and the new code again `#` only when the lock asks for it (a refused new code ends
 * the change with CODE REFUSED).
 */
function changeCode(t: Setup, slot: number, oldCode: string, newCode: string, repeat = newCode) {
  t.lock.press(`*${String(slot).padStart(2, "0")}${oldCode}#${newCode}#`);
  if (t.display().startsWith("REPEAT NEW CODE")) t.lock.press(`${repeat}#`);
}

describe("codes and users", () => {
  it("no code appears in any stored section or audit record, only keyed hashes", () => {
    const t = setup({ policy: { duressMode: "lastDigitPlusOne" } });
    const letter = "80604020";
    t.lock.command(
      t.sign("user.add", {
        user: { slot: 20, personId: "p-dora", role: "user", enabled: true },
        initialCode: t.seal(letter),
      }),
    );
    changeCode(t, 20, letter, "71625344");
    changeCode(t, 1, USERS.anna.code, "31415926");
    t.lock.press(entry(USERS.ben, "55667789")); // duress variant
    t.lock.press(entry({ slot: 1, code: "31415926" }));
    t.lock.press(entry(USERS.carl, "99999999")); // wrong
    const text = storedText(t);
    for (const code of [
      letter,
      "71625344",
      "31415926",
      "55667789",
      "99999999",
      "12345678",
      ...Object.values(USERS).map((user) => user.code),
    ]) {
      expect(text).not.toContain(code);
    }
    const users = t.store.readSection<Record<string, { codeHash: string }>>("users") ?? {};
    expect(Object.keys(users).length).toBeGreaterThanOrEqual(5);
    for (const user of Object.values(users)) expect(user.codeHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("a code is the 2-digit user id followed by the code's digits of this lock class", () => {
    const t = setup({
      policy: { codeLength: 6, dualControl: "single" },
      factory: {
        users: [{ slot: 4, personId: "p-six", role: "user", enabled: true, code: "902817" }],
      },
    });
    t.lock.press("04902817#");
    expect(opened(t)).toBe(true);
  });

  it("a code of the wrong length is a wrong code", () => {
    const t = setup({ policy: { dualControl: "single" } });
    t.lock.press(`01${USERS.anna.code}5#`);
    t.lock.press(`01${USERS.anna.code.slice(0, 7)}#`);
    expect(t.records().filter((r) => r.kind === "code.rejected")).toHaveLength(2);
    expect(opened(t)).toBe(false);
  });

  it("the key timeout (20 s) clears a half-typed entry", () => {
    const t = setup({ policy: { dualControl: "single" } });
    t.lock.press(entry(USERS.anna).slice(0, 5));
    t.lock.advance(19 * SECOND);
    t.lock.press(entry(USERS.anna).slice(5, 7)); // each key restarts the timeout
    t.lock.advance(20 * SECOND);
    expect(t.display()).toBe("ENTER CODE | ");
    t.lock.press(entry(USERS.anna).slice(7));
    expect(opened(t)).toBe(false);
    expect(t.records().at(-1)?.data).toMatchObject({ reason: "format" });
  });

  it("the factory master 00/12345678 must be changed on first use", () => {
    const t = setup({ policy: { masterMayOpen: true, dualControl: "single" } });
    t.lock.press("0012345678#");
    expect(t.display()).toBe("NEW CODE | ");
    expect(opened(t)).toBe(false);
    t.lock.press("90817263#90817263#");
    expect(t.kinds()).toContain("code.changed");
    t.lock.press("0012345678#");
    expect(opened(t)).toBe(false);
    t.lock.press("0090817263#");
    expect(opened(t)).toBe(true);
  });

  it("the master may not open unless masterMayOpen", () => {
    const t = setup({
      policy: { dualControl: "single" },
      factory: {
        users: [
          { slot: 0, personId: "p-master", role: "master", enabled: true, code: "90817263" },
        ] as SeedUser[],
      },
    });
    t.lock.press("0090817263#");
    expect(opened(t)).toBe(false);
    expect(t.records().at(-1)?.data).toMatchObject({ reason: "masterMayNotOpen" });
    expect(t.display()).toBe("NOT PERMITTED | ");
  });

  it("trivial codes are refused on change", () => {
    const t = setup();
    for (const trivial of ["11111111", "12345678", "87654321"]) {
      changeCode(t, 1, USERS.anna.code, trivial);
      expect(t.records().at(-1)?.data).toMatchObject({ reason: "newCodeRefused" });
    }
    changeCode(t, 1, USERS.anna.code, USERS.anna.code);
    expect(t.records().at(-1)?.data).toMatchObject({ reason: "newCodeRefused" });
    changeCode(t, 1, USERS.anna.code, "1234567");
    expect(t.records().at(-1)?.data).toMatchObject({ reason: "newCodeRefused" });
    expect(t.display()).toBe("CODE REFUSED | ");
    expect(t.kinds()).not.toContain("code.changed");
    // The person proved their old code: a refused new code is no wrong code.
    expect(t.store.readSection("penalty")).toMatchObject({ consecutiveWrong: 0 });
  });

  it("a code change needs the new code twice, the same both times", () => {
    const t = setup({ policy: { dualControl: "single" } });
    changeCode(t, 1, USERS.anna.code, "31415926", "31415927");
    expect(t.records().at(-1)?.data).toMatchObject({ reason: "repeatMismatch" });
    changeCode(t, 1, USERS.anna.code, "31415926");
    expect(t.display()).toBe("CODE CHANGED | ");
    t.lock.press(entry(USERS.anna));
    expect(opened(t)).toBe(false);
    t.lock.advance(20 * SECOND);
    t.lock.press("0131415926#");
    expect(opened(t)).toBe(true);
  });

  it("an abandoned code change ends with the key timeout", () => {
    const t = setup({ policy: { dualControl: "single" } });
    t.lock.press(`*01${USERS.anna.code}#`);
    expect(t.display()).toBe("NEW CODE | ");
    t.lock.advance(25 * SECOND);
    expect(t.display()).toBe("ENTER CODE | ");
    t.lock.press(entry(USERS.ben));
    expect(opened(t)).toBe(true);
    expect(t.kinds()).not.toContain("code.changed");
  });

  it("a PIN-letter code sealed to the lock must be changed before the first opening", () => {
    const t = setup({ policy: { dualControl: "single" } });
    const result = t.lock.command(
      t.sign("user.add", {
        user: { slot: 21, personId: "p-eva", role: "user", enabled: true },
        initialCode: t.seal("80604020"),
      }),
    );
    expect(result.status).toBe("ok");
    t.lock.press("2180604020#");
    expect(t.display()).toBe("NEW CODE | ");
    expect(opened(t)).toBe(false);
    t.lock.press("*");
    t.lock.press("2180604020#*");
    expect(opened(t)).toBe(false);
    t.lock.press("2180604020#71625344#71625344#");
    expect(t.records().find((r) => r.kind === "code.changed")?.data).toMatchObject({
      slot: 21,
      wasInitialCode: true,
    });
    t.lock.press("2171625344#");
    expect(opened(t)).toBe(true);
  });

  it("a PIN letter sealed to another lock's key is refused", () => {
    const t = setup();
    const other = setup();
    const result = t.lock.command(
      t.sign("user.add", {
        user: { slot: 21, personId: "p-eva", role: "user", enabled: true },
        initialCode: other.seal("80604020"),
      }),
    );
    expect(result).toMatchObject({ status: "error", error: { code: "E_SEALED_BOX" } });
    expect(t.kinds().at(-1)).toBe("command.rejected");
  });

  it("at least 100 users per lock (slots 00–99), each opening with their own code", () => {
    const users: SeedUser[] = Array.from({ length: 99 }, (_, index) => ({
      slot: index + 1,
      personId: `p-${index + 1}`,
      role: "user" as const,
      enabled: true,
      code: `${String(index + 1).padStart(2, "0")}907531`,
    }));
    const t = setup({ policy: { dualControl: "single" }, factory: { users } });
    expect(Object.keys(t.store.readSection<object>("users") ?? {})).toHaveLength(100);
    for (const user of [users[0], users[49], users[98]]) {
      if (user === undefined) throw new Error("missing user");
      t.lock.press(entry(user));
      expect(opened(t)).toBe(true);
      t.lock.advance(15 * SECOND); // not opened: relocks
      expect(t.lock.core.state().bolt).toBe("thrown");
    }
  });

  it("validity from/until: a substitute opens only inside their validity", () => {
    const t = setup({
      policy: { dualControl: "single" },
      factory: {
        users: [
          {
            slot: 30,
            personId: "p-sub",
            role: "user",
            enabled: true,
            code: "90817263",
            validFrom: "2026-11-23T09:00:00.000Z",
            validUntil: "2026-11-23T10:00:00.000Z",
          },
        ],
      },
    });
    t.lock.press("3090817263#");
    expect(t.records().at(-1)?.data).toMatchObject({ reason: "notYetValid" });
    t.lock.advance(60 * MINUTE);
    t.lock.press("3090817263#");
    expect(opened(t)).toBe(true);
    t.lock.advance(60 * MINUTE);
    t.lock.press("3090817263#");
    expect(t.records().at(-1)?.data).toMatchObject({ reason: "expired" });
  });

  it("weekly time profile: a user opens only inside their periods (lock zone)", () => {
    const t = setup({
      policy: { dualControl: "single" },
      factory: {
        users: [
          {
            slot: 31,
            personId: "p-day",
            role: "user",
            enabled: true,
            code: "90817263",
            // Mondays 10:00–12:00 Berlin time; the lock starts Monday 09:00.
            timeProfile: [{ startDay: 1, startTime: "10:00", endDay: 1, endTime: "12:00" }],
          },
        ],
      },
    });
    t.lock.press("3190817263#");
    expect(t.records().at(-1)?.data).toMatchObject({ reason: "outsideTimeProfile" });
    t.lock.advance(60 * MINUTE);
    t.lock.press("3190817263#");
    expect(opened(t)).toBe(true);
  });

  it("a time profile the lock cannot evaluate is refused when the fleet sends it", () => {
    const t = setup();
    const result = t.lock.command(
      t.sign("user.change", {
        slot: 1,
        personId: "p-anna",
        changes: {
          timeProfile: [{ startDay: 1, startTime: "10:00", endDay: 1, endTime: "10:00" }],
        },
      }),
    );
    expect(result).toMatchObject({ status: "error", error: { code: "E_TIME_PROFILE_INVALID" } });
  });

  it("a disabled user cannot open", () => {
    const t = setup({ policy: { dualControl: "single" } });
    t.lock.command(
      t.sign("user.change", { slot: 1, personId: "p-anna", changes: { enabled: false } }),
    );
    t.lock.press(entry(USERS.anna));
    expect(opened(t)).toBe(false);
    expect(t.records().at(-1)?.data).toMatchObject({ reason: "disabled" });
  });

  it("a deleted user's code is a wrong code", () => {
    const t = setup({ policy: { dualControl: "single" } });
    t.lock.command(t.sign("user.delete", { slot: 1, personId: "p-anna" }));
    t.lock.press(entry(USERS.anna));
    expect(opened(t)).toBe(false);
    expect(t.records().at(-1)).toMatchObject({ kind: "code.rejected", actor: null });
  });

  it("every accepted code is recorded with the person's unique id", () => {
    const t = setup();
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben));
    const accepted = t.records().filter((r) => r.kind === "code.accepted");
    expect(accepted.map((r) => r.actor)).toEqual(["p-anna", "p-ben"]);
  });
});
