/**
 * Separation of duties, attacked the way a single insider would try it with the normal API and
 * accounts they created themselves (SPEC §5 maker–checker): puppet approvers (also through a
 * chain of two), self-service of rights, a branch manager outside their branches, read-only
 * roles closing windows. Each attack must fail with a clear code and change nothing.
 */
import { DEFAULT_LOCK_POLICY } from "@lockfleet/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFixture, type Fixture } from "../fixtures.js";

// Saturday 28 November 2026 09:00–11:00 UTC: outside the contract's standing windows.
const MONDAY = Date.parse("2026-11-23T07:00:00.000Z");
const OUTSIDE = { notBefore: "2026-11-28T09:00:00.000Z", notAfter: "2026-11-28T11:00:00.000Z" };
const PUPPET_PASSWORD = "the admin chose this one 4711";

let f: Fixture;
beforeEach(async () => {
  f = await createFixture({ startAt: MONDAY });
});
afterEach(async () => f.close());

type Headers = Record<string, string>;
const call = (headers: Headers, method: "GET" | "POST" | "PATCH", url: string, payload?: unknown) =>
  f.app.inject({
    method,
    url: `/api/v1${url}`,
    headers,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

async function logIn(email: string, password: string): Promise<Headers> {
  const login = await call({}, "POST", "/auth/login", { email, password });
  expect(login.statusCode, login.body).toBe(200);
  return { cookie: String(login.headers["set-cookie"]).split(";")[0] as string };
}

/**
 * The insider's puppet: a person the admin registered and identified, enabled and given an
 * account (with a password the admin chose) through the admin's own proposals, which an honest
 * second officer approved without seeing the trick.
 */
async function puppet(
  maker: Headers,
  name: string,
  role: "securityAdmin" | "branchManager",
  checker: Headers = f.as("secondOfficer"),
) {
  const person = (await call(maker, "POST", "/people", { name })).json();
  await call(maker, "POST", `/people/${person.id}/identify`, { documentType: "idCard" });
  const enable = await call(maker, "POST", `/people/${person.id}/enable`, {});
  expect(enable.statusCode).toBe(202);
  const approvedEnable = await call(
    checker,
    "POST",
    `/proposals/${enable.json().proposal.id}/approve`,
  );
  expect(approvedEnable.statusCode, approvedEnable.body).toBe(200);
  const email = `${name.toLowerCase().replace(/\W/g, "")}@example.test`;
  const account = await call(maker, "POST", "/users", {
    personId: person.id,
    role,
    email,
    password: PUPPET_PASSWORD,
    ...(role === "branchManager" ? { branchIds: [f.branch.id] } : {}),
  });
  expect(account.statusCode, account.body).toBe(202);
  const approvedAccount = await call(
    checker,
    "POST",
    `/proposals/${account.json().proposal.id}/approve`,
  );
  expect(approvedAccount.statusCode, approvedAccount.body).toBe(200);
  return { personId: person.id as string, headers: await logIn(email, PUPPET_PASSWORD) };
}

async function weakeningChange(): Promise<string> {
  const proposed = await call(f.as("securityAdmin"), "POST", "/policy-changes", {
    containerId: f.container.id,
    kind: "policy",
    policy: { ...DEFAULT_LOCK_POLICY, dualControl: "single" },
    reason: "single control for a trial",
  });
  expect(proposed.json()).toMatchObject({ status: "pending", weakening: true });
  return proposed.json().id;
}

describe("no puppet counts as the second officer", () => {
  it("alone, the admin cannot enable a person or open an officer account: each waits for a second officer", async () => {
    const admin = f.as("securityAdmin");
    const person = (await call(admin, "POST", "/people", { name: "Pat Puppet" })).json();
    await call(admin, "POST", `/people/${person.id}/identify`, { documentType: "idCard" });
    const enable = await call(admin, "POST", `/people/${person.id}/enable`, {});
    expect(enable.statusCode).toBe(202);
    expect(f.app.repos.people.get(person.id, f.clock.now())?.status).toBe("identified");
    const own = await call(admin, "POST", `/proposals/${enable.json().proposal.id}/approve`);
    expect(own.statusCode).toBe(409);
    expect(own.json().code).toBe("E_SAME_APPROVER");
    // a branch manager is no checker for enabling people
    const manager = await call(
      f.as("branchManager"),
      "POST",
      `/proposals/${enable.json().proposal.id}/approve`,
    );
    expect(manager.statusCode).toBe(403);
    const account = await call(admin, "POST", "/users", {
      personId: person.id,
      role: "branchManager",
      email: "pat@example.test",
      password: PUPPET_PASSWORD,
      branchIds: [f.branch.id],
    });
    expect(account.statusCode).toBe(202);
    expect(f.app.repos.users.emailTaken("pat@example.test")).toBe(false);
    const login = await call({}, "POST", "/auth/login", {
      email: "pat@example.test",
      password: PUPPET_PASSWORD,
    });
    expect(login.statusCode).toBe(401);
  });

  it("a puppet the admin made cannot be the second approver of the admin's weakening policy change", async () => {
    const pat = await puppet(f.as("securityAdmin"), "Pat Puppet", "branchManager");
    const changeId = await weakeningChange();
    const approval = await call(pat.headers, "POST", `/policy-changes/${changeId}/approve`);
    expect(approval.statusCode).toBe(403);
    expect(approval.json().code).toBe("E_PUPPET_APPROVER");
    const change = (await call(f.as("securityAdmin"), "GET", `/policy-changes/${changeId}`)).json();
    expect(change).toMatchObject({
      status: "pending",
      approvedBy: [f.accounts.securityAdmin.person.id],
    });
    expect(f.app.repos.orgs.getContainer(f.container.id)?.policy.dualControl).toBe("dual");
  });

  it("a puppet cannot be the second approver of an access window the admin approved", async () => {
    const pat = await puppet(f.as("securityAdmin"), "Pat Puppet", "branchManager");
    const window = (
      await call(f.as("citDispatcher"), "POST", "/windows", {
        containerId: f.container.id,
        crew: [f.accounts.citCrew.person.id],
        purpose: "ATM refill",
        ...OUTSIDE,
      })
    ).json();
    expect(window.approvalsRequired).toBe(2);
    const first = await call(f.as("securityAdmin"), "POST", `/windows/${window.id}/approve`);
    expect(first.json().approvedBy).toHaveLength(1);
    const second = await call(pat.headers, "POST", `/windows/${window.id}/approve`);
    expect(second.statusCode).toBe(403);
    expect(second.json().code).toBe("E_PUPPET_APPROVER");
    const after = (await call(f.as("securityAdmin"), "GET", `/windows/${window.id}`)).json();
    expect(after).toMatchObject({
      status: "requested",
      approvedBy: [f.accounts.securityAdmin.person.id],
    });
    // an independent officer still can
    const honest = await call(f.as("branchManager"), "POST", `/windows/${window.id}/approve`);
    expect(honest.json().status).toBe("approved");
  });

  it("nor a puppet's puppet (a chain of two)", async () => {
    const pat = await puppet(f.as("securityAdmin"), "Pat Puppet", "securityAdmin");
    // Pat (made by the admin) makes Quinn; the honest second officer approves Pat's proposals.
    const quinn = await puppet(pat.headers, "Quinn Puppet", "branchManager");
    const changeId = await weakeningChange();
    const approval = await call(quinn.headers, "POST", `/policy-changes/${changeId}/approve`);
    expect(approval.statusCode).toBe(403);
    expect(approval.json().code).toBe("E_PUPPET_APPROVER");
    // and the admin cannot be the checker of the puppet's proposals either
    const person = (await call(pat.headers, "POST", "/people", { name: "Rex" })).json();
    await call(pat.headers, "POST", `/people/${person.id}/identify`, { documentType: "idCard" });
    const enable = await call(pat.headers, "POST", `/people/${person.id}/enable`, {});
    const byMaker = await call(
      f.as("securityAdmin"),
      "POST",
      `/proposals/${enable.json().proposal.id}/approve`,
    );
    expect(byMaker.statusCode).toBe(403);
    expect(byMaker.json().code).toBe("E_PUPPET_APPROVER");
    expect(
      f.app.adminLog
        .list({ action: "proposal.approve.refused" }, { limit: 10 })
        .items.some((entry) => entry.target === enable.json().proposal.id),
    ).toBe(true);
  });

  it("nor two puppets of one maker: the second approves what the first proposed", async () => {
    const sam = await puppet(f.as("securityAdmin"), "Sam Sibling", "securityAdmin");
    const tia = await puppet(f.as("securityAdmin"), "Tia Sibling", "securityAdmin");
    const proposed = await call(sam.headers, "POST", "/policy-changes", {
      containerId: f.container.id,
      kind: "policy",
      policy: { ...DEFAULT_LOCK_POLICY, timeDelayMin: 1 },
      reason: "shorter delay",
    });
    expect(proposed.json()).toMatchObject({ status: "pending", weakening: true });
    const approval = await call(
      tia.headers,
      "POST",
      `/policy-changes/${proposed.json().id}/approve`,
    );
    expect(approval.statusCode).toBe(403);
    expect(approval.json().code).toBe("E_PUPPET_APPROVER");
  });

  it("an officer opened after the proposal was made is no checker for it", async () => {
    const admin = f.as("securityAdmin");
    const person = (await call(admin, "POST", "/people", { name: "Late Larry" })).json();
    await call(admin, "POST", `/people/${person.id}/identify`, { documentType: "idCard" });
    const enable = await call(admin, "POST", `/people/${person.id}/enable`, {});
    f.clock.advance(60_000);
    // a fresh officer, made by the second officer (independent of the admin) but after the proposal
    const late = await puppet(f.as("secondOfficer"), "Nora New", "securityAdmin", admin);
    const approval = await call(
      late.headers,
      "POST",
      `/proposals/${enable.json().proposal.id}/approve`,
    );
    expect(approval.statusCode).toBe(403);
    expect(approval.json().code).toBe("E_NOT_YET_ACTIVE");
  });
});

describe("the second approver of a weakening change was already active", () => {
  it("an officer opened after the change was proposed cannot approve it", async () => {
    const changeId = await weakeningChange();
    f.clock.advance(60_000);
    // made by the second officer (independent of the admin), but only now
    const late = await puppet(
      f.as("secondOfficer"),
      "Lara Late",
      "branchManager",
      f.as("securityAdmin"),
    );
    const approval = await call(late.headers, "POST", `/policy-changes/${changeId}/approve`);
    expect(approval.statusCode).toBe(403);
    expect(approval.json().code).toBe("E_NOT_YET_ACTIVE");
    expect(
      (await call(f.as("branchManager"), "POST", `/policy-changes/${changeId}/approve`)).statusCode,
    ).toBe(200);
  });
});

describe("bootstrap", () => {
  it("a bank with two independent officers runs with dual control; one with a single officer is told it does not", async () => {
    const two = (await call(f.as("securityAdmin"), "GET", "/auth/me")).json();
    expect(two).toMatchObject({ dualControl: true, officers: 2 });
    const one = (await call(f.as("bankBAdmin"), "GET", "/auth/me")).json();
    expect(one).toMatchObject({ dualControl: false, officers: 1 });
  });
});

describe("no self-service of power", () => {
  it("a security admin cannot make themselves master of a lock", async () => {
    const response = await call(f.as("securityAdmin"), "POST", "/rights", {
      personId: f.accounts.securityAdmin.person.id,
      containerIds: [f.container.id],
      role: "master",
    });
    expect(response.statusCode).toBe(403);
    expect(response.json().code).toBe("E_SELF_SERVICE");
    expect(f.app.db.prepare("SELECT count(*) FROM proposals").pluck().get()).toBe(0);
  });

  it("a branch manager cannot make themselves manager of a lock", async () => {
    const response = await call(f.as("branchManager"), "POST", "/rights", {
      personId: f.accounts.branchManager.person.id,
      containerIds: [f.container.id],
      role: "manager",
    });
    expect(response.statusCode).toBe(403);
    expect(response.json().code).toBe("E_SELF_SERVICE");
  });

  it("nobody approves a proposal that gives power to themselves", async () => {
    const proposed = await call(f.as("securityAdmin"), "POST", "/rights", {
      personId: f.accounts.secondOfficer.person.id,
      containerIds: [f.container.id],
      role: "manager",
    });
    expect(proposed.statusCode).toBe(202);
    const self = await call(
      f.as("secondOfficer"),
      "POST",
      `/proposals/${proposed.json().proposal.id}/approve`,
    );
    expect(self.statusCode).toBe(403);
    expect(self.json().code).toBe("E_SELF_APPROVAL");
  });

  it("nobody proposes a role or a password reset for their own account", async () => {
    const role = await call(
      f.as("securityAdmin"),
      "POST",
      `/users/${f.accounts.securityAdmin.user.id}/role`,
      { role: "branchManager", branchIds: [f.branch.id] },
    );
    expect(role.statusCode).toBe(403);
    expect(role.json().code).toBe("E_SELF_SERVICE");
  });
});

describe("a branch manager acts on their own branches only", () => {
  async function otherBranch() {
    const branch = f.app.repos.orgs.createBranch({
      orgId: f.bank.id,
      name: "Nebenstelle",
      branchType: "branch",
      timeZone: "Europe/Berlin",
      holidays: [],
    });
    const container = f.app.repos.orgs.createContainer({
      orgId: f.bank.id,
      branchId: branch.id,
      name: "ATM 2",
      type: "gaa",
      grade: "III",
      lockClass: "B",
      policy: DEFAULT_LOCK_POLICY,
    });
    return { branch, container };
  }

  it("cannot change another branch, see its container, give rights or change policy there", async () => {
    const { branch, container } = await otherBranch();
    const manager = f.as("branchManager");
    const patch = await call(manager, "PATCH", `/branches/${branch.id}`, { name: "Mine now" });
    expect(patch.statusCode).toBe(404);
    expect(f.app.repos.orgs.getBranch(branch.id)?.name).toBe("Nebenstelle");
    expect((await call(manager, "GET", `/containers/${container.id}`)).statusCode).toBe(404);
    const listed = (await call(manager, "GET", "/containers")).json();
    expect(listed.items.map((c: { id: string }) => c.id)).not.toContain(container.id);
    const right = await call(manager, "POST", "/rights", {
      personId: f.accounts.citCrew.person.id,
      containerIds: [container.id],
      role: "courier",
    });
    expect(right.statusCode).toBe(404);
    // a policy change proposed by the admin for that container is no business of this manager
    const changeId = (
      await call(f.as("securityAdmin"), "POST", "/policy-changes", {
        containerId: container.id,
        kind: "policy",
        policy: { ...DEFAULT_LOCK_POLICY, timeDelayMin: 1 },
        reason: "shorter delay",
      })
    ).json().id;
    const approval = await call(manager, "POST", `/policy-changes/${changeId}/approve`);
    expect(approval.statusCode).toBe(404);
    // its own branch still works
    expect((await call(manager, "GET", `/containers/${f.container.id}`)).statusCode).toBe(200);
  });

  it("cannot command another branch's lock or read its audit", async () => {
    const { container } = await otherBranch();
    const { token } = f.app.hub.createEnrolmentToken({
      orgId: f.bank.id,
      containerId: container.id,
      ttlMs: 60_000,
      createdBy: f.accounts.technician.user.id,
    });
    const { SimulatedLock } = await import("../devices/simulated-lock.js");
    const lock = new SimulatedLock({ clockOffsetMs: f.clock.now() - Date.now() });
    lock.accept(await f.app.hub.enrol(lock.enrolmentRequest(token)));
    const manager = f.as("branchManager");
    const command = await call(manager, "POST", `/devices/${lock.deviceId}/commands`, {
      type: "remote.block",
      reason: "not my branch",
    });
    expect(command.statusCode).toBe(404);
    const audit = await call(manager, "GET", `/devices/${lock.deviceId}/audit`);
    expect(audit.statusCode).toBe(404);
    const listed = (await call(manager, "GET", "/devices")).json();
    expect(listed.items.map((d: { deviceId: string }) => d.deviceId)).not.toContain(lock.deviceId);
    // the security admin sees it
    expect(
      (await call(f.as("securityAdmin"), "GET", `/devices/${lock.deviceId}/audit`)).statusCode,
    ).toBe(200);
  });

  it("a branch manager account without named branches or a region is refused", async () => {
    const person = (
      await call(f.as("securityAdmin"), "POST", "/people", { name: "Una Scoped" })
    ).json();
    const response = await call(f.as("securityAdmin"), "POST", "/users", {
      personId: person.id,
      role: "branchManager",
      email: "una@example.test",
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe("E_SCOPE_REQUIRED");
  });
});

describe("auditor and technician are read-only", () => {
  it("neither can close a window with a seal", async () => {
    const window = (
      await call(f.as("citDispatcher"), "POST", "/windows", {
        containerId: f.container.id,
        crew: [f.accounts.citCrew.person.id],
        purpose: "ATM refill",
        ...OUTSIDE,
      })
    ).json();
    for (const who of ["auditor", "technician"] as const) {
      const response = await call(f.as(who), "POST", `/windows/${window.id}/close`, {
        seal: "12345678",
      });
      expect(response.statusCode, who).toBe(403);
      expect(response.json().code).toBe("E_FORBIDDEN");
    }
    expect(
      f.app.adminLog
        .list({ action: "window.closeSeal.refused" }, { limit: 10 })
        .items.filter((entry) => entry.target === window.id),
    ).toHaveLength(2);
  });
});
