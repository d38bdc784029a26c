import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_SCRYPT,
  hashPassword,
  parsePasswordHash,
  verifyPassword,
} from "../../src/auth/passwords.js";
import { createFixture, FIXTURE_PASSWORD, type Fixture } from "../fixtures.js";

const login = (f: Fixture, email: string, password: string, ip = "10.0.0.1") =>
  f.app.inject({
    method: "POST",
    url: "/api/v1/auth/login",
    payload: { email, password },
    remoteAddress: ip,
  });

describe("passwords", () => {
  it("are hashed with memory-hard scrypt N=2^15, r=8, p=1 by default, salted", async () => {
    const a = await hashPassword("same password here", DEFAULT_SCRYPT);
    const b = await hashPassword("same password here", DEFAULT_SCRYPT);
    expect(parsePasswordHash(a)).toMatchObject({ log2N: 15, r: 8, p: 1 });
    expect(a).not.toBe(b);
    expect(a).not.toContain("same password");
    expect(await verifyPassword("same password here", a)).toBe(true);
    expect(await verifyPassword("same password herE", a)).toBe(false);
  });
});

describe("login, sessions and API tokens", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await createFixture({
      app: { loginRateLimit: { perAccount: 3, perAddress: 50, windowMs: 60_000 } },
    });
  });
  afterAll(async () => f?.close());

  it("login sets an HttpOnly, SameSite=Strict lf_session cookie that authenticates", async () => {
    const res = await login(f, f.accounts.auditor.email, FIXTURE_PASSWORD);
    expect(res.statusCode).toBe(200);
    const cookie = String(res.headers["set-cookie"]);
    expect(cookie).toMatch(/^lf_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(res.json().user.email).toBe(f.accounts.auditor.email);
    expect(res.body).not.toContain(cookie.split(";")[0]?.split("=")[1]);
    const me = await f.app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      headers: { cookie: cookie.split(";")[0] as string },
    });
    expect(me.statusCode).toBe(200);
    expect(me.json().principal).toMatchObject({
      role: "auditor",
      via: "session",
      orgId: f.bank.id,
    });
  });

  it("a wrong password and an unknown email answer alike (401 E_LOGIN_FAILED)", async () => {
    const wrong = await login(f, f.accounts.technician.email, "not the password", "10.0.0.2");
    const unknown = await login(f, "nobody@example.test", "not the password", "10.0.0.2");
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json().code).toBe("E_LOGIN_FAILED");
  });

  it("after too many failures login answers 429 E_RATE_LIMITED even with the right password, until the window passes", async () => {
    const email = f.accounts.branchManager.email;
    for (let i = 0; i < 3; i++) {
      expect((await login(f, email, `guess ${i}`, "10.0.0.3")).statusCode).toBe(401);
    }
    const blocked = await login(f, email, FIXTURE_PASSWORD, "10.0.0.4");
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().code).toBe("E_RATE_LIMITED");
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(0);
    f.clock.advance(61_000);
    expect((await login(f, email, FIXTURE_PASSWORD, "10.0.0.4")).statusCode).toBe(200);
  });

  it("the rate limit also counts per client address across accounts", async () => {
    const g = await createFixture({
      app: { loginRateLimit: { perAccount: 100, perAddress: 4, windowMs: 60_000 } },
    });
    try {
      for (const [i, who] of (
        ["auditor", "technician", "citCrew", "citDispatcher"] as const
      ).entries()) {
        expect((await login(g, g.accounts[who].email, `bad ${i}`, "10.9.9.9")).statusCode).toBe(
          401,
        );
      }
      const res = await login(g, g.accounts.securityAdmin.email, FIXTURE_PASSWORD, "10.9.9.9");
      expect(res.statusCode).toBe(429);
      expect(
        (await login(g, g.accounts.securityAdmin.email, FIXTURE_PASSWORD, "10.9.9.8")).statusCode,
      ).toBe(200);
    } finally {
      await g.close();
    }
  });

  it("API tokens start with lft_, are stored only as SHA-256 and authenticate as Bearer", async () => {
    const token = f.tokens.auditor;
    expect(token).toMatch(/^lft_[A-Za-z0-9_-]{43}$/);
    const stored = f.app.db.prepare("SELECT token_hash FROM api_tokens").pluck().all() as string[];
    expect(stored.every((hash) => /^[0-9a-f]{64}$/.test(hash))).toBe(true);
    const dump = JSON.stringify(f.app.db.prepare("SELECT * FROM api_tokens").all());
    expect(dump).not.toContain(token);
    const sessions = JSON.stringify(f.app.db.prepare("SELECT * FROM sessions").all());
    expect(sessions).not.toContain(f.accounts.auditor.cookie.split("=")[1]);
    const me = await f.app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      headers: f.as("auditor"),
    });
    expect(me.json().principal.via).toBe("token");
  });

  it("a forged or unknown bearer token is refused with 401", async () => {
    for (const authorization of ["Bearer lft_forged", "Bearer abc", "Basic eDp5"]) {
      const res = await f.app.inject({
        method: "GET",
        url: "/api/v1/auth/me",
        headers: { authorization },
      });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe("E_UNAUTHENTICATED");
    }
  });

  it("an API token cannot mint further tokens (only a login session can)", async () => {
    const res = await f.app.inject({
      method: "POST",
      url: "/api/v1/auth/tokens",
      headers: f.as("securityAdmin"),
      payload: { name: "escalation" },
    });
    expect(res.statusCode).toBe(403);
  });

  it("a revoked token stops working at once", async () => {
    const created = await f.app.inject({
      method: "POST",
      url: "/api/v1/auth/tokens",
      headers: f.asSession("technician"),
      payload: { name: "short-lived", expiresInDays: 1 },
    });
    expect(created.statusCode).toBe(201);
    const { token, apiToken } = created.json();
    const headers = { authorization: `Bearer ${token}` };
    expect(
      (await f.app.inject({ method: "GET", url: "/api/v1/auth/me", headers })).statusCode,
    ).toBe(200);
    const revoke = await f.app.inject({
      method: "DELETE",
      url: `/api/v1/auth/tokens/${apiToken.id}`,
      headers: f.asSession("technician"),
    });
    expect(revoke.statusCode).toBe(200);
    expect(
      (await f.app.inject({ method: "GET", url: "/api/v1/auth/me", headers })).statusCode,
    ).toBe(401);
  });

  it("another user's token cannot be revoked (404)", async () => {
    const list = await f.app.inject({
      method: "GET",
      url: "/api/v1/auth/tokens",
      headers: f.as("auditor"),
    });
    const id = list.json().items[0].id as string;
    const res = await f.app.inject({
      method: "DELETE",
      url: `/api/v1/auth/tokens/${id}`,
      headers: f.as("citCrew"),
    });
    expect(res.statusCode).toBe(404);
  });

  it("a token expires after its validity", async () => {
    const created = await f.app.inject({
      method: "POST",
      url: "/api/v1/auth/tokens",
      headers: f.asSession("citCrew"),
      payload: { name: "one day", expiresInDays: 1 },
    });
    const headers = { authorization: `Bearer ${created.json().token}` };
    f.clock.advance(86_400_000 + 1);
    expect(
      (await f.app.inject({ method: "GET", url: "/api/v1/auth/me", headers })).statusCode,
    ).toBe(401);
  });

  it("a changing request with a session cookie from another origin is refused (E_CROSS_ORIGIN)", async () => {
    const res = await login(f, f.accounts.securityAdmin.email, FIXTURE_PASSWORD, "10.0.0.8");
    const cookie = String(res.headers["set-cookie"]).split(";")[0] as string;
    const headers = { cookie, host: "fleet.bank.test" };
    const foreign = await f.app.inject({
      method: "POST",
      url: "/api/v1/people",
      headers: { ...headers, origin: "https://evil.example" },
      payload: { name: "Forged" },
    });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().code).toBe("E_CROSS_ORIGIN");
    const same = await f.app.inject({
      method: "POST",
      url: "/api/v1/people",
      headers: { ...headers, origin: "https://fleet.bank.test" },
      payload: { name: "Genuine" },
    });
    expect(same.statusCode).toBe(201);
    expect(same.headers["cache-control"]).toBe("no-store");
  });

  it("logout ends the session", async () => {
    const res = await login(f, f.accounts.citDispatcher.email, FIXTURE_PASSWORD, "10.0.0.7");
    const cookie = String(res.headers["set-cookie"]).split(";")[0] as string;
    await f.app.inject({ method: "POST", url: "/api/v1/auth/logout", headers: { cookie } });
    const me = await f.app.inject({ method: "GET", url: "/api/v1/auth/me", headers: { cookie } });
    expect(me.statusCode).toBe(401);
  });
});

describe("session lifetime", () => {
  it("a session ends after its time to live", async () => {
    const f = await createFixture({ app: { sessionTtlMs: 60_000 } });
    try {
      const headers = f.asSession("auditor");
      expect(
        (await f.app.inject({ method: "GET", url: "/api/v1/auth/me", headers })).statusCode,
      ).toBe(200);
      f.clock.advance(60_000);
      const res = await f.app.inject({ method: "GET", url: "/api/v1/auth/me", headers });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe("E_UNAUTHENTICATED");
    } finally {
      await f.close();
    }
  });
});
