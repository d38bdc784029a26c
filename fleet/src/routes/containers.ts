/**
 * Containers (SPEC §5): ATM/GAA, AKT, recycler, deposit system, safe, vault door; EN 1143-1
 * grade, required EN 1300 lock class and the lock policy (protocol `LockPolicy`). The policy
 * is set at creation; later changes go through `/policy-changes` (signed, approved).
 */
import { DEFAULT_LOCK_POLICY, LockPolicy } from "@lockfleet/protocol";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/authorize.js";
import { inBranchScope, ROLES } from "../auth/principal.js";
import { FleetError } from "../errors.js";
import { CONTAINER_TYPES, EN1143_GRADES, LOCK_CLASSES } from "../storage/orgs-repository.js";
import { idParams, PageOf, pageQueryWith } from "./common.js";

const ContainerType = Type.Union(
  CONTAINER_TYPES.map((type) => Type.Literal(type)),
  {
    description: "gaa = ATM, akt = automated teller safe, recycler, deposit, safe, vaultDoor",
  },
);
const Grade = Type.Union(
  EN1143_GRADES.map((grade) => Type.Literal(grade)),
  {
    description: "EN 1143-1 resistance grade",
  },
);
const LockClass = Type.Union(
  LOCK_CLASSES.map((lockClass) => Type.Literal(lockClass)),
  {
    description: "EN 1300 lock class required",
  },
);
export const ContainerView = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  branchId: Type.String(),
  name: Type.String(),
  type: ContainerType,
  grade: Grade,
  lockClass: LockClass,
  policy: LockPolicy,
  createdAt: Type.String(),
});
const CreateContainerBody = Type.Object(
  {
    branchId: Type.String({ maxLength: 64 }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    type: ContainerType,
    grade: Grade,
    lockClass: LockClass,
    policy: Type.Optional(LockPolicy),
  },
  { additionalProperties: false },
);
const UpdateContainerBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    type: Type.Optional(ContainerType),
    grade: Type.Optional(Grade),
    lockClass: Type.Optional(LockClass),
  },
  { additionalProperties: false, minProperties: 1 },
);
const ContainerQuery = pageQueryWith({ branchId: Type.Optional(Type.String({ maxLength: 64 })) });

export const containerRoutes: FastifyPluginAsync = async (app) => {
  const { orgs } = app.repos;
  const everyone = app.authorize(...ROLES);
  const securityAdmin = app.authorize("securityAdmin");

  app.get<{ Querystring: Static<typeof ContainerQuery> }>(
    "/containers",
    {
      onRequest: everyone,
      schema: {
        summary: "Containers I can see (CIT: only those under a contract in force)",
        tags: ["tenants"],
        querystring: ContainerQuery,
        response: { 200: PageOf(ContainerView) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { branchId, ...page } = request.query;
      const citContainers = app.scope.citContainerIds(principal);
      if (citContainers !== undefined) {
        return orgs.listContainersByIds(citContainers, { branchId }, page);
      }
      const listed = orgs.listContainers({ orgId: principal.orgId, branchId }, page);
      // branch managers see their own branches' containers only
      return {
        ...listed,
        items: listed.items.filter((c) => inBranchScope(principal, c.branchId)),
      };
    },
  );

  app.get<{ Params: { containerId: string } }>(
    "/containers/:containerId",
    {
      onRequest: everyone,
      schema: {
        tags: ["tenants"],
        params: idParams("containerId"),
        response: { 200: ContainerView },
      },
    },
    async (request) => app.scope.container(principalOf(request), request.params.containerId),
  );

  app.post<{ Body: Static<typeof CreateContainerBody> }>(
    "/containers",
    {
      onRequest: securityAdmin,
      schema: { tags: ["tenants"], body: CreateContainerBody, response: { 201: ContainerView } },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const body = request.body;
      const branch = app.scope.branch(principal, body.branchId);
      if (principal.orgKind !== "bank")
        throw new FleetError("E_FORBIDDEN", "only banks own containers", 403);
      const container = app.store.transaction(() => {
        const container = orgs.createContainer({
          orgId: branch.orgId,
          branchId: branch.id,
          name: body.name,
          type: body.type,
          grade: body.grade,
          lockClass: body.lockClass,
          policy: body.policy ?? DEFAULT_LOCK_POLICY,
        });
        app.adminLog.append({
          actor: principal.personId,
          action: "container.create",
          target: container.id,
          orgId: container.orgId,
          data: {
            branchId: branch.id,
            name: container.name,
            type: container.type,
            grade: container.grade,
            lockClass: container.lockClass,
            policy: container.policy,
          },
        });
        return container;
      });
      return reply.code(201).send(container);
    },
  );

  app.patch<{ Params: { containerId: string }; Body: Static<typeof UpdateContainerBody> }>(
    "/containers/:containerId",
    {
      onRequest: securityAdmin,
      schema: {
        summary: "Change a container's name, type, grade or lock class (policy: /policy-changes)",
        tags: ["tenants"],
        params: idParams("containerId"),
        body: UpdateContainerBody,
        response: { 200: ContainerView },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const container = app.scope.container(principal, request.params.containerId);
      const updated = app.store.transaction(() => {
        const updated = orgs.updateContainer(container.id, request.body);
        app.adminLog.append({
          actor: principal.personId,
          action: "container.update",
          target: container.id,
          orgId: container.orgId,
          data: { change: request.body },
        });
        return updated;
      });
      return updated;
    },
  );
};
