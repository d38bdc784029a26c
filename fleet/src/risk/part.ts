/**
 * The risk register put together once per app: its service and a periodic recompute over the
 * default period for every bank holding a contract. Route plugins get the service from
 * `riskPart(app)`.
 */
import type { FastifyInstance } from "fastify";
import { RiskEvidenceRepository } from "./evidence-repository.js";
import { RiskRepository } from "./risk-repository.js";
import { type RiskAlarmSource, RiskService } from "./risk-service.js";

/** How often the register is measured again without being asked. */
export const RISK_RECOMPUTE_MS = 60 * 60_000;

export interface RiskPart {
  risks: RiskService;
  /** One periodic run (also run by a timer every RISK_RECOMPUTE_MS). */
  sweep(): void;
}

const parts = new WeakMap<object, RiskPart>();

export function riskPart(app: FastifyInstance): RiskPart {
  const existing = parts.get(app.db);
  if (existing !== undefined) return existing;
  // The alarms part decorates `app.alarms` when it runs; without it alarms measure as none.
  const alarms: RiskAlarmSource | undefined = app.hasDecorator("alarms")
    ? app.alarms.repository
    : undefined;
  const risks = new RiskService({
    risks: new RiskRepository(app.db),
    evidence: new RiskEvidenceRepository(app.db),
    contracts: app.repos.contracts,
    orgs: app.repos.orgs,
    alarms,
    adminLog: app.adminLog,
    clock: app.clock,
  });
  const sweep = () => {
    risks.recomputeAll();
  };
  const timer = setInterval(() => {
    try {
      sweep();
    } catch (error) {
      app.log.error({ err: error }, "E_RISK_SWEEP: periodic risk recompute failed");
    }
  }, RISK_RECOMPUTE_MS);
  timer.unref();
  app.addHook("onClose", async () => {
    clearInterval(timer);
  });
  const part: RiskPart = { risks, sweep };
  parts.set(app.db, part);
  return part;
}
