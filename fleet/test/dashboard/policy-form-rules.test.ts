/**
 * What the dashboard's policy form relies on in the API: a proposal that changes nothing is
 * refused (it would otherwise be signed, pushed to the lock and logged as applied), and one
 * without a reason is refused as the form refuses it (the admin log records who and why).
 */
import { DEFAULT_LOCK_POLICY } from "@lockfleet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixture, type Fixture } from "../fixtures.js";

let f: Fixture;
beforeAll(async () => {
  f = await createFixture();
});
afterAll(async () => {
  await f?.close();
});

describe("policy change rules", () => {
  it("an empty policy change (no difference) is refused with E_POLICY_UNCHANGED and nothing is logged", async () => {
    const before = f.app.db.prepare("SELECT count(*) FROM policy_changes").pluck().get();
    const response = await f.app.inject({
      method: "POST",
      url: "/api/v1/policy-changes",
      headers: f.as("securityAdmin"),
      payload: {
        containerId: f.container.id,
        kind: "policy",
        policy: { ...DEFAULT_LOCK_POLICY },
        reason: "nothing really",
      },
    });
    expect(response.statusCode).toBe(409);
    expect(response.json().code).toBe("E_POLICY_UNCHANGED");
    expect(f.app.db.prepare("SELECT count(*) FROM policy_changes").pluck().get()).toBe(before);
  });

  it("a change without a reason, or with a blank one, is refused with E_REASON_REQUIRED and nothing is sent", async () => {
    const count = () => f.app.db.prepare("SELECT count(*) FROM policy_changes").pluck().get();
    const before = count();
    const stronger = { ...DEFAULT_LOCK_POLICY, timeDelayMin: DEFAULT_LOCK_POLICY.timeDelayMin + 1 };
    const bodies = [
      { containerId: f.container.id, kind: "policy", policy: stronger },
      { containerId: f.container.id, kind: "policy", policy: stronger, reason: "   " },
      { containerId: f.container.id, kind: "holidays", holidays: [] },
    ];
    for (const payload of bodies) {
      const response = await f.app.inject({
        method: "POST",
        url: "/api/v1/policy-changes",
        headers: f.as("securityAdmin"),
        payload,
      });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().code).toBe("E_REASON_REQUIRED");
    }
    expect(count()).toBe(before);
  });

  it("a real change is still accepted", async () => {
    const response = await f.app.inject({
      method: "POST",
      url: "/api/v1/policy-changes",
      headers: f.as("securityAdmin"),
      payload: {
        containerId: f.container.id,
        kind: "policy",
        policy: { ...DEFAULT_LOCK_POLICY, timeDelayMin: DEFAULT_LOCK_POLICY.timeDelayMin + 5 },
        reason: "longer delay after an incident",
      },
    });
    expect(response.statusCode).toBeLessThan(300);
    // the admin log says why
    const logged = f.app.db
      .prepare("SELECT data FROM admin_log WHERE action = 'policy.propose' ORDER BY seq DESC")
      .pluck()
      .get() as string;
    expect(JSON.parse(logged).reason).toBe("longer delay after an incident");
  });
});
