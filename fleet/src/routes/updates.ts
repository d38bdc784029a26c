/**
 * Software updates over HTTP: releases (signed metadata, then the target's bytes), staged
 * rollouts (proposed by one security officer, started by a second, independent one; paused and
 * resumed), each lock's progress from its own audit records, and the ranged download the locks
 * fetch a target from with their offer's token; release-key sets (rotation, revocation) the
 * offers carry to the locks; widening a running rollout's ring by two officers.
 * The service is the `lockfleet-updates` plugin (updates/plugin.ts).
 */

import { MAX_TARGET_BYTES, SignedRelease, SignedReleaseKeySet } from "@lockfleet/protocol";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { principalOf } from "../auth/authorize.js";
import { FleetError } from "../errors.js";
import { ROLLOUT_STATUSES } from "../updates/update-repository.js";
import { LOCK_UPDATE_STATUSES } from "../updates/update-service.js";
import { idParams } from "./common.js";

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const ReleaseView = Type.Object({
  releaseId: Type.String(),
  version: Type.String(),
  keyId: Type.String(),
  targetName: Type.String(),
  targetSha256: Type.String(),
  targetLength: Type.Integer(),
  hardwareProfiles: Type.Array(Type.String()),
  expiresAt: Type.String(),
  targetStoredAt: Nullable(Type.String()),
  addedBy: Type.String(),
  addedAt: Type.String(),
});
const RolloutView = Type.Object({
  id: Type.String(),
  releaseId: Type.String(),
  version: Type.String(),
  branchId: Nullable(Type.String()),
  percentage: Type.Integer(),
  status: Type.Union(ROLLOUT_STATUSES.map((status) => Type.Literal(status))),
  proposedBy: Type.String(),
  proposedAt: Type.String(),
  approvedBy: Nullable(Type.String()),
  approvedAt: Nullable(Type.String()),
  changedBy: Nullable(Type.String()),
  changedAt: Nullable(Type.String()),
  branchIds: Type.Array(Type.String()),
  widening: Type.Union([
    Type.Object({
      percentage: Type.Integer(),
      branchIds: Type.Array(Type.String()),
      allBranches: Type.Boolean(),
      proposedBy: Type.String(),
      proposedAt: Type.String(),
    }),
    Type.Null(),
  ]),
  locks: Type.Array(
    Type.Object({
      deviceId: Type.String(),
      status: Type.Union(LOCK_UPDATE_STATUSES.map((status) => Type.Literal(status))),
      at: Nullable(Type.String()),
      code: Nullable(Type.String()),
    }),
  ),
});
const AddReleaseBody = Type.Object({ release: SignedRelease }, { additionalProperties: false });
const ProposeBody = Type.Object(
  {
    releaseId: Type.String({ minLength: 1, maxLength: 64 }),
    branchId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    percentage: Type.Integer({ minimum: 1, maximum: 100 }),
  },
  { additionalProperties: false },
);
const KeySetView = Type.Object({
  version: Type.Integer(),
  keyIds: Type.Array(Type.String()),
  revoked: Type.Array(Type.String()),
  expiresAt: Type.String(),
  addedBy: Type.String(),
  addedAt: Type.String(),
});
const AddKeySetBody = Type.Object({ keySet: SignedReleaseKeySet }, { additionalProperties: false });
const WidenBody = Type.Object(
  {
    percentage: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    branchIds: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100 }),
    ),
    allBranches: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const ReleaseParams = idParams("releaseId");
const RolloutParams = idParams("rolloutId");
const tags = ["updates"];

/** Where the locks reach this fleet: LOCKFLEET_PUBLIC_URL, else the address the officer used. */
function downloadBase(request: FastifyRequest): string {
  return process.env.LOCKFLEET_PUBLIC_URL ?? `${request.protocol}://${request.host}`;
}

export const updateRoutes: FastifyPluginAsync = async (app) => {
  const service = app.updates;
  const bank = app.authorize("securityAdmin", "auditor");
  const officer = app.authorize("securityAdmin");

  app.addContentTypeParser(
    "application/octet-stream",
    { parseAs: "buffer", bodyLimit: MAX_TARGET_BYTES },
    (_request, body, done) => done(null, body),
  );

  app.get(
    "/updates/releases",
    {
      onRequest: bank,
      schema: { tags, response: { 200: Type.Object({ items: Type.Array(ReleaseView) }) } },
    },
    async (request) => ({ items: service.releases(principalOf(request)) }),
  );

  app.post<{ Body: Static<typeof AddReleaseBody> }>(
    "/updates/releases",
    {
      onRequest: officer,
      schema: {
        summary: "Keep a release's signed metadata (made with the offline release tool)",
        tags,
        body: AddReleaseBody,
        response: { 201: ReleaseView },
      },
    },
    async (request, reply) =>
      reply.code(201).send(service.addRelease(principalOf(request), request.body.release)),
  );

  app.put<{ Params: Static<typeof ReleaseParams>; Body: Buffer }>(
    "/updates/releases/:releaseId/target",
    {
      onRequest: officer,
      bodyLimit: MAX_TARGET_BYTES,
      schema: {
        summary:
          "Upload the release's target (application/octet-stream); its length and SHA-256 must match the metadata",
        tags,
        params: ReleaseParams,
        response: { 200: ReleaseView },
      },
    },
    async (request) => {
      if (!Buffer.isBuffer(request.body))
        throw new FleetError("E_CONTENT_TYPE", "send the target as application/octet-stream", 415);
      return service.storeTarget(principalOf(request), request.params.releaseId, request.body);
    },
  );

  app.get(
    "/updates/release-keys",
    {
      onRequest: bank,
      schema: { tags, response: { 200: Type.Object({ items: Type.Array(KeySetView) }) } },
    },
    async (request) => ({ items: service.keySets(principalOf(request)) }),
  );

  app.post<{ Body: Static<typeof AddKeySetBody> }>(
    "/updates/release-keys",
    {
      onRequest: officer,
      schema: {
        summary:
          "Keep a signed release-key set (rotation, revocation); the fleet checks it as a lock will and sends it with every offer",
        tags,
        body: AddKeySetBody,
        response: { 201: KeySetView },
      },
    },
    async (request, reply) =>
      reply.code(201).send(service.addKeySet(principalOf(request), request.body.keySet)),
  );

  app.get(
    "/updates/rollouts",
    {
      onRequest: bank,
      schema: { tags, response: { 200: Type.Object({ items: Type.Array(RolloutView) }) } },
    },
    async (request) => ({ items: service.list(principalOf(request)) }),
  );

  app.post<{ Body: Static<typeof ProposeBody> }>(
    "/updates/rollouts",
    {
      onRequest: officer,
      schema: {
        summary:
          "Propose rolling a release out to a ring of locks (a branch or all, a percentage); a second officer starts it",
        tags,
        body: ProposeBody,
        response: { 201: RolloutView },
      },
    },
    async (request, reply) =>
      reply.code(201).send(service.propose(principalOf(request), request.body)),
  );

  app.get<{ Params: Static<typeof RolloutParams> }>(
    "/updates/rollouts/:rolloutId",
    { onRequest: bank, schema: { tags, params: RolloutParams, response: { 200: RolloutView } } },
    async (request) => service.view(principalOf(request), request.params.rolloutId),
  );

  app.post<{ Params: Static<typeof RolloutParams> }>(
    "/updates/rollouts/:rolloutId/approve",
    {
      onRequest: officer,
      schema: {
        summary:
          "Start the rollout (a second, distinct, independent security officer); the ring is offered the release",
        tags,
        params: RolloutParams,
        response: { 200: RolloutView },
      },
    },
    async (request) =>
      service.approve(principalOf(request), request.params.rolloutId, downloadBase(request)),
  );

  app.post<{ Params: Static<typeof RolloutParams>; Body: Static<typeof WidenBody> }>(
    "/updates/rollouts/:rolloutId/widen",
    {
      onRequest: officer,
      schema: {
        summary:
          "Propose a wider ring for a started rollout (higher percentage, more branches, every branch); a second officer approves",
        tags,
        params: RolloutParams,
        body: WidenBody,
        response: { 200: RolloutView },
      },
    },
    async (request) =>
      service.proposeWidening(principalOf(request), request.params.rolloutId, request.body),
  );

  app.post<{ Params: Static<typeof RolloutParams> }>(
    "/updates/rollouts/:rolloutId/widen/approve",
    {
      onRequest: officer,
      schema: {
        summary:
          "Widen the ring (a second, distinct, independent security officer); new ring members are offered the release",
        tags,
        params: RolloutParams,
        response: { 200: RolloutView },
      },
    },
    async (request) =>
      service.approveWidening(
        principalOf(request),
        request.params.rolloutId,
        downloadBase(request),
      ),
  );

  app.post<{ Params: Static<typeof RolloutParams> }>(
    "/updates/rollouts/:rolloutId/widen/reject",
    { onRequest: officer, schema: { tags, params: RolloutParams, response: { 200: RolloutView } } },
    async (request) => service.rejectWidening(principalOf(request), request.params.rolloutId),
  );

  for (const action of ["reject", "pause", "resume"] as const) {
    app.post<{ Params: Static<typeof RolloutParams> }>(
      `/updates/rollouts/:rolloutId/${action}`,
      {
        onRequest: officer,
        schema: { tags, params: RolloutParams, response: { 200: RolloutView } },
      },
      async (request) => {
        const principal = principalOf(request);
        const id = request.params.rolloutId;
        if (action === "resume") return service.resume(principal, id, downloadBase(request));
        return action === "pause" ? service.pause(principal, id) : service.reject(principal, id);
      },
    );
  }

  // The locks' download: no account, the offer's token names the lock and the rollout.
  app.get(
    "/updates/download",
    {
      schema: {
        summary:
          "One range of an offered target (header x-lockfleet-download-token, Range: bytes=a-b)",
        tags,
      },
    },
    async (request, reply) => {
      const token = request.headers["x-lockfleet-download-token"];
      if (typeof token !== "string")
        throw new FleetError("E_UNAUTHENTICATED", "the download needs its offer's token", 401);
      const range = service.readRange(token, request.headers.range);
      return reply
        .code(206)
        .header("content-type", "application/octet-stream")
        .header("content-range", `bytes ${range.start}-${range.end}/${range.total}`)
        .send(range.bytes);
    },
  );
};
