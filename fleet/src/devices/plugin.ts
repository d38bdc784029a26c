/**
 * The device hub as a fastify plugin (`lockfleet-devices`): started with the app, decorated as
 * `app.hub`, closed with it.
 */
import type { FastifyPluginAsync } from "fastify";
import fp from "fastify-plugin";
import type { FleetOptions } from "../app.js";
import { DeviceHub } from "./hub.js";

export interface DevicesPluginOptions {
  mqtt: FleetOptions["mqtt"];
  hubOptions?: FleetOptions["hubOptions"];
}

const devices: FastifyPluginAsync<DevicesPluginOptions> = async (app, options) => {
  const hub = await DeviceHub.start({
    ...options.hubOptions,
    secrets: app.secrets,
    store: app.store,
    dataDir: app.dataDir,
    mqtt: options.mqtt,
    clock: app.clock,
    log: app.log,
  });
  app.decorate("hub", hub);
  app.addHook("onClose", async () => {
    await hub.close();
  });
};

export const devicesPlugin = fp(devices, {
  name: "lockfleet-devices",
  dependencies: ["lockfleet-core"],
});
