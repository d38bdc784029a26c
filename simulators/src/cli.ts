#!/usr/bin/env node
/**
 * `lockfleet-sim COMMAND …`: the simulators' command line. Each sub-command is one entry in
 * COMMANDS; add a new one there with its usage line and a run function returning the exit
 * code.
 */
import { DEMO_USAGE } from "./demo/options.js";
import { loadCommand } from "./load/command.js";
import { lockCommand } from "./lock-console/lock-console.js";
import { type CommandIo, scenarioCommand } from "./scenario/command.js";

export interface CliCommand {
  /** Usage after "lockfleet-sim ", e.g. "scenario FILE.json [--db PATH]". */
  usage: string;
  summary: string;
  run(args: readonly string[], io: CommandIo): Promise<number>;
}

/** The demo loads the fleet (fastify, aedes, SQLite): only when it is asked for. */
const demoCommand: CliCommand = {
  usage: DEMO_USAGE,
  summary: "the embedded default (npm start): fleet, broker, dashboard, virtual branches and locks",
  run: async (args, io) => (await import("./demo/command.js")).demoCommand.run(args, io),
};

const COMMANDS: Readonly<Record<string, CliCommand>> = {
  scenario: scenarioCommand,
  demo: demoCommand,
  load: loadCommand,
  lock: lockCommand,
};

function help(): string {
  return [
    "usage: lockfleet-sim COMMAND [ARGS]",
    "",
    ...Object.values(COMMANDS).flatMap((command) => [
      `  lockfleet-sim ${command.usage}`,
      `      ${command.summary}`,
    ]),
  ].join("\n");
}

async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.stderr(help());
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    io.stderr(`E_USAGE: unknown command "${name}"\n${help()}`);
    return 2;
  }
  return command.run(args, io);
}

const exitCode = await main(process.argv.slice(2), {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
});
process.exitCode = exitCode;
// Normally the process ends here by itself. Should a socket or timer of a stopped part still
// hold it, it ends anyway: a command that is done never hangs.
setTimeout(() => process.exit(exitCode), 3000).unref();
