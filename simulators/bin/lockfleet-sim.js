#!/usr/bin/env node
/**
 * `lockfleet-sim`: starts the simulators' command line. In a clone (after `npm ci`) it runs
 * the TypeScript sources through tsx with the "@lockfleet/source" condition, so every
 * workspace is used as written and no build step is needed. Where tsx is not installed
 * (an install without dev dependencies) it runs the built `dist/cli.js` instead.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const source = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const built = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

function tsxLoader() {
  try {
    return import.meta.resolve("tsx");
  } catch {
    return undefined;
  }
}

const loader = tsxLoader();
let nodeArgs;
if (loader !== undefined && existsSync(source)) {
  nodeArgs = ["--conditions=@lockfleet/source", "--import", loader, source];
} else if (existsSync(built)) {
  nodeArgs = [built];
} else {
  process.stderr.write(
    "E_LAUNCHER: neither tsx (a dev dependency: run `npm ci`) nor a build (`npm run build`) is available to run lockfleet-sim\n",
  );
  process.exit(2);
}

const child = spawn(process.execPath, [...nodeArgs, ...process.argv.slice(2)], {
  stdio: "inherit",
});
// The command line runs in the child: signals sent to this process are passed on, so that
// `kill` on the launcher stops a running demo cleanly.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => child.kill(signal));
}
child.on("error", (error) => {
  process.stderr.write(`E_LAUNCHER: cannot start node: ${error.message}\n`);
  process.exit(2);
});
child.on("exit", (code, signal) => {
  if (signal !== null) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else {
    process.exit(code ?? 1);
  }
});
