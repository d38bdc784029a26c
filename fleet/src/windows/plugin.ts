/**
 * The windows part as a fastify plugin (`lockfleet-windows`): access windows, rights on locks
 * and policy changes share one DeviceHub listener (the locks' audit), one periodic check
 * (window expiry, temporary rights) and one follower of core's person changes. Decorated as
 * `app.windows`, `app.rights`, `app.policy` and `app.windowsSweep`.
 */
import type { AuditRecord } from "@lockfleet/protocol";
import type { FastifyPluginAsync } from "fastify";
import fp from "fastify-plugin";
import { FleetError } from "../errors.js";
import { PolicyService } from "../policy/policy-service.js";
import { RightsService } from "../rights/rights-service.js";
import { withdrawInterruptedApprovals } from "./interrupted-approvals.js";
import type { LockHub } from "./ports.js";
import { type LockLocator, WindowService } from "./window-service.js";

/** How often window expiry and temporary rights are checked. */
export const WINDOWS_SWEEP_MS = 30_000;

declare module "fastify" {
  interface FastifyInstance {
    /** Access windows: requests, approvals, grants, codes, close seals (windows/). */
    windows: WindowService;
    /** Rights of people on locks (rights/). */
    rights: RightsService;
    /** Policy changes of locks (policy/). */
    policy: PolicyService;
    /** One run of the periodic check (also run by a timer every WINDOWS_SWEEP_MS). */
    windowsSweep(): Promise<void>;
  }
}

/** The locks of a container from the DeviceHub's register, reachable when seen online. */
export function hubLocator(hub: LockHub): LockLocator {
  return {
    locksOf: (container) =>
      hub
        .devices(container.orgId)
        .filter((device) => device.containerId === container.id && device.status === "active")
        .map((device) => ({ deviceId: device.deviceId, online: device.availability === "online" })),
    online: (deviceId) => hub.device(deviceId)?.availability === "online",
    containerOf: (deviceId) => {
      const device = hub.device(deviceId);
      return device === undefined
        ? undefined
        : { containerId: device.containerId, orgId: device.orgId };
    },
  };
}

const windowsPart: FastifyPluginAsync = async (app) => {
  const hub: LockHub = app.hub;
  const locks = hubLocator(hub);
  const lineage = app.lineage;
  const common = {
    // maker–checker: a second approver independent of the first, and already active
    independence: {
      refusal: (approver: string, others: readonly string[]) => lineage.refusal(approver, others),
      notYetActive: (userId: string, since: string) => {
        const account = app.repos.users.get(userId);
        return account !== undefined && account.createdAt > since
          ? new FleetError(
              "E_NOT_YET_ACTIVE",
              "the second approver must already have been an active officer when the decision was asked for",
              403,
            )
          : undefined;
      },
    },
    orgs: app.repos.orgs,
    hub,
    locks,
    adminLog: app.adminLog,
    clock: app.clock,
  };
  withdrawInterruptedApprovals(app.store.windows, app.adminLog);
  app.store.windows.grantsLeftInFlight(new Date(app.clock()).toISOString());
  const windows = new WindowService({
    ...common,
    windows: app.store.windows,
    transaction: (work) => app.store.transaction(work),
    contracts: app.repos.contracts,
    people: app.repos.people,
  });
  const rights = new RightsService({
    ...common,
    rights: app.store.rights,
    contracts: app.repos.contracts,
    people: app.repos.people,
  });
  const policy = new PolicyService({ ...common, changes: app.store.policy });

  const onAudit = (deviceId: string, records: AuditRecord[]) => {
    windows.onAudit(deviceId, records);
    rights.onAudit(deviceId, records);
  };
  const onAvailability = (deviceId: string, status: "online" | "offline") => {
    if (status !== "online") return;
    Promise.all([windows.onLockOnline(deviceId), rights.onLockOnline(deviceId)]).catch(
      (error: unknown) => {
        app.log.error({ err: error, deviceId }, "E_WINDOWS_ONLINE: catching a lock up failed");
      },
    );
  };
  hub.on("audit", onAudit);
  hub.on("availability", onAvailability);
  app.coreEvents.on("person", (change) => {
    rights.personChanged(change.personId).catch((error: unknown) => {
      app.log.error(
        { err: error, personId: change.personId },
        "E_RIGHTS_PERSON: taking rights off locks failed",
      );
    });
  });
  let running = false;
  const sweep = async () => {
    if (running) return;
    running = true;
    try {
      windows.expireDue();
      await rights.sweep();
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => {
    sweep().catch((error: unknown) =>
      app.log.error({ err: error }, "E_WINDOWS_SWEEP: periodic check failed"),
    );
  }, WINDOWS_SWEEP_MS);
  timer.unref();
  app.addHook("onClose", async () => {
    clearInterval(timer);
    hub.off("audit", onAudit);
    hub.off("availability", onAvailability);
  });

  app.decorate("windows", windows);
  app.decorate("rights", rights);
  app.decorate("policy", policy);
  app.decorate("windowsSweep", sweep);
};

export const windowsPlugin = fp(windowsPart, {
  name: "lockfleet-windows",
  dependencies: ["lockfleet-core", "lockfleet-devices"],
});
