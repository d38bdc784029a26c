/**
 * Policy changes (SPEC §3, §5): delay, dual control, time locks and holidays of a container,
 * sent to its locks as signed commands. Weakening changes wait for a second, distinct
 * approver; approvals are open to every bank role so that refused attempts are audited.
 */
import { Holiday, LockPolicy, MAX_HOLIDAYS, TimeLockSchedule } from "@lockfleet/protocol";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/authorize.js";
import { POLICY_CHANGE_KINDS, POLICY_CHANGE_STATUSES } from "../policy/policy-repository.js";
import { idParams } from "./common.js";

const ContainerId = Type.String({ minLength: 1, maxLength: 64 });
// Required (SPEC: every change is recorded with who and why). Optional in the schema only so
// that a missing reason is refused with the same code as a blank one (E_REASON_REQUIRED).
const Reason = Type.Optional(
  Type.String({ maxLength: 500, description: "Why the change is made (required)" }),
);
const ProposeBody = Type.Union([
  Type.Object(
    { containerId: ContainerId, kind: Type.Literal("policy"), policy: LockPolicy, reason: Reason },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      containerId: ContainerId,
      kind: Type.Literal("timeLockSchedule"),
      schedule: TimeLockSchedule,
      reason: Reason,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      containerId: ContainerId,
      kind: Type.Literal("holidays"),
      holidays: Type.Array(Holiday, { maxItems: MAX_HOLIDAYS }),
      reason: Reason,
    },
    { additionalProperties: false },
  ),
]);
const ListQuery = Type.Object(
  { containerId: Type.Optional(ContainerId) },
  { additionalProperties: false },
);
const NullableText = Type.Union([Type.String(), Type.Null()]);
const PolicyChangeView = Type.Object({
  id: Type.String(),
  bankOrgId: Type.String(),
  containerId: Type.String(),
  kind: Type.Union(POLICY_CHANGE_KINDS.map((kind) => Type.Literal(kind))),
  proposed: Type.Unknown(),
  weakening: Type.Boolean(),
  weakened: Type.Array(Type.String()),
  approvalsRequired: Type.Integer(),
  approvedBy: Type.Array(Type.String()),
  status: Type.Union(POLICY_CHANGE_STATUSES.map((status) => Type.Literal(status))),
  reason: NullableText,
  requestedBy: Type.String(),
  requestedAt: Type.String(),
  decidedAt: NullableText,
  sentAt: NullableText,
  locks: Type.Array(
    Type.Object({
      deviceId: Type.String(),
      status: Type.Union([Type.Literal("sent"), Type.Literal("ok"), Type.Literal("error")]),
      result: Type.Unknown(),
      updatedAt: Type.String(),
    }),
  ),
});
const tags = ["policy"];
const ChangeParams = idParams("changeId");
type ChangeParams = Static<typeof ChangeParams>;

export const policyRoutes: FastifyPluginAsync = async (app) => {
  const policy = app.policy;
  const securityAdmin = app.authorize("securityAdmin");
  const bank = app.authorize("securityAdmin", "branchManager", "auditor");
  // approval is open to bank officers; any other role's attempt is refused and audited
  const approvers = app.authorizeAudited(
    "policy.approve",
    ["securityAdmin", "branchManager"],
    (request) => {
      const id = (request.params as { changeId?: string }).changeId;
      return id === undefined ? undefined : policy.ownerOf(id);
    },
  );

  app.post<{ Body: Static<typeof ProposeBody> }>(
    "/policy-changes",
    {
      onRequest: securityAdmin,
      schema: {
        summary:
          "Propose a policy, time-lock or holiday change (weakening ones wait for a second approver)",
        tags,
        body: ProposeBody,
        response: { 201: PolicyChangeView },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await policy.propose(principalOf(request), request.body)),
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    "/policy-changes",
    {
      onRequest: bank,
      schema: {
        tags,
        querystring: ListQuery,
        response: { 200: Type.Object({ items: Type.Array(PolicyChangeView) }) },
      },
    },
    async (request) => ({ items: policy.list(principalOf(request), request.query.containerId) }),
  );

  app.get<{ Params: ChangeParams }>(
    "/policy-changes/:changeId",
    {
      onRequest: bank,
      schema: { tags, params: ChangeParams, response: { 200: PolicyChangeView } },
    },
    async (request) => policy.get(principalOf(request), request.params.changeId),
  );

  app.post<{ Params: ChangeParams }>(
    "/policy-changes/:changeId/approve",
    {
      onRequest: approvers,
      schema: {
        summary: "Approve (a second, distinct bank officer)",
        tags,
        params: ChangeParams,
        response: { 200: PolicyChangeView },
      },
    },
    async (request) => policy.approve(principalOf(request), request.params.changeId),
  );

  app.post<{ Params: ChangeParams }>(
    "/policy-changes/:changeId/reject",
    {
      onRequest: securityAdmin,
      schema: { tags, params: ChangeParams, response: { 200: PolicyChangeView } },
    },
    async (request) => policy.reject(principalOf(request), request.params.changeId),
  );
};
