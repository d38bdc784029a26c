/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core; no browser is
 * ever downloaded): a bank security admin watches a lock change state live as the lock
 * publishes over MQTT, acknowledges an alarm with a comment, reads and downloads a report, manages
 * a person and their rights, proposes a weakening policy change that a second officer approves,
 * blocks and unblocks a lock and creates an enrolment token, has a fast lock's clock corrected
 * only after a second officer approves; a CIT
 * dispatcher sees only the containers of their contract.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Dialog, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../devices/helpers.js";
import type { SimulatedLock } from "../devices/simulated-lock.js";
import type { Fixture } from "../fixtures.js";
import { type BrowserWorld, browserCheck, open, startBrowserWorld } from "./browser-world.js";

const MINUTE = 60_000;

describe.skipIf(!browserCheck.available)(`dashboard in Chromium ${browserCheck.reason}`, () => {
  let world: BrowserWorld;
  let f: Fixture;
  let lock: SimulatedLock;
  let alarmId: string;
  const cspViolations: string[] = [];

  beforeAll(async () => {
    world = await startBrowserWorld();
    ({ f, lock } = world);
    alarmId = f.app.alarms.raise({
      deviceId: lock.deviceId,
      kind: "doorAjar",
      source: "device",
      at: new Date().toISOString(),
      auditSeq: 1,
    }).alarm.id;
  });

  afterAll(async () => {
    await world?.close();
  });

  const publishState = (overrides: Parameters<SimulatedLock["publishState"]>[0] = {}) =>
    world.publishState(overrides);

  async function logIn(
    who: "securityAdmin" | "secondOfficer" | "bankBAdmin" | "branchManager" | "citDispatcher",
    options: { viaForm?: boolean; live?: boolean } = {},
  ): Promise<Page> {
    const page = await world.logIn(who, { acceptDownloads: true, ...options });
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    return page;
  }

  let cspWatched: Page | undefined;
  /** The security admin's page kept across the tests that need no fresh browser state. */
  async function adminPage(): Promise<Page> {
    const page = await world.sharedPage("securityAdmin");
    if (cspWatched !== page) {
      cspWatched = page;
      page.on("console", (message) => {
        if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
      });
    }
    return page;
  }

  it("the security admin sees the lock's state change live when the lock publishes a new state", async () => {
    // the one test that types into the log-in form; the others reuse the fixture's sessions
    const page = await logIn("securityAdmin", { viaForm: true, live: true });
    expect(await page.textContent("#who")).toContain("Security admin");
    const pill = `tr[data-device-id="${lock.deviceId}"] .lock-state`;
    await page.waitForSelector(pill);
    // the open doorAjar alarm shows first; once acknowledged the lock's own state shows
    expect(await page.getAttribute(pill, "data-state")).toBe("alarm");
    f.app.alarms.acknowledge(
      alarmId,
      { kind: "bank", orgId: f.bank.id },
      f.accounts.securityAdmin.person.id,
      "seen",
    );
    await page.waitForSelector(`${pill}[data-state="locked"]`);
    const delayEndsAt = new Date(Date.now() + 5 * 60_000).toISOString();
    await publishState({
      cycle: { phase: "delay", codesRequired: 2, codesGiven: 2, delayEndsAt },
    });
    await page.waitForSelector(`${pill}[data-state="delay"]`);
    expect(await page.textContent(`${pill} .countdown`)).toMatch(/^[45]:\d\d$/);
    await publishState({
      bolt: "retracted",
      door: "open",
      cycle: { phase: "open", codesRequired: 2, codesGiven: 2 },
    });
    await page.waitForSelector(`${pill}[data-state="open"]`);
    await page.context().close();
  });

  it("the security admin acknowledges an alarm with a comment", async () => {
    const raised = f.app.alarms.raise({
      deviceId: lock.deviceId,
      kind: "tamper",
      source: "device",
      at: new Date().toISOString(),
      auditSeq: 2,
    }).alarm;
    const page = await adminPage();
    await open(page, "alarms");
    const item = `#open-alarms li[data-alarm-id="${raised.id}"]`;
    await page.waitForSelector(item);
    await page.click(`${item} button[type=submit]`);
    // the browser refuses an empty comment (required); nothing is acknowledged
    expect(f.app.alarms.get(raised.id, { kind: "bank", orgId: f.bank.id }).status).toBe("open");
    await page.fill(`${item} textarea[name=comment]`, "housing checked on site, no intrusion");
    await page.click(`${item} button[type=submit]`);
    await page.waitForSelector(`#acknowledged-alarms li[data-alarm-id="${raised.id}"]`);
    const stored = f.app.alarms.get(raised.id, { kind: "bank", orgId: f.bank.id });
    expect(stored).toMatchObject({
      status: "acknowledged",
      acknowledgedBy: f.accounts.securityAdmin.person.id,
      ackComment: "housing checked on site, no intrusion",
    });
  });

  it("the security admin downloads a CSV report and reads it on the page", async () => {
    const page = await adminPage();
    await open(page, "reports");
    await page.selectOption("#report-kind", "alarms");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.click("#report-csv"),
    ]);
    expect(download.suggestedFilename()).toMatch(/^alarms_.*\.csv$/);
    const csv = readFileSync(await download.path(), "utf8");
    expect(csv.split("\r\n")[0]).toBe(
      "Raised,Alarm,Priority,Container,Lock,Occurrences,Escalation,Status,Acknowledged,By,Comment",
    );
    expect(csv).toContain("housing checked on site, no intrusion");
    // The same report on the page: its summaries and its rows.
    await page.click("#report-show");
    await page.waitForSelector("#report-main td");
    expect(await page.textContent("#report-main")).toContain(
      "housing checked on site, no intrusion",
    );
    expect(await page.$$eval("#report-view h2", (titles) => titles.length)).toBeGreaterThan(1);
  });

  it("a bank with a single security officer sees that it runs without dual control", async () => {
    const page = await logIn("bankBAdmin");
    await page.waitForSelector("#no-dual-control:not([hidden])");
    expect(await page.textContent("#no-dual-control")).toContain("without dual control");
    await page.context().close();
  });

  it("the security admin adds a person, identifies and enables them, gives and removes a right", async () => {
    const page = await logIn("securityAdmin");
    page.on("dialog", (dialog) => dialog.accept());
    await page.click('#nav button[data-view="people"]');
    await page.fill("#add-person input[name=name]", "Eva Example");
    await page.click("#add-person button[type=submit]");
    const row = 'tr:has(td:text-is("Eva Example"))';
    await page.waitForSelector(`${row}[data-status="registered"]`);
    const personId = (await page.getAttribute(row, "data-person-id")) as string;
    await page.selectOption(`${row} select[name=documentType]`, "passport");
    await page.click(`${row} button[data-identify]`);
    await page.waitForSelector(`${row}[data-status="identified"]`);
    await page.click(`${row} button[data-enable]`);
    await page.waitForSelector("#toast:has-text('second officer')");
    // The bank has two officers: no banner. The second one approves the enabling.
    expect(await page.isHidden("#no-dual-control")).toBe(true);
    const checker = await logIn("secondOfficer");
    const approveFirst = async (kind: string) => {
      await checker.click('#nav button[data-view="approvals"]');
      const proposal = `#proposals tr[data-kind="${kind}"] button[data-approve-proposal]`;
      await checker.waitForSelector(proposal);
      await checker.click(proposal);
      await checker.waitForSelector("#toast:has-text('took effect')");
    };
    await approveFirst("person.enable");
    await page.click('#nav button[data-view="people"]');
    await page.waitForSelector(`${row}[data-status="enabled"]`);
    await page.click(`${row} button:text-is("Rights")`);

    // The rights panel of the person stays open across the redraws.
    await page.waitForSelector("#grant-right");
    await page.selectOption("#grant-right select[name=containerIds]", [f.container.id]);
    await page.selectOption("#grant-right select[name=role]", "user");
    await page.click("#grant-right button[type=submit]");
    await page.waitForSelector("#toast:has-text('second officer')");
    await approveFirst("right.grant");
    await checker.context().close();
    await page.click('#nav button[data-view="people"]');
    await page.click(`${row} button:text-is("Rights")`);
    await page.waitForSelector("#rights tr[data-right-id] button[data-remove-right]");
    // the initial code waits as a PIN letter: shown once, on demand, then gone
    await page.click("#rights button[data-pin-letter]");
    await page.waitForSelector("#pin-letter:not([hidden])");
    expect(await page.textContent("#pin-letter")).toContain("CHANGE AT FIRST USE");
    expect(
      f.app.db
        .prepare("SELECT count(*) FROM pin_letters WHERE person_id = ? AND sealed_code IS NOT NULL")
        .pluck()
        .get(personId),
    ).toBe(0);
    const stored = f.app.db
      .prepare("SELECT id, role FROM lock_rights WHERE person_id = ? AND removed_at IS NULL")
      .all(personId) as Array<{ id: string; role: string }>;
    expect(stored.map((right) => right.role)).toEqual(["user"]);
    expect(
      f.app.db
        .prepare("SELECT identified_by, document_type FROM people WHERE id = ?")
        .get(personId),
    ).toEqual({
      identified_by: f.accounts.securityAdmin.person.id,
      document_type: "passport",
    });

    await page.click("#rights button[data-remove-right]");
    await page.waitForSelector("#rights button[data-remove-right]", { state: "detached" });
    expect(
      f.app.db
        .prepare("SELECT count(*) FROM lock_rights WHERE person_id = ? AND removed_at IS NULL")
        .pluck()
        .get(personId),
    ).toBe(0);

    await page.click(`${row} button[data-delete]`);
    // Deleted: gone from the list, or shown as deleted.
    await page.waitForSelector(`tr[data-person-id="${personId}"]:not([data-status="deleted"])`, {
      state: "detached",
    });
    expect(
      f.app.db.prepare("SELECT deleted_at FROM people WHERE id = ?").pluck().get(personId),
    ).not.toBeNull();
    await page.context().close();
  });

  it("a weakening policy change proposed on the page goes out only after a second officer approves it", async () => {
    const admin = await logIn("securityAdmin");
    await admin.click('#nav button[data-view="approvals"]');
    await admin.waitForSelector("#propose-policy");
    await admin.selectOption("#propose-policy select[name=containerId]", f.container.id);
    await admin.selectOption("#propose-policy select[name=dualControl]", "single");
    await admin.fill("#propose-policy input[name=reason]", "branch staffed by one person");
    await admin.click("#propose-policy button[type=submit]");
    await admin.waitForSelector('#policy-changes tr[data-status="pending"]');
    const changeId = (await admin.getAttribute(
      '#policy-changes tr[data-status="pending"]',
      "data-change-id",
    )) as string;
    expect(await admin.textContent(`tr[data-change-id="${changeId}"]`)).toContain(
      "awaiting approval (1/2)",
    );
    // The proposer approving again does not count.
    await admin.click(`button[data-approve-change="${changeId}"]`);
    await admin.waitForSelector("#toast:has-text('E_SAME_APPROVER')");
    await admin.context().close();

    const manager = await logIn("branchManager");
    await manager.click('#nav button[data-view="approvals"]');
    await manager.click(`button[data-approve-change="${changeId}"]`);
    await manager.waitForSelector(`tr[data-change-id="${changeId}"]:not([data-status="pending"])`);
    const stored = f.app.db
      .prepare("SELECT status FROM policy_changes WHERE id = ?")
      .pluck()
      .get(changeId);
    expect(["sent", "applied"]).toContain(stored);
    await manager.context().close();
  });

  it("the security admin blocks a lock from the Locks page and creates an enrolment token", async () => {
    const page = await adminPage();
    await open(page, "locks");
    const questions: string[] = [];
    const answer = (dialog: Dialog) => {
      questions.push(dialog.message());
      void dialog.accept();
    };
    page.on("dialog", answer);
    await page.click(`button[data-manage="${f.container.id}"]`);
    // on a lock that is not blocked, "Unblock" is not the main button
    expect(await page.getAttribute("#lock-unblock", "class")).toBe("secondary");
    await page.fill("#lock-block input[name=reason]", "suspicious activity at the branch");
    await page.click("#lock-block button[type=submit]");
    await page.waitForSelector("#command-answer:has-text('Block: done')");
    // blocking asks first, naming the container
    expect(questions).toEqual([expect.stringContaining(f.container.name)]);
    const blocks = lock.commandsOfType("remote.block");
    expect(blocks.at(-1)?.body).toEqual({ reason: "suspicious activity at the branch" });
    await page.click("#lock-unblock");
    await page.waitForSelector("#command-answer:has-text('Unblock: done')");

    await page.click("#create-enrolment-token button[type=submit]");
    const token = (await page.textContent("#enrolment-token code.token")) as string;
    expect(token.length).toBeGreaterThanOrEqual(16);
    const stored = f.app.db
      .prepare("SELECT container_id FROM enrolment_tokens WHERE token_hash = ?")
      .pluck()
      .get(createHash("sha256").update(token).digest("hex"));
    expect(stored).toBe(f.container.id);
    page.off("dialog", answer);
  });

  it("a CIT dispatcher sees only the containers of their contract", async () => {
    const page = await logIn("citDispatcher");
    expect(await page.textContent("#who")).toContain("CIT dispatcher");
    await page.waitForSelector("tr[data-container-id]");
    const shown = await page.$$eval("tr[data-container-id]", (rows) =>
      rows.map((row) => row.getAttribute("data-container-id")),
    );
    expect(shown).toEqual([f.container.id]);
    const navigation = await page.$$eval("#nav button", (buttons) =>
      buttons.map((b) => b.getAttribute("data-view")),
    );
    expect(navigation).toEqual(["containers", "contracts", "requests"]);
    await page.click('#nav button[data-view="contracts"]');
    await page.waitForSelector("text=Route North");
    await page.context().close();
  });

  it("a clock correction proposed on the page goes out only after a second officer approves it", async () => {
    // a second lock, 10 min fast and silent at first: the fleet keeps the drift it measured
    const fast = await world.enrolLock(f.uncontractedContainer.id, {
      clockOffsetMs: 10 * MINUTE,
      answer: false,
    });
    await waitFor(() => (f.app.hub.device(fast.deviceId)?.clockDriftMs ?? 0) > 9 * MINUTE);
    await fast.until(() => fast.commandsOfType("time.sync").length === 1, 3_000, "time sync");
    // A real lock refuses that sync (beyond its daily bound); this stand-in applied it.
    fast.clockOffsetMs = 10 * MINUTE;
    fast.answer = true;
    const manageLock = async (who: "securityAdmin" | "branchManager") => {
      const page = await logIn(who);
      await page.click(`button[data-manage="${f.uncontractedContainer.id}"]`);
      await page.waitForSelector("#lock-clock");
      return page;
    };
    const admin = await manageLock("securityAdmin");
    expect(await admin.textContent("#lock-clock")).toMatch(/Clock 60\d s fast/);
    await admin.fill("#propose-clock-correction input[name=reason]", "clock ten minutes fast");
    await admin.click("#propose-clock-correction button[type=submit]");
    const pending = '#clock-corrections [data-status="pending"]';
    await admin.waitForSelector(pending);
    const id = (await admin.getAttribute(pending, "data-correction-id")) as string;
    await admin.click(`button[data-approve-correction="${id}"]`);
    await admin.waitForSelector("#toast:has-text('E_SAME_APPROVER')");
    expect(fast.commandsOfType("time.set")).toEqual([]);
    await admin.context().close();

    const manager = await manageLock("branchManager");
    await manager.waitForSelector(`button[data-approve-correction="${id}"]`);
    expect(await manager.$(`button[data-reject-correction="${id}"]`)).toBeNull();
    await manager.click(`button[data-approve-correction="${id}"]`);
    await manager.waitForSelector(`[data-correction-id="${id}"][data-status="applied"]`);
    const [sent] = fast.commandsOfType("time.set");
    expect(sent?.body).toMatchObject({
      approvedBy: [f.accounts.securityAdmin.person.id, f.accounts.branchManager.person.id],
      reason: "clock ten minutes fast",
    });
    await manager.context().close();
  });

  it("no page broke the Content Security Policy", () => {
    expect(cspViolations).toEqual([]);
  });
});
