/**
 * Maker–checker proposals (auth/proposals.ts): list, read, approve, reject. Power-creating
 * routes (`POST /users` with a power role, `POST /users/:id/role`, `POST /people/:id/enable`
 * for a bank person, `POST /rights`) answer 202 with the proposal; its approval by a second,
 * independent officer answers with what the route would have answered (`answer`).
 */
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/authorize.js";
import { BANK_ROLES } from "../auth/principal.js";
import { PROPOSAL_KINDS, PROPOSAL_STATUSES } from "../storage/proposals-repository.js";
import { idParams } from "./common.js";

export const ProposalView = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  kind: Type.Union(PROPOSAL_KINDS.map((kind) => Type.Literal(kind))),
  subjectPersonId: Type.String(),
  summary: Type.String(),
  status: Type.Union(PROPOSAL_STATUSES.map((status) => Type.Literal(status))),
  proposedBy: Type.String(),
  proposedAt: Type.String(),
  decidedBy: Type.Union([Type.String(), Type.Null()]),
  decidedAt: Type.Union([Type.String(), Type.Null()]),
  result: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});
/** What a power route answers when it made a proposal instead of acting. */
export const ProposalAccepted = Type.Object({ proposal: ProposalView });

const ListQuery = Type.Object(
  { status: Type.Optional(Type.Union(PROPOSAL_STATUSES.map((s) => Type.Literal(s)))) },
  { additionalProperties: false },
);
const RejectBody = Type.Union([
  Type.Object(
    { reason: Type.Optional(Type.String({ maxLength: 500 })) },
    { additionalProperties: false },
  ),
  Type.Null(),
]);
const Params = idParams("proposalId");
const tags = ["proposals"];

/** A proposal as clients see it: never the payload (it may hold a password hash). */
export function proposalView(proposal: {
  id: string;
  orgId: string;
  kind: string;
  subjectPersonId: string;
  summary: string;
  status: string;
  proposedBy: string;
  proposedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  result: Record<string, unknown> | null;
}) {
  const { id, orgId, kind, subjectPersonId, summary, status, proposedBy, proposedAt } = proposal;
  return {
    id,
    orgId,
    kind,
    subjectPersonId,
    summary,
    status,
    proposedBy,
    proposedAt,
    decidedBy: proposal.decidedBy,
    decidedAt: proposal.decidedAt,
    result: proposal.result,
  };
}

export const proposalRoutes: FastifyPluginAsync = async (app) => {
  const readers = app.authorize(...BANK_ROLES);
  const approvers = app.authorizeAudited("proposal.approve", ["securityAdmin", "branchManager"]);
  const rejecters = app.authorize("securityAdmin", "branchManager");

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    "/proposals",
    {
      onRequest: readers,
      schema: {
        summary: "Power changes waiting for (or decided by) a second officer",
        tags,
        querystring: ListQuery,
        response: { 200: Type.Object({ items: Type.Array(ProposalView) }) },
      },
    },
    async (request) => ({
      items: app.proposals.list(principalOf(request), request.query.status).map(proposalView),
    }),
  );

  app.get<{ Params: Static<typeof Params> }>(
    "/proposals/:proposalId",
    { onRequest: readers, schema: { tags, params: Params, response: { 200: ProposalView } } },
    async (request) =>
      proposalView(app.proposals.get(principalOf(request), request.params.proposalId)),
  );

  app.post<{ Params: Static<typeof Params> }>(
    "/proposals/:proposalId/approve",
    {
      onRequest: approvers,
      schema: {
        summary:
          "Approve as the second officer: distinct, independent of the proposer, not the subject; the change takes effect now",
        tags,
        params: Params,
        response: {
          200: Type.Object({ proposal: ProposalView, answer: Type.Unknown() }),
        },
      },
    },
    async (request, reply) => {
      reply.header("cache-control", "no-store");
      const { proposal, answer } = await app.proposals.approve(
        principalOf(request),
        request.params.proposalId,
      );
      return { proposal: proposalView(proposal), answer };
    },
  );

  app.post<{ Params: Static<typeof Params>; Body: Static<typeof RejectBody> }>(
    "/proposals/:proposalId/reject",
    {
      onRequest: rejecters,
      schema: {
        summary: "Reject (a security admin) or withdraw (the proposer)",
        tags,
        params: Params,
        body: RejectBody,
        response: { 200: ProposalView },
      },
    },
    async (request) =>
      proposalView(
        app.proposals.reject(principalOf(request), request.params.proposalId, request.body?.reason),
      ),
  );
};
