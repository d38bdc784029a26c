/**
 * Reports as a fastify plugin (`lockfleet-reports`), decorated as `app.reports`.
 */
import type { FastifyPluginAsync } from "fastify";
import fp from "fastify-plugin";
import { ReportService } from "./report-service.js";

declare module "fastify" {
  interface FastifyInstance {
    /** Openings, audit and alarm reports with evidence (reports/). */
    reports: ReportService;
  }
}

const reports: FastifyPluginAsync = async (app) => {
  app.decorate("reports", new ReportService(app.store, app.clock));
};

export const reportsPlugin = fp(reports, {
  name: "lockfleet-reports",
  dependencies: ["lockfleet-core", "lockfleet-alarms"],
});
