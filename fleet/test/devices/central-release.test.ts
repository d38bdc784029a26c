/**
 * Central release (SPEC §3 "Remote functions", §5 maker–checker), attacked as a single insider
 * would try it: the signed remote.centralRelease reaches the lock only after a second, distinct,
 * independent officer who was already active approved it. The officer who asked, a puppet they
 * made, an account opened after the request, a branch manager outside the branch and another
 * bank are each refused with a stable code, logged, and nothing reaches the lock.
 */
import { DEFAULT_LOCK_POLICY } from "@lockfleet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixture, type Fixture } from "../fixtures.js";
import { SimulatedLock } from "./simulated-lock.js";

type Headers = Record<string, string>;
const PUPPET_PASSWORD = "the admin chose this one 4711";

let f: Fixture;
let lock: SimulatedLock;
let otherBranchContainer: string;

const call = (headers: Headers, method: "GET" | "POST", url: string, payload?: unknown) =>
  f.app.inject({
    method,
    url: `/api/v1${url}`,
    headers,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

async function enrol(containerId: string): Promise<SimulatedLock> {
  const created = await call(f.as("securityAdmin"), "POST", "/enrolment-tokens", {
    containerId,
    ttlMinutes: 10,
  });
  const device = new SimulatedLock();
  const enrolled = await call(
    {},
    "POST",
    "/enrolment",
    device.enrolmentRequest(created.json().token),
  );
  expect(enrolled.statusCode, enrolled.body).toBe(201);
  device.accept(enrolled.json());
  await device.connect();
  return device;
}

/** A person the maker registered, enabled and gave an officer account (an honest checker approving). */
async function officerMadeBy(maker: Headers, checker: Headers, name: string) {
  const person = (await call(maker, "POST", "/people", { name })).json();
  await call(maker, "POST", `/people/${person.id}/identify`, { documentType: "idCard" });
  const enable = await call(maker, "POST", `/people/${person.id}/enable`, {});
  await call(checker, "POST", `/proposals/${enable.json().proposal.id}/approve`);
  const email = `${name.toLowerCase().replace(/\W/g, "")}@example.test`;
  const account = await call(maker, "POST", "/users", {
    personId: person.id,
    role: "securityAdmin",
    email,
    password: PUPPET_PASSWORD,
  });
  const approved = await call(checker, "POST", `/proposals/${account.json().proposal.id}/approve`);
  expect(approved.statusCode, approved.body).toBe(200);
  const login = await call({}, "POST", "/auth/login", { email, password: PUPPET_PASSWORD });
  expect(login.statusCode, login.body).toBe(200);
  return { cookie: String(login.headers["set-cookie"]).split(";")[0] as string };
}

const ask = (who: Headers, body: Record<string, unknown>) =>
  call(who, "POST", "/central-releases", body);
const approve = (who: Headers, id: string) => call(who, "POST", `/central-releases/${id}/approve`);

beforeAll(async () => {
  f = await createFixture();
  f.clock.set(Date.now());
  lock = await enrol(f.container.id);
  const branch = f.app.repos.orgs.createBranch({
    orgId: f.bank.id,
    name: "Filiale Süd",
    branchType: "branch",
    timeZone: "Europe/Berlin",
    holidays: [],
  });
  otherBranchContainer = f.app.repos.orgs.createContainer({
    orgId: f.bank.id,
    branchId: branch.id,
    name: "Tresor Süd",
    type: "vaultDoor",
    grade: "V",
    lockClass: "C",
    policy: DEFAULT_LOCK_POLICY,
  }).id;
});
afterAll(async () => {
  await lock?.disconnect().catch(() => undefined);
  await f?.close();
});

describe("central release", () => {
  it("a request needs a reason, a short validity, a lock, the bank's own container in scope and an officer's role", async () => {
    const admin = f.as("securityAdmin");
    const refusals = [
      [admin, { containerId: f.container.id, reason: "  " }, 400, "E_REASON_REQUIRED"],
      [admin, { containerId: f.container.id, reason: "x", validMinutes: 0 }, 400, "E_VALIDITY"],
      [admin, { containerId: f.container.id, reason: "x", validMinutes: 31 }, 400, "E_VALIDITY"],
      [admin, { containerId: f.uncontractedContainer.id, reason: "x" }, 409, "E_NO_LOCK"],
      [f.as("bankBAdmin"), { containerId: f.container.id, reason: "x" }, 404, "E_NOT_FOUND"],
      [
        f.as("branchManager"),
        { containerId: otherBranchContainer, reason: "x" },
        404,
        "E_NOT_FOUND",
      ],
      [f.as("auditor"), { containerId: f.container.id, reason: "x" }, 403, "E_FORBIDDEN"],
      [f.as("citDispatcher"), { containerId: f.container.id, reason: "x" }, 403, "E_FORBIDDEN"],
    ] as const;
    for (const [who, body, status, code] of refusals) {
      const refused = await ask(who, body);
      expect([refused.statusCode, refused.json().code], JSON.stringify(body)).toEqual([
        status,
        code,
      ]);
    }
    const listed = await call(admin, "GET", "/central-releases");
    expect(listed.json().items).toEqual([]);
  });

  it("neither the officer who asked, nor a puppet they made, nor an account opened after the request approves; nothing reaches the lock", async () => {
    const admin = f.as("securityAdmin");
    const puppet = await officerMadeBy(admin, f.as("secondOfficer"), "Paula Puppe");
    f.clock.set(Date.now());
    const asked = await ask(admin, {
      containerId: f.container.id,
      reason: "second key holder ill, branch must open",
      validMinutes: 5,
    });
    expect(asked.statusCode, asked.body).toBe(201);
    const release = asked.json();
    expect(release).toMatchObject({ status: "pending", deviceId: lock.deviceId, validMinutes: 5 });
    const twice = await ask(f.as("branchManager"), { containerId: f.container.id, reason: "y" });
    expect(twice.json().code).toBe("E_RELEASE_PENDING");

    f.clock.set(Date.now() + 1_000);
    // made by the second officer after the request: independent of the requester, but too new
    const newcomer = await officerMadeBy(f.as("secondOfficer"), admin, "Nora Neu");
    const attempts = [
      [admin, 409, "E_SAME_APPROVER"],
      [puppet, 403, "E_PUPPET_APPROVER"],
      [newcomer, 403, "E_NOT_YET_ACTIVE"],
      [f.as("auditor"), 403, "E_FORBIDDEN"],
      [f.as("bankBAdmin"), 404, "E_NOT_FOUND"],
    ] as const;
    for (const [who, status, code] of attempts) {
      const refused = await approve(who, release.id);
      expect([refused.statusCode, refused.json().code]).toEqual([status, code]);
    }
    expect(lock.commandsOfType("remote.centralRelease")).toEqual([]);
    const stillPending = await call(f.as("auditor"), "GET", `/central-releases/${release.id}`);
    expect(stillPending.json().status).toBe("pending");
    const log = await call(admin, "GET", "/admin-log?action=centralRelease.approve.refused");
    expect(
      log
        .json()
        .items.map((e: { data: { code: string } }) => e.data.code)
        .sort(),
    ).toEqual(["E_NOT_YET_ACTIVE", "E_PUPPET_APPROVER", "E_SAME_APPROVER"]);

    // the honest second officer approves: the signed release goes out naming both
    const approved = await approve(f.as("branchManager"), release.id);
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({
      status: "confirmed",
      approvedBy: f.accounts.branchManager.person.id,
      result: { status: "ok" },
    });
    const [sent] = lock.commandsOfType("remote.centralRelease");
    expect(sent?.body).toEqual({
      approvedBy: [f.accounts.securityAdmin.person.id, f.accounts.branchManager.person.id],
      reason: "second key holder ill, branch must open",
    });
    expect(sent === undefined ? 0 : sent.expiresAt - sent.issuedAt).toBe(5 * 60_000);
    const again = await approve(f.as("secondOfficer"), release.id);
    expect(again.json().code).toBe("E_RELEASE_STATE");
    expect(lock.commandsOfType("remote.centralRelease")).toHaveLength(1);
    for (const action of [
      "centralRelease.request",
      "centralRelease.approve",
      "centralRelease.send",
    ]) {
      const entries = await call(admin, "GET", `/admin-log?action=${action}`);
      expect(
        entries.json().items.map((e: { target: string }) => e.target),
        action,
      ).toEqual([release.id]);
    }
  });

  it("a branch manager approves only inside their branches; the officer who asked may withdraw", async () => {
    const otherLock = await enrol(otherBranchContainer);
    try {
      const asked = await ask(f.as("securityAdmin"), {
        containerId: otherBranchContainer,
        reason: "vault on the other branch",
      });
      const release = asked.json();
      const outside = await approve(f.as("branchManager"), release.id);
      expect([outside.statusCode, outside.json().code]).toEqual([404, "E_NOT_FOUND"]);
      const foreignReject = await call(
        f.as("branchManager"),
        "POST",
        `/central-releases/${release.id}/reject`,
        {},
      );
      expect(foreignReject.statusCode).toBe(404);
      const withdrawn = await call(
        f.as("securityAdmin"),
        "POST",
        `/central-releases/${release.id}/reject`,
        { reason: "no longer needed" },
      );
      expect(withdrawn.json().status).toBe("rejected");
      expect((await approve(f.as("secondOfficer"), release.id)).json().code).toBe(
        "E_RELEASE_STATE",
      );
      expect(otherLock.commandsOfType("remote.centralRelease")).toEqual([]);
    } finally {
      await otherLock.disconnect().catch(() => undefined);
    }
  });
});
