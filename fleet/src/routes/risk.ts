/**
 * Outsourcing risk register (SPEC §5, MaRisk AT 9): the bank's security admins and auditors
 * read it, security admins change it and recompute it, internal audit exports it as JSON or
 * CSV. CIT companies never see the bank's assessment of them (403 for every CIT role).
 */
import { Instant } from "@lockfleet/protocol";
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/authorize.js";
import { registerToCsv, registerToJson } from "../risk/export.js";
import { MIN_JUSTIFICATION } from "../risk/risk-service.js";
import { RISK_CATEGORIES, RISK_LEVELS } from "../risk/scales.js";
import { idParams, PageOf, pageQueryWith } from "./common.js";

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Category = Type.Union(RISK_CATEGORIES.map((category) => Type.Literal(category)));
const Scale = Type.Integer({ minimum: 1, maximum: 5 });
const Justification = Type.String({ minLength: MIN_JUSTIFICATION, maxLength: 2000 });

const RiskEntryView = Type.Object({
  id: Type.String(),
  bankOrgId: Type.String(),
  contractId: Type.String(),
  contractName: Type.String(),
  citOrgId: Type.String({ description: "The CIT provider" }),
  providerName: Type.String(),
  category: Category,
  title: Type.String(),
  likelihood: Type.Integer({ description: "The override where one stands, else the derived one" }),
  derivedLikelihood: Type.Integer(),
  override: Nullable(
    Type.Object({
      likelihood: Type.Integer(),
      justification: Type.String(),
      by: Type.String(),
      at: Type.String(),
    }),
  ),
  impact: Type.Integer(),
  impactSetBy: Nullable(Type.String({ description: "null while the category default applies" })),
  score: Type.Integer({ description: "likelihood × impact" }),
  level: Type.Union(RISK_LEVELS.map((level) => Type.Literal(level))),
  owner: Nullable(Type.String()),
  measures: Type.String(),
  reviewDate: Type.String(),
  evidence: Type.Object({
    period: Type.Object({ from: Type.String(), to: Type.String() }),
    numerator: Type.Integer(),
    denominator: Type.Integer(),
    rate: Nullable(Type.Number()),
    counts: Type.Record(Type.String(), Type.Integer()),
    references: Type.Array(
      Type.Object({
        type: Type.String(),
        id: Type.String(),
        at: Type.String(),
        finding: Type.String(),
      }),
    ),
    referencesOmitted: Type.Integer(),
  }),
  computedAt: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
const ListQuery = pageQueryWith({
  contractId: Type.Optional(Type.String({ maxLength: 64 })),
  citOrgId: Type.Optional(Type.String({ maxLength: 64 })),
  category: Type.Optional(Category),
});
const ExportQuery = Type.Object(
  {
    format: Type.Optional(Type.Union([Type.Literal("json"), Type.Literal("csv")])),
    contractId: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
const RecomputeBody = Type.Union([
  Type.Object(
    {
      contractId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      from: Type.Optional(Instant),
      to: Type.Optional(Instant),
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);
const RecomputeView = Type.Object({
  period: Type.Object({ from: Type.String(), to: Type.String() }),
  created: Type.Integer(),
  changed: Type.Integer(),
  entries: Type.Array(RiskEntryView),
});
const UpdateBody = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    impact: Type.Optional(Scale),
    owner: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    measures: Type.Optional(Type.String({ maxLength: 4000 })),
    reviewDate: Type.Optional(Type.String({ pattern: "^\\d{4}-\\d{2}-\\d{2}$" })),
  },
  { additionalProperties: false, minProperties: 1 },
);
const OverrideBody = Type.Object(
  { likelihood: Scale, justification: Justification },
  { additionalProperties: false },
);
const ClearOverrideBody = Type.Object(
  { justification: Justification },
  { additionalProperties: false },
);
const EntryParams = idParams("entryId");
type EntryParams = Static<typeof EntryParams>;
const tags = ["risk"];

export const riskRoutes: FastifyPluginAsync = async (app) => {
  const risks = app.risks;
  const readers = app.authorize("securityAdmin", "auditor");
  const writers = app.authorize("securityAdmin");

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    "/risk/entries",
    {
      onRequest: readers,
      schema: {
        summary: "The bank's outsourcing risk register (per CIT provider and contract)",
        tags,
        querystring: ListQuery,
        response: { 200: PageOf(RiskEntryView) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      return risks.list(principalOf(request), filter, { limit, cursor });
    },
  );

  app.get<{ Params: EntryParams }>(
    "/risk/entries/:entryId",
    {
      onRequest: readers,
      schema: { tags, params: EntryParams, response: { 200: RiskEntryView } },
    },
    async (request) => risks.get(principalOf(request), request.params.entryId),
  );

  app.post<{ Body: Static<typeof RecomputeBody> }>(
    "/risk/recompute",
    {
      onRequest: writers,
      schema: {
        summary: "Measure the providers' behaviour again (default: the last 90 days)",
        tags,
        body: RecomputeBody,
        response: { 200: RecomputeView },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return risks.recompute(principal, principal.orgId, request.body ?? {});
    },
  );

  app.patch<{ Params: EntryParams; Body: Static<typeof UpdateBody> }>(
    "/risk/entries/:entryId",
    {
      onRequest: writers,
      schema: {
        summary: "Set impact, owner, measures, review date or title",
        tags,
        params: EntryParams,
        body: UpdateBody,
        response: { 200: RiskEntryView },
      },
    },
    async (request) => risks.update(principalOf(request), request.params.entryId, request.body),
  );

  app.put<{ Params: EntryParams; Body: Static<typeof OverrideBody> }>(
    "/risk/entries/:entryId/likelihood-override",
    {
      onRequest: writers,
      schema: {
        summary: "Override the derived likelihood, with a justification (both are kept)",
        tags,
        params: EntryParams,
        body: OverrideBody,
        response: { 200: RiskEntryView },
      },
    },
    async (request) =>
      risks.override(
        principalOf(request),
        request.params.entryId,
        request.body.likelihood,
        request.body.justification,
      ),
  );

  app.delete<{ Params: EntryParams; Body: Static<typeof ClearOverrideBody> }>(
    "/risk/entries/:entryId/likelihood-override",
    {
      onRequest: writers,
      schema: {
        summary: "Return to the derived likelihood, with a justification",
        tags,
        params: EntryParams,
        body: ClearOverrideBody,
        response: { 200: RiskEntryView },
      },
    },
    async (request) =>
      risks.clearOverride(principalOf(request), request.params.entryId, request.body.justification),
  );

  app.get<{ Querystring: Static<typeof ExportQuery> }>(
    "/risk/export",
    {
      onRequest: readers,
      schema: {
        summary: "The register for internal audit as JSON (with scales and thresholds) or CSV",
        tags,
        querystring: ExportQuery,
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { format = "json", contractId } = request.query;
      const entries = risks.all(principal, { contractId });
      const generatedAt = new Date(app.clock()).toISOString();
      app.adminLog.append({
        actor: principal.personId,
        action: "risk.export",
        target: contractId ?? principal.orgId,
        orgId: principal.orgId,
        data: { format, entries: entries.length },
      });
      const name = `risk-register_${generatedAt.slice(0, 10)}`;
      void reply.header("cache-control", "no-store");
      if (format === "csv") {
        return reply
          .header("content-type", "text/csv; charset=utf-8; header=present")
          .header("content-disposition", `attachment; filename="${name}.csv"`)
          .send(registerToCsv(entries));
      }
      return reply.header("content-disposition", `attachment; filename="${name}.json"`).send(
        registerToJson(entries, {
          bankOrgId: principal.orgId,
          generatedAt,
          generatedBy: principal.personId,
        }),
      );
    },
  );
};
