/**
 * The risk register as a fastify plugin (`lockfleet-risk`): its service and a periodic
 * recompute over the default period for every bank holding a contract. Decorated as
 * `app.risks` and `app.riskSweep`.
 */
import type { FastifyPluginAsync } from "fastify";
import fp from "fastify-plugin";
import { RiskService } from "./risk-service.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The outsourcing risk register (risk/). */
    risks: RiskService;
    /** One periodic run (also run by a timer every RISK_RECOMPUTE_MS). */
    riskSweep(): void;
  }
}

/** How often the register is measured again without being asked. */
export const RISK_RECOMPUTE_MS = 60 * 60_000;

const riskPart: FastifyPluginAsync = async (app) => {
  const risks = new RiskService({
    risks: app.store.risks,
    evidence: app.store.readModels.riskEvidence,
    contracts: app.repos.contracts,
    orgs: app.repos.orgs,
    alarms: app.alarms.repository,
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
  app.decorate("risks", risks);
  app.decorate("riskSweep", sweep);
};

export const riskPlugin = fp(riskPart, {
  name: "lockfleet-risk",
  dependencies: ["lockfleet-core", "lockfleet-alarms"],
});
