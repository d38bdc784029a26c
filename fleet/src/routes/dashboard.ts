/**
 * The dashboard, served by the fleet itself (SPEC §5): static HTML, CSS and ES modules from
 * `fleet/src/dashboard/`, no build step and no CDN. Only the files found there at start-up are
 * served (no path from the URL ever reaches the file system), under a strict Content Security
 * Policy: scripts and styles from this origin only, nothing inline, no framing.
 */

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CodedError } from "@lockfleet/protocol";
import type { FastifyPluginAsync, FastifyReply } from "fastify";

export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
};

/** `src/dashboard` next to this file's `src/routes` (tsx, tests) or above `dist/routes`. */
export function dashboardDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "..", "dashboard"), join(here, "..", "..", "src", "dashboard")];
  const found = candidates.find((dir) => existsSync(join(dir, "index.html")));
  if (found === undefined) {
    throw new CodedError("E_DASHBOARD_MISSING", `no index.html in ${candidates.join(" or ")}`);
  }
  return found;
}

interface Asset {
  body: Buffer;
  type: string;
}

/**
 * Libraries the dashboard takes from the fleet's own npm dependencies, served under a name of
 * the dashboard's (the charting library uPlot: its ES module and its stylesheet).
 */
const VENDOR_FILES: Record<string, string> = {
  "uplot.esm.js": "uplot/dist/uPlot.esm.js",
  "uplot.css": "uplot/dist/uPlot.min.css",
};

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const require = createRequire(import.meta.url);
  for (const [name, file] of Object.entries(VENDOR_FILES)) {
    assets.set(name, {
      body: readFileSync(require.resolve(file)),
      type: TYPES[extname(name)] as string,
    });
  }
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type === undefined || !/^[a-z0-9][a-z0-9.-]*$/.test(name)) continue;
    assets.set(name, { body: readFileSync(join(dir, name)), type });
  }
  return assets;
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header("content-security-policy", DASHBOARD_CSP)
    .header("x-content-type-options", "nosniff")
    .header("x-frame-options", "DENY")
    .header("referrer-policy", "no-referrer")
    .header("cross-origin-opener-policy", "same-origin")
    .header("cache-control", "no-cache");
}

export const dashboardRoutes: FastifyPluginAsync = async (app) => {
  const assets = loadAssets(dashboardDir());
  const index = assets.get("index.html");
  if (index === undefined) throw new CodedError("E_DASHBOARD_MISSING", "index.html not found");

  app.get("/", { schema: { hide: true } }, async (_request, reply) =>
    securityHeaders(reply).type(index.type).send(index.body),
  );
  app.get<{ Params: { file: string } }>(
    "/dashboard/:file",
    { schema: { hide: true } },
    async (request, reply) => {
      const asset = assets.get(request.params.file);
      if (asset === undefined) {
        return securityHeaders(reply)
          .code(404)
          .send({ code: "E_NOT_FOUND", message: `no dashboard file ${request.params.file}` });
      }
      return securityHeaders(reply).type(asset.type).send(asset.body);
    },
  );
};
