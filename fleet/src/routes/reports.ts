/**
 * Reports for security officers and internal audit as JSON, CSV or PDF. Always over the
 * caller's own bank; a container or person outside it answers 404. Each download is written
 * to the admin log (who pulled which report for which period).
 */
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/authorize.js";
import { FleetError, notFound } from "../errors.js";
import { reportFileName, reportToCsv } from "../reports/csv.js";
import { isTimeZone, localiseReport, REPORT_LANGUAGES } from "../reports/localise.js";
import { reportToPdf } from "../reports/pdf.js";
import { REPORT_KINDS, REPORT_TITLES, type ReportKind } from "../reports/report.js";
import { reportPeriod } from "../reports/report-service.js";

/** Reports are the bank's: its security staff and internal audit. */
export const REPORT_READERS = ["securityAdmin", "branchManager", "auditor"] as const;

const Instant = Type.String({
  pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$",
  description: "UTC instant",
});

const ReportParams = Type.Object({
  kind: Type.Union(REPORT_KINDS.map((kind) => Type.Literal(kind))),
});
const ReportQuery = Type.Object(
  {
    format: Type.Optional(
      Type.Union([Type.Literal("json"), Type.Literal("csv"), Type.Literal("pdf")], {
        default: "json",
      }),
    ),
    from: Type.Optional(Instant),
    to: Type.Optional(Instant),
    containerId: Type.Optional(Type.String({ maxLength: 64 })),
    personId: Type.Optional(Type.String({ maxLength: 64 })),
    timeZone: Type.Optional(
      Type.String({
        maxLength: 64,
        description: "IANA zone of the times in CSV and PDF (default: the bank's branch zone)",
      }),
    ),
    lang: Type.Optional(
      Type.Union(
        REPORT_LANGUAGES.map((language) => Type.Literal(language)),
        { description: "language of CSV and PDF titles and columns (default en)" },
      ),
    ),
  },
  { additionalProperties: false },
);

export const reportRoutes: FastifyPluginAsync = async (app) => {
  const readers = app.authorize(...REPORT_READERS);
  const reports = app.reports;

  /** The zone of the container's branch, else of the bank's first branch, else UTC. */
  const bankZone = (orgId: string, containerId: string | undefined): string => {
    const container =
      containerId === undefined ? undefined : app.repos.orgs.getContainer(containerId);
    const branch =
      container === undefined
        ? app.repos.orgs.listBranches({ orgId }, { limit: 1 }).items[0]
        : app.repos.orgs.getBranch(container.branchId);
    return branch?.timeZone ?? "UTC";
  };

  app.get(
    "/reports",
    {
      onRequest: readers,
      schema: {
        summary: "The reports there are",
        tags: ["reports"],
        response: {
          200: Type.Array(Type.Object({ kind: Type.String(), title: Type.String() })),
        },
      },
    },
    async () => REPORT_KINDS.map((kind) => ({ kind, title: REPORT_TITLES[kind] })),
  );

  app.get<{ Params: { kind: ReportKind }; Querystring: Static<typeof ReportQuery> }>(
    "/reports/:kind",
    {
      onRequest: readers,
      schema: {
        summary: "A report over my bank for a period (default: last 30 days) as JSON, CSV or PDF",
        tags: ["reports"],
        params: ReportParams,
        querystring: ReportQuery,
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { kind } = request.params;
      const { format = "json", containerId, personId, lang = "en" } = request.query;
      const zone = request.query.timeZone ?? bankZone(principal.orgId, containerId);
      if (!isTimeZone(zone)) {
        throw new FleetError("E_TIME_ZONE", `${zone} is not a time zone (e.g. Europe/Berlin)`);
      }
      const period = reportPeriod(request.query, app.clock());
      if (containerId !== undefined) app.scope.container(principal, containerId);
      else if (principal.role === "branchManager") {
        throw new FleetError(
          "E_SCOPE_REQUIRED",
          "a branch manager's report names one container of their branches (containerId)",
        );
      }
      if (personId !== undefined) {
        const person = app.repos.people.get(personId, app.clock());
        if (person === undefined || !app.scope.manages(principal, person.orgId)) {
          throw notFound("person", personId);
        }
      }
      const generatedBy =
        app.repos.people.get(principal.personId, app.clock())?.name ?? principal.personId;
      const report = reports.build(
        kind,
        { orgId: principal.orgId, ...period, containerId, personId },
        generatedBy,
      );
      app.adminLog.append({
        actor: principal.personId,
        action: "report.generate",
        target: kind,
        orgId: principal.orgId,
        data: {
          format,
          ...period,
          ...(containerId ? { containerId } : {}),
          ...(personId ? { personId } : {}),
        },
      });
      void reply.header("cache-control", "no-store");
      if (format === "csv") {
        return reply
          .header("content-type", "text/csv; charset=utf-8; header=present")
          .header("content-disposition", `attachment; filename="${reportFileName(report, "csv")}"`)
          .send(reportToCsv(localiseReport(report, zone, lang)));
      }
      if (format === "pdf") {
        const pdf = await reportToPdf(localiseReport(report, zone, lang), lang);
        return reply
          .header("content-type", "application/pdf")
          .header("content-disposition", `attachment; filename="${reportFileName(report, "pdf")}"`)
          .send(pdf);
      }
      return report;
    },
  );
};
