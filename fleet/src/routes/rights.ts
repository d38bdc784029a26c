/**
 * Rights of people on locks (SPEC §5 "People lifecycle"): give, change and remove a person's
 * lock role on containers; each lock's confirmation is in `locks` of every right. Giving one
 * is a proposal a second officer approves; the initial one-time codes then wait, sealed, as
 * PIN letters downloaded once (routes/pin-letters.ts).
 */
import { Instant, PersonId, UserRole, WeeklyPeriod } from "@lockfleet/protocol";
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/authorize.js";
import { PUSH_STATUSES, REMOVAL_REASONS } from "../rights/rights-repository.js";
import { idParams } from "./common.js";
import { PinLetterView } from "./pin-letters.js";
import { ProposalAccepted, proposalView } from "./proposals.js";

const TimeProfile = Type.Array(WeeklyPeriod, { maxItems: 28 });
const GrantBody = Type.Object(
  {
    personId: PersonId,
    containerIds: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      minItems: 1,
      maxItems: 100,
    }),
    role: UserRole,
    validFrom: Type.Optional(Instant),
    validUntil: Type.Optional(Instant),
    timeProfile: Type.Optional(TimeProfile),
  },
  { additionalProperties: false },
);
const ChangeBody = Type.Object(
  {
    role: Type.Optional(UserRole),
    validFrom: Type.Optional(Instant),
    validUntil: Type.Optional(Instant),
    timeProfile: Type.Optional(TimeProfile),
  },
  { additionalProperties: false, minProperties: 1 },
);
const RightsQuery = Type.Object(
  { personId: PersonId, includeRemoved: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const NullableText = Nullable(Type.String());
const RightView = Type.Object({
  id: Type.String(),
  personId: Type.String(),
  personOrgId: Type.String(),
  bankOrgId: Type.String(),
  containerId: Type.String(),
  role: UserRole,
  tenantId: NullableText,
  validFrom: NullableText,
  validUntil: NullableText,
  timeProfile: Nullable(TimeProfile),
  createdBy: Type.String(),
  createdAt: Type.String(),
  changedAt: NullableText,
  removedAt: NullableText,
  removedBy: NullableText,
  removedReason: Nullable(Type.Union(REMOVAL_REASONS.map((reason) => Type.Literal(reason)))),
  locks: Type.Array(
    Type.Object({
      rightId: Type.String(),
      deviceId: Type.String(),
      personId: Type.String(),
      slot: Type.Integer(),
      status: Type.Union(PUSH_STATUSES.map((status) => Type.Literal(status))),
      lastCommand: Type.String(),
      error: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
      updatedAt: Type.String(),
      confirmedAt: NullableText,
    }),
    { description: "Per lock: what was sent and whether the lock confirmed it" },
  ),
});
const PinLetters = Type.Array(PinLetterView, {
  description:
    "The initial codes, each waiting as a PIN letter to be downloaded once (POST /pin-letters/:id/download)",
});
const tags = ["rights"];
const RightParams = idParams("rightId");
type RightParams = Static<typeof RightParams>;

export const rightRoutes: FastifyPluginAsync = async (app) => {
  const rights = app.rights;
  const managers = app.authorize("securityAdmin", "branchManager");
  const readers = app.authorize("securityAdmin", "branchManager", "auditor", "citDispatcher");

  app.post<{ Body: Static<typeof GrantBody> }>(
    "/rights",
    {
      onRequest: managers,
      schema: {
        summary:
          "Propose giving a person a lock role on containers (202); on approval by a second officer it pushes user.add to every lock",
        tags,
        body: GrantBody,
        response: { 202: ProposalAccepted },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      // everything the grant would refuse is refused now, before a second officer is asked
      rights.checkGrant(principal, request.body);
      const proposal = app.proposals.propose(principal, {
        orgId: principal.orgId,
        kind: "right.grant",
        subjectPersonId: request.body.personId,
        payload: request.body,
        summary: `lock role ${request.body.role} on ${request.body.containerIds.length} container(s)`,
      });
      return reply.code(202).send({ proposal: proposalView(proposal) });
    },
  );

  // The approving officer gives the right (their own scope and role are checked again).
  app.proposals.register("right.grant", async (proposal, approver) => {
    const input = proposal.payload as Static<typeof GrantBody>;
    const { rights: given, initialCodes } = await rights.grant(approver, input);
    // the codes never travel in an answer: each waits, sealed, for its PIN letter
    const pinLetters = app.pinLetters.store(
      approver.orgId,
      input.personId,
      approver.personId,
      initialCodes,
    );
    return {
      answer: { rights: given, pinLetters },
      result: { rightIds: given.map((right) => right.id), pinLetters: pinLetters.map((l) => l.id) },
    };
  });

  app.get<{ Querystring: Static<typeof RightsQuery> }>(
    "/rights",
    {
      onRequest: readers,
      schema: {
        summary: "A person's rights on locks, with each lock's confirmation",
        tags,
        querystring: RightsQuery,
        response: { 200: Type.Object({ items: Type.Array(RightView) }) },
      },
    },
    async (request) => ({
      items: rights.list(
        principalOf(request),
        request.query.personId,
        request.query.includeRemoved ?? false,
      ),
    }),
  );

  app.get<{ Params: RightParams }>(
    "/rights/:rightId",
    { onRequest: readers, schema: { tags, params: RightParams, response: { 200: RightView } } },
    async (request) => rights.get(principalOf(request), request.params.rightId),
  );

  app.post<{ Params: RightParams }>(
    "/rights/:rightId/push",
    {
      onRequest: managers,
      schema: {
        summary:
          "Add the right to locks of the container that do not hold it yet (fresh initial codes, shown once)",
        tags,
        params: RightParams,
        response: {
          200: Type.Object({ right: RightView, pinLetters: PinLetters }),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { right, initialCodes } = await rights.push(principal, request.params.rightId);
      return {
        right,
        pinLetters: app.pinLetters.store(
          principal.orgId,
          right.personId,
          principal.personId,
          initialCodes,
        ),
      };
    },
  );

  app.patch<{ Params: RightParams; Body: Static<typeof ChangeBody> }>(
    "/rights/:rightId",
    {
      onRequest: managers,
      schema: {
        summary: "Change validity, time profile or role (pushes user.change)",
        tags,
        params: RightParams,
        body: ChangeBody,
        response: { 200: RightView },
      },
    },
    async (request) => rights.change(principalOf(request), request.params.rightId, request.body),
  );

  app.delete<{ Params: RightParams }>(
    "/rights/:rightId",
    {
      onRequest: managers,
      schema: {
        summary: "Remove the right (pushes user.delete to every lock that held it)",
        tags,
        params: RightParams,
        response: { 200: RightView },
      },
    },
    async (request) => rights.remove(principalOf(request), request.params.rightId),
  );
};
