/**
 * Reading the fleet's own admin log: a security admin or auditor sees their organisation's
 * entries and can have the whole chain verified (a broken link names the first bad entry).
 */
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/authorize.js";
import { PageOf, pageQueryWith } from "./common.js";

const Entry = Type.Object({
  seq: Type.Integer(),
  at: Type.String(),
  orgId: Type.Union([Type.String(), Type.Null()]),
  actor: Type.String(),
  action: Type.String(),
  target: Type.Union([Type.String(), Type.Null()]),
  data: Type.Record(Type.String(), Type.Unknown()),
  prevHash: Type.String(),
  hash: Type.String(),
});
const Verification = Type.Object({
  ok: Type.Boolean(),
  entries: Type.Integer(),
  headHash: Type.Optional(Type.String()),
  brokenAt: Type.Optional(Type.Integer()),
  reason: Type.Optional(Type.String()),
});
const LogQuery = pageQueryWith({ action: Type.Optional(Type.String({ maxLength: 64 })) });

export const adminLogRoutes: FastifyPluginAsync = async (app) => {
  const readers = app.authorize("securityAdmin", "auditor");

  app.get<{ Querystring: Static<typeof LogQuery> }>(
    "/admin-log",
    {
      onRequest: readers,
      schema: {
        summary: "My organisation's entries in the fleet's hash-chained admin log",
        tags: ["audit"],
        querystring: LogQuery,
        response: { 200: PageOf(Entry) },
      },
    },
    async (request) => {
      const { action, ...page } = request.query;
      return app.adminLog.list({ orgId: principalOf(request).orgId, action }, page);
    },
  );

  app.get(
    "/admin-log/verify",
    {
      onRequest: readers,
      schema: {
        summary:
          "Verify the whole admin log chain and its signed checkpoints (a removed tail or a re-hashed edit fails)",
        tags: ["audit"],
        response: { 200: Verification },
      },
    },
    async () => app.adminLogCheckpoints.verify(),
  );
};
