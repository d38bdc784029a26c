/**
 * Organisations and regions. Banks come into being through `lockfleet-fleet init`; a bank's
 * security admin registers the CIT companies it works with (and manages their accounts).
 */
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/authorize.js";
import { BANK_ROLES, ROLES } from "../auth/principal.js";
import { conflict, FleetError, notFound } from "../errors.js";
import { idParams, PageOf, PageQuery } from "./common.js";

const Name = Type.String({ minLength: 1, maxLength: 200 });
export const OrgView = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal("bank"), Type.Literal("cit")]),
  name: Type.String(),
  sponsorOrgId: Type.Optional(Type.String()),
  createdAt: Type.String(),
});
export const RegionView = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  name: Type.String(),
  createdAt: Type.String(),
});
const CreateOrgBody = Type.Object(
  { kind: Type.Literal("cit", { description: "Banks are created by `init`" }), name: Name },
  { additionalProperties: false },
);
const NameBody = Type.Object({ name: Name }, { additionalProperties: false });

export const orgRoutes: FastifyPluginAsync = async (app) => {
  const { orgs } = app.repos;
  const everyone = app.authorize(...ROLES);
  const securityAdmin = app.authorize("securityAdmin");
  const bankRoles = app.authorize(...BANK_ROLES);

  app.get<{ Querystring: Static<typeof PageQuery> }>(
    "/orgs",
    {
      onRequest: everyone,
      schema: {
        summary: "Organisations I can see: mine and those I hold contracts with",
        tags: ["tenants"],
        querystring: PageQuery,
        response: { 200: PageOf(OrgView) },
      },
    },
    async (request) => orgs.listVisibleOrgs(principalOf(request), request.query),
  );

  app.get<{ Params: { orgId: string } }>(
    "/orgs/:orgId",
    {
      onRequest: everyone,
      schema: { tags: ["tenants"], params: idParams("orgId"), response: { 200: OrgView } },
    },
    async (request) => app.scope.org(principalOf(request), request.params.orgId),
  );

  app.post<{ Body: Static<typeof CreateOrgBody> }>(
    "/orgs",
    {
      onRequest: securityAdmin,
      schema: {
        summary: "Register a CIT company this bank works with",
        tags: ["tenants"],
        body: CreateOrgBody,
        response: { 201: OrgView },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const org = app.store.transaction(() => {
        const org = orgs.createOrg({
          kind: "cit",
          name: request.body.name,
          sponsorOrgId: principal.orgId,
        });
        app.adminLog.append({
          actor: principal.personId,
          action: "org.create",
          target: org.id,
          orgId: principal.orgId,
          data: { kind: org.kind, name: org.name },
        });
        return org;
      });
      return reply.code(201).send(org);
    },
  );

  app.patch<{ Params: { orgId: string }; Body: Static<typeof NameBody> }>(
    "/orgs/:orgId",
    {
      onRequest: securityAdmin,
      schema: {
        summary: "Rename my organisation or a CIT company I registered",
        tags: ["tenants"],
        params: idParams("orgId"),
        body: NameBody,
        response: { 200: OrgView },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const orgId = request.params.orgId;
      if (!app.scope.manages(principal, orgId)) throw notFound("organisation", orgId);
      app.store.transaction(() => {
        orgs.renameOrg(orgId, request.body.name);
        app.adminLog.append({
          actor: principal.personId,
          action: "org.rename",
          target: orgId,
          orgId: principal.orgId,
          data: { name: request.body.name },
        });
      });
      return orgs.getOrg(orgId);
    },
  );

  // ---- regions

  app.get<{ Params: { orgId: string }; Querystring: Static<typeof PageQuery> }>(
    "/orgs/:orgId/regions",
    {
      onRequest: bankRoles,
      schema: {
        tags: ["tenants"],
        params: idParams("orgId"),
        querystring: PageQuery,
        response: { 200: PageOf(RegionView) },
      },
    },
    async (request) => {
      app.scope.assertOrg(principalOf(request), request.params.orgId);
      return orgs.listRegions(request.params.orgId, request.query);
    },
  );

  app.post<{ Params: { orgId: string }; Body: Static<typeof NameBody> }>(
    "/orgs/:orgId/regions",
    {
      onRequest: securityAdmin,
      schema: {
        tags: ["tenants"],
        params: idParams("orgId"),
        body: NameBody,
        response: { 201: RegionView },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const orgId = request.params.orgId;
      app.scope.assertOrg(principal, orgId);
      if (principal.orgKind !== "bank") {
        throw new FleetError("E_FORBIDDEN", "only banks have regions", 403);
      }
      if (orgs.findRegionByName(orgId, request.body.name) !== undefined) {
        throw conflict("E_REGION_EXISTS", `region "${request.body.name}" already exists`);
      }
      const region = app.store.transaction(() => {
        const region = orgs.createRegion({ orgId, name: request.body.name });
        app.adminLog.append({
          actor: principal.personId,
          action: "region.create",
          target: region.id,
          orgId,
          data: { name: region.name },
        });
        return region;
      });
      return reply.code(201).send(region);
    },
  );
};
