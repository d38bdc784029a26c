/**
 * Branches (SPEC §5): type, IANA time zone (checked against the runtime's time zone data) and
 * holiday calendar. Bank principals see their own; CIT principals the branches holding a
 * container under one of their contracts.
 */
import { Holiday, MAX_HOLIDAYS } from "@lockfleet/protocol";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/authorize.js";
import { inBranchScope, ROLES } from "../auth/principal.js";
import { FleetError, notFound } from "../errors.js";
import { BRANCH_TYPES } from "../storage/orgs-repository.js";
import { idParams, PageOf, pageQueryWith } from "./common.js";

const BranchType = Type.Union(BRANCH_TYPES.map((type) => Type.Literal(type)));
const TimeZone = Type.String({
  minLength: 1,
  maxLength: 64,
  description: "IANA time zone, e.g. Europe/Berlin",
});
const Holidays = Type.Array(Holiday, { maxItems: MAX_HOLIDAYS });
export const BranchView = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  regionId: Type.Optional(Type.String()),
  name: Type.String(),
  branchType: BranchType,
  timeZone: Type.String(),
  holidays: Holidays,
  address: Type.Optional(Type.String()),
  createdAt: Type.String(),
});
const CreateBranchBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    branchType: BranchType,
    timeZone: TimeZone,
    regionId: Type.Optional(Type.String({ maxLength: 64 })),
    holidays: Type.Optional(Holidays),
    address: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
const UpdateBranchBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    branchType: Type.Optional(BranchType),
    timeZone: Type.Optional(TimeZone),
    regionId: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    holidays: Type.Optional(Holidays),
    address: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
const BranchQuery = pageQueryWith({ regionId: Type.Optional(Type.String({ maxLength: 64 })) });

/** Whether the runtime knows `zone` as an IANA time zone. */
export function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function checkTimeZone(zone: string | undefined): void {
  if (zone !== undefined && !isKnownTimeZone(zone)) {
    throw new FleetError("E_TIME_ZONE", `"${zone}" is not an IANA time zone (e.g. Europe/Berlin)`);
  }
}

function checkHolidays(holidays: readonly Holiday[] | undefined): void {
  for (const holiday of holidays ?? []) {
    if (holiday.to < holiday.from) {
      throw new FleetError(
        "E_HOLIDAY_RANGE",
        `holiday ${holiday.from}…${holiday.to} ends before it starts`,
      );
    }
  }
}

export const branchRoutes: FastifyPluginAsync = async (app) => {
  const { orgs } = app.repos;
  const everyone = app.authorize(...ROLES);
  const securityAdmin = app.authorize("securityAdmin");
  const editors = app.authorize("securityAdmin", "branchManager");

  const checkRegion = (orgId: string, regionId: string | null | undefined) => {
    if (regionId === undefined || regionId === null) return;
    if (orgs.getRegion(regionId)?.orgId !== orgId) throw notFound("region", regionId);
  };

  app.get<{ Querystring: Static<typeof BranchQuery> }>(
    "/branches",
    {
      onRequest: everyone,
      schema: {
        tags: ["tenants"],
        querystring: BranchQuery,
        response: { 200: PageOf(BranchView) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { regionId, ...page } = request.query;
      const citContainers = app.scope.citContainerIds(principal);
      if (citContainers !== undefined)
        return orgs.listBranchesHoldingContainers(citContainers, page);
      const listed = orgs.listBranches({ orgId: principal.orgId, regionId }, page);
      // branch managers see their own branches only
      return { ...listed, items: listed.items.filter((b) => inBranchScope(principal, b.id)) };
    },
  );

  app.get<{ Params: { branchId: string } }>(
    "/branches/:branchId",
    {
      onRequest: everyone,
      schema: { tags: ["tenants"], params: idParams("branchId"), response: { 200: BranchView } },
    },
    async (request) => app.scope.branch(principalOf(request), request.params.branchId),
  );

  app.post<{ Body: Static<typeof CreateBranchBody> }>(
    "/branches",
    {
      onRequest: securityAdmin,
      schema: {
        tags: ["tenants"],
        body: CreateBranchBody,
        response: { 201: BranchView },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      if (principal.orgKind !== "bank")
        throw new FleetError("E_FORBIDDEN", "only banks have branches", 403);
      const body = request.body;
      checkTimeZone(body.timeZone);
      checkHolidays(body.holidays);
      checkRegion(principal.orgId, body.regionId);
      const branch = app.store.transaction(() => {
        const branch = orgs.createBranch({
          orgId: principal.orgId,
          name: body.name,
          branchType: body.branchType,
          timeZone: body.timeZone,
          holidays: body.holidays ?? [],
          ...(body.regionId === undefined ? {} : { regionId: body.regionId }),
          ...(body.address === undefined ? {} : { address: body.address }),
        });
        app.adminLog.append({
          actor: principal.personId,
          action: "branch.create",
          target: branch.id,
          orgId: principal.orgId,
          data: { name: branch.name, branchType: branch.branchType, timeZone: branch.timeZone },
        });
        return branch;
      });
      return reply.code(201).send(branch);
    },
  );

  app.patch<{ Params: { branchId: string }; Body: Static<typeof UpdateBranchBody> }>(
    "/branches/:branchId",
    {
      onRequest: editors,
      schema: {
        summary: "Change a branch (name, type, time zone, region, holiday calendar)",
        tags: ["tenants"],
        params: idParams("branchId"),
        body: UpdateBranchBody,
        response: { 200: BranchView },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const branch = app.scope.branch(principal, request.params.branchId);
      const body = request.body;
      checkTimeZone(body.timeZone);
      checkHolidays(body.holidays);
      checkRegion(branch.orgId, body.regionId);
      const updated = app.store.transaction(() => {
        const updated = orgs.updateBranch(branch.id, body);
        app.adminLog.append({
          actor: principal.personId,
          action: "branch.update",
          target: branch.id,
          orgId: branch.orgId,
          data: { change: body },
        });
        return updated;
      });
      return updated;
    },
  );
};
