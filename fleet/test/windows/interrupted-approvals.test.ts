/**
 * A fleet that stops between a window's deciding approval and its decision (the two are
 * separate writes) must not leave the window stuck: at the next start the deciding approval is
 * withdrawn on the admin log and its officer approves again. The process-level test that kills
 * the fleet during an approval is simulators/test/faults/fleet-restarts.test.ts; here the state
 * such a kill leaves is written directly, so the rule is shown every time.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { withdrawInterruptedApprovals } from "../../src/windows/interrupted-approvals.js";
import { WindowRepository } from "../../src/windows/window-repository.js";
import { createFixture, type Fixture } from "../fixtures.js";

const MONDAY = Date.parse("2026-11-23T07:00:00.000Z");
// Saturday 10:00–12:00 Berlin: outside the contract's standing window, so two officers decide.
const OUTSIDE = { notBefore: "2026-11-28T09:00:00.000Z", notAfter: "2026-11-28T11:00:00.000Z" };

let f: Fixture;
beforeEach(async () => {
  f = await createFixture({ startAt: MONDAY });
});
afterEach(async () => {
  await f.close();
});

describe("a window's decision interrupted after its deciding approval", () => {
  it("is not left requested with every approval: the deciding one is withdrawn and given again", async () => {
    const requested = await f.app.inject({
      method: "POST",
      url: "/api/v1/windows",
      headers: f.as("citDispatcher"),
      payload: {
        containerId: f.container.id,
        crew: [f.accounts.citCrew.person.id],
        purpose: "ATM refill",
        ...OUTSIDE,
      },
    });
    const windowId = (requested.json() as { id: string }).id;
    const approve = (who: "securityAdmin" | "secondOfficer") =>
      f.app.inject({
        method: "POST",
        url: `/api/v1/windows/${windowId}/approve`,
        headers: f.as(who),
      });
    expect((await approve("securityAdmin")).statusCode).toBe(200);
    // What a kill right after the second approval was stored leaves behind.
    const repository = new WindowRepository(f.app.db);
    repository.addApproval({
      windowId,
      personId: f.accounts.secondOfficer.person.id,
      userId: f.accounts.secondOfficer.user.id,
      role: "securityAdmin",
      at: new Date(MONDAY + 1000).toISOString(),
    });
    const stuck = await approve("secondOfficer");
    expect(stuck.statusCode).toBe(409);
    expect(stuck.json()).toMatchObject({ code: "E_SAME_APPROVER" });

    expect(withdrawInterruptedApprovals(repository, f.app.adminLog)).toBe(1);
    expect(repository.approvals(windowId)).toEqual([f.accounts.securityAdmin.person.id]);
    const logged = f.app.db
      .prepare("SELECT actor, data FROM admin_log WHERE action = 'window.approve.withdrawn'")
      .get() as { actor: string; data: string };
    expect(logged.actor).toBe("system");
    expect(JSON.parse(logged.data)).toMatchObject({ personId: f.accounts.secondOfficer.person.id });

    const decided = await approve("secondOfficer");
    expect(decided.statusCode).toBe(200);
    expect(decided.json()).toMatchObject({ status: "approved", approvedBy: expect.any(Array) });
    expect((decided.json() as { grantId: string | null }).grantId).not.toBeNull();
    // A window that was decided is never touched again.
    expect(withdrawInterruptedApprovals(repository, f.app.adminLog)).toBe(0);
  });
});
