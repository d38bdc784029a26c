/**
 * Contracts between a bank and a CIT company (SPEC §5): which containers the CIT crews may be
 * given access to, and the standing route windows in which requests may be approved
 * automatically. The bank's security admin writes them; both sides read their own.
 */
import { parseInstant } from "@lockfleet/protocol";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/authorize.js";
import type { Principal } from "../auth/principal.js";
import { ROLES } from "../auth/principal.js";
import { FleetError, notFound } from "../errors.js";
import { type Contract, StandingWindow } from "../storage/contracts-repository.js";
import { idParams, PageOf, PageQuery } from "./common.js";

const Instant = Type.String({
  pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$",
  description: "UTC instant",
});
const ContainerIds = Type.Array(Type.String({ maxLength: 64 }), { maxItems: 5000 });
const StandingWindows = Type.Array(StandingWindow, { maxItems: 200 });
export const ContractView = Type.Object({
  id: Type.String(),
  bankOrgId: Type.String(),
  citOrgId: Type.String(),
  name: Type.String(),
  containerIds: Type.Array(Type.String()),
  standingWindows: StandingWindows,
  validFrom: Type.Optional(Type.String()),
  validUntil: Type.Optional(Type.String()),
  active: Type.Boolean(),
  createdAt: Type.String(),
  terminatedAt: Type.Optional(Type.String()),
});
const CreateContractBody = Type.Object(
  {
    citOrgId: Type.String({ maxLength: 64 }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    containerIds: ContainerIds,
    standingWindows: Type.Optional(StandingWindows),
    validFrom: Type.Optional(Instant),
    validUntil: Type.Optional(Instant),
  },
  { additionalProperties: false },
);
const UpdateContractBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    containerIds: Type.Optional(ContainerIds),
    standingWindows: Type.Optional(StandingWindows),
    validFrom: Type.Optional(Type.Union([Instant, Type.Null()])),
    validUntil: Type.Optional(Type.Union([Instant, Type.Null()])),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const contractRoutes: FastifyPluginAsync = async (app) => {
  const { contracts } = app.repos;
  // technicians provision devices; contracts are not theirs to read
  const readers = app.authorize(...ROLES.filter((role) => role !== "technician"));
  const securityAdmin = app.authorize("securityAdmin");

  /** The contract, if the principal's organisation is one of its two sides. */
  const contractInScope = (principal: Principal, contractId: string): Contract => {
    const contract = contracts.get(contractId);
    const side = principal.orgKind === "bank" ? contract?.bankOrgId : contract?.citOrgId;
    if (contract === undefined || side !== principal.orgId) throw notFound("contract", contractId);
    return contract;
  };

  /** Every listed container belongs to the bank (outside the bank's scope: 404). */
  const checkContainers = (principal: Principal, containerIds: readonly string[]) => {
    for (const id of containerIds) app.scope.container(principal, id);
  };
  /** Standing windows name only containers the contract lists. */
  const checkWindows = (containerIds: readonly string[], windows: readonly StandingWindow[]) => {
    for (const window of windows) {
      for (const id of window.containerIds ?? []) {
        if (!containerIds.includes(id)) {
          throw new FleetError(
            "E_CONTRACT_WINDOW",
            `standing window names container ${id}, which the contract does not list`,
          );
        }
      }
    }
  };
  const checkValidity = (from: string | null | undefined, until: string | null | undefined) => {
    if (typeof from === "string" && Number.isNaN(parseInstant(from))) {
      throw new FleetError("E_SCHEMA", "body/validFrom is not a real UTC instant");
    }
    if (typeof until === "string" && Number.isNaN(parseInstant(until))) {
      throw new FleetError("E_SCHEMA", "body/validUntil is not a real UTC instant");
    }
    if (typeof from === "string" && typeof until === "string" && until <= from) {
      throw new FleetError("E_VALIDITY", "validUntil must lie after validFrom");
    }
  };

  app.get<{ Querystring: Static<typeof PageQuery> }>(
    "/contracts",
    {
      onRequest: readers,
      schema: {
        summary: "Contracts my organisation is a side of",
        tags: ["contracts"],
        querystring: PageQuery,
        response: { 200: PageOf(ContractView) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return contracts.list(
        principal.orgKind === "bank"
          ? { bankOrgId: principal.orgId }
          : { citOrgId: principal.orgId },
        request.query,
      );
    },
  );

  app.get<{ Params: { contractId: string } }>(
    "/contracts/:contractId",
    {
      onRequest: readers,
      schema: {
        tags: ["contracts"],
        params: idParams("contractId"),
        response: { 200: ContractView },
      },
    },
    async (request) => contractInScope(principalOf(request), request.params.contractId),
  );

  app.post<{ Body: Static<typeof CreateContractBody> }>(
    "/contracts",
    {
      onRequest: securityAdmin,
      schema: {
        tags: ["contracts"],
        body: CreateContractBody,
        response: { 201: ContractView },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const body = request.body;
      const cit = app.scope.org(principal, body.citOrgId);
      if (cit.kind !== "cit") {
        throw new FleetError("E_CONTRACT_PARTY", `organisation ${cit.id} is not a CIT company`);
      }
      const standingWindows = body.standingWindows ?? [];
      checkContainers(principal, body.containerIds);
      checkWindows(body.containerIds, standingWindows);
      checkValidity(body.validFrom, body.validUntil);
      const contract = app.store.transaction(() => {
        const contract = contracts.create({
          bankOrgId: principal.orgId,
          citOrgId: cit.id,
          name: body.name,
          containerIds: [...new Set(body.containerIds)],
          standingWindows,
          validFrom: body.validFrom,
          validUntil: body.validUntil,
          now: app.clock(),
        });
        app.adminLog.append({
          actor: principal.personId,
          action: "contract.create",
          target: contract.id,
          orgId: principal.orgId,
          data: {
            citOrgId: cit.id,
            name: contract.name,
            containerIds: contract.containerIds,
            standingWindows: contract.standingWindows,
            validFrom: contract.validFrom,
            validUntil: contract.validUntil,
          },
        });
        return contract;
      });
      return reply.code(201).send(contract);
    },
  );

  app.patch<{ Params: { contractId: string }; Body: Static<typeof UpdateContractBody> }>(
    "/contracts/:contractId",
    {
      onRequest: securityAdmin,
      schema: {
        summary:
          "Change a contract's containers, standing windows, validity or end it (active=false)",
        tags: ["contracts"],
        params: idParams("contractId"),
        body: UpdateContractBody,
        response: { 200: ContractView },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const contract = contractInScope(principal, request.params.contractId);
      const body = request.body;
      const containerIds =
        body.containerIds === undefined ? contract.containerIds : [...new Set(body.containerIds)];
      checkContainers(principal, body.containerIds ?? []);
      checkWindows(containerIds, body.standingWindows ?? contract.standingWindows);
      checkValidity(
        body.validFrom === undefined ? contract.validFrom : body.validFrom,
        body.validUntil === undefined ? contract.validUntil : body.validUntil,
      );
      const updated = app.store.transaction(() => {
        const updated = contracts.update(
          contract.id,
          { ...body, containerIds: body.containerIds === undefined ? undefined : containerIds },
          app.clock(),
        );
        app.adminLog.append({
          actor: principal.personId,
          action: body.active === false ? "contract.terminate" : "contract.update",
          target: contract.id,
          orgId: principal.orgId,
          data: { change: body },
        });
        return updated;
      });
      return updated;
    },
  );
};
