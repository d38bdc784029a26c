/**
 * The fleet's first-administrator set-up, run as an operator runs it: `lockfleet-fleet init`
 * with the password on stdin. Looked up when the demo starts, so that a missing command is
 * named in an E_DEMO_* error.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DemoError } from "./errors.js";

/**
 * The first two security officers of the demo bank, as `lockfleet-fleet init` takes them: every
 * change that gives power needs a second, independent officer, so a bank starts with two.
 */
export interface FirstAdmin {
  bankName: string;
  adminName: string;
  email: string;
  password: string;
  second: { name: string; email: string; password: string };
}

/** Sets up the first bank and its security admin in the fleet's data directory. */
export type FleetInit = (fleetDataDir: string, admin: FirstAdmin) => Promise<void>;

function missing(part: string, what: string): DemoError {
  return new DemoError(
    "E_DEMO_PART_MISSING",
    `${part} does not provide ${what} yet; the demo needs it (the part is still being built)`,
  );
}

/**
 * `lockfleet-fleet init` as an operator runs it (the password on stdin, never on the command
 * line), before the fleet serves.
 */
export function fleetInitCommand(): FleetInit {
  let bin: string;
  try {
    bin = fileURLToPath(
      new URL("../bin/lockfleet-fleet.js", import.meta.resolve("@lockfleet/fleet")),
    );
  } catch (error) {
    throw missing("@lockfleet/fleet", `its package (${String(error)})`);
  }
  if (!existsSync(bin))
    throw missing("@lockfleet/fleet", "the lockfleet-fleet command (bin/lockfleet-fleet.js)");
  return (fleetDataDir, admin) =>
    new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          bin,
          "init",
          "--data-dir",
          fleetDataDir,
          "--bank-name",
          admin.bankName,
          "--admin-name",
          admin.adminName,
          "--email",
          admin.email,
          "--second-admin-name",
          admin.second.name,
          "--second-email",
          admin.second.email,
          "--password-stdin",
        ],
        { stdio: ["pipe", "ignore", "pipe"] },
      );
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on("error", (error) =>
        reject(
          new DemoError(
            "E_DEMO_FLEET_INIT",
            `lockfleet-fleet init did not start: ${error.message}`,
          ),
        ),
      );
      child.on("exit", (code) => {
        if (code === 0) resolve();
        else
          reject(
            new DemoError(
              "E_DEMO_FLEET_INIT",
              `lockfleet-fleet init exited with ${String(code)}: ${stderr.trim().split("\n").at(-1) ?? ""}`,
            ),
          );
      });
      // one password per line: the first officer's, then the second's
      child.stdin.end(`${admin.password}\n${admin.second.password}\n`);
    });
}
