/**
 * Passwords and secure defaults, attacked: a 12-character run or a password from the shipped
 * breached list is refused; everyone changes their own password (the current one required);
 * an admin forces a reset (for an officer only through a second officer); e-mails are real
 * addresses, also at `init`; files are 0600; the session cookie is Secure unless the fleet
 * listens on loopback only; /metrics is behind a token or loopback.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { passwordProblem } from "../../src/auth/password-policy.js";
import { backup, init, serveConfig } from "../../src/cli.js";
import { createFixture, FIXTURE_PASSWORD, type Fixture } from "../fixtures.js";

let f: Fixture;
let dir: string;
beforeAll(async () => {
  f = await createFixture();
  dir = mkdtempSync(join(tmpdir(), "lockfleet-defaults-"));
});
afterAll(async () => {
  await f?.close();
  rmSync(dir, { recursive: true, force: true });
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, output: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

const login = (email: string, password: string) =>
  f.app.inject({ method: "POST", url: "/api/v1/auth/login", payload: { email, password } });

async function newAuditor(name: string, email: string, password: string) {
  const person = (
    await f.app.inject({
      method: "POST",
      url: "/api/v1/people",
      headers: f.as("securityAdmin"),
      payload: { name },
    })
  ).json();
  await f.app.inject({
    method: "POST",
    url: `/api/v1/people/${person.id}/identify`,
    headers: f.as("securityAdmin"),
    payload: { documentType: "idCard" },
  });
  await f.proposeAndApprove({
    method: "POST",
    url: `/api/v1/people/${person.id}/enable`,
    payload: {},
  });
  return f.app.inject({
    method: "POST",
    url: "/api/v1/users",
    headers: f.as("securityAdmin"),
    payload: { personId: person.id, role: "auditor", email, password },
  });
}

describe("password rules", () => {
  it.each([
    ["aaaaaaaaaaaa", "a run of one character"],
    ["password1234", "on the breached list"],
    ["qwerty123456", "on the breached list"],
    ["1qaz2wsx3edc", "on the breached list"],
    ["Password1234!", "a common password with characters added"],
  ])("%s is refused (%s)", async (password) => {
    expect(passwordProblem(password)).toBeDefined();
    const response = await newAuditor(
      "Weak Walter",
      `weak${password.length}@example.test`,
      password,
    );
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe("E_PASSWORD_WEAK");
  });

  it("a long, uncommon password is accepted", () => {
    expect(passwordProblem("copper kettle marching 9")).toBeUndefined();
  });

  it("an e-mail that is no address is refused", async () => {
    for (const email of ["notanemail", "a@b", "a b@example.test", "x@example.test."]) {
      const response = await newAuditor("Mail Mo", email, "copper kettle marching 9");
      expect(response.statusCode, email).toBe(400);
      expect(["E_EMAIL", "E_SCHEMA"]).toContain(response.json().code);
    }
  });
});

describe("own password change and forced reset", () => {
  it("a user changes their own password with the current one; the old one stops working", async () => {
    const created = await newAuditor(
      "Carla Change",
      "carla@example.test",
      "first password 4 carla",
    );
    expect(created.statusCode).toBe(201);
    const session = await login("carla@example.test", "first password 4 carla");
    const cookie = String(session.headers["set-cookie"]).split(";")[0] as string;
    const other = String(
      (await login("carla@example.test", "first password 4 carla")).headers["set-cookie"],
    ).split(";")[0] as string;
    const wrong = await f.app.inject({
      method: "POST",
      url: "/api/v1/auth/password",
      headers: { cookie },
      payload: { currentPassword: "not it at all", newPassword: "second password 4 carla" },
    });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().code).toBe("E_PASSWORD_WRONG");
    const weak = await f.app.inject({
      method: "POST",
      url: "/api/v1/auth/password",
      headers: { cookie },
      payload: { currentPassword: "first password 4 carla", newPassword: "password1234" },
    });
    expect(weak.json().code).toBe("E_PASSWORD_WEAK");
    const changed = await f.app.inject({
      method: "POST",
      url: "/api/v1/auth/password",
      headers: { cookie },
      payload: {
        currentPassword: "first password 4 carla",
        newPassword: "second password 4 carla",
      },
    });
    expect(changed.statusCode).toBe(200);
    expect((await login("carla@example.test", "first password 4 carla")).statusCode).toBe(401);
    expect((await login("carla@example.test", "second password 4 carla")).statusCode).toBe(200);
    // this session goes on, the other one ended
    const me = (c: string) =>
      f.app.inject({ method: "GET", url: "/api/v1/auth/me", headers: { cookie: c } });
    expect((await me(cookie)).statusCode).toBe(200);
    expect((await me(other)).statusCode).toBe(401);
  });

  it("an admin forces a reset: the one-time password only lets the user set a new one", async () => {
    const created = (
      await newAuditor("Rita Reset", "rita@example.test", "rita's own password 1")
    ).json();
    const reset = await f.app.inject({
      method: "POST",
      url: `/api/v1/users/${created.user.id}/password-reset`,
      headers: f.as("securityAdmin"),
    });
    expect(reset.statusCode).toBe(200);
    const temporary = reset.json().temporaryPassword as string;
    expect((await login("rita@example.test", "rita's own password 1")).statusCode).toBe(401);
    const session = await login("rita@example.test", temporary);
    const cookie = String(session.headers["set-cookie"]).split(";")[0] as string;
    const blocked = await f.app.inject({
      method: "GET",
      url: "/api/v1/people",
      headers: { cookie },
    });
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json().code).toBe("E_PASSWORD_CHANGE_REQUIRED");
    const changed = await f.app.inject({
      method: "POST",
      url: "/api/v1/auth/password",
      headers: { cookie },
      payload: { currentPassword: temporary, newPassword: "rita's new password 2" },
    });
    expect(changed.statusCode).toBe(200);
    expect(
      (await f.app.inject({ method: "GET", url: "/api/v1/people", headers: { cookie } }))
        .statusCode,
    ).toBe(200);
    expect(
      JSON.stringify(f.app.adminLog.list({ action: "user.passwordReset" }, { limit: 5 })),
    ).not.toContain(temporary);
  });

  it("resetting an officer's password is a proposal: the admin alone never learns a way in", async () => {
    const reset = await f.app.inject({
      method: "POST",
      url: `/api/v1/users/${f.accounts.branchManager.user.id}/password-reset`,
      headers: f.as("securityAdmin"),
    });
    expect(reset.statusCode).toBe(202);
    expect(reset.body).not.toContain("temporaryPassword");
    expect((await login(f.accounts.branchManager.email, FIXTURE_PASSWORD)).statusCode).toBe(200);
  });
});

describe("init", () => {
  it("init --email notanemail fails and creates nothing", async () => {
    const dataDir = join(dir, "bad-email");
    await expect(
      init(
        ["--data-dir", dataDir, "--bank-name", "B", "--admin-name", "A", "--email", "notanemail"],
        capture().output,
      ),
    ).rejects.toThrow(/^E_EMAIL/);
    expect(() => statSync(join(dataDir, "fleet.db"))).toThrow();
  });

  it("init with a second officer ends with two officers and dual control on; files are 0600", async () => {
    const dataDir = join(dir, "two");
    const c = capture();
    await init(
      [
        "--data-dir",
        dataDir,
        "--bank-name",
        "Two Bank",
        "--admin-name",
        "Ada",
        "--email",
        "ada@example.test",
        "--second-admin-name",
        "Bob",
        "--second-email",
        "bob@example.test",
      ],
      c.output,
    );
    expect(c.out.filter((l) => l.startsWith("security officer"))).toHaveLength(2);
    expect(c.out).toContain("dual control: on (two independent security officers)");
    expect(statSync(join(dataDir, "fleet.db")).mode & 0o777).toBe(0o600);
    const out = join(dir, "backups", "two.db");
    await backup(["--data-dir", dataDir, "--out", out], capture().output);
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it("init with one officer says the bank runs without dual control", async () => {
    const c = capture();
    await init(
      [
        "--data-dir",
        join(dir, "one"),
        "--bank-name",
        "One Bank",
        "--admin-name",
        "Ada",
        "--email",
        "ada@example.test",
      ],
      c.output,
    );
    expect(c.out).toContain("dual control: OFF (one security officer)");
    expect(c.err.join("\n")).toMatch(/WITHOUT dual control/);
  });
});

describe("secure defaults", () => {
  it("the session cookie is Secure unless the fleet listens on loopback only", () => {
    expect(serveConfig(["--http-host", "0.0.0.0"], {}).options.secureCookies).toBe(true);
    expect(serveConfig(["--http-host", "192.0.2.10"], {}).options.secureCookies).toBe(true);
    expect(serveConfig(["--http-host", "127.0.0.1"], {}).options.secureCookies).toBe(false);
    expect(serveConfig([], {}).options.secureCookies).toBe(false);
  });

  it("the database and key files of a running fleet are 0600", () => {
    for (const name of ["fleet.db", "kek", "document-key", "admin-log-key.json"]) {
      expect(statSync(join(f.dataDir, name)).mode & 0o777, name).toBe(0o600);
    }
  });

  it("/metrics answers loopback callers only, or callers with the token", async () => {
    const remote = await f.app.inject({
      method: "GET",
      url: "/metrics",
      remoteAddress: "192.0.2.5",
    });
    expect(remote.statusCode).toBe(403);
    expect(remote.json().code).toBe("E_METRICS_LOCAL_ONLY");
    expect((await f.app.inject({ method: "GET", url: "/metrics" })).statusCode).toBe(200);
    const g = await createFixture({ app: { metricsToken: "a-long-metrics-token-1234" } });
    try {
      const without = await g.app.inject({ method: "GET", url: "/metrics" });
      expect(without.statusCode).toBe(401);
      const withToken = await g.app.inject({
        method: "GET",
        url: "/metrics",
        remoteAddress: "192.0.2.5",
        headers: { authorization: "Bearer a-long-metrics-token-1234" },
      });
      expect(withToken.statusCode).toBe(200);
    } finally {
      await g.close();
    }
  });
});
