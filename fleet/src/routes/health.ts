/**
 * Root routes for operators: `/healthz`, `/metrics` (Prometheus text; behind a bearer token, or
 * to loopback callers only when none is set), `/openapi.json`.
 */
import { timingSafeEqual } from "node:crypto";
import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { FleetError } from "../errors.js";
import { dataDirWriteProblem } from "../storage/writable.js";

const FLEET_VERSION = "0.1.0";

const Health = Type.Object({
  status: Type.Union([Type.Literal("ok"), Type.Literal("degraded")]),
  database: Type.Boolean(),
  storage: Type.Boolean({
    description: "the data directory takes a write (false: disk full or read-only)",
  }),
  storageError: Type.Optional(Type.String()),
  version: Type.String(),
  time: Type.String(),
});

export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.metrics.gauge("lockfleet_admin_log_entries", "Entries in the fleet's admin log", () =>
    app.store.open ? app.adminLog.head().seq : Number.NaN,
  );

  app.get(
    "/healthz",
    {
      schema: {
        summary: "Liveness and database check (no authentication)",
        tags: ["operations"],
        response: { 200: Health, 503: Health },
      },
    },
    async (_request, reply) => {
      let database = false;
      try {
        database = app.store.reachable();
      } catch {
        database = false;
      }
      const storage = dataDirWriteProblem(app.dataDir);
      if (app.hasDecorator("storageWatch")) app.storageWatch.observe(storage);
      const healthy = database && storage === undefined;
      return reply.code(healthy ? 200 : 503).send({
        status: healthy ? "ok" : "degraded",
        database,
        storage: storage === undefined,
        ...(storage === undefined ? {} : { storageError: storage }),
        version: FLEET_VERSION,
        time: new Date(app.clock()).toISOString(),
      });
    },
  );

  app.get(
    "/metrics",
    {
      schema: {
        summary: "Prometheus metrics, text exposition format 0.0.4 (aggregate counts only)",
        tags: ["operations"],
        response: { 200: Type.String() },
      },
    },
    async (request, reply) => {
      const token = app.metricsToken;
      if (token !== undefined) {
        const given = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "")?.[1] ?? "";
        const a = Buffer.from(given);
        const b = Buffer.from(token);
        if (a.length !== b.length || !timingSafeEqual(a, b)) {
          throw new FleetError("E_METRICS_TOKEN", "/metrics needs its bearer token", 401);
        }
      } else if (!isLoopback(request.socket.remoteAddress ?? "")) {
        // no token set: only a scraper on this machine reads the figures
        throw new FleetError(
          "E_METRICS_LOCAL_ONLY",
          "/metrics answers this machine only unless LOCKFLEET_METRICS_TOKEN is set",
          403,
        );
      }
      return reply.type("text/plain; version=0.0.4; charset=utf-8").send(app.metrics.render());
    },
  );

  app.get(
    "/openapi.json",
    {
      schema: {
        summary: "This API's OpenAPI 3.1 document, generated from the registered routes",
        tags: ["operations"],
      },
    },
    async () => app.openapi.document({ title: "lockfleet fleet API", version: FLEET_VERSION }),
  );
};

function isLoopback(address: string): boolean {
  return address === "::1" || /^(::ffff:)?127\./.test(address);
}
