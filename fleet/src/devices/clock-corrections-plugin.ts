/**
 * Confirmed clock corrections of locks as a fastify plugin (`lockfleet-clock-corrections`),
 * decorated as `app.clockCorrections`.
 */
import type { FastifyPluginAsync } from "fastify";
import fp from "fastify-plugin";
import { ClockCorrectionService } from "./clock-corrections.js";

declare module "fastify" {
  interface FastifyInstance {
    /** Confirmed clock corrections of locks (fleet/src/devices/clock-corrections.ts). */
    clockCorrections: ClockCorrectionService;
  }
}

const clockCorrections: FastifyPluginAsync = async (app) => {
  app.decorate(
    "clockCorrections",
    new ClockCorrectionService({
      corrections: app.store.clockCorrections,
      people: app.repos.people,
      hub: app.hub,
      adminLog: app.adminLog,
      checkScope: (principal, containerId) => {
        app.scope.container(principal, containerId);
      },
      independence: (approver, proposer) => app.lineage.refusal(approver, [proposer]),
      clock: app.clock,
    }),
  );
};

export const clockCorrectionsPlugin = fp(clockCorrections, {
  name: "lockfleet-clock-corrections",
  dependencies: ["lockfleet-core", "lockfleet-devices"],
});
