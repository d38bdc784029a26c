/**
 * Clock corrections over HTTP (SPEC §3 "Time"): a security admin proposes setting a lock's
 * clock by the drift the fleet measured, a second, independent bank officer approves, and the
 * signed, confirmed `time.set` goes out (fleet/src/devices/clock-corrections.ts).
 */
import { CommandResult } from "@lockfleet/protocol";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/authorize.js";
import { CLOCK_CORRECTION_STATUSES } from "../devices/clock-correction-repository.js";
import { CLOCK_APPROVER_ROLES } from "../devices/clock-corrections.js";
import { idParams } from "./common.js";

const NullableText = Type.Union([Type.String(), Type.Null()]);
const ClockCorrectionView = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  deviceId: Type.String(),
  driftMs: Type.Integer(),
  confirmJumpSec: Type.Integer(),
  reason: Type.String(),
  status: Type.Union(CLOCK_CORRECTION_STATUSES.map((status) => Type.Literal(status))),
  requestedBy: Type.String(),
  requestedAt: Type.String(),
  approvedBy: NullableText,
  decidedAt: NullableText,
  commandId: NullableText,
  result: Type.Union([CommandResult, Type.Null()]),
});
const ProposeBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);
const DeviceParams = idParams("deviceId");
const CorrectionParams = idParams("correctionId");
const tags = ["devices"];

export const clockCorrectionRoutes: FastifyPluginAsync = async (app) => {
  const service = app.clockCorrections;
  const bank = app.authorize("securityAdmin", "branchManager", "auditor");

  app.post<{ Params: Static<typeof DeviceParams>; Body: Static<typeof ProposeBody> }>(
    "/devices/:deviceId/clock-corrections",
    {
      onRequest: app.authorize("securityAdmin"),
      schema: {
        summary:
          "Propose setting a lock's clock by its measured drift (beyond what a time sync may do); a second officer approves",
        tags,
        params: DeviceParams,
        body: ProposeBody,
        response: { 201: ClockCorrectionView },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(service.propose(principalOf(request), request.params.deviceId, request.body.reason)),
  );

  app.get<{ Params: Static<typeof DeviceParams> }>(
    "/devices/:deviceId/clock-corrections",
    {
      onRequest: bank,
      schema: {
        tags,
        params: DeviceParams,
        response: { 200: Type.Object({ items: Type.Array(ClockCorrectionView) }) },
      },
    },
    async (request) => ({ items: service.list(principalOf(request), request.params.deviceId) }),
  );

  app.post<{ Params: Static<typeof CorrectionParams> }>(
    "/clock-corrections/:correctionId/approve",
    {
      onRequest: app.authorize(...CLOCK_APPROVER_ROLES),
      schema: {
        summary: "Approve (a second, independent bank officer); the signed time.set goes out",
        tags,
        params: CorrectionParams,
        response: { 200: ClockCorrectionView },
      },
    },
    async (request) => service.approve(principalOf(request), request.params.correctionId),
  );

  app.post<{ Params: Static<typeof CorrectionParams> }>(
    "/clock-corrections/:correctionId/reject",
    {
      onRequest: app.authorize("securityAdmin"),
      schema: { tags, params: CorrectionParams, response: { 200: ClockCorrectionView } },
    },
    async (request) => service.reject(principalOf(request), request.params.correctionId),
  );
};
