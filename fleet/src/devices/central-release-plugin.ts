/**
 * The `lockfleet-central-releases` plugin: two-person central releases of locks
 * (central-release.ts), decorated as `app.centralReleases`.
 */
import fp from "fastify-plugin";
import { CentralReleaseService } from "./central-release.js";

declare module "fastify" {
  interface FastifyInstance {
    /** Two-person central releases of locks (fleet/src/devices/central-release.ts). */
    centralReleases: CentralReleaseService;
  }
}

/** Decorates `app.centralReleases` once. */
export const centralReleasesPlugin = fp(
  async (app) => {
    app.decorate(
      "centralReleases",
      new CentralReleaseService({
        releases: app.store.centralReleases,
        hub: app.hub,
        adminLog: app.adminLog,
        checkScope: (principal, containerId) => {
          app.scope.container(principal, containerId);
        },
        accountCreatedAt: (userId) => app.repos.users.get(userId)?.createdAt,
        independence: (approver, requester) => app.lineage.refusal(approver, [requester]),
        clock: app.clock,
      }),
    );
  },
  { name: "lockfleet-central-releases", dependencies: ["lockfleet-core", "lockfleet-devices"] },
);
