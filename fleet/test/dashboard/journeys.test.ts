/**
 * Each role's main journey in Chromium, in German and in English: the control room sees a
 * duress alarm in words, first and unmistakable, and who acknowledged it; a lock's detail
 * page; times in the container's zone with the zone named, or the viewer's; the language
 * follows the browser, is switchable and remembered; a CIT dispatcher requests a window with
 * the crew picked by name and a warning when the crew cannot open the container; a phone
 * (390 px) shows the pages without sideways scrolling of the page.
 */
import type { BrowserContextOptions, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../devices/helpers.js";
import type { SimulatedLock } from "../devices/simulated-lock.js";
import type { Fixture } from "../fixtures.js";
import {
  type BrowserWorld,
  browserCheck,
  open,
  startBrowserWorld,
  viewShown,
} from "./browser-world.js";

type Who = "securityAdmin" | "branchManager" | "citDispatcher" | "auditor";

describe.skipIf(!browserCheck.available)(
  `dashboard journeys in Chromium ${browserCheck.reason}`,
  () => {
    let world: BrowserWorld;
    let f: Fixture;
    let lock: SimulatedLock;

    beforeAll(async () => {
      world = await startBrowserWorld();
      ({ f, lock } = world);
    });

    afterAll(async () => {
      await world?.close();
    });

    function logIn(who: Who, options: BrowserContextOptions = {}): Promise<Page> {
      return world.logIn(who, options);
    }

    it("the control room sees a duress alarm in words, first, in red, with the title flashing; then who acknowledged it", async () => {
      const crew = f.accounts.citCrew.person;
      f.clock.set(Date.now());
      const tamper = f.app.alarms.raise({
        deviceId: lock.deviceId,
        kind: "tamper",
        source: "device",
        at: new Date().toISOString(),
        auditSeq: 20,
      }).alarm;
      const duress = f.app.alarms.raise({
        deviceId: lock.deviceId,
        kind: "forcedUser",
        source: "device",
        at: new Date().toISOString(),
        auditSeq: 21,
        actor: crew.id,
      }).alarm;
      const page = await logIn("securityAdmin");
      await page.click('#nav button[data-view="alarms"]');
      const first = "#open-alarms li:first-child";
      await page.waitForSelector(`${first}[data-kind="forcedUser"]`);
      expect(await page.textContent(`${first} .alarm-text`)).toBe(
        `Duress: ${crew.name} at Hauptstelle, ATM 1`,
      );
      expect(
        await page.getAttribute(`#open-alarms li[data-alarm-id="${tamper.id}"]`, "data-kind"),
      ).toBe("tamper");
      // unmistakable: a red header while a duress alarm is open, and the title flashes
      expect(await page.evaluate('document.body.classList.contains("duress-open")')).toBe(true);
      await expect.poll(() => page.title(), { timeout: 5000 }).toContain("DURESS");
      // the sound can be muted, and stays muted
      await page.click("#alarm-sound");
      expect(await page.textContent("#alarm-sound")).toBe("Sound off");
      expect(await page.evaluate('localStorage.getItem("lockfleet.alarmSoundMuted")')).toBe("true");

      await page.fill(
        `#open-alarms li[data-alarm-id="${duress.id}"] textarea`,
        "police called, crew safe",
      );
      await page.click(`#open-alarms li[data-alarm-id="${duress.id}"] button[type=submit]`);
      const done = `#acknowledged-alarms li[data-alarm-id="${duress.id}"] .acknowledged`;
      await page.waitForSelector(done);
      expect(await page.textContent(done)).toMatch(
        new RegExp(
          `^Acknowledged by ${f.accounts.securityAdmin.person.name} at \\d\\d/\\d\\d/\\d{4}, \\d\\d:\\d\\d:\\d\\d (CET|CEST): police called, crew safe$`,
        ),
      );
      await page.waitForSelector("body:not(.duress-open)", { state: "attached" });
      await page.context().close();
    });

    it("the control room works from the keyboard alone: skip link, sections, acknowledging, with a visible focus ring", async () => {
      f.clock.set(Date.now());
      const alarm = f.app.alarms.raise({
        deviceId: lock.deviceId,
        kind: "doorForcedOpen",
        source: "device",
        at: new Date().toISOString(),
        auditSeq: 50,
      }).alarm;
      const page = await logIn("securityAdmin");
      const focused = () =>
        page.evaluate(`(() => {
          const element = document.activeElement;
          return {
            tag: element?.tagName.toLowerCase(),
            text: element?.textContent?.trim() ?? "",
            view: element?.dataset?.view ?? null,
            name: element?.getAttribute("name"),
            alarm: element?.closest("li")?.dataset.alarmId ?? null,
            ring: getComputedStyle(element).outlineStyle,
          };
        })()`) as Promise<{
          tag: string;
          text: string;
          view: string | null;
          name: string | null;
          alarm: string | null;
          ring: string;
        }>;
      /** Presses Tab until `wanted` holds for the focused element (at most 40 times). */
      const tabTo = async (
        what: string,
        wanted: (f: Awaited<ReturnType<typeof focused>>) => boolean,
      ) => {
        for (let i = 0; i < 40; i++) {
          await page.keyboard.press("Tab");
          const now = await focused();
          if (wanted(now)) return now;
        }
        throw new Error(`Tab never reached ${what}`);
      };
      await page.keyboard.press("Tab");
      expect(await focused()).toMatchObject({ tag: "a", text: "Skip to content" });
      const section = await tabTo("the alarm section", (now) => now.view === "alarms");
      expect(section.ring).not.toBe("none");
      await page.keyboard.press("Enter");
      await viewShown(page, "alarms");
      expect(await focused()).toMatchObject({ tag: "h1", text: "Alarm inbox" });
      await tabTo(
        "the comment of the alarm",
        (now) => now.name === "comment" && now.alarm === alarm.id,
      );
      await page.keyboard.type("forced door checked by the branch");
      const button = await tabTo("its button", () => true);
      expect(button).toMatchObject({ tag: "button", text: "Acknowledge", alarm: alarm.id });
      expect(button.ring).not.toBe("none");
      await page.keyboard.press("Enter");
      await page.waitForSelector(`#acknowledged-alarms li[data-alarm-id="${alarm.id}"]`);
      expect(f.app.alarms.get(alarm.id, { kind: "bank", orgId: f.bank.id }).ackComment).toBe(
        "forced door checked by the branch",
      );
      await page.context().close();
    });

    it("in German the same alarm inbox reads in German", async () => {
      const crew = f.accounts.citCrew.person;
      f.clock.set(Date.now());
      const duress = f.app.alarms.raise({
        deviceId: lock.deviceId,
        kind: "forcedUser",
        source: "device",
        at: new Date().toISOString(),
        auditSeq: 30,
        actor: crew.id,
      }).alarm;
      const page = await logIn("branchManager", { locale: "de-DE" });
      await page.click('#nav button[data-view="alarms"]');
      const item = `li[data-alarm-id="${duress.id}"]`;
      await page.waitForSelector(`#open-alarms ${item}`);
      expect(await page.textContent("#view h1")).toBe("Alarmeingang");
      expect(await page.textContent(`${item} .alarm-text`)).toBe(
        `Überfall (Bedrohungscode): ${crew.name} in Hauptstelle, ATM 1`,
      );
      f.app.alarms.acknowledge(
        duress.id,
        { kind: "bank", orgId: f.bank.id },
        f.accounts.securityAdmin.person.id,
        "Polizei verständigt",
      );
      await page.waitForSelector(`#acknowledged-alarms ${item} .acknowledged`);
      expect(await page.textContent(`#acknowledged-alarms ${item} .acknowledged`)).toMatch(
        new RegExp(
          `^Quittiert von ${f.accounts.securityAdmin.person.name} am \\d\\d\\.\\d\\d\\.\\d{4}, \\d\\d:\\d\\d:\\d\\d MEZ: Polizei verständigt$`,
        ),
      );
      await page.context().close();
    });

    it("the language follows the browser, can be switched and is remembered", async () => {
      const page = await logIn("securityAdmin", { locale: "de-DE" });
      expect(await page.textContent('#nav button[data-view="locks"]')).toBe("Schlösser");
      expect(await page.textContent("#logout")).toBe("Abmelden");
      await page.selectOption("#language", "en");
      await page.waitForSelector('#nav button[data-view="locks"]:text-is("Locks")');
      await page.reload();
      await page.waitForSelector('#nav button[data-view="locks"]:text-is("Locks")');
      expect(await page.evaluate("document.documentElement.lang")).toBe("en");
      await page.context().close();
    });

    it("times show in the container's zone with the zone named, or in the viewer's zone", async () => {
      const page = await logIn("securityAdmin", { timezoneId: "America/New_York" });
      const since = `tr[data-device-id="${lock.deviceId}"] td:nth-child(5)`;
      await page.waitForSelector(since);
      expect(await page.textContent(since)).toMatch(
        /^\d\d\/\d\d\/\d{4}, \d\d:\d\d:\d\d (CET|CEST)$/,
      );
      await page.selectOption("#time-zone", "viewer");
      await page.waitForSelector(`${since}:text-matches("GMT-[45]$")`);
      await page.context().close();
    });

    it("a lock's detail page shows its place, state, firmware, profile, last seen and audit in words", async () => {
      const page = await world.sharedPage("securityAdmin");
      await open(page, "locks");
      await page.click(`a[data-lock-detail="${lock.deviceId}"]`);
      await page.waitForSelector("#lock-detail");
      const facts = (await page.textContent("#lock-detail dl")) ?? "";
      expect(facts).toContain("Hauptstelle");
      expect(facts).toContain("0.1.0-test");
      expect(facts).toContain("test-profile");
      expect(facts).toContain("Europe/Berlin");
      expect(await page.isVisible("#lock-history")).toBe(true);
      expect(await page.isVisible("#lock-recent-audit")).toBe(true);
      expect(page.url()).toContain(`#lock/${lock.deviceId}`);
    });

    it("central release from the lock's page: one officer asks (in German, refusals in German), a second approves, the signed release reaches the lock, its answer is followed live", async () => {
      const asker = await logIn("securityAdmin", { locale: "de-DE" });
      const questions: string[] = [];
      asker.on("dialog", (dialog) => {
        questions.push(dialog.message());
        void dialog.accept();
      });
      await open(asker, `lock/${lock.deviceId}`);
      const form = "#central-release-request";
      await asker.click(`${form} button[type=submit]`);
      expect(await asker.textContent(`${form} .error`)).toBe(
        "Bitte angeben, wozu die zentrale Freigabe nötig ist.",
      );
      expect(questions).toEqual([]);
      await asker.fill(`${form} input[name=reason]`, "Zweite Schlüsselperson krank");
      await asker.fill(`${form} input[name=validMinutes]`, "5");
      await asker.click(`${form} button[type=submit]`);
      const pending = '#central-release tr[data-status="pending"]';
      await asker.waitForSelector(pending);
      expect(questions).toEqual([expect.stringContaining("Zentrale Freigabe für ATM 1")]);
      // the officer who asked is offered no approval of their own, only the withdrawal
      expect(await asker.$(`${pending} button.approve-release`)).toBeNull();
      expect(await asker.textContent(`${pending} button.reject-release`)).toBe("Zurückziehen");
      await asker.fill(`${form} input[name=reason]`, "noch einmal");
      await asker.click(`${form} button[type=submit]`);
      await asker.waitForSelector(`${form} .error:has-text("E_RELEASE_PENDING")`);
      expect(await asker.textContent(`${form} .error`)).toBe(
        "Für dieses Behältnis wartet schon eine zentrale Freigabe auf die zweite Person. (E_RELEASE_PENDING)",
      );
      expect(lock.commandsOfType("remote.centralRelease")).toEqual([]);
      await asker.context().close();

      const checker = await world.logIn("secondOfficer");
      checker.on("dialog", (dialog) => void dialog.accept());
      // the second officer finds it among the approvals and follows it to the lock's page
      await open(checker, "approvals");
      const waiting = "#waiting-central-releases tr[data-release-id] a";
      expect(await checker.textContent(waiting)).toBe("ATM 1");
      await checker.click(waiting);
      await viewShown(checker, `lock/${lock.deviceId}`);
      await checker.click(`${pending} button.approve-release`);
      await checker.waitForSelector('#central-release tr[data-status="confirmed"]');
      expect(await checker.textContent("#central-release-status")).toBe(
        "Central release: approved; the lock holds the release",
      );
      const [sent] = lock.commandsOfType("remote.centralRelease");
      // the lock's answer told again (as after a reconnect) reaches the open page live
      await checker.$eval("#central-release-status", (status) => {
        status.textContent = "";
      });
      const [answer] = lock.results.filter((result) => result.id === sent?.id);
      if (answer !== undefined) f.app.hub.emit("result", lock.deviceId, answer);
      await checker.waitForSelector(
        '#central-release-status:has-text("approved; the lock holds the release")',
      );
      expect(sent?.body).toEqual({
        approvedBy: [f.accounts.securityAdmin.person.id, f.accounts.secondOfficer.person.id],
        reason: "Zweite Schlüsselperson krank",
      });
      await checker.context().close();
    });

    it("a CIT dispatcher picks the crew by name, is warned when it cannot open a dual-control container, and reads errors in words", async () => {
      const page = await logIn("citDispatcher");
      await page.click('#nav button[data-view="requests"]');
      await page.waitForSelector("#request-window");
      const offered = await page.$$eval("#crew-picker input[name=crew]", (inputs) =>
        inputs.map((input) => input.getAttribute("value")),
      );
      expect(offered).toContain(f.accounts.citCrew.person.id);
      expect(offered).not.toContain(f.accounts.citDispatcher.person.id);
      await page.check(`#crew-picker input[value="${f.accounts.citCrew.person.id}"]`);
      expect(await page.textContent("#crew-warning")).toContain("needs 2 people");
      await page.fill("#request-window input[name=notBefore]", "2030-01-02T10:00");
      await page.fill("#request-window input[name=notAfter]", "2030-01-02T09:00");
      await page.fill("#request-window input[name=purpose]", "replenish");
      await page.click("#request-window button[type=submit]");
      expect(await page.textContent("#request-problem")).toBe(
        "The window must end after it starts.",
      );
      await page.fill("#request-window input[name=notAfter]", "2030-01-02T11:00");
      await page.click("#request-window button[type=submit]");
      await page.waitForSelector("tr[data-window-id]");
      const stored = f.app.db
        .prepare("SELECT not_before, crew FROM access_windows ORDER BY requested_at DESC LIMIT 1")
        .get() as { not_before: string; crew: string };
      // 10:00 in Berlin (the container's zone) is 09:00 UTC in January
      expect(stored.not_before).toBe("2030-01-02T09:00:00.000Z");
      expect(JSON.parse(stored.crew)).toEqual([f.accounts.citCrew.person.id]);
      await page.context().close();
    });

    it("the first of two approvals says it is one of two; an unchanged policy is not proposed", async () => {
      const requested = await f.app.inject({
        method: "POST",
        url: "/api/v1/windows",
        headers: f.as("citDispatcher"),
        payload: {
          containerId: f.container.id,
          // a Saturday: outside the contract's standing window, so officers decide
          notBefore: "2030-01-05T09:00:00.000Z",
          notAfter: "2030-01-05T10:00:00.000Z",
          crew: [f.accounts.citCrew.person.id],
          purpose: "weekend replenishment",
        },
      });
      expect(requested.statusCode).toBe(201);
      const windowId = requested.json().id as string;
      const page = await world.sharedPage("securityAdmin");
      await page.click('#nav button[data-view="approvals"]');
      const row = `tr[data-window-id="${windowId}"]`;
      await page.waitForSelector(row);
      await page.click(`${row} button:text-is("Approve")`);
      await page.waitForSelector("#toast:not([hidden])");
      expect(await page.textContent("#toast")).toBe(
        "Your approval is recorded (1 of 2); another officer must approve too",
      );
      await page.waitForSelector(`${row}[data-stage="requested"]`);
      expect(await page.textContent(`${row} .stage`)).toBe("requested (1 of 2 approvals)");

      // the policy form refuses to propose the policy the container already has
      const before = f.app.db.prepare("SELECT count(*) FROM policy_changes").pluck().get();
      await page.selectOption(
        "#propose-policy select[name=containerId]",
        f.uncontractedContainer.id,
      );
      await page.fill("#propose-policy input[name=reason]", "no change really");
      await page.click("#propose-policy button[type=submit]");
      expect(await page.textContent("#policy-problem")).toBe(
        "This is the policy the container has now; change something first.",
      );
      expect(f.app.db.prepare("SELECT count(*) FROM policy_changes").pluck().get()).toBe(before);
    });

    it("the reports page draws openings per day, alarms per branch and CIT windows against the standing windows with uPlot served by the fleet, in English and German", async () => {
      f.clock.set(Date.now());
      const iso = (offsetMs: number) =>
        new Date(Date.now() + offsetMs).toISOString().replace(/\.\d+Z$/, "Z");
      const [someone, other] = [f.accounts.securityAdmin.person.id, f.accounts.citCrew.person.id];
      const records = [
        lock.appendAudit("cycle.confirmed", { openingNumber: 1, persons: [someone, other] }),
        lock.appendAudit("cycle.confirmed", { openingNumber: 2, persons: [someone] }),
      ];
      await lock.publishAudit(records);
      await waitFor(() => f.app.hub.auditRecords(lock.deviceId, 0, 500).length >= records.length);
      const window = await f.app.inject({
        method: "POST",
        url: "/api/v1/windows",
        headers: f.as("citDispatcher"),
        payload: {
          containerId: f.container.id,
          notBefore: new Date(Date.now() + 3_600_000).toISOString(),
          notAfter: new Date(Date.now() + 7_200_000).toISOString(),
          crew: [f.accounts.citCrew.person.id],
          purpose: "replenishment",
        },
      });
      expect(window.statusCode, window.body).toBe(201);
      f.app.alarms.raise({
        deviceId: lock.deviceId,
        kind: "lockJammed",
        source: "device",
        at: new Date().toISOString(),
        auditSeq: 40,
      });
      const alarms = await f.app.inject({
        method: "GET",
        url: `/api/v1/reports/alarms?from=${iso(-86_400_000)}&to=${iso(86_400_000)}`,
        headers: f.as("securityAdmin"),
      });
      const alarmCount = alarms.json().table.rows.length as number;
      expect(alarmCount).toBeGreaterThan(0);

      // a page of its own: the shared one may still be redrawing the approvals of the test before
      const page = await logIn("securityAdmin");
      await open(page, "reports");
      const chart = (id: string) => `#report-charts figure[data-chart="${id}"]`;
      for (const id of ["openings", "alarms", "cit"]) {
        await page.waitForSelector(`${chart(id)} .uplot canvas`);
      }
      /** Per column of a chart's numbers table (after the category), the sum over its rows. */
      const totals = (id: string) =>
        page.$$eval(`${chart(id)} details tbody tr`, (rows) =>
          rows.reduce<number[]>((sums, row) => {
            [...row.querySelectorAll("td")].slice(1).forEach((cell, i) => {
              sums[i] = (sums[i] ?? 0) + Number(cell.textContent);
            });
            return sums;
          }, []),
        );
      expect(await totals("openings")).toEqual([2]);
      expect(await page.textContent(`${chart("alarms")} details tbody tr td:first-child`)).toBe(
        "Hauptstelle",
      );
      expect(await totals("alarms")).toEqual([alarmCount]);
      expect(await totals("cit")).toEqual(window.json().autoApproved ? [1, 0] : [0, 1]);
      expect(await page.textContent(`${chart("openings")} figcaption`)).toBe("Openings per day");
      // the library comes from the fleet itself, like everything else on the page
      const requested = (await page.evaluate(
        'performance.getEntriesByType("resource").map((entry) => entry.name)',
      )) as string[];
      expect(requested.some((url) => url.endsWith("/dashboard/uplot.esm.js"))).toBe(true);
      expect(requested.filter((url) => !url.startsWith(world.base))).toEqual([]);

      await page.selectOption("#language", "de");
      await page.waitForSelector(`${chart("openings")} figcaption:text-is("Öffnungen pro Tag")`);
      await page.waitForSelector(`${chart("alarms")} figcaption:text-is("Alarme pro Filiale")`);
      await page.waitForSelector(`${chart("cit")} .uplot canvas`);
      await page.selectOption("#language", "en");
      await page.context().close();
    });

    it("audit and reports read in words: the admin log names people and says why numbers are missing, the person filter offers names, the lock audit folds its bookkeeping away, a report period is headed by its local days", async () => {
      // admin-log entries of this bank around one of another bank on the same fleet
      for (const [who, name] of [
        ["securityAdmin", "Olga Ordnung"],
        ["bankBAdmin", "Bruno Fremd"],
        ["securityAdmin", "Paul Pünktlich"],
      ] as const) {
        const made = await f.app.inject({
          method: "POST",
          url: "/api/v1/people",
          headers: f.as(who),
          payload: { name },
        });
        expect(made.statusCode, made.body).toBe(201);
      }
      // a CIT dispatcher asking for a window acts in the bank's log too, under their name
      const asked = await f.app.inject({
        method: "POST",
        url: "/api/v1/windows",
        headers: f.as("citDispatcher"),
        payload: {
          containerId: f.container.id,
          notBefore: "2030-02-04T09:00:00.000Z",
          notAfter: "2030-02-04T10:00:00.000Z",
          crew: [f.accounts.citCrew.person.id],
          purpose: "replenishment",
        },
      });
      expect(asked.statusCode, asked.body).toBe(201);
      const page = await world.sharedPage("securityAdmin");
      await open(page, "audit");
      const who = await page.$$eval("#admin-log tbody td:nth-child(3)", (cells) =>
        cells.map((cell) => cell.textContent ?? ""),
      );
      expect(who).toContain(f.accounts.securityAdmin.person.name);
      expect(who).toContain(f.accounts.citDispatcher.person.name);
      expect(who.filter((text) => /^[a-z]{2,8}_[0-9a-f]{16}$/.test(text))).toEqual([]);
      const actions = await page.$$eval("#admin-log tbody td:nth-child(4)", (cells) =>
        cells.map((cell) => cell.textContent ?? ""),
      );
      expect(actions).toContain("Access window requested");
      expect(actions.filter((text) => /^[a-z][A-Za-z]*\.[A-Za-z.]+$/.test(text))).toEqual([]);
      expect(await page.textContent("#admin-log-gaps")).toContain(
        "Entries not shown here belong to other organisations on this fleet",
      );
      const offered = await page.$$eval("#audit-filter select[name=actor] option", (options) =>
        options.map((option) => option.textContent ?? ""),
      );
      expect(offered).toContain("Olga Ordnung");
      expect(offered).not.toContain("Bruno Fremd");
      expect(offered.filter((text) => /_[0-9a-f]{16}$/.test(text))).toEqual([]);

      // the lock's audit in words, its bookkeeping with the fleet folded away
      f.clock.set(Date.now());
      const before = f.app.hub.auditRecords(lock.deviceId, 0, 500).length;
      await lock.publishAudit([
        lock.appendAudit("audit.acknowledged", { acks: 1, upToSeq: 1 }),
        lock.appendAudit("door.opened", {}),
        lock.appendAudit("audit.acknowledged", { acks: 1, upToSeq: 2 }),
      ]);
      await waitFor(() => f.app.hub.auditRecords(lock.deviceId, 0, 500).length >= before + 3);
      await page.click("#audit-filter button[type=submit]");
      await page.waitForSelector("#audit-results tbody tr");
      const kinds = await page.$$eval("#audit-results tbody tr", (rows) =>
        rows.map((row) => row.getAttribute("data-kind")),
      );
      expect(kinds).toContain("door.opened");
      expect(kinds).not.toContain("audit.acknowledged");
      expect(await page.textContent("#audit-folded")).toMatch(
        /^\d+ acknowledgements and checkpoints between lock and fleet are folded away\.$/,
      );
      expect(await page.textContent("#audit-results tbody")).not.toContain("{");

      await open(page, "reports");
      await page.fill("#view input[name=from]", "2026-12-01");
      await page.fill("#view input[name=to]", "2026-12-02");
      await page.click("#report-show");
      await page.waitForSelector("#report-period");
      expect(await page.textContent("#report-period")).toBe(
        "Bank A · 01/12/2026 to 02/12/2026 inclusive (Europe/Berlin)",
      );
    });

    it("a view that finishes loading after the next one was opened does not cover it", async () => {
      const page = await logIn("securityAdmin");
      // the approvals view waits for its proposals until the risk register is drawn
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      await page.route("**/api/v1/proposals?status=pending", async (route) => {
        await held;
        await route.continue();
      });
      await page.evaluate('location.hash = "approvals"');
      await page.waitForSelector('#view[aria-busy="true"]', { state: "attached" });
      await open(page, "risk");
      expect(await page.textContent("#view h1")).toBe("Risk register");
      const late = page.waitForResponse("**/api/v1/proposals?status=pending");
      release();
      await late;
      await expect
        .poll(() => page.textContent("#view h1"), { timeout: 5000 })
        .toBe("Risk register");
      await viewShown(page, "risk");
      expect(await page.textContent("#view h1")).toBe("Risk register");
      await page.context().close();
    });

    it("on a 390 px phone, in English and German, the header stays three short rows, no page scrolls sideways and tables become stacked cards", async () => {
      const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
      for (const [who, views] of [
        [
          "securityAdmin",
          ["locks", `lock/${lock.deviceId}`, "alarms", "approvals", "people", "audit", "reports"],
        ],
        ["citDispatcher", ["containers", "contracts", "requests"]],
      ] as const) {
        const page = await logIn(who, phone);
        for (const language of ["en", "de"] as const) {
          await page.selectOption("#language", language);
          await page.waitForFunction(`document.documentElement.lang === "${language}"`);
          for (const view of views) {
            await open(page, view);
            const sizes = (await page.evaluate(`({
              page: document.documentElement.scrollWidth,
              header: document.querySelector("header")?.getBoundingClientRect().height ?? 0,
              tables: [...document.querySelectorAll(".table-scroll")].filter(
                (box) => box.scrollWidth > box.clientWidth + 1,
              ).length,
            })`)) as { page: number; header: number; tables: number };
            const where = `${language} ${view}`;
            expect(sizes.page, where).toBeLessThanOrEqual(390);
            expect(sizes.header, where).toBeLessThan(130);
            expect(sizes.tables, `${where}: tables wider than their card`).toBe(0);
          }
        }
        await page.context().close();
      }
    });
  },
);
