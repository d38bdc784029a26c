import { randomBytes } from "node:crypto";
import { openingSeal, verifyOpeningSeal } from "@lockfleet/protocol";
import { describe, expect, it } from "vitest";
import { openingCloseSeal } from "../../src/lock/close-seal.js";
import type { Authorisation } from "../../src/lock/state.js";
import { DEVICE, entry, SECOND, type Setup, setup, USERS } from "./fixtures.js";

function openAndClose(t: Setup): string | undefined {
  t.lock.press(entry(USERS.anna));
  t.lock.press(entry(USERS.ben));
  t.lock.advance(500);
  t.lock.door(true);
  t.lock.advance(5 * SECOND);
  t.lock.door(false);
  t.lock.advance(4 * SECOND);
  const seal = t
    .records()
    .filter((r) => r.kind === "lock.relocked")
    .at(-1)?.data.closeSeal;
  return typeof seal === "string" ? seal : undefined;
}

const byCode: Authorisation = {
  personId: "p-anna",
  slot: 1,
  party: "bank",
  via: "code",
  duress: false,
};

describe("close seal", () => {
  it("after the relock the lock shows a close seal and records it with the relock", () => {
    const t = setup();
    const seal = openAndClose(t);
    expect(seal).toMatch(/^\d{8}$/);
    expect(t.lock.core.state().bolt).toBe("thrown");
    expect(t.display()).toBe(`LOCKED | SEAL ${seal}`);
  });

  it("no close seal is shown before the bolt is confirmed thrown", () => {
    const t = setup();
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben));
    t.lock.advance(500);
    t.lock.door(true);
    t.lock.door(false);
    t.lock.advance(3 * SECOND + 100); // relock driven, sensor not yet confirming
    expect(t.display()).not.toMatch(/SEAL/);
    expect(t.kinds()).not.toContain("lock.relocked");
    t.lock.advance(200);
    expect(t.display()).toMatch(/^LOCKED \| SEAL \d{8}$/);
  });

  it("each opening has its own seal", () => {
    const t = setup();
    const first = openAndClose(t);
    t.lock.press("#"); // a key clears the seal from the display
    const second = openAndClose(t);
    expect(first).not.toBe(second);
  });

  it("the seal of an opening is derived from a secret, the lock id and the opening number", () => {
    const secret = randomBytes(32);
    const seal = openingCloseSeal(secret, DEVICE, 7, [byCode]);
    expect(seal).toBe(openingCloseSeal(secret, DEVICE, 7, [byCode]));
    expect(seal).not.toBe(openingCloseSeal(secret, DEVICE, 8, [byCode]));
    expect(seal).not.toBe(openingCloseSeal(secret, "safe-2", 7, [byCode]));
    expect(seal).not.toBe(openingCloseSeal(randomBytes(32), DEVICE, 7, [byCode]));
  });

  it("with a one-time-code secret installed, a code opening shows the opening seal the fleet verifies (protocol's definition)", () => {
    const t = setup();
    const secret = randomBytes(32);
    expect(
      t.lock.command(t.sign("otp.secret", { secret: t.seal(secret), counter: 0 })).status,
    ).toBe("ok");
    const seal = openAndClose(t);
    expect(seal).toBe(openingSeal(secret, DEVICE, 1));
    expect(verifyOpeningSeal(secret, DEVICE, 1, seal)).toBe(true);
    expect(verifyOpeningSeal(secret, DEVICE, 2, seal)).toBe(false);
  });

  it("an opening that relocks without the door being opened also ends with a seal", () => {
    const t = setup();
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben));
    t.lock.advance(11 * SECOND);
    expect(t.records().find((r) => r.kind === "lock.relocked")?.data.closeSeal).toMatch(/^\d{8}$/);
  });

  it("an opening cut off by a power loss still ends with a close seal once the bolt is thrown", () => {
    const t = setup();
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben));
    t.lock.advance(500);
    t.lock.door(true);
    const lock = t.restart(false);
    lock.advance(SECOND);
    const relocked = t.records().find((r) => r.kind === "lock.relocked");
    expect(relocked?.data).toMatchObject({ openingNumber: 1, afterRestart: true });
    expect(relocked?.data.closeSeal).toMatch(/^\d{8}$/);
    expect(t.display()).toMatch(/^LOCKED \| SEAL \d{8}$/);
  });

  it("a restart without an opening shows no seal", () => {
    const t = setup();
    const lock = t.restart(false);
    lock.advance(SECOND);
    expect(t.kinds()).not.toContain("lock.relocked");
  });
});
