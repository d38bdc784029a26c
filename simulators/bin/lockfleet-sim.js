#!/usr/bin/env node
/**
 * `lockfleet-sim`: starts the simulators' command line in this very process — no child — so
 * that a signal, SIGKILL included, ends the command itself (a lock it runs in a process of its
 * own ends with it, see lock-console/device-process.ts). In a clone (after `npm ci`) the
 * TypeScript sources run through tsx's loader, registered here with the "@lockfleet/source"
 * condition, so every workspace is used as written and no build step is needed. Where tsx is
 * not installed (an install without dev dependencies) the built `dist/cli.js` runs instead.
 */
import { existsSync } from "node:fs";
import { register } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const source = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const built = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

async function tsxApi() {
  try {
    return await import("tsx/esm/api");
  } catch {
    return undefined;
  }
}

const tsx = await tsxApi();
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
    "E_LAUNCHER: neither tsx (a dev dependency: run `npm ci`) nor a build (`npm run build`) is available to run lockfleet-sim\n",
  );
  process.exit(2);
}
await import(pathToFileURL(entry).href);
