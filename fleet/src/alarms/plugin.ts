/**
 * The alarm service as a fastify plugin (`lockfleet-alarms`): intake from the device hub,
 * escalation and forwarding, decorated as `app.alarms`. Settings come from
 * `FleetOptions.alarms` (`app.alarmOptions`) unless given as plugin options.
 */

import { randomUUID } from "node:crypto";
import type { FastifyPluginAsync } from "fastify";
import fp from "fastify-plugin";
import { StorageWatch } from "../storage/storage-watch.js";
import { alarmRank } from "./alarm.js";
import { AlarmService } from "./alarm-service.js";
import { type AlarmSettings, alarmSettingsFrom } from "./settings.js";

declare module "fastify" {
  interface FastifyInstance {
    /** Alarm intake, acknowledgement, escalation and forwarding (fleet/src/alarms). */
    alarms: AlarmService;
    /** The fleetStorage alarm: the data directory refusing writes, forwarded without a write. */
    storageWatch: StorageWatch;
  }
}

export interface AlarmsPluginOptions {
  /** Escalation and forwarders as objects (embedders, tests); default from `app.alarmOptions`. */
  settings?: AlarmSettings | undefined;
}

const alarms: FastifyPluginAsync<AlarmsPluginOptions> = async (app, options) => {
  const chosen = options.settings ?? alarmSettingsFrom(app.alarmOptions);
  const service = new AlarmService({
    store: app.store,
    clock: app.clock,
    escalation: chosen.escalation,
    forwarders: chosen.forwarders,
    checks: chosen.checks,
    log: app.log,
    // the device hub runs the offline, drift and gap checks and raises those alarms
    ownChecks: false,
    locate: (deviceId) => app.hub.device(deviceId),
  });
  app.decorate("alarms", service);
  const changes = app.metrics.counter(
    "lockfleet_alarm_changes_total",
    "Alarm changes: raised, repeated, escalated, acknowledged, cleared, by alarm kind",
  );
  service.on("alarm", ({ change, alarm }) => changes.inc({ change, kind: alarm.kind }));
  service.attach(app.hub);
  service.start();
  const storageWatch = new StorageWatch({
    dataDir: app.dataDir,
    forwarders: chosen.forwarders,
    log: app.log,
    clock: app.clock,
    // every bank's operators see that the fleet serving them stored nothing for a while
    // every bank's operators see that the fleet serving them stored nothing for a while; an
    // episode while the last one is still unacknowledged counts as its repetition
    record: (ended) =>
      app.store.transaction(() => {
        const clearedAt = ended.clearedAt ?? ended.lastSeenAt;
        for (const bank of app.store.orgs.listBanks()) {
          const deviceId = `fleet:${bank.id}`;
          const open = service.repository.openOf(deviceId, ended.kind);
          const id = open?.id ?? randomUUID();
          if (open !== undefined) service.repository.repeat(id, ended.raisedAt, ended.data);
          else {
            service.repository.insert({
              id,
              orgId: bank.id,
              deviceId,
              containerId: null,
              kind: ended.kind,
              priority: ended.priority,
              rank: alarmRank(ended.kind),
              source: "fleet",
              at: ended.raisedAt,
              auditSeq: null,
              actor: null,
              data: ended.data,
              nextEscalationAt: null,
            });
          }
          const event = open === undefined ? "raised" : "repeated";
          service.repository.addHistory(id, { at: ended.raisedAt, event, actor: null });
          service.repository.clear(id, clearedAt);
          service.repository.addHistory(id, { at: clearedAt, event: "cleared", actor: null });
        }
      }),
  });
  app.decorate("storageWatch", storageWatch);
  storageWatch.start();
  app.hub.on("writeFailed", (error) => storageWatch.failedWrite(error));
  app.addHook("onClose", async () => {
    await storageWatch.close();
    await service.close();
  });
};

export const alarmsPlugin = fp(alarms, {
  name: "lockfleet-alarms",
  dependencies: ["lockfleet-core", "lockfleet-devices"],
});
