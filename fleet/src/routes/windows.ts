/**
 * Access windows (SPEC §5): requests by CIT dispatchers, decisions and revocation by bank
 * officers, one-time codes for offline locks (shown once), close seals, and the CIT company's
 * notifications. Decisions are open to every authenticated role so that a refused attempt (a
 * crew member approving) is answered 403 *and* written to the admin log.
 */
import { Instant, PersonId } from "@lockfleet/protocol";
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { principalOf } from "../auth/authorize.js";
import { inBranchScope, ROLES } from "../auth/principal.js";
import { GRANT_STATUSES, WINDOW_STATUSES } from "../windows/window-repository.js";
import { idParams, PageOf, PageQuery, pageQueryWith } from "./common.js";

const RequestBody = Type.Object(
  {
    containerId: Type.String({ minLength: 1, maxLength: 64 }),
    crew: Type.Array(PersonId, { minItems: 1, maxItems: 8 }),
    notBefore: Instant,
    notAfter: Instant,
    purpose: Type.String({ minLength: 1, maxLength: 200 }),
    maxOpenings: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  },
  { additionalProperties: false },
);
const ReasonBody = Type.Union([
  Type.Object(
    { reason: Type.Optional(Type.String({ maxLength: 500 })) },
    { additionalProperties: false },
  ),
  Type.Null(),
]);
const SealBody = Type.Object(
  { seal: Type.String({ minLength: 1, maxLength: 16 }) },
  { additionalProperties: false },
);
const ListQuery = pageQueryWith({
  status: Type.Optional(Type.Union(WINDOW_STATUSES.map((status) => Type.Literal(status)))),
  containerId: Type.Optional(Type.String({ maxLength: 64 })),
});
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const NullableText = Nullable(Type.String());
const WindowView = Type.Object({
  id: Type.String(),
  bankOrgId: Type.String(),
  citOrgId: Type.String(),
  contractId: Type.String(),
  containerId: Type.String(),
  crew: Type.Array(Type.String()),
  crewNames: Type.Array(Type.String()),
  notBefore: Type.String(),
  notAfter: Type.String(),
  purpose: Type.String(),
  maxOpenings: Type.Integer(),
  status: Type.Union(WINDOW_STATUSES.map((status) => Type.Literal(status))),
  autoApproved: Type.Boolean(),
  approvalsRequired: Type.Integer(),
  approvedBy: Type.Array(Type.String()),
  requestedBy: Type.String(),
  requestedAt: Type.String(),
  decidedAt: NullableText,
  decidedBy: NullableText,
  decisionReason: NullableText,
  grantId: NullableText,
  otpNotBefore: NullableText,
  otpNotAfter: NullableText,
  codesIssuedAt: NullableText,
  openings: Type.Integer(),
  closedAt: NullableText,
  closedByDevice: NullableText,
  revokedAt: NullableText,
  revokedBy: NullableText,
  revokeReason: NullableText,
  expiredAt: NullableText,
  locks: Type.Array(
    Type.Object({
      deviceId: Type.String(),
      grantStatus: Type.Union(GRANT_STATUSES.map((status) => Type.Literal(status))),
      result: Nullable(Type.Record(Type.String(), Type.Unknown())),
      updatedAt: Type.String(),
    }),
  ),
});
const CodesView = Type.Object({
  windowId: Type.String(),
  notBefore: Type.String({ description: "Start of the grid window the codes are valid in" }),
  notAfter: Type.String(),
  codes: Type.Array(
    Type.Object({ deviceId: Type.String(), personId: Type.String(), code: Type.String() }),
    { description: "Shown once; the fleet keeps only the counters, never the codes" },
  ),
});
const NotificationView = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  kind: Type.String(),
  windowId: NullableText,
  message: Type.String(),
  data: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String(),
  readAt: NullableText,
});
const UsageView = Type.Object({
  windowId: Type.String(),
  openings: Type.Array(
    Type.Object({
      deviceId: Type.String(),
      via: Type.Union([Type.Literal("grant"), Type.Literal("otp")]),
      auditSeq: Type.Integer(),
      personId: NullableText,
      counter: Nullable(Type.Integer()),
      at: Type.String(),
      sealStatus: Type.Union([
        Type.Literal("open"),
        Type.Literal("verified"),
        Type.Literal("refused"),
      ]),
    }),
  ),
  codes: Type.Array(
    Type.Object({
      deviceId: Type.String(),
      personId: Type.String(),
      issuedAt: Type.String(),
      usedAt: NullableText,
    }),
    { description: "Which one-time codes were issued and used (never the codes)" },
  ),
  sealRefusals: Type.Array(
    Type.Object({ code: Type.String(), source: Type.String(), at: Type.String() }),
  ),
});
const tags = ["windows"];
const WindowParams = idParams("windowId");
type WindowParams = Static<typeof WindowParams>;

export const windowRoutes: FastifyPluginAsync = async (app) => {
  const windows = app.windows;
  const everyone = app.authorize(...ROLES);
  const dispatcher = app.authorize("citDispatcher");
  // Writes name their roles here (the README's table); refused attempts are audited for the bank.
  const bankOf = (request: FastifyRequest) => {
    const id = (request.params as { windowId?: string }).windowId;
    return id === undefined ? undefined : windows.get({ orgId: "", role: "system" }, id).bankOrgId;
  };
  const officers = ["securityAdmin", "branchManager"] as const;
  const approvers = app.authorizeAudited("window.approve", officers, bankOf);
  const rejecters = app.authorizeAudited("window.reject", officers, bankOf);
  const revokers = app.authorizeAudited("window.revoke", officers, bankOf);
  const codeTakers = app.authorizeAudited("window.codes", ["citDispatcher"], bankOf);
  const closers = app.authorizeAudited(
    "window.closeSeal",
    ["securityAdmin", "branchManager", "citDispatcher", "citCrew"],
    bankOf,
  );

  app.post<{ Body: Static<typeof RequestBody> }>(
    "/windows",
    {
      onRequest: dispatcher,
      schema: {
        summary: "Request an access window (CIT dispatcher)",
        tags,
        body: RequestBody,
        response: { 201: WindowView },
      },
    },
    async (request, reply) => {
      const window = await windows.request(principalOf(request), request.body);
      return reply.code(201).send(window);
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    "/windows",
    {
      onRequest: everyone,
      schema: {
        summary: "Access windows of my organisation (bank or CIT company)",
        tags,
        querystring: ListQuery,
        response: { 200: PageOf(WindowView) },
      },
    },
    async (request) => {
      const { status, containerId, limit, cursor } = request.query;
      const principal = principalOf(request);
      const listed = windows.list(principal, { status, containerId }, { limit, cursor });
      if (principal.role !== "branchManager") return listed;
      // a branch manager sees the windows of their branches' containers
      const inScope = (id: string) => {
        const container = app.repos.orgs.getContainer(id);
        return container !== undefined && inBranchScope(principal, container.branchId);
      };
      return { ...listed, items: listed.items.filter((w) => inScope(w.containerId)) };
    },
  );

  app.get<{ Querystring: Static<typeof PageQuery> }>(
    "/windows/notifications",
    {
      onRequest: everyone,
      schema: {
        summary: "What my CIT company was told (revocations, rejections)",
        tags,
        querystring: PageQuery,
        response: { 200: PageOf(NotificationView) },
      },
    },
    async (request) => windows.notifications(principalOf(request), request.query),
  );

  app.get<{ Params: WindowParams }>(
    "/windows/:windowId",
    { onRequest: everyone, schema: { tags, params: WindowParams, response: { 200: WindowView } } },
    async (request) => windows.get(principalOf(request), request.params.windowId),
  );

  app.get<{ Params: WindowParams }>(
    "/windows/:windowId/usage",
    {
      onRequest: everyone,
      schema: {
        summary: "Openings under the window, one-time codes used, close seals refused",
        tags,
        params: WindowParams,
        response: { 200: UsageView },
      },
    },
    async (request) => windows.usage(principalOf(request), request.params.windowId),
  );

  app.post<{ Params: WindowParams }>(
    "/windows/:windowId/approve",
    {
      onRequest: approvers,
      schema: {
        summary: "Approve (bank officer; two distinct people under dual control)",
        tags,
        params: WindowParams,
        response: { 200: WindowView },
      },
    },
    async (request) => windows.approve(principalOf(request), request.params.windowId),
  );

  app.post<{ Params: WindowParams; Body: Static<typeof ReasonBody> }>(
    "/windows/:windowId/reject",
    {
      onRequest: rejecters,
      schema: { tags, params: WindowParams, body: ReasonBody, response: { 200: WindowView } },
    },
    async (request) =>
      windows.reject(principalOf(request), request.params.windowId, request.body?.reason),
  );

  app.post<{ Params: WindowParams; Body: Static<typeof ReasonBody> }>(
    "/windows/:windowId/revoke",
    {
      onRequest: revokers,
      schema: {
        summary:
          "Revoke at any time (bank officer); the lock gets grant.revoke, the CIT company is told",
        tags,
        params: WindowParams,
        body: ReasonBody,
        response: { 200: WindowView },
      },
    },
    async (request) =>
      windows.revoke(principalOf(request), request.params.windowId, request.body?.reason),
  );

  // Codes are derived when shown and shown once; GET as ARCHITECTURE.md names it, POST for clients
  // that will not send a GET that changes state.
  for (const method of ["GET", "POST"] as const) {
    app.route<{ Params: WindowParams }>({
      method,
      url: "/windows/:windowId/codes",
      onRequest: codeTakers,
      schema: {
        summary: "One-time codes for offline locks, shown once to the CIT dispatcher",
        tags,
        params: WindowParams,
        response: { 200: CodesView },
      },
      handler: async (request, reply) => {
        reply.header("cache-control", "no-store");
        const issued = windows.issueCodes(principalOf(request), request.params.windowId);
        return {
          windowId: issued.window.id,
          notBefore: issued.notBefore,
          notAfter: issued.notAfter,
          codes: issued.codes,
        };
      },
    });
  }

  app.post<{ Params: WindowParams; Body: Static<typeof SealBody> }>(
    "/windows/:windowId/close",
    {
      onRequest: closers,
      schema: {
        summary: "Close with the close seal read off the lock's display",
        tags,
        params: WindowParams,
        body: SealBody,
        response: { 200: WindowView },
      },
    },
    async (request) =>
      windows.closeWithSeal(principalOf(request), request.params.windowId, request.body.seal),
  );
};
