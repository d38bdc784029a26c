import type { AccessGrant } from "@lockfleet/protocol";
import { ed25519 } from "@lockfleet/protocol";
import { describe, expect, it } from "vitest";
import { grantApplies } from "../../src/lock/grants.js";
import { DEVICE, entry, MINUTE, SECOND, type Setup, START, setup, USERS } from "./fixtures.js";

const HOUR = 60 * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString();

function grant(overrides: Partial<AccessGrant> = {}): AccessGrant {
  return {
    grantId: "g-1",
    locks: [DEVICE],
    persons: ["p-cora"],
    notBefore: iso(START),
    notAfter: iso(START + 4 * HOUR),
    maxOpenings: 2,
    dualControlRequired: false,
    ...overrides,
  };
}

/** The courier's code; true when the bolt retracted (it then relocks). */
function courierOpens(t: Setup): boolean {
  t.lock.press(entry(USERS.cora));
  if (t.display().startsWith("ONE-TIME CODE")) t.lock.press("*"); // no grant: leave the prompt
  t.lock.advance(500);
  const opened = t.lock.core.state().bolt === "retracted";
  t.lock.advance(15 * SECOND);
  return opened;
}

describe("signed grants", () => {
  it("a grant verified with the fleet key lets its person open with their code", () => {
    const t = setup();
    expect(courierOpens(t)).toBe(false);
    expect(t.lock.command(t.sign("grant", grant())).status).toBe("ok");
    expect(courierOpens(t)).toBe(true);
    expect(
      t.records().find((r) => r.kind === "code.accepted" && r.data.via === "grant")?.data,
    ).toMatchObject({ grantId: "g-1" });
  });

  it("a grant signed by another key is refused (forged grant)", () => {
    const t = setup();
    const forger = ed25519.generateKeyPair();
    const result = t.lock.command(t.sign("grant", grant(), { secretKey: forger.secretKey }));
    expect(result).toMatchObject({ status: "error", error: { code: "E_BAD_SIGNATURE" } });
    expect(courierOpens(t)).toBe(false);
  });

  it("a replayed grant envelope is refused", () => {
    const t = setup();
    const envelope = t.sign("grant", grant());
    t.lock.command(envelope);
    t.lock.command(t.sign("grant.revoke", { grantId: "g-1" }));
    expect(t.lock.command(envelope)).toMatchObject({ error: { code: "E_REPLAY" } });
    expect(courierOpens(t)).toBe(false);
  });

  it("an expired grant is refused at installation and no longer opens once it ends", () => {
    const t = setup();
    const over = grant({ notBefore: iso(START - 5 * HOUR), notAfter: iso(START - HOUR) });
    expect(t.lock.command(t.sign("grant", over))).toMatchObject({
      error: { code: "E_GRANT_EXPIRED" },
    });
    t.lock.command(t.sign("grant", grant({ grantId: "g-2", notAfter: iso(START + HOUR) })));
    t.lock.advance(HOUR);
    expect(courierOpens(t)).toBe(false);
  });

  it("a grant opens only from its not-before", () => {
    const t = setup();
    t.lock.command(t.sign("grant", grant({ notBefore: iso(START + HOUR) })));
    expect(courierOpens(t)).toBe(false);
    t.lock.advance(HOUR);
    expect(courierOpens(t)).toBe(true);
  });

  it("a grant opens at most its maximum openings", () => {
    const t = setup();
    t.lock.command(t.sign("grant", grant({ maxOpenings: 2 })));
    expect(courierOpens(t)).toBe(true);
    expect(courierOpens(t)).toBe(true);
    expect(courierOpens(t)).toBe(false);
    expect(
      t
        .records()
        .filter((r) => r.kind === "grant.used")
        .map((r) => r.data.openings),
    ).toEqual([1, 2]);
  });

  it("the same grant sent again (the fleet could not know it arrived) is taken once: one record, openings kept", () => {
    const t = setup();
    expect(t.lock.command(t.sign("grant", grant({ maxOpenings: 1 }))).status).toBe("ok");
    expect(courierOpens(t)).toBe(true);
    expect(t.lock.command(t.sign("grant", grant({ maxOpenings: 1 }))).status).toBe("ok");
    expect(courierOpens(t)).toBe(false);
    expect(t.records().filter((r) => r.kind === "grant.installed")).toHaveLength(1);
    // a changed grant under the same id is a new installation
    expect(t.lock.command(t.sign("grant", grant({ maxOpenings: 2 }))).status).toBe("ok");
    expect(t.records().filter((r) => r.kind === "grant.installed")).toHaveLength(2);
    expect(courierOpens(t)).toBe(true);
  });

  it("the openings of a grant survive a restart", () => {
    const t = setup();
    t.lock.command(t.sign("grant", grant({ maxOpenings: 1 })));
    expect(courierOpens(t)).toBe(true);
    t.restart(false);
    t.syncTime();
    expect(courierOpens(t)).toBe(false);
  });

  it("a revoked grant no longer opens and cannot be installed again", () => {
    const t = setup();
    t.lock.command(t.sign("grant", grant()));
    expect(t.lock.command(t.sign("grant.revoke", { grantId: "g-1" })).status).toBe("ok");
    expect(courierOpens(t)).toBe(false);
    expect(t.lock.command(t.sign("grant", grant()))).toMatchObject({
      error: { code: "E_GRANT_REVOKED" },
    });
  });

  it("a grant for another lock is refused", () => {
    const t = setup();
    const result = t.lock.command(t.sign("grant", grant({ locks: ["safe-2"] })));
    expect(result).toMatchObject({ error: { code: "E_WRONG_DEVICE" } });
  });

  it("a grant for a tenant role applies to that tenant's couriers only", () => {
    const t = setup({
      factory: {
        users: [
          { ...USERS.cora },
          { ...USERS.cora, slot: 13, personId: "p-other-cit", tenantId: "cit-y", code: "31427586" },
        ],
      },
    });
    t.lock.command(
      t.sign(
        "grant",
        grant({ persons: undefined, tenantRole: { tenantId: "cit-x", role: "courier" } }),
      ),
    );
    expect(courierOpens(t)).toBe(true);
    t.lock.press("1331427586#");
    t.lock.advance(500);
    expect(t.lock.core.state().bolt).toBe("thrown");
  });

  it("a grant requiring dual control still needs a second person", () => {
    const t = setup();
    t.lock.command(t.sign("grant", grant({ dualControlRequired: true })));
    expect(courierOpens(t)).toBe(false);
    t.lock.press(entry(USERS.cora));
    t.lock.press(entry(USERS.anna));
    t.lock.advance(500);
    expect(t.lock.core.state().bolt).toBe("retracted");
  });

  it("a grant is applied on top of the time delay, never instead of it", () => {
    const t = setup({ policy: { timeDelayMin: 5 } });
    t.lock.command(t.sign("grant", grant()));
    t.lock.press(entry(USERS.cora));
    t.lock.advance(500);
    expect(t.lock.core.state().bolt).toBe("thrown");
    expect(t.display()).toMatch(/^TIME DELAY/);
    t.lock.advance(5 * MINUTE);
    t.lock.press(entry(USERS.cora));
    t.lock.advance(500);
    expect(t.lock.core.state().bolt).toBe("retracted");
  });

  it("a grant is applied on top of the time lock and the penalty", () => {
    const t = setup();
    t.lock.command(t.sign("grant", grant()));
    t.lock.command(t.sign("timeLock.immediate", { minutes: 30 }));
    expect(courierOpens(t)).toBe(false);
    t.lock.advance(30 * MINUTE);
    for (let i = 0; i < 4; i++) t.lock.press("1000000000#");
    expect(courierOpens(t)).toBe(false);
    expect(t.display()).toMatch(/^PENALTY/);
  });
});

describe("grant applicability", () => {
  const courier = { personId: "p-cora", tenantId: "cit-x", role: "courier" as const };
  const stored = (overrides: Partial<AccessGrant> = {}, openings = 0, revoked = false) => ({
    grant: grant(overrides),
    openings,
    revoked,
  });

  it("applies inside [notBefore, notAfter) only", () => {
    expect(grantApplies(stored(), courier, DEVICE, START - 1)).toBe(false);
    expect(grantApplies(stored(), courier, DEVICE, START)).toBe(true);
    expect(grantApplies(stored(), courier, DEVICE, START + 4 * HOUR)).toBe(false);
  });

  it("applies until its maximum openings, never when revoked or for another lock", () => {
    expect(grantApplies(stored({ maxOpenings: 2 }, 1), courier, DEVICE, START)).toBe(true);
    expect(grantApplies(stored({ maxOpenings: 2 }, 2), courier, DEVICE, START)).toBe(false);
    expect(grantApplies(stored({}, 0, true), courier, DEVICE, START)).toBe(false);
    expect(grantApplies(stored(), courier, "safe-2", START)).toBe(false);
  });

  it("applies to its named persons, or to its tenant and role", () => {
    expect(grantApplies(stored(), { ...courier, personId: "p-x" }, DEVICE, START)).toBe(false);
    const byRole = stored({
      persons: undefined,
      tenantRole: { tenantId: "cit-x", role: "courier" },
    });
    expect(grantApplies(byRole, { ...courier, personId: "p-x" }, DEVICE, START)).toBe(true);
    expect(grantApplies(byRole, { ...courier, tenantId: "cit-y" }, DEVICE, START)).toBe(false);
    expect(grantApplies(byRole, { ...courier, role: "service" }, DEVICE, START)).toBe(false);
  });
});
