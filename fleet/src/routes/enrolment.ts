/**
 * Provisioning (SPEC §5): a security admin creates a one-time enrolment token for a container;
 * the device, at the technician's hands, enrols with it and proves it holds its signing key.
 */
import { EnrolmentRequest, EnrolmentResponse } from "@lockfleet/protocol";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/authorize.js";
import { SYSTEM_ACTOR } from "../auth/principal.js";
import { FleetError } from "../errors.js";

const DEFAULT_TOKEN_TTL_MIN = 60;

const CreateTokenBody = Type.Object(
  {
    containerId: Type.String({ minLength: 1, maxLength: 64 }),
    /** Pre-assign the lock's id (a topic level); the fleet picks one otherwise. */
    deviceId: Type.Optional(Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$" })),
    ttlMinutes: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 30 * 24 * 60, default: DEFAULT_TOKEN_TTL_MIN }),
    ),
  },
  { additionalProperties: false },
);

const TokenView = Type.Object({
  token: Type.String({ description: "Shown once; the fleet stores only its hash" }),
  expiresAt: Type.String(),
  containerId: Type.String(),
});

export const enrolmentRoutes: FastifyPluginAsync = async (app) => {
  app.post<{ Body: Static<typeof CreateTokenBody> }>(
    "/enrolment-tokens",
    {
      onRequest: app.authorize("securityAdmin"),
      schema: {
        summary: "Create a one-time enrolment token for a container",
        tags: ["devices"],
        body: CreateTokenBody,
        response: { 201: TokenView },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const container = app.scope.container(principal, request.body.containerId);
      if (container.orgId !== principal.orgId) {
        throw new FleetError(
          "E_FORBIDDEN",
          "only the bank that owns a container provisions its locks",
          403,
        );
      }
      const issued = app.hub.createEnrolmentToken({
        orgId: container.orgId,
        containerId: container.id,
        ...(request.body.deviceId === undefined ? {} : { deviceId: request.body.deviceId }),
        ttlMs: (request.body.ttlMinutes ?? DEFAULT_TOKEN_TTL_MIN) * 60_000,
        createdBy: principal.personId,
      });
      app.adminLog.append({
        actor: principal.personId,
        action: "enrolmentToken.create",
        target: container.id,
        orgId: container.orgId,
        data: { expiresAt: issued.expiresAt, deviceId: request.body.deviceId ?? null },
      });
      return reply.code(201).send({ ...issued, containerId: container.id });
    },
  );

  app.post<{ Body: EnrolmentRequest }>(
    "/enrolment",
    {
      schema: {
        summary: "Enrol a lock (called by the device with its token and proof of key possession)",
        tags: ["devices"],
        body: EnrolmentRequest,
        response: { 201: EnrolmentResponse },
      },
    },
    async (request, reply) => {
      const response = await app.hub.enrol(request.body);
      app.adminLog.append({
        actor: SYSTEM_ACTOR,
        action: "device.enrol",
        target: response.deviceId,
        orgId: response.org,
        data: { containerId: response.containerId, firmware: request.body.claim.firmware },
      });
      return reply.code(201).send(response);
    },
  );
};
