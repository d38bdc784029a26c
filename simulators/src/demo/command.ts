/**
 * `lockfleet-sim demo [...]`: starts the embedded default, prints where the dashboard is and
 * who can log in, plays the scripted story, and runs until Ctrl-C (or SIGTERM).
 */
import type { CommandIo } from "../scenario/command.js";
import { startDemo } from "./demo.js";
import { DemoError, messageOf } from "./errors.js";
import { DEMO_USAGE, parseDemoArgs } from "./options.js";

const ROLE_NAMES: Record<string, string> = {
  securityAdmin: "bank security admin",
  branchManager: "branch manager",
  auditor: "internal audit (read-only)",
  citDispatcher: "CIT dispatcher",
};

/**
 * Resolves on the first SIGINT or SIGTERM. Later ones are absorbed while the demo stops: a
 * Ctrl-C reaches both the launcher and this process, and the launcher passes it on again.
 */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received: NodeJS.Signals | undefined;
    const done = (signal: NodeJS.Signals) => {
      if (received !== undefined) return;
      received = signal;
      resolve(signal);
    };
    process.on("SIGINT", done);
    process.on("SIGTERM", done);
  });
}

/** A stop that hangs (a lock that does not let go) does not keep the process alive. */
const STOP_TIMEOUT_MS = 15_000;

export const demoCommand = {
  async run(args: readonly string[], io: CommandIo): Promise<number> {
    let options: ReturnType<typeof parseDemoArgs>;
    try {
      options = parseDemoArgs(args);
    } catch (error) {
      io.stderr(messageOf(error));
      io.stderr(`usage: lockfleet-sim ${DEMO_USAGE}`);
      return 2;
    }
    const signal = untilSignal();
    io.stdout(`Starting the lockfleet demo in ${options.dataDir} …`);
    let demo: Awaited<ReturnType<typeof startDemo>>;
    try {
      demo = await startDemo(options, { say: (line) => io.stdout(line) });
    } catch (error) {
      io.stderr(error instanceof DemoError ? error.message : `E_DEMO_FAILED: ${messageOf(error)}`);
      return 1;
    }
    const width = Math.max(
      ...demo.world.logins.map((login) => (ROLE_NAMES[login.role] ?? login.role).length),
    );
    io.stdout(
      [
        "",
        "lockfleet demo is running",
        `  dashboard   ${demo.url}/`,
        `  API         ${demo.url}/api/v1 (OpenAPI: ${demo.url}/openapi.json)`,
        `  broker      ${demo.brokerUrl} (${demo.locks.length} virtual locks online)`,
        `  data        ${options.dataDir}`,
        "",
        "Log in as (demo accounts of this data directory):",
        ...demo.world.logins.map(
          (login) =>
            `  ${(ROLE_NAMES[login.role] ?? login.role).padEnd(width)}  ${login.email.padEnd(26)} ${login.password}   ${login.name}, ${login.org}`,
        ),
        "",
        "Locks:",
        ...demo.locks.map(
          (lock) => `  ${lock.deviceId}  ${lock.plan.container}, ${lock.plan.branch}`,
        ),
        "",
        "Ctrl-C stops the demo; the same --data directory continues where it stopped.",
        "",
      ].join("\n"),
    );
    let failed = false;
    demo.story?.then(
      (result) =>
        io.stdout(
          `Story complete: window ${result.windowId} used at ${result.deviceId}${result.windowClosed ? " and closed" : ""}. The locks keep running.`,
        ),
      (error: unknown) => {
        if (error instanceof DemoError && error.code === "E_DEMO_STOPPED") return;
        failed = true;
        io.stderr(error instanceof DemoError ? error.message : `E_DEMO_STORY: ${messageOf(error)}`);
      },
    );
    const received = await signal;
    io.stdout(`${received}: stopping the demo …`);
    const stopped = await Promise.race([
      demo.stop().then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), STOP_TIMEOUT_MS).unref()),
    ]);
    if (!stopped) {
      io.stderr(`E_DEMO_STOP_TIMEOUT: the demo did not stop within ${STOP_TIMEOUT_MS / 1000} s`);
      return 1;
    }
    return failed ? 1 : 0;
  },
};
