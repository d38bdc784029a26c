/**
 * The Locks page's "Since" is when the lock's state began, not when it last reported: the
 * devices API carries the lock time of the newest audit record that changed the state.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertDevice } from "../alarms/fixtures.js";
import { createFixture, type Fixture } from "../fixtures.js";
import { insertAudit } from "../reports/fixtures.js";

let f: Fixture;
const LOCK = "lock-aaaaaaaaaa04";
beforeAll(async () => {
  f = await createFixture();
  insertDevice(f.app.db, { deviceId: LOCK, orgId: f.bank.id, containerId: f.container.id });
  insertAudit(f.app.db, LOCK, "2026-12-01T08:00:00.000Z", "cycle.confirmed", null, {});
  insertAudit(f.app.db, LOCK, "2026-12-01T08:05:00.000Z", "lock.relocked", null, {});
  // bookkeeping and self-tests later on do not change what the lock shows
  insertAudit(f.app.db, LOCK, "2026-12-01T09:00:00.000Z", "audit.acknowledged", null, {});
  insertAudit(f.app.db, LOCK, "2026-12-01T10:00:00.000Z", "selfTest.completed", null, {});
});
afterAll(async () => {
  await f?.close();
});

describe("state since", () => {
  it("a lock's state began at its newest state-changing audit record", async () => {
    const list = await f.app.inject({
      method: "GET",
      url: "/api/v1/devices",
      headers: f.as("branchManager"),
    });
    const lock = list.json().items.find((d: { deviceId: string }) => d.deviceId === LOCK);
    expect(lock.stateSince).toBe("2026-12-01T08:05:00.000Z");
    const one = await f.app.inject({
      method: "GET",
      url: `/api/v1/devices/${LOCK}`,
      headers: f.as("securityAdmin"),
    });
    expect(one.json().stateSince).toBe("2026-12-01T08:05:00.000Z");
  });
});
