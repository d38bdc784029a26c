/**
 * Every fleet service, as fastify plugins registered in dependency order before any route:
 * each has a `name` and `dependencies` (fastify-plugin) and decorates the instance once.
 * Route plugins (routes/index.ts) only read those decorators.
 */
import type { FastifyInstance } from "fastify";
import { alarmsPlugin } from "./alarms/plugin.js";
import type { FleetOptions } from "./app.js";
import { corePlugin } from "./core-plugin.js";
import { centralReleasesPlugin } from "./devices/central-release-plugin.js";
import { clockCorrectionsPlugin } from "./devices/clock-corrections-plugin.js";
import { devicesPlugin } from "./devices/plugin.js";
import { reportsPlugin } from "./reports/plugin.js";
import { riskPlugin } from "./risk/plugin.js";
import type { SecretBox } from "./secrets.js";
import type { FleetStore } from "./storage/fleet-store.js";
import { updatesPlugin } from "./updates/plugin.js";
import { windowsPlugin } from "./windows/plugin.js";

export interface ServiceDependencies {
  store: FleetStore;
  secrets: SecretBox;
  options: FleetOptions;
}

export async function registerServices(
  app: FastifyInstance,
  { store, secrets, options }: ServiceDependencies,
): Promise<void> {
  await app.register(corePlugin, { store, secrets, fleet: options });
  await app.register(devicesPlugin, {
    mqtt: options.mqtt,
    ...(options.hubOptions === undefined ? {} : { hubOptions: options.hubOptions }),
  });
  await app.register(clockCorrectionsPlugin);
  await app.register(centralReleasesPlugin);
  await app.register(windowsPlugin);
  await app.register(alarmsPlugin, { settings: options.alarmSettings });
  await app.register(reportsPlugin);
  await app.register(riskPlugin);
  await app.register(updatesPlugin);
}
