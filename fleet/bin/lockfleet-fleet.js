#!/usr/bin/env node
/**
 * The `lockfleet-fleet` command. It runs in this very process — no child — so that a signal,
 * SIGKILL included, reaches the fleet itself and nothing is left serving on its ports. In a
 * clone after `npm ci` the TypeScript sources run through tsx's loader, registered here with
 * the workspace's source condition ("@lockfleet/source"); where tsx is not installed the build
 * (`dist/main.js`) runs.
 */
import { existsSync } from "node:fs";
import { register } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const source = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const built = fileURLToPath(new URL("../dist/main.js", import.meta.url));

async function tsxApi() {
  try {
    return await import("tsx/esm/api");
  } catch {
    return undefined;
  }
}

const tsx = process.env.LOCKFLEET_FLEET_BUILT === "1" ? undefined : await tsxApi();
let entry;
if (tsx !== undefined && existsSync(source)) {
  tsx.register();
  // Runs before tsx's resolver: every import may pick the packages' TypeScript sources.
  const addSourceCondition = `export async function resolve(specifier, context, next) {
    const conditions = [...new Set(["@lockfleet/source", ...(context.conditions ?? [])])];
    return next(specifier, { ...context, conditions });
  }`;
  register(`data:text/javascript,${encodeURIComponent(addSourceCondition)}`);
  entry = source;
} else if (existsSync(built)) {
  entry = built;
} else {
  process.stderr.write(
    "E_NOT_BUILT: neither tsx (npm ci in the repository) nor a build (npm run build) is available\n",
  );
  process.exit(1);
}
await import(pathToFileURL(entry).href);
