import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventRoutes, eventRoutesWith } from "../../src/routes/events.js";
import { ROUTES } from "../../src/routes/index.js";
import { createFixture, type Fixture } from "../fixtures.js";
import { openSse } from "./sse.js";

let f: Fixture;
let base: string;

beforeAll(async () => {
  const routes = ROUTES.map((entry) =>
    entry.plugin === eventRoutes
      ? { ...entry, plugin: eventRoutesWith({ heartbeatMs: 50 }) }
      : entry,
  );
  f = await createFixture({ app: { routes } });
  await f.app.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(f.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await f?.close();
});

describe("live events and the session", () => {
  it("a logged-out session's stream ends at the next heartbeat", async () => {
    const login = await f.app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      payload: { email: f.accounts.auditor.email, password: f.accounts.auditor.password },
    });
    const cookie = String(login.headers["set-cookie"]).split(";")[0] ?? "";
    const stream = await openSse(`${base}/api/v1/events`, { cookie });
    await stream.next((e) => e.event === "hello");
    const ended = new Promise<void>((resolve) => stream.response.on("end", () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(stream.response.complete).toBe(false);
    await f.app.inject({ method: "POST", url: "/api/v1/auth/logout", headers: { cookie } });
    await ended;
    stream.close();
  });

  it("a disabled account's stream ends too", async () => {
    const stream = await openSse(`${base}/api/v1/events`, f.as("branchManager"));
    await stream.next((e) => e.event === "hello");
    const ended = new Promise<void>((resolve) => stream.response.on("end", () => resolve()));
    f.app.repos.users.disable(f.accounts.branchManager.user.id, f.clock.now());
    await ended;
    stream.close();
  });
});
