/**
 * Every part's routes, in registration order. Each part adds its own line(s); `prefix` is
 * where the plugin's routes live (`/api/v1` for the API, "" for the root). Routes only read
 * the services the service plugins decorate (services.ts); they never construct one.
 */
import type { FastifyPluginAsync } from "fastify";
import { adminLogRoutes } from "./admin-log.js";
import { alarmRoutes } from "./alarms.js";
import { authRoutes } from "./auth.js";
import { branchRoutes } from "./branches.js";
import { centralReleaseRoutes } from "./central-release.js";
import { clockCorrectionRoutes } from "./clock-corrections.js";
import { containerRoutes } from "./containers.js";
import { contractRoutes } from "./contracts.js";
import { dashboardRoutes } from "./dashboard.js";
import { deviceRoutes } from "./devices.js";
import { enrolmentRoutes } from "./enrolment.js";
import { eventRoutes } from "./events.js";
import { healthRoutes } from "./health.js";
import { orgRoutes } from "./orgs.js";
import { peopleRoutes } from "./people.js";
import { pinLetterRoutes } from "./pin-letters.js";
import { policyRoutes } from "./policy.js";
import { proposalRoutes } from "./proposals.js";
import { reportRoutes } from "./reports.js";
import { rightRoutes } from "./rights.js";
import { riskRoutes } from "./risk.js";
import { updateRoutes } from "./updates.js";
import { userRoutes } from "./users.js";
import { windowRoutes } from "./windows.js";

export const API_PREFIX = "/api/v1";

export interface RouteEntry {
  plugin: FastifyPluginAsync;
  prefix: string;
}

export const ROUTES: RouteEntry[] = [
  // core
  { plugin: healthRoutes, prefix: "" },
  { plugin: authRoutes, prefix: API_PREFIX },
  { plugin: orgRoutes, prefix: API_PREFIX },
  { plugin: branchRoutes, prefix: API_PREFIX },
  { plugin: containerRoutes, prefix: API_PREFIX },
  { plugin: peopleRoutes, prefix: API_PREFIX },
  { plugin: userRoutes, prefix: API_PREFIX },
  { plugin: proposalRoutes, prefix: API_PREFIX },
  { plugin: contractRoutes, prefix: API_PREFIX },
  { plugin: adminLogRoutes, prefix: API_PREFIX },
  // devices
  { plugin: enrolmentRoutes, prefix: API_PREFIX },
  { plugin: deviceRoutes, prefix: API_PREFIX },
  { plugin: clockCorrectionRoutes, prefix: API_PREFIX },
  { plugin: centralReleaseRoutes, prefix: API_PREFIX },
  // windows
  { plugin: windowRoutes, prefix: API_PREFIX },
  { plugin: rightRoutes, prefix: API_PREFIX },
  { plugin: pinLetterRoutes, prefix: API_PREFIX },
  { plugin: policyRoutes, prefix: API_PREFIX },
  // alarms, reports, dashboard
  { plugin: alarmRoutes, prefix: API_PREFIX },
  { plugin: reportRoutes, prefix: API_PREFIX },
  { plugin: eventRoutes, prefix: API_PREFIX },
  { plugin: dashboardRoutes, prefix: "" },
  // outsourcing risk register
  { plugin: riskRoutes, prefix: API_PREFIX },
  // signed software updates for the locks
  { plugin: updateRoutes, prefix: API_PREFIX },
];
