/**
 * A lock's clock on the dashboard, in a real browser (Debian's Chromium driven by
 * playwright-core): the security admin sees the drift the fleet measured and proposes a
 * correction; approving it herself is refused; a branch manager approves, and only then does
 * the signed, confirmed time.set reach the lock.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../devices/helpers.js";
import type { SimulatedLock } from "../devices/simulated-lock.js";
import type { Fixture } from "../fixtures.js";
import { type BrowserWorld, browserCheck, startBrowserWorld } from "./browser-world.js";

const MINUTE = 60_000;

describe.skipIf(!browserCheck.available)(
  `lock clock on the dashboard ${browserCheck.reason}`,
  () => {
    let world: BrowserWorld;
    let f: Fixture;
    let lock: SimulatedLock;

    beforeAll(async () => {
      // 10 min fast, and silent at first: the fleet keeps the drift it measured.
      world = await startBrowserWorld({
        lock: { clockOffsetMs: 10 * MINUTE, answer: false },
        prepare: async (fixture, device) => {
          await waitFor(
            () => (fixture.app.hub.device(device.deviceId)?.clockDriftMs ?? 0) > 9 * MINUTE,
          );
          await device.until(
            () => device.commandsOfType("time.sync").length === 1,
            3_000,
            "time sync",
          );
          // A real lock refuses that sync (beyond its daily bound); this stand-in applied it.
          device.clockOffsetMs = 10 * MINUTE;
          device.answer = true;
        },
      });
      ({ f, lock } = world);
    });

    afterAll(async () => {
      await world?.close();
    });

    async function manageLock(who: "securityAdmin" | "branchManager"): Promise<Page> {
      const page = await world.logIn(who);
      await page.click(`button[data-manage="${f.container.id}"]`);
      await page.waitForSelector("#lock-clock");
      return page;
    }

    it("a clock correction proposed on the page goes out only after a second officer approves it", async () => {
      const admin = await manageLock("securityAdmin");
      expect(await admin.textContent("#lock-clock")).toMatch(/Clock 60\d s fast/);
      await admin.fill("#propose-clock-correction input[name=reason]", "clock ten minutes fast");
      await admin.click("#propose-clock-correction button[type=submit]");
      const pending = '#clock-corrections [data-status="pending"]';
      await admin.waitForSelector(pending);
      const id = (await admin.getAttribute(pending, "data-correction-id")) as string;
      await admin.click(`button[data-approve-correction="${id}"]`);
      await admin.waitForSelector("#toast:has-text('E_SAME_APPROVER')");
      expect(lock.commandsOfType("time.set")).toEqual([]);
      await admin.context().close();

      const manager = await manageLock("branchManager");
      await manager.waitForSelector(`button[data-approve-correction="${id}"]`);
      expect(await manager.$(`button[data-reject-correction="${id}"]`)).toBeNull();
      await manager.click(`button[data-approve-correction="${id}"]`);
      await manager.waitForSelector(`[data-correction-id="${id}"][data-status="applied"]`);
      const [sent] = lock.commandsOfType("time.set");
      expect(sent?.body).toMatchObject({
        approvedBy: [f.accounts.securityAdmin.person.id, f.accounts.branchManager.person.id],
        reason: "clock ten minutes fast",
      });
      await manager.context().close();
    });
  },
);
