/**
 * Test fixture for every fleet part: an app on a temporary SQLite file (real disk, WAL) with
 * two banks, two CIT companies, a branch, containers, a contract and one logged-in user per
 * role, each with a session cookie and an `lft_` API token.
 *
 *   const f = await createFixture();
 *   await f.app.inject({ method: "GET", url: "/api/v1/containers", headers: f.as("citCrew") });
 *   await f.close();
 *
 * Layout: bank A (region "North", branch "Hauptstelle" in Europe/Berlin) holds
 * `container` (under contract with CIT A, standing window Mon–Fri 06:00–20:00) and
 * `uncontractedContainer`. CIT A is registered by bank A. Bank B has its own security admin,
 * branch and container; CIT B (registered by bank B) holds no contract with bank A.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_LOCK_POLICY } from "@lockfleet/protocol";
import type { FastifyInstance, InjectOptions } from "fastify";
import { buildApp, type FleetOptions } from "../src/app.js";
import { createEnabledAccount } from "../src/auth/bootstrap.js";
import type { ScryptParameters } from "../src/auth/passwords.js";
import type { BankRole, CitRole } from "../src/auth/principal.js";
import type { Contract } from "../src/storage/contracts-repository.js";
import type { Branch, Container, Org, Region } from "../src/storage/orgs-repository.js";
import type { Person } from "../src/storage/people-repository.js";
import type { User } from "../src/storage/users-repository.js";

export type FixtureRole = BankRole | CitRole;
export const FIXTURE_ROLES: readonly FixtureRole[] = [
  "securityAdmin",
  "branchManager",
  "auditor",
  "technician",
  "citDispatcher",
  "citCrew",
];
/**
 * Extra accounts: bank A's second security officer (set up with the first, as `init` does, so
 * that proposals have a checker), bank B's security admin and CIT B's dispatcher.
 */
export type OtherAccount = "secondOfficer" | "bankBAdmin" | "citBDispatcher";

/** Cheap scrypt for tests only (production default is 2^15). */
export const TEST_SCRYPT: ScryptParameters = { log2N: 10, r: 8, p: 1 };
export const FIXTURE_PASSWORD = "correct horse battery staple";

export interface Account {
  email: string;
  password: string;
  person: Person;
  user: User;
  /** `Authorization` value: `Bearer lft_…`. */
  bearer: string;
  /** `Cookie` value: `lf_session=…`. */
  cookie: string;
}

/** A settable clock for tests that move time (expiry, windows). */
export class TestClock {
  constructor(public nowMs: number = Date.now()) {}
  readonly now = (): number => this.nowMs;
  advance(ms: number): void {
    this.nowMs += ms;
  }
  set(ms: number): void {
    this.nowMs = ms;
  }
}

export interface Fixture {
  app: FastifyInstance;
  dataDir: string;
  clock: TestClock;
  bank: Org;
  cit: Org;
  bankB: Org;
  citB: Org;
  region: Region;
  branch: Branch;
  /** Bank A, listed in the contract with CIT A. */
  container: Container;
  /** Bank A, in no contract. */
  uncontractedContainer: Container;
  branchB: Branch;
  containerB: Container;
  contract: Contract;
  accounts: Record<FixtureRole | OtherAccount, Account>;
  /** Bearer token per role (`lft_…`). */
  tokens: Record<FixtureRole | OtherAccount, string>;
  /** Headers authenticating as that role (API token). */
  as(who: FixtureRole | OtherAccount): { authorization: string };
  /** Headers authenticating as that role (dashboard session cookie). */
  asSession(who: FixtureRole | OtherAccount): { cookie: string };
  /**
   * A power change the way a bank makes it: `who` proposes (the route answers 202), the second
   * officer approves; returns the approval's `answer` (what the route would have answered).
   */
  proposeAndApprove(
    request: { method: "POST"; url: string; payload?: InjectOptions["payload"] },
    who?: FixtureRole | OtherAccount,
    checker?: FixtureRole | OtherAccount,
    // biome-ignore lint/suspicious/noExplicitAny: a test reads the answer of whichever route proposed
  ): Promise<{ proposalId: string; answer: any }>;
  close(): Promise<void>;
}

export interface FixtureOptions {
  /** Start of the test clock (ms); defaults to now. */
  startAt?: number;
  /** Passed to buildApp (dataDir and clock are the fixture's). */
  app?: Partial<Omit<FleetOptions, "dataDir" | "clock">>;
}

export async function createFixture(options: FixtureOptions = {}): Promise<Fixture> {
  const dataDir = mkdtempSync(join(tmpdir(), "lockfleet-fleet-"));
  const clock = new TestClock(options.startAt ?? Date.now());
  let app: FastifyInstance | undefined;
  try {
    app = await buildApp({
      expirySweepMs: 0,
      passwordHashing: TEST_SCRYPT,
      mqtt: { port: 0, plain: true },
      ...options.app,
      dataDir,
      clock: clock.now,
    });
    const { orgs, contracts } = app.repos;
    const now = clock.now();
    const bank = orgs.createOrg({ kind: "bank", name: "Bank A" });
    const cit = orgs.createOrg({ kind: "cit", name: "CIT A", sponsorOrgId: bank.id });
    const bankB = orgs.createOrg({ kind: "bank", name: "Bank B" });
    const citB = orgs.createOrg({ kind: "cit", name: "CIT B", sponsorOrgId: bankB.id });
    const region = orgs.createRegion({ orgId: bank.id, name: "North" });
    const branch = orgs.createBranch({
      orgId: bank.id,
      regionId: region.id,
      name: "Hauptstelle",
      branchType: "branch",
      timeZone: "Europe/Berlin",
      holidays: [{ from: "2026-12-25", to: "2026-12-26", yearlyRepeat: true, name: "Christmas" }],
    });
    const container = orgs.createContainer({
      orgId: bank.id,
      branchId: branch.id,
      name: "ATM 1",
      type: "gaa",
      grade: "III",
      lockClass: "B",
      policy: DEFAULT_LOCK_POLICY,
    });
    const uncontractedContainer = orgs.createContainer({
      orgId: bank.id,
      branchId: branch.id,
      name: "Vault",
      type: "vaultDoor",
      grade: "VII",
      lockClass: "D",
      policy: DEFAULT_LOCK_POLICY,
    });
    const branchB = orgs.createBranch({
      orgId: bankB.id,
      name: "Filiale B",
      branchType: "selfService",
      timeZone: "Europe/Vienna",
      holidays: [],
    });
    const containerB = orgs.createContainer({
      orgId: bankB.id,
      branchId: branchB.id,
      name: "ATM B",
      type: "gaa",
      grade: "III",
      lockClass: "B",
      policy: DEFAULT_LOCK_POLICY,
    });
    const contract = contracts.create({
      bankOrgId: bank.id,
      citOrgId: cit.id,
      name: "Route North",
      containerIds: [container.id],
      standingWindows: [{ startDay: 1, startTime: "06:00", endDay: 5, endTime: "20:00" }],
      now,
    });

    const orgOf: Record<FixtureRole | OtherAccount, string> = {
      securityAdmin: bank.id,
      secondOfficer: bank.id,
      branchManager: bank.id,
      auditor: bank.id,
      technician: bank.id,
      citDispatcher: cit.id,
      citCrew: cit.id,
      bankBAdmin: bankB.id,
      citBDispatcher: citB.id,
    };
    const roleOf = (who: FixtureRole | OtherAccount): FixtureRole =>
      who === "bankBAdmin" || who === "secondOfficer"
        ? "securityAdmin"
        : who === "citBDispatcher"
          ? "citDispatcher"
          : who;
    const accounts = {} as Record<FixtureRole | OtherAccount, Account>;
    for (const who of Object.keys(orgOf) as Array<FixtureRole | OtherAccount>) {
      const email = `${who.toLowerCase()}@example.test`;
      const { person, user } = await createEnabledAccount(app.repos, {
        orgId: orgOf[who],
        name: `Test ${who}`,
        role: roleOf(who),
        email,
        password: FIXTURE_PASSWORD,
        now,
        passwordHashing: TEST_SCRYPT,
        // a branch manager is bound to named branches: bank A's only branch
        ...(who === "branchManager" ? { scope: { branchIds: [branch.id] } } : {}),
      });
      const login = await app.inject({
        method: "POST",
        url: "/api/v1/auth/login",
        payload: { email, password: FIXTURE_PASSWORD },
      });
      if (login.statusCode !== 200) throw new Error(`fixture login ${who}: ${login.body}`);
      const setCookie = String(login.headers["set-cookie"] ?? "");
      const cookie = setCookie.split(";")[0] ?? "";
      const token = await app.inject({
        method: "POST",
        url: "/api/v1/auth/tokens",
        headers: { cookie },
        payload: { name: "fixture" },
      });
      if (token.statusCode !== 201) throw new Error(`fixture token ${who}: ${token.body}`);
      const bearer = `Bearer ${(token.json() as { token: string }).token}`;
      accounts[who] = { email, password: FIXTURE_PASSWORD, person, user, bearer, cookie };
    }
    const tokens = Object.fromEntries(
      Object.entries(accounts).map(([who, account]) => [who, account.bearer.slice(7)]),
    ) as Record<FixtureRole | OtherAccount, string>;
    const built = app;
    return {
      app: built,
      dataDir,
      clock,
      bank,
      cit,
      bankB,
      citB,
      region,
      branch,
      container,
      uncontractedContainer,
      branchB,
      containerB,
      contract,
      accounts,
      tokens,
      as: (who) => ({ authorization: accounts[who].bearer }),
      proposeAndApprove: async (request, who = "securityAdmin", checker = "secondOfficer") => {
        const proposed = await built.inject({
          ...request,
          headers: { authorization: accounts[who].bearer },
        });
        if (proposed.statusCode !== 202) {
          throw new Error(
            `proposal ${request.url} as ${who}: ${proposed.statusCode} ${proposed.body}`,
          );
        }
        const proposalId = (proposed.json() as { proposal: { id: string } }).proposal.id;
        const approved = await built.inject({
          method: "POST",
          url: `/api/v1/proposals/${proposalId}/approve`,
          headers: { authorization: accounts[checker].bearer },
        });
        if (approved.statusCode !== 200) {
          throw new Error(
            `approval of ${request.url} as ${checker}: ${approved.statusCode} ${approved.body}`,
          );
        }
        return { proposalId, answer: (approved.json() as { answer: unknown }).answer };
      },
      asSession: (who) => ({ cookie: accounts[who].cookie }),
      close: async () => {
        await built.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}
