/**
 * A fresh bank set up in the browser, in German: the first-run guide leads from the first
 * branch to the first enrolled lock; branches, containers with their policy, CIT companies,
 * contracts, accounts, enrolment tokens, the risk register and the admin-log verification are
 * screens, not curl commands.
 */
import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_ARGS, service } from "../../../test-support/services.js";
import { createEnabledAccount } from "../../src/auth/bootstrap.js";
import { SimulatedLock } from "../devices/simulated-lock.js";
import { createFixture, FIXTURE_PASSWORD, type Fixture, TEST_SCRYPT } from "../fixtures.js";

const browserCheck = service.chromium();

describe.skipIf(!browserCheck.available)(
  `setting up a bank in Chromium ${browserCheck.reason}`,
  () => {
    let f: Fixture;
    let base: string;
    let browser: Browser;
    let page: Page;
    let bankId: string;
    const email = "ada@empty-bank.example";
    const lock = new SimulatedLock();

    beforeAll(async () => {
      f = await createFixture();
      await f.app.listen({ port: 0, host: "127.0.0.1" });
      base = `http://127.0.0.1:${(f.app.server.address() as AddressInfo).port}`;
      const bank = f.app.repos.orgs.createOrg({ kind: "bank", name: "Leere Bank" });
      bankId = bank.id;
      await createEnabledAccount(f.app.repos, {
        orgId: bank.id,
        name: "Ada Admin",
        role: "securityAdmin",
        email,
        password: FIXTURE_PASSWORD,
        now: f.clock.now(),
        passwordHashing: TEST_SCRYPT,
      });
      browser = await chromium.launch({ executablePath: browserCheck.path, args: CHROMIUM_ARGS });
      page = await (await browser.newContext({ locale: "de-DE" })).newPage();
      page.on("dialog", (dialog) => dialog.accept());
      page.setDefaultTimeout(8000);
      await page.goto(`${base}/`);
      await page.fill("#login input[name=email]", email);
      await page.fill("#login input[name=password]", FIXTURE_PASSWORD);
      await page.click("#login button[type=submit]");
    });

    afterAll(async () => {
      await browser?.close();
      await lock.disconnect().catch(() => undefined);
      await f?.close();
    });

    const nextStep = () => page.getAttribute("#first-run li[data-next=true]", "data-done");
    const stepIndex = () =>
      page.$$eval("#first-run li", (items) =>
        items.findIndex((item) => item.getAttribute("data-next") === "true"),
      );

    it("an empty bank opens on the first-run guide, in German", async () => {
      await page.waitForSelector("#first-run");
      expect(await page.textContent("#first-run h1")).toBe("Erste Schritte");
      expect(await stepIndex()).toBe(0);
      expect(await nextStep()).toBe("false");
    });

    it("the first branch, with its time zone and address", async () => {
      await page.fill("#create-branch input[name=name]", "Filiale Marienplatz");
      await page.selectOption("#create-branch select[name=timeZone]", "Europe/Berlin");
      await page.fill("#create-branch input[name=address]", "Marienplatz 1, 80331 München");
      await page.click("#create-branch button[type=submit]");
      await page.waitForSelector('#setup-branches tr:has-text("Filiale Marienplatz")');
      expect(await stepIndex()).toBe(1);
      const stored = f.app.db
        .prepare("SELECT time_zone, address FROM branches WHERE org_id = ?")
        .get(bankId);
      expect(stored).toEqual({
        time_zone: "Europe/Berlin",
        address: "Marienplatz 1, 80331 München",
      });
    });

    it("a container with its policy; a missing name is said in words before anything is sent", async () => {
      await page.click("#create-container button[type=submit]");
      expect(await page.textContent("#create-container .error")).toBe(
        "Bitte dem Behältnis einen Namen geben.",
      );
      await page.fill("#create-container input[name=name]", "Tresor");
      await page.selectOption("#create-container select[name=type]", "safe");
      await page.fill("#create-container input[name=timeDelayMin]", "15");
      await page.click("#create-container button[type=submit]");
      await page.waitForSelector('#setup-containers tr:has-text("Tresor")');
      expect(await stepIndex()).toBe(2);
      const container = f.app.db
        .prepare("SELECT id, policy FROM containers WHERE org_id = ?")
        .get(bankId) as { id: string; policy: string };
      // a longer delay strengthens the lock: applied without a second officer
      expect(JSON.parse(container.policy).timeDelayMin).toBe(15);
    });

    it("a CIT company, a contract with a standing route window, and an account with a password shown once", async () => {
      await page.fill("#create-company input[name=name]", "Sicher Transport GmbH");
      await page.click("#create-company button[type=submit]");
      await page.waitForSelector('#setup-companies tr:has-text("Sicher Transport GmbH")');
      await page.fill("#create-contract input[name=name]", "Tour Süd");
      await page.check("#create-contract input[name=containerIds]");
      await page.click("#create-contract button[type=submit]");
      await page.waitForSelector('#setup-contracts tr:has-text("Tour Süd")');
      expect(await page.textContent('#setup-contracts tr:has-text("Tour Süd")')).toContain(
        "Mo, Di, Mi, Do, Fr 06:00–20:00",
      );

      const person = await f.app.inject({
        method: "POST",
        url: "/api/v1/people",
        headers: {
          cookie: (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; "),
        },
        payload: { name: "Bernd Filialleiter" },
      });
      expect(person.statusCode).toBe(201);
      await page.reload();
      await page.waitForSelector("#create-account");
      await page.selectOption("#create-account select[name=personId]", person.json().id);
      await page.selectOption("#create-account select[name=role]", "branchManager");
      await page.selectOption("#create-account select[name=branchIds]", { index: 0 });
      await page.fill("#create-account input[name=email]", "bernd@empty-bank.example");
      await page.click("#create-account button[type=submit]");
      // A branch manager's account has power: it waits for a second officer, who receives the
      // generated password on approval (the proposer never sees it).
      await page.waitForSelector("#account-password:has-text('Freigaben')");
      expect(await page.$("#account-password code.token")).toBeNull();
    });

    it("an enrolment token for the technician; once the lock enrols, the guide is done", async () => {
      await page.click("#setup-enrolment-form button[type=submit]");
      const token = (await page.textContent("#setup-enrolment-token code.token")) ?? "";
      expect(
        f.app.db
          .prepare("SELECT count(*) FROM enrolment_tokens WHERE token_hash = ?")
          .pluck()
          .get(createHash("sha256").update(token).digest("hex")),
      ).toBe(1);
      lock.accept(await f.app.hub.enrol(lock.enrolmentRequest(token)));
      await page.reload();
      await page.waitForSelector("#nav button");
      await page.evaluate('location.hash = "setup"');
      await page.waitForSelector("#setup-branches");
      expect(await page.$("#first-run")).toBeNull();
    });

    it("the admin log verifies as an intact chain and the risk register opens", async () => {
      await page.evaluate('location.hash = "audit"');
      await page.click("#admin-log-verify");
      await page.waitForSelector("#admin-log-verdict.ok");
      expect(await page.textContent("#admin-log-verdict")).toMatch(
        /^Die Kette ist unversehrt: \d+ Einträge/,
      );
      await page.evaluate('location.hash = "risk"');
      await page.waitForSelector("#risk-register");
      expect(await page.textContent("#risk-register h1")).toBe("Risikoregister");
    });
  },
);
