/**
 * The `lockfleet-updates` plugin: releases and staged rollouts (update-service.ts), decorated
 * as `app.updates`, with the sweep that renews offers to locks that were offline.
 */
import { join } from "node:path";
import fp from "fastify-plugin";
import { ReleaseTrust } from "./release-trust.js";
import { UpdateService } from "./update-service.js";

declare module "fastify" {
  interface FastifyInstance {
    /** Releases and staged rollouts (fleet/src/updates/update-service.ts). */
    updates: UpdateService;
  }
}

/** How often offers to locks that were away are looked at again. */
export const OFFER_RENEWAL_MS = 60_000;

export interface UpdatesPluginOptions {
  offerRenewalMs?: number;
}

/** Decorates `app.updates` once and runs the sweep that renews offers to locks that were away. */
export const updatesPlugin = fp<UpdatesPluginOptions>(
  async (app, options) => {
    const repository = app.store.updates;
    app.decorate(
      "updates",
      new UpdateService({
        repository,
        trust: new ReleaseTrust({
          repository,
          adminLog: app.adminLog,
          keysFile: join(app.dataDir, "release-keys.json"),
          clock: app.clock,
        }),
        hub: app.hub,
        adminLog: app.adminLog,
        independence: (approver, proposer) => app.lineage.refusal(approver, [proposer]),
        accountCreatedAt: (userId) => app.repos.users.get(userId)?.createdAt,
        checkBranch: (principal, branchId) => {
          app.scope.branch(principal, branchId);
        },
        targetDir: join(app.dataDir, "releases"),
        clock: app.clock,
      }),
    );
    // Presence is the device part's: the sweep reads it from the store, it hooks nothing there.
    const every = options.offerRenewalMs ?? OFFER_RENEWAL_MS;
    const timer = setInterval(() => {
      app.updates.renewOffers().catch((error: unknown) => {
        app.log.error({ err: error }, "E_OFFER_RENEWAL: renewing update offers failed");
      });
    }, every);
    timer.unref();
    app.addHook("onClose", async () => clearInterval(timer));
  },
  { name: "lockfleet-updates", dependencies: ["lockfleet-core", "lockfleet-devices"] },
);
