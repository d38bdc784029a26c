/** Root routes for operators: `/healthz`, `/metrics` (Prometheus text), `/openapi.json`. */
import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";

const FLEET_VERSION = "0.1.0";

const Health = Type.Object({
  status: Type.Union([Type.Literal("ok"), Type.Literal("degraded")]),
  database: Type.Boolean(),
  version: Type.String(),
  time: Type.String(),
});

export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.metrics.gauge("lockfleet_admin_log_entries", "Entries in the fleet's admin log", () =>
    app.db.open ? app.adminLog.head().seq : Number.NaN,
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
        database = app.db.prepare("SELECT 1").pluck().get() === 1;
      } catch {
        database = false;
      }
      return reply.code(database ? 200 : 503).send({
        status: database ? "ok" : "degraded",
        database,
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
    async (_request, reply) =>
      reply.type("text/plain; version=0.0.4; charset=utf-8").send(app.metrics.render()),
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
