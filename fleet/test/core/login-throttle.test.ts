/**
 * Login throttling attacked: parallel guesses are counted before the password is checked, one
 * source cannot shut out other accounts or other sources, the real client address comes from
 * the trusted proxy list only, and the figures reach /metrics.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createFixture, FIXTURE_PASSWORD, type Fixture } from "../fixtures.js";

let f: Fixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const login = (
  fx: Fixture,
  email: string,
  password: string,
  ip: string,
  headers: Record<string, string> = {},
) =>
  fx.app.inject({
    method: "POST",
    url: "/api/v1/auth/login",
    payload: { email, password },
    remoteAddress: ip,
    headers,
  });

describe("login throttling", () => {
  it("40 parallel wrong passwords for one account: only the limit's worth are checked", async () => {
    f = await createFixture({
      app: { loginRateLimit: { perAccount: 5, perAddress: 100, windowMs: 60_000 } },
    });
    const fx = f;
    const email = fx.accounts.auditor.email;
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => login(fx, email, `wrong guess ${i}`, `10.1.0.${i + 1}`)),
    );
    const checked = answers.filter((a) => a.statusCode === 401).length;
    const refused = answers.filter((a) => a.statusCode === 429);
    expect(checked).toBe(5);
    expect(refused).toHaveLength(35);
    expect(refused[0]?.json().code).toBe("E_RATE_LIMITED");
    // the admin log holds exactly the checked failures
    const failures = fx.app.adminLog
      .list({ action: "auth.loginFailed" }, { limit: 100 })
      .items.filter((e) => e.target === fx.accounts.auditor.user.id);
    expect(failures).toHaveLength(5);
  });

  it("a repeated lockout waits twice as long (back-off)", async () => {
    f = await createFixture({
      app: { loginRateLimit: { perAccount: 2, perAddress: 100, windowMs: 60_000 } },
    });
    const email = f.accounts.auditor.email;
    for (let i = 0; i < 2; i++) await login(f, email, `bad ${i}`, "10.2.0.1");
    const first = Number((await login(f, email, "bad", "10.2.0.1")).headers["retry-after"]);
    expect(first).toBe(60);
    f.clock.advance(61_000);
    for (let i = 0; i < 2; i++) await login(f, email, `bad again ${i}`, "10.2.0.1");
    const second = Number((await login(f, email, "bad", "10.2.0.1")).headers["retry-after"]);
    expect(second).toBe(120);
  });

  it("one source cannot lock out other accounts: its block holds for itself only", async () => {
    f = await createFixture({
      app: { loginRateLimit: { perAccount: 100, perAddress: 20, windowMs: 900_000 } },
    });
    for (let i = 0; i < 20; i++) {
      await login(f, `nobody${i}@example.test`, "guess guess guess", "203.0.113.9");
    }
    expect(
      (await login(f, f.accounts.auditor.email, FIXTURE_PASSWORD, "203.0.113.9")).statusCode,
    ).toBe(429);
    // everybody else, at any bank, still logs in
    for (const who of ["auditor", "bankBAdmin", "citDispatcher"] as const) {
      expect(
        (await login(f, f.accounts[who].email, FIXTURE_PASSWORD, "198.51.100.7")).statusCode,
      ).toBe(200);
    }
  });

  it("behind a reverse proxy without trustedProxies the proxy's address is the client's; with it, each client counts alone", async () => {
    // Without the trusted proxy list, X-Forwarded-For is ignored: 20 anonymous requests through
    // the proxy shut the proxy's address (so: everybody behind it) out. With the list, they shut
    // out the one client that sent them.
    f = await createFixture({
      app: {
        loginRateLimit: { perAccount: 100, perAddress: 20, windowMs: 900_000 },
        trustedProxies: ["10.0.0.1"],
      },
    });
    for (let i = 0; i < 20; i++) {
      await login(f, `anon${i}@example.test`, "guess guess guess", "10.0.0.1", {
        "x-forwarded-for": "203.0.113.50",
      });
    }
    const attacker = await login(f, f.accounts.auditor.email, FIXTURE_PASSWORD, "10.0.0.1", {
      "x-forwarded-for": "203.0.113.50",
    });
    expect(attacker.statusCode).toBe(429);
    const colleague = await login(f, f.accounts.auditor.email, FIXTURE_PASSWORD, "10.0.0.1", {
      "x-forwarded-for": "198.51.100.20",
    });
    expect(colleague.statusCode).toBe(200);
    // a client that is not a trusted proxy cannot pick its address by a header
    const spoof = await login(f, "x@example.test", "guess guess guess", "192.0.2.1", {
      "x-forwarded-for": "198.51.100.20",
    });
    expect(spoof.statusCode).toBe(401);
  });

  it("throttling is reported in /metrics", async () => {
    f = await createFixture({
      app: { loginRateLimit: { perAccount: 1, perAddress: 100, windowMs: 60_000 } },
    });
    await login(f, f.accounts.auditor.email, "bad bad bad bad", "10.3.0.1");
    await login(f, f.accounts.auditor.email, "bad bad bad bad", "10.3.0.1");
    const metrics = await f.app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.body).toMatch(/lockfleet_login_attempts_total\{outcome="throttled"\} [1-9]/);
    expect(metrics.body).toMatch(/lockfleet_login_throttled_accounts 1/);
  });
});
