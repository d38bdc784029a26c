#!/usr/bin/env node
// Launcher: runs the TypeScript sources through tsx with the workspace's source condition, so
// the command works from a fresh clone after `npm ci`, without a build step.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const tsx = import.meta.resolve("tsx");
const child = spawn(
  process.execPath,
  ["--conditions=@lockfleet/source", "--import", tsx, main, ...process.argv.slice(2)],
  { stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => child.kill(signal));
}
child.on("exit", (code, signal) => {
  if (signal !== null) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
