import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DASHBOARD_CSP, dashboardDir } from "../../src/routes/dashboard.js";
import { createFixture, type Fixture } from "../fixtures.js";

let f: Fixture;
beforeAll(async () => {
  f = await createFixture();
});
afterAll(async () => {
  await f?.close();
});

describe("dashboard served by the fleet", () => {
  it("serves the page at / under a strict Content Security Policy", async () => {
    const response = await f.app.inject({ method: "GET", url: "/" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/html/);
    const csp = String(response.headers["content-security-policy"]);
    expect(csp).toBe(DASHBOARD_CSP);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("the page has no inline script, no inline handler, no inline style and nothing from another origin", async () => {
    const html = (await f.app.inject({ method: "GET", url: "/" })).body;
    for (const script of html.match(/<script\b[^>]*>[\s\S]*?<\/script>/g) ?? []) {
      expect(script).toMatch(/\bsrc="\/dashboard\/[a-z-]+\.js"/);
      expect(script).toMatch(/>\s*<\/script>$/);
    }
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it("serves every module and stylesheet the page needs, with the right type", async () => {
    const dir = dashboardDir();
    for (const file of readdirSync(dir).filter((name) => /\.(html|js|css|svg)$/.test(name))) {
      const response = await f.app.inject({ method: "GET", url: `/dashboard/${file}` });
      expect(response.statusCode, file).toBe(200);
      if (file.endsWith(".js")) {
        expect(response.headers["content-type"]).toMatch(/^text\/javascript/);
        // every relative import names a file that is served
        for (const [, target] of readFileSync(join(dir, file), "utf8").matchAll(
          /from "\.\/([a-z-]+\.js)"/g,
        )) {
          expect(readdirSync(dir)).toContain(target);
        }
        expect(response.body).not.toMatch(
          /\beval\(|new Function\(|innerHTML|https?:\/\/(?!www\.w3\.org)/,
        );
      }
    }
  });

  it("serves nothing outside the dashboard folder, and no type declarations", async () => {
    for (const path of [
      "/dashboard/lock-state.d.ts",
      "/dashboard/..%2Fapp.ts",
      "/dashboard/%2e%2e%2f%2e%2e%2fpackage.json",
      "/dashboard/missing.js",
      "/dashboard/.hidden",
    ]) {
      const response = await f.app.inject({ method: "GET", url: path });
      expect(response.statusCode, path).toBe(404);
    }
  });
});
