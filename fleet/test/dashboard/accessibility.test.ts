/**
 * Every page of the dashboard at desktop and phone width: checked with axe-core for WCAG 2.x
 * A/AA (colour contrast included) in English and German, and saved as a screenshot under
 * test-artifacts/dashboard/ (git-ignored) for people to look at.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ARTIFACTS,
  type BrowserWorld,
  browserCheck,
  open,
  startBrowserWorld,
  viewShown,
  WIDTHS,
} from "./browser-world.js";

const AXE = readFileSync(
  join(dirname(createRequire(import.meta.url).resolve("axe-core")), "axe.min.js"),
  "utf8",
);

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; failureSummary?: string }>;
}

describe.skipIf(!browserCheck.available)(
  `dashboard accessibility and screenshots ${browserCheck.reason}`,
  () => {
    let world: BrowserWorld;

    beforeAll(async () => {
      world = await startBrowserWorld();
      const { f, lock } = world;
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
    });

    afterAll(async () => {
      await world?.close();
    });

    function logIn(
      who: "securityAdmin" | "citDispatcher",
      locale: string,
      viewport: { width: number; height: number },
    ): Promise<Page> {
      // axe is injected as a script of its own: the test lifts the page's CSP for that alone
      return world.logIn(who, { locale, viewport, bypassCSP: true });
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

    /** The page's language, switched in its header (and remembered, as a person would). */
    async function speak(page: Page, language: "en" | "de"): Promise<void> {
      if ((await page.evaluate("document.documentElement.lang")) === language) return;
      await page.selectOption("#language", language);
      await page.waitForFunction(`document.documentElement.lang === "${language}"`);
      await viewShown(page);
    }

    // One logged-in page per role and width walks every view in English, then in German.
    for (const [who, views] of Object.entries(journeys) as Array<
      [keyof typeof journeys, readonly string[]]
    >) {
      for (const [width, viewport] of Object.entries(WIDTHS)) {
        it(`${who}, ${width}: every page passes WCAG A/AA in English and German and is saved as a screenshot`, async () => {
          const page = await logIn(who, "en-GB", viewport);
          const found: string[] = [];
          for (const [language, locale] of [
            ["en", "en-GB"],
            ["de", "de-DE"],
          ] as const) {
            await speak(page, language);
            for (const view of views) {
              const name = view.replace("LOCK", world.lock.deviceId);
              await open(page, name);
              if (view === "audit") {
                await page.click("#audit-filter button[type=submit]");
                await page.waitForSelector("#audit-results table");
              }
              if (view === "reports") {
                await page.click("#report-show");
                await page.waitForSelector("#report-main");
              }
              for (const v of await violations(page)) {
                found.push(`${language} ${name}: ${readable([v])[0]}`);
              }
              await page.screenshot({
                path: join(ARTIFACTS, `${who}-${name.replace("/", "-")}-${width}-${locale}.png`),
                fullPage: true,
              });
            }
          }
          expect(found).toEqual([]);
          await page.context().close();
        });
      }
    }
  },
);
