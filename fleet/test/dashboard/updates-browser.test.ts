/**
 * Software updates on the dashboard, in a real browser (Debian's Chromium driven by
 * playwright-core): a security admin proposes a rollout of a kept release; starting it herself
 * is refused; the second officer starts it, the lock is offered the release, and its progress
 * shows as the lock reports it in its own signed audit records.
 */
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { nodeEd25519, signRelease, toBase64url } from "@lockfleet/protocol";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_ARGS, service } from "../../../test-support/services.js";
import { SimulatedLock } from "../devices/simulated-lock.js";
import { createFixture, type Fixture } from "../fixtures.js";

const browserCheck = service.chromium();

describe.skipIf(!browserCheck.available)(
  `software updates on the dashboard ${browserCheck.reason}`,
  () => {
    let f: Fixture;
    let base: string;
    let browser: Browser;
    let lock: SimulatedLock;

    beforeAll(async () => {
      f = await createFixture();
      await f.app.listen({ port: 0, host: "127.0.0.1" });
      base = `http://127.0.0.1:${(f.app.server.address() as AddressInfo).port}`;
      lock = new SimulatedLock();
      const { token } = f.app.hub.createEnrolmentToken({
        orgId: f.bank.id,
        containerId: f.container.id,
        ttlMs: 60_000,
        createdBy: f.accounts.securityAdmin.person.id,
      });
      lock.accept(await f.app.hub.enrol(lock.enrolmentRequest(token)));
      await lock.connect();
      const target = randomBytes(2048);
      const releaseKey = nodeEd25519.generateKeyPair();
      // The fleet checks releases against the release public keys it is configured with.
      writeFileSync(
        join(f.dataDir, "release-keys.json"),
        JSON.stringify({
          keys: [{ keyId: "release-test", publicKey: toBase64url(releaseKey.publicKey) }],
        }),
      );
      const release = signRelease(
        {
          v: 1,
          type: "release",
          releaseId: "rel-2.0.0",
          version: "2.0.0",
          issuedAt: new Date(Date.now() - 60_000).toISOString(),
          expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
          keyId: "release-test",
          target: {
            name: "lockfleet-2.0.0.tar.gz",
            sha256: createHash("sha256").update(target).digest("hex"),
            length: target.byteLength,
          },
          hardwareProfiles: ["virtual"],
          minimumFromVersion: "0.1.0",
        },
        releaseKey.secretKey,
      );
      const added = await f.app.inject({
        method: "POST",
        url: "/api/v1/updates/releases",
        headers: f.as("securityAdmin"),
        payload: { release },
      });
      expect(added.statusCode).toBe(201);
      const stored = await f.app.inject({
        method: "PUT",
        url: "/api/v1/updates/releases/rel-2.0.0/target",
        headers: { ...f.as("securityAdmin"), "content-type": "application/octet-stream" },
        payload: target,
      });
      expect(stored.statusCode).toBe(200);
      browser = await chromium.launch({ executablePath: browserCheck.path, args: CHROMIUM_ARGS });
    });

    afterAll(async () => {
      await browser?.close();
      await lock?.disconnect().catch(() => undefined);
      await f?.close();
    });

    async function updatesPage(who: "securityAdmin" | "secondOfficer"): Promise<Page> {
      const account = f.accounts[who];
      const page = await (await browser.newContext()).newPage();
      await page.goto(`${base}/`);
      await page.fill("#login input[name=email]", account.email);
      await page.fill("#login input[name=password]", account.password);
      await page.click("#login button[type=submit]");
      await page.click('#nav button[data-view="updates"]');
      await page.waitForSelector("#updates");
      return page;
    }

    it("a rollout proposed on the page starts only with a second officer, and shows each lock's progress", async () => {
      const admin = await updatesPage("securityAdmin");
      expect(await admin.textContent('[data-release-id="rel-2.0.0"]')).toContain("2.0.0");
      // Half of one lock is that lock: the ring widens below without a new lock.
      await admin.fill("#rollout-percentage", "50");
      await admin.click("#rollout-propose button[type=submit]");
      const proposed = '[data-rollout-id][data-status="proposed"]';
      await admin.waitForSelector(proposed);
      const id = (await admin.getAttribute(proposed, "data-rollout-id")) as string;
      await admin.click(`button[data-rollout="${id}"][data-verb="approve"]`);
      await admin.waitForSelector("#updates-answer:has-text('E_SAME_APPROVER')");
      expect(lock.commandsOfType("update.offer")).toEqual([]);
      await admin.context().close();

      const second = await updatesPage("secondOfficer");
      await second.click(`button[data-rollout="${id}"][data-verb="approve"]`);
      await second.waitForSelector(`[data-rollout-id="${id}"][data-status="running"]`);
      await lock.until(() => lock.commandsOfType("update.offer").length === 1, 5000, "offer");
      const data = { releaseId: "rel-2.0.0", version: "2.0.0", running: "0.1.0", rolloutId: id };
      await lock.publishAudit([
        lock.appendAudit("update.offered", data),
        lock.appendAudit("update.downloading", data),
      ]);
      const row = `[data-rollout-id="${id}"] [data-device-id="${lock.deviceId}"]`;
      for (let attempt = 0; attempt < 50; attempt += 1) {
        await second.click('#nav button[data-view="updates"]');
        await second.waitForSelector(row);
        if ((await second.getAttribute(row, "data-status")) === "downloading") break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await second.getAttribute(row, "data-status")).toBe("downloading");
      await second.click(`button[data-rollout="${id}"][data-verb="pause"]`);
      await second.waitForSelector(`[data-rollout-id="${id}"][data-status="paused"]`);
      // Widening the ring is proposed by one officer and approved by another.
      await second.click(`button[data-rollout="${id}"][data-verb="widen"]`);
      await second.waitForSelector(`button[data-rollout="${id}"][data-verb="widen/approve"]`);
      await second.click(`button[data-rollout="${id}"][data-verb="widen/approve"]`);
      await second.waitForSelector("#updates-answer:has-text('E_SAME_APPROVER')");
      await second.context().close();
      const checker = await updatesPage("securityAdmin");
      await checker.click(`button[data-rollout="${id}"][data-verb="widen/approve"]`);
      await checker.waitForSelector(`[data-rollout-id="${id}"] h3:has-text("100 %")`);
      await checker.context().close();
    });
  },
);
