/**
 * A lock's clock on the dashboard, in a real browser (Debian's Chromium driven by
 * playwright-core): the security admin sees the drift the fleet measured and proposes a
 * correction; approving it herself is refused; a branch manager approves, and only then does
 * the signed, confirmed time.set reach the lock.
 */
import type { AddressInfo } from "node:net";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_ARGS, service } from "../../../test-support/services.js";
import { waitFor } from "../devices/helpers.js";
import { SimulatedLock } from "../devices/simulated-lock.js";
import { createFixture, type Fixture } from "../fixtures.js";

const browserCheck = service.chromium();
const MINUTE = 60_000;

describe.skipIf(!browserCheck.available)(
  `lock clock on the dashboard ${browserCheck.reason}`,
  () => {
    let f: Fixture;
    let base: string;
    let browser: Browser;
    let lock: SimulatedLock;

    beforeAll(async () => {
      f = await createFixture();
      await f.app.listen({ port: 0, host: "127.0.0.1" });
      base = `http://127.0.0.1:${(f.app.server.address() as AddressInfo).port}`;
      // 10 min fast, and silent at first: the fleet keeps the drift it measured.
      lock = new SimulatedLock({ clockOffsetMs: 10 * MINUTE, answer: false });
      const { token } = f.app.hub.createEnrolmentToken({
        orgId: f.bank.id,
        containerId: f.container.id,
        ttlMs: 60_000,
        createdBy: f.accounts.securityAdmin.person.id,
      });
      lock.accept(await f.app.hub.enrol(lock.enrolmentRequest(token)));
      f.clock.set(Date.now());
      await lock.connect();
      await waitFor(() => (f.app.hub.device(lock.deviceId)?.clockDriftMs ?? 0) > 9 * MINUTE);
      await lock.until(() => lock.commandsOfType("time.sync").length === 1, 3_000, "time sync");
      // A real lock refuses that sync (beyond its daily bound); this stand-in applied it.
      lock.clockOffsetMs = 10 * MINUTE;
      lock.answer = true;
      browser = await chromium.launch({ executablePath: browserCheck.path, args: CHROMIUM_ARGS });
    });

    afterAll(async () => {
      await browser?.close();
      await lock?.disconnect().catch(() => undefined);
      await f?.close();
    });

    async function manageLock(who: "securityAdmin" | "branchManager"): Promise<Page> {
      const account = f.accounts[who];
      const page = await (await browser.newContext()).newPage();
      await page.goto(`${base}/`);
      await page.fill("#login input[name=email]", account.email);
      await page.fill("#login input[name=password]", account.password);
      await page.click("#login button[type=submit]");
      await page.waitForSelector("#nav button");
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
