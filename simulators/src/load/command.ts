/**
 * `lockfleet-sim load …`: the load generator on the command line. Either unenrolled locks
 * against a broker without authentication (a test Mosquitto, one unique organisation per
 * run, with a fleet stand-in sending commands), or `--enrol`: enrol N locks through the
 * fleet's HTTP enrolment API with a security admin's API token read from a file, then run
 * them against the fleet's broker. Figures go to stdout; exit 1 when not every lock came
 * online, 2 on a wrong command line.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { CommandIo } from "../scenario/command.js";
import { parseDuration } from "../scenario/duration.js";
import { enrolSimulatedLocks, LoadError } from "./enrol.js";
import { LoadGenerator, type LoadOptions, type LoadReport } from "./load-generator.js";
import type { Percentiles } from "./stats.js";

export const LOAD_USAGE =
  "load --fleet-mqtt URL --locks N [--org O] [--rate R] [--commands R] [--duration 60s] | load --enrol --fleet URL --token-file F [--container ID] --locks N [--fleet-mqtt URL] [--rate R] [--duration 60s]";

export interface LoadCommandOptions {
  locks: number;
  durationMs: number;
  rate: number;
  commandRate: number;
  brokerUrl?: string;
  org?: string;
  enrol?: { fleetUrl: string; tokenFile: string; containerId?: string };
}

const MAX_LOCKS = 100_000;

export function parseLoadArgs(args: readonly string[]): LoadCommandOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      "fleet-mqtt": { type: "string" },
      locks: { type: "string" },
      org: { type: "string" },
      rate: { type: "string" },
      commands: { type: "string" },
      duration: { type: "string" },
      enrol: { type: "boolean" },
      fleet: { type: "string" },
      "token-file": { type: "string" },
      container: { type: "string" },
    },
    allowPositionals: false,
    strict: true,
  });
  const locks = count("--locks", values.locks, 1, MAX_LOCKS);
  if (locks === undefined) throw usage("give --locks N");
  const durationMs = values.duration === undefined ? 60_000 : parseDuration(values.duration);
  if (durationMs === undefined)
    throw usage(`--duration "${values.duration}" is not like 60s or 2m`);
  const options: LoadCommandOptions = {
    locks,
    durationMs,
    rate: rate("--rate", values.rate) ?? Math.min(1000, locks / 10),
    commandRate: rate("--commands", values.commands) ?? 0,
  };
  if (values["fleet-mqtt"] !== undefined) options.brokerUrl = values["fleet-mqtt"];
  if (values.org !== undefined) options.org = values.org;
  if (values.enrol === true) {
    if (values.fleet === undefined || values["token-file"] === undefined) {
      throw usage("--enrol needs --fleet URL and --token-file F");
    }
    if (values.org !== undefined) throw usage("--org comes from the enrolment with --enrol");
    options.enrol = {
      fleetUrl: values.fleet,
      tokenFile: values["token-file"],
      ...(values.container === undefined ? {} : { containerId: values.container }),
    };
  } else if (options.brokerUrl === undefined) {
    throw usage("give --fleet-mqtt URL (a broker without authentication) or --enrol");
  }
  return options;
}

export const loadCommand = {
  usage: LOAD_USAGE,
  summary:
    "thousands of simulated locks (MQTT, audit chain, checkpoints, signed commands) against a fleet's broker",
  async run(args: readonly string[], io: CommandIo): Promise<number> {
    let options: LoadCommandOptions;
    try {
      options = parseLoadArgs(args);
    } catch (error) {
      io.stderr(error instanceof Error ? error.message : String(error));
      io.stderr(`usage: lockfleet-sim ${LOAD_USAGE}`);
      return 2;
    }
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    try {
      const report = await runLoadCommand(options, io, abort.signal);
      return report.connect.failed === 0 ? 0 : 1;
    } catch (error) {
      io.stderr(
        error instanceof LoadError
          ? error.message
          : `E_LOAD_FAILED: ${error instanceof Error ? error.message : String(error)}`,
      );
      return 1;
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
  },
};

export async function runLoadCommand(
  options: LoadCommandOptions,
  io: CommandIo,
  signal?: AbortSignal,
): Promise<LoadReport> {
  let locks: LoadOptions["locks"] = {
    count: options.locks,
    ...(options.org === undefined ? {} : { org: options.org }),
  };
  let brokerUrl = options.brokerUrl;
  if (options.enrol !== undefined) {
    const apiToken = readToken(options.enrol.tokenFile);
    io.stdout(`enrolling ${options.locks} locks at ${options.enrol.fleetUrl} …`);
    const started = performance.now();
    const enrolled = await enrolSimulatedLocks({
      fleetUrl: options.enrol.fleetUrl,
      apiToken,
      count: options.locks,
      ...(options.enrol.containerId === undefined
        ? {}
        : { containerId: options.enrol.containerId }),
    });
    io.stdout(
      `enrolled ${enrolled.locks.length} locks for container ${enrolled.containerId} in ${seconds(performance.now() - started)}`,
    );
    locks = enrolled.locks;
    brokerUrl ??= enrolled.brokerUrl;
  }
  if (brokerUrl === undefined) throw new LoadError("E_USAGE", "no broker URL");
  const generator = new LoadGenerator({
    brokerUrl,
    locks,
    rate: options.rate,
    commandRate: options.commandRate,
  });
  try {
    io.stdout(`connecting ${generator.locks.length} locks to ${redact(brokerUrl)} …`);
    const connect = await generator.connect();
    io.stdout(
      `online: ${connect.online}/${connect.locks} in ${seconds(connect.ms)}${connect.failed > 0 ? `, ${connect.failed} failed` : ""}`,
    );
    for (const reason of connect.retried.slice(0, 5)) io.stdout(`  retried: ${reason}`);
    io.stdout(
      `running ${seconds(options.durationMs)}: ${options.rate} audit records/s${options.commandRate > 0 ? `, ${options.commandRate} commands/s` : ""} …`,
    );
    const report = await generator.drive(options.durationMs, signal);
    for (const line of formatReport(report)) io.stdout(line);
    return report;
  } finally {
    await generator.stop();
  }
}

export function formatReport(report: LoadReport): string[] {
  const lines = [
    `locks online: ${report.connect.online}/${report.connect.locks} (connect ${seconds(report.connect.ms)})`,
    `run: ${seconds(report.durationMs)}, ${report.auditRecords} audit records, ${report.checkpoints} checkpoints`,
    `messages: ${report.published} published, ${report.received} received, ${report.messagesPerSecond.toFixed(0)} msg/s`,
    `commands answered: ${report.commands.answered}, refused: ${report.commands.refused}`,
  ];
  if (report.commands.issuedToAnsweredMs !== undefined) {
    lines.push(`command issued → answered: ${latency(report.commands.issuedToAnsweredMs)}`);
  }
  if (report.roundTrip !== undefined) {
    lines.push(
      `command round trip (${report.roundTrip.results}/${report.roundTrip.sent} results): ${report.roundTrip.ms === undefined ? "no commands" : latency(report.roundTrip.ms)}`,
    );
  }
  return lines;
}

function latency(figures: Percentiles): string {
  return `p50 ${figures.p50.toFixed(1)} ms, p99 ${figures.p99.toFixed(1)} ms (n=${figures.count})`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** The broker URL without any credentials it may carry. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return "(broker)";
  }
}

function readToken(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new LoadError(
      "E_LOAD_TOKEN_FILE",
      `the token file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  const token = text.split("\n")[0]?.trim() ?? "";
  if (token.length === 0) {
    throw new LoadError(
      "E_LOAD_TOKEN_FILE",
      `the token file ${path} is empty; put a security admin's API token on its first line`,
    );
  }
  return token;
}

function usage(message: string): Error {
  return new LoadError("E_USAGE", message);
}

function count(name: string, text: string | undefined, min: number, max: number) {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw usage(`${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function rate(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 1_000_000) {
    throw usage(`${name} must be a number of messages per second (0–1000000)`);
  }
  return value;
}
