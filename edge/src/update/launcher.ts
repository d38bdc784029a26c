/**
 * The launcher systemd starts (deploy/raspberry-pi/lockfleet-edge.service): it brings the A/B
 * install to a consistent state (reconcileBoot), then runs the `current` slot's lock
 * controller with the arguments it was given, and exits with the controller's exit code.
 * The controller exits with RESTART_EXIT_CODE after a switch or a rollback, and systemd
 * starts the launcher again (Restart=always).
 *
 * It lives outside both slots (copied once to <installRoot>/launcher/ with install-layout.js)
 * and imports only `node:` modules and install-layout, so a broken update cannot break it.
 *
 *   node /opt/lockfleet/launcher/launcher.js --install-root /opt/lockfleet \
 *        --entry edge/bin/lockfleet-edge.js -- run --data /var/lib/lockfleet
 */
import { spawn } from "node:child_process";
import { realpathSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RuntimeError } from "../errors.js";
import { installPaths, reconcileBoot } from "./install-layout.js";

export { RESTART_EXIT_CODE } from "./install-layout.js";

export interface LaunchPlan {
  installRoot: string;
  /** The controller's entry, relative to a slot. */
  entry: string;
  args: string[];
}

export function parseLauncherArgs(argv: readonly string[]): LaunchPlan {
  const separator = argv.indexOf("--");
  const own = separator === -1 ? argv : argv.slice(0, separator);
  const args = separator === -1 ? [] : argv.slice(separator + 1);
  const value = (name: string) => {
    const index = own.indexOf(name);
    const found = index === -1 ? undefined : own[index + 1];
    if (found === undefined)
      throw new RuntimeError(
        "E_USAGE",
        `the launcher needs ${name} (see deploy/raspberry-pi/INSTALL.md)`,
      );
    return found;
  };
  return { installRoot: value("--install-root"), entry: value("--entry"), args };
}

/** Reconciles the install and runs the current slot; resolves with the exit code. */
export function launch(
  plan: LaunchPlan,
  write = (line: string) => process.stderr.write(line),
): Promise<number> {
  const decision = reconcileBoot(plan.installRoot);
  write(
    `${JSON.stringify({ msg: "launcher", slot: decision.slot, phase: decision.state.phase, action: decision.action })}\n`,
  );
  const slotDir = installPaths(plan.installRoot).slot(decision.slot);
  const child = spawn(
    process.execPath,
    [join(slotDir, plan.entry), ...plan.args, "--install-root", plan.installRoot],
    { stdio: "inherit" },
  );
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onTerm = forward("SIGTERM");
  const onInt = forward("SIGINT");
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  return new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
      resolve(code ?? (signal === null ? 1 : 128));
    });
  });
}

function isMain(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  try {
    process.exitCode = await launch(parseLauncherArgs(process.argv.slice(2)));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
