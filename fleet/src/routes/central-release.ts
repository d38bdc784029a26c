/**
 * Central release over HTTP (fleet/src/devices/central-release.ts): a bank officer asks for
 * one release of a container's lock with a reason, a second, independent officer approves and
 * the signed `remote.centralRelease` goes out; the requester may withdraw, a security admin
 * reject. The service is the
 * `lockfleet-central-releases` plugin (devices/central-release-plugin.ts).
 */
import { CommandResult } from "@lockfleet/protocol";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/authorize.js";
import { CENTRAL_RELEASE_ROLES, MAX_VALID_MINUTES } from "../devices/central-release.js";
import { CENTRAL_RELEASE_STATUSES } from "../devices/central-release-repository.js";
import { idParams } from "./common.js";

const NullableText = Type.Union([Type.String(), Type.Null()]);
export const CentralReleaseView = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  containerId: Type.String(),
  deviceId: Type.String(),
  reason: Type.String(),
  validMinutes: Type.Integer(),
  status: Type.Union(CENTRAL_RELEASE_STATUSES.map((status) => Type.Literal(status))),
  requestedBy: Type.String(),
  requestedAt: Type.String(),
  approvedBy: NullableText,
  decidedAt: NullableText,
  commandId: NullableText,
  validUntil: NullableText,
  result: Type.Union([CommandResult, Type.Null()]),
});
const RequestBody = Type.Object(
  {
    containerId: Type.String({ minLength: 1, maxLength: 64 }),
    deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    // an empty or blank reason is refused by the service with its own code (E_REASON_REQUIRED)
    reason: Type.String({ maxLength: 200 }),
    validMinutes: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);
const ListQuery = Type.Object(
  { containerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) },
  { additionalProperties: false },
);
const RejectBody = Type.Union([
  Type.Object(
    { reason: Type.Optional(Type.String({ maxLength: 500 })) },
    { additionalProperties: false },
  ),
  Type.Null(),
]);
const Params = idParams("releaseId");
const tags = ["devices"];

export const centralReleaseRoutes: FastifyPluginAsync = async (app) => {
  const service = app.centralReleases;
  const officers = app.authorize(...CENTRAL_RELEASE_ROLES);
  const readers = app.authorize("securityAdmin", "branchManager", "auditor");

  app.post<{ Body: Static<typeof RequestBody> }>(
    "/central-releases",
    {
      onRequest: officers,
      schema: {
        summary: `Ask for a central release of a container's lock (reason required, valid 1–${MAX_VALID_MINUTES} min once sent); a second officer approves`,
        tags,
        body: RequestBody,
        response: { 201: CentralReleaseView },
      },
    },
    async (request, reply) =>
      reply.code(201).send(service.request(principalOf(request), request.body)),
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    "/central-releases",
    {
      onRequest: readers,
      schema: {
        summary: "Central releases of the bank (or of one container), newest first",
        tags,
        querystring: ListQuery,
        response: { 200: Type.Object({ items: Type.Array(CentralReleaseView) }) },
      },
    },
    async (request) => ({ items: service.list(principalOf(request), request.query.containerId) }),
  );

  app.get<{ Params: Static<typeof Params> }>(
    "/central-releases/:releaseId",
    { onRequest: readers, schema: { tags, params: Params, response: { 200: CentralReleaseView } } },
    async (request) => service.get(principalOf(request), request.params.releaseId),
  );

  app.post<{ Params: Static<typeof Params> }>(
    "/central-releases/:releaseId/approve",
    {
      onRequest: officers,
      schema: {
        summary:
          "Approve as the second officer (another, independent person); the signed remote.centralRelease goes to the lock",
        tags,
        params: Params,
        response: { 200: CentralReleaseView },
      },
    },
    async (request, reply) => {
      reply.header("cache-control", "no-store");
      return service.approve(principalOf(request), request.params.releaseId);
    },
  );

  app.post<{ Params: Static<typeof Params>; Body: Static<typeof RejectBody> }>(
    "/central-releases/:releaseId/reject",
    {
      onRequest: officers,
      schema: {
        summary: "Withdraw (the officer who asked) or reject (a security admin)",
        tags,
        params: Params,
        body: RejectBody,
        response: { 200: CentralReleaseView },
      },
    },
    async (request) =>
      service.reject(principalOf(request), request.params.releaseId, request.body?.reason),
  );
};
