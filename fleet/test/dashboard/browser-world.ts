/**
 * What every browser test of the dashboard starts from, set up once per file: the fleet test
 * fixture listening on an ephemeral port, one SimulatedLock enrolled into the fixture's
 * container and online over MQTT, and one Chromium (Debian's, driven by playwright-core).
 * Logging in puts the account's fixture session into a fresh browser context, so a test pays
 * for the log-in form only where the form is what it tests (`viaForm`).
 */
import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type Browser, type BrowserContextOptions, chromium, type Page } from "playwright-core";
import { CHROMIUM_ARGS, service } from "../../../test-support/services.js";
import { SimulatedLock, type SimulatedLockOptions } from "../devices/simulated-lock.js";
import { createFixture, type Fixture, type FixtureRole, type OtherAccount } from "../fixtures.js";

export const browserCheck = service.chromium();
/** Screenshots for people to look at (git-ignored). */
export const ARTIFACTS = join(import.meta.dirname, "../../../test-artifacts/dashboard");
export const WIDTHS = {
  desktop: { width: 1280, height: 900 },
  phone: { width: 390, height: 844 },
} as const;

export type Who = FixtureRole | OtherAccount;

export interface LogInOptions extends BrowserContextOptions {
  /** Type the e-mail and password into the log-in form instead of reusing the session. */
  viaForm?: boolean;
  /** Wait until the live stream is up (pages that must see live changes). */
  live?: boolean;
}

export interface BrowserWorld {
  f: Fixture;
  base: string;
  browser: Browser;
  lock: SimulatedLock;
  /** A fresh context logged in as `who`, the first view drawn. */
  logIn(who: Who, options?: LogInOptions): Promise<Page>;
  /**
   * One page per role kept open for the whole file (English, downloads accepted), for tests
   * that need no fresh browser state: it saves a log-in and a first page load each time.
   */
  sharedPage(who: Who): Promise<Page>;
  /** Enrols one more simulated lock into `containerId` and brings it online. */
  enrolLock(containerId: string, options?: SimulatedLockOptions): Promise<SimulatedLock>;
  /** Publishes the lock's state with the fleet's test clock on real time (no drift alarm). */
  publishState(overrides?: Parameters<SimulatedLock["publishState"]>[0]): Promise<void>;
  close(): Promise<void>;
}

/** Waits until the view `name` (or any view) is drawn: app.js marks #view busy while loading. */
export async function viewShown(page: Page, name?: string): Promise<void> {
  const shown = name === undefined ? "[data-shown]" : `[data-shown="${name}"]`;
  await page.waitForSelector(`#view${shown}[aria-busy="false"]`);
}

/**
 * Opens `name` (a view or `lock/<deviceId>`) by its address and waits until it is drawn; a view
 * already open is drawn again (as a click on its section does), so it shows what is new.
 */
export async function open(page: Page, name: string): Promise<void> {
  const hash = JSON.stringify(`#${name}`);
  if (await page.evaluate(`location.hash === ${hash}`)) {
    await page.evaluate(`delete document.getElementById("view").dataset.shown`);
    if (name.includes("/")) await page.reload();
    else await page.click(`#nav button[data-view="${name}"]`);
  } else {
    await page.evaluate(`location.hash = ${hash}`);
  }
  await viewShown(page, name);
}

export async function startBrowserWorld(
  options: {
    lock?: SimulatedLockOptions;
    /** Runs after the lock is online, before the browser starts (e.g. wait for a measurement). */
    prepare?: (f: Fixture, lock: SimulatedLock) => Promise<void>;
  } = {},
): Promise<BrowserWorld> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const f = await createFixture();
  const lock = new SimulatedLock(options.lock);
  let browser: Browser | undefined;
  try {
    await f.app.listen({ port: 0, host: "127.0.0.1" });
    const base = `http://127.0.0.1:${(f.app.server.address() as AddressInfo).port}`;
    const more: SimulatedLock[] = [];
    const enrol = async (device: SimulatedLock, containerId: string) => {
      const { token } = f.app.hub.createEnrolmentToken({
        orgId: f.bank.id,
        containerId,
        ttlMs: 60_000,
        createdBy: f.accounts.securityAdmin.person.id,
      });
      device.accept(await f.app.hub.enrol(device.enrolmentRequest(token)));
      f.clock.set(Date.now());
      await device.connect();
      await device.publishState({});
      return device;
    };
    await enrol(lock, f.container.id);
    await options.prepare?.(f, lock);
    const started = await chromium.launch({
      executablePath: browserCheck.path,
      args: CHROMIUM_ARGS,
    });
    browser = started;

    const logIn = async (who: Who, { viaForm, live, ...context }: LogInOptions = {}) => {
      const account = f.accounts[who];
      const browserContext = await started.newContext({ locale: "en-GB", ...context });
      if (!viaForm) {
        const at = account.cookie.indexOf("=");
        await browserContext.addCookies([
          { name: account.cookie.slice(0, at), value: account.cookie.slice(at + 1), url: base },
        ]);
      }
      const page = await browserContext.newPage();
      await page.goto(`${base}/`);
      if (viaForm) {
        await page.fill("#login input[name=email]", account.email);
        await page.fill("#login input[name=password]", account.password);
        await page.click("#login button[type=submit]");
      }
      await page.waitForSelector("#nav button");
      await viewShown(page);
      if (live)
        await page.waitForFunction('document.getElementById("live").textContent === "live"');
      return page;
    };

    const shared = new Map<Who, Promise<Page>>();
    const sharedPage = (who: Who) => {
      let page = shared.get(who);
      if (page === undefined) {
        page = logIn(who, { acceptDownloads: true });
        shared.set(who, page);
      }
      return page;
    };

    return {
      f,
      base,
      browser: started,
      lock,
      logIn,
      sharedPage,
      enrolLock: async (containerId, lockOptions) => {
        const device = new SimulatedLock(lockOptions);
        more.push(device);
        return enrol(device, containerId);
      },
      publishState: async (overrides = {}) => {
        f.clock.set(Date.now());
        await lock.publishState(overrides);
      },
      close: async () => {
        await started.close();
        for (const device of [lock, ...more]) await device.disconnect().catch(() => undefined);
        await f.close();
      },
    };
  } catch (error) {
    await browser?.close();
    await lock.disconnect().catch(() => undefined);
    await f.close();
    throw error;
  }
}
