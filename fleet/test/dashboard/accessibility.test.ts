/**
 * Every page of the dashboard at desktop and phone width: checked with axe-core for WCAG 2.x
 * A/AA (colour contrast included) in English and German, and saved as a screenshot under
 * test-artifacts/dashboard/ (git-ignored) for people to look at.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_ARGS, service } from "../../../test-support/services.js";
import { SimulatedLock } from "../devices/simulated-lock.js";
import { createFixture, type Fixture } from "../fixtures.js";

const browserCheck = service.chromium();
const ARTIFACTS = join(import.meta.dirname, "../../../test-artifacts/dashboard");
const AXE = readFileSync(
  join(dirname(createRequire(import.meta.url).resolve("axe-core")), "axe.min.js"),
  "utf8",
);
const WIDTHS = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } };

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; failureSummary?: string }>;
}

describe.skipIf(!browserCheck.available)(
  `dashboard accessibility and screenshots ${browserCheck.reason}`,
  () => {
    let f: Fixture;
    let base: string;
    let browser: Browser;
    let lock: SimulatedLock;

    beforeAll(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
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
      f.clock.set(Date.now());
      await lock.connect();
      await lock.publishState({});
      f.app.alarms.raise({
        deviceId: lock.deviceId,
        kind: "forcedUser",
        source: "device",
        at: new Date().toISOString(),
        auditSeq: 3,
        actor: f.accounts.citCrew.person.id,
      });
      f.app.alarms.raise({
        deviceId: lock.deviceId,
        kind: "doorAjar",
        source: "device",
        at: new Date().toISOString(),
        auditSeq: 4,
      });
      browser = await chromium.launch({ executablePath: browserCheck.path, args: CHROMIUM_ARGS });
    });

    afterAll(async () => {
      await browser?.close();
      await lock?.disconnect().catch(() => undefined);
      await f?.close();
    });

    async function logIn(
      who: "securityAdmin" | "citDispatcher",
      locale: string,
      viewport: { width: number; height: number },
    ): Promise<Page> {
      // axe is injected as a script of its own: the test lifts the page's CSP for that alone
      const context = await browser.newContext({ locale, viewport, bypassCSP: true });
      const page = await context.newPage();
      await page.goto(`${base}/`);
      await page.fill("#login input[name=email]", f.accounts[who].email);
      await page.fill("#login input[name=password]", f.accounts[who].password);
      await page.click("#login button[type=submit]");
      await page.waitForSelector("#nav button");
      return page;
    }

    async function violations(page: Page): Promise<AxeViolation[]> {
      if (!(await page.evaluate("typeof axe !== 'undefined'")))
        await page.addScriptTag({ content: AXE });
      const result = (await page.evaluate(
        `axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })`,
      )) as { violations: AxeViolation[] };
      return result.violations;
    }

    const readable = (found: AxeViolation[]) =>
      found.map(
        (v) =>
          `${v.id} (${v.impact}): ${v.help} — ${v.nodes
            .slice(0, 3)
            .map((n) => `${n.target.join(" ")}: ${n.failureSummary ?? ""}`)
            .join(" | ")}`,
      );

    it("the check can fail: axe reports grey-on-white text below the AA contrast ratio", async () => {
      const page = await logIn("securityAdmin", "en-GB", WIDTHS.desktop);
      await page.waitForSelector("#view .card");
      await page.evaluate(
        `document.querySelector("#view .card").insertAdjacentHTML("beforeend", '<p id="faint" style="color:#bbb;background:#fff">hard to read</p>')`,
      );
      const found = await violations(page);
      expect(found.map((v) => v.id)).toContain("color-contrast");
      await page.context().close();
    });

    const journeys = {
      securityAdmin: [
        "locks",
        `lock/LOCK`,
        "alarms",
        "approvals",
        "people",
        "audit",
        "reports",
        "risk",
        "setup",
      ],
      citDispatcher: ["containers", "contracts", "requests"],
    } as const;

    for (const [who, views] of Object.entries(journeys) as Array<
      [keyof typeof journeys, readonly string[]]
    >) {
      for (const [width, viewport] of Object.entries(WIDTHS)) {
        for (const locale of ["en-GB", "de-DE"]) {
          it(`${who}, ${width}, ${locale}: every page passes WCAG A/AA and is saved as a screenshot`, async () => {
            const page = await logIn(who, locale, viewport);
            const found: string[] = [];
            for (const view of views) {
              const name = view.replace("LOCK", lock.deviceId);
              await page.evaluate(`location.hash = ${JSON.stringify(name)}`);
              await page.waitForSelector(name.startsWith("lock/") ? "#lock-detail" : "#view .card");
              if (view === "audit") {
                await page.click("#audit-filter button[type=submit]");
                await page.waitForSelector("#audit-results table");
              }
              if (view === "reports") {
                await page.click("#report-show");
                await page.waitForSelector("#report-main");
              }
              await page.waitForLoadState("networkidle");
              for (const v of await violations(page)) found.push(`${name}: ${readable([v])[0]}`);
              await page.screenshot({
                path: join(ARTIFACTS, `${who}-${name.replace("/", "-")}-${width}-${locale}.png`),
                fullPage: true,
              });
            }
            expect(found).toEqual([]);
            await page.context().close();
          });
        }
      }
    }
  },
);
