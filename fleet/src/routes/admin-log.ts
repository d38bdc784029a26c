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
  actorName: Type.Optional(
    Type.String({
      description:
        "the acting person's name, where the reader's bank knows them (its own people, its CIT partners')",
    }),
  ),
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
      const orgId = principalOf(request).orgId;
      const listed = app.adminLog.list({ orgId, action }, page);
      // Names of the bank's own people and of its CIT partners' people (a dispatcher asking for
      // a window on the bank's container acts in the bank's log too); other ids stay ids.
      const partners = new Set(
        app.repos.contracts
          .list({ bankOrgId: orgId }, { limit: 500 })
          .items.map((contract) => contract.citOrgId),
      );
      const now = app.clock();
      const names = new Map<string, string | undefined>();
      const nameOf = (actor: string) => {
        if (!names.has(actor)) {
          const person = app.repos.people.get(actor, now);
          const known =
            person !== undefined && (person.orgId === orgId || partners.has(person.orgId));
          names.set(actor, known ? person.name : undefined);
        }
        return names.get(actor);
      };
      return {
        ...listed,
        items: listed.items.map((entry) => {
          const actorName = nameOf(entry.actor);
          return actorName === undefined ? entry : { ...entry, actorName };
        }),
      };
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
