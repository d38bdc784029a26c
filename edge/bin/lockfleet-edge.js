#!/usr/bin/env node
/**
 * The `lockfleet-edge` command. On a device installed with a build (`npm run build`), it runs
 * the compiled `dist/cli.js`; in a fresh clone after `npm ci` it runs the TypeScript sources
 * through tsx, resolving the workspace packages to their sources ("@lockfleet/source").
 */
import { existsSync } from "node:fs";
import { register } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const built = join(here, "..", "dist", "cli.js");
const source = join(here, "..", "src", "cli.ts");

async function tsxApi() {
  try {
    return await import("tsx/esm/api");
  } catch {
    return undefined;
  }
}

const wantBuilt = process.env.LOCKFLEET_EDGE_BUILT === "1";
const tsx = wantBuilt ? undefined : await tsxApi();
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
const { runCli } = await import(pathToFileURL(entry).href);
await runCli(process.argv.slice(2));
