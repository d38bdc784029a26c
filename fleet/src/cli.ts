/**
 * `lockfleet-fleet`: serve, init (first admin), backup. The settings of serve are in config.ts
 * (flags, then environment, then defaults); a port already taken is reported naming the setting
 * to change.
 */

import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { CodedError, codeOf } from "@lockfleet/protocol";
import Database from "better-sqlite3";
import type { FastifyInstance } from "fastify";
import { AdminLog } from "./admin-log.js";
import {
  readCheckpointPublicKey,
  readLatestCheckpoint,
  verifyWithCheckpoints,
} from "./admin-log-checkpoints.js";
import { buildApp } from "./app.js";
import { addBootstrapOfficer, initFirstAdmin } from "./auth/bootstrap.js";
import { isValidEmail, passwordProblem } from "./auth/password-policy.js";
import { generatePassword } from "./auth/passwords.js";
import {
  ConfigError,
  flagsByKey,
  resolveServeConfig,
  type ServeConfig,
  serveArgOptions,
  settingLabel,
  settingsHelp,
} from "./config.js";
import type { FleetCode } from "./error-catalogue.js";
import { openDatabase } from "./storage/db.js";
import { restrictUmask, secureDataFiles, secureFile } from "./storage/file-modes.js";
import { OrgsRepository } from "./storage/orgs-repository.js";
import { PeopleRepository } from "./storage/people-repository.js";
import { UsersRepository } from "./storage/users-repository.js";
import { dataDirWriteProblem } from "./storage/writable.js";
import { RELEASE_TOOL_USAGE, runReleaseTool } from "./updates/release-tool.js";

export type { ServeConfig } from "./config.js";

export class CliError extends CodedError<FleetCode> {
  constructor(code: FleetCode, message: string) {
    super(code, message);
    this.name = "CliError";
  }
}

interface Output {
  out: (line: string) => void;
  err: (line: string) => void;
}

const consoleOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

const SERVE_USAGE = `usage: lockfleet-fleet serve [options]

Runs the fleet service: HTTP API and dashboard, MQTT broker (embedded unless --broker-url),
SQLite database in the data directory. Each setting comes from its flag, else its environment
variable, else the default:

${settingsHelp()}`;

const INIT_USAGE = `usage: lockfleet-fleet init --bank-name <name> --admin-name <name> --email <email>
                            --second-admin-name <name> --second-email <email>
                            [--data-dir <dir>] [--password-stdin]

Creates a bank and its first two security officers in a new data directory (default
$LOCKFLEET_DATA_DIR or ./fleet-data): every change that gives power needs a second,
independent officer, so a bank starts with two. Without the second officer the bank runs
WITHOUT dual control until \`lockfleet-fleet add-officer\` adds one (the dashboard says so).
Without --password-stdin each password is generated and shown once; with it, standard input
gives the first officer's password on line 1 and the second's on line 2 (at least 12
characters, not a common or breached password).`;

const ADD_OFFICER_USAGE = `usage: lockfleet-fleet add-officer --name <name> --email <email>
                                   [--bank-id <id>] [--data-dir <dir>] [--password-stdin]

Adds the second security officer to a bank set up with one (refused once the bank has two;
from then on a new officer is a proposal a second officer approves in the fleet).`;

const VERIFY_USAGE = `usage: lockfleet-fleet verify-admin-log [--data-dir <dir>] [--db <file>]

Checks the admin log of the fleet's database (or of a copy, --db) against its hash chain and
the signed checkpoints, with the admin-log key and the latest checkpoint kept in the data
directory: a removed tail, an edited entry or a re-hashed chain is reported. Exit code 1 then.`;

const BACKUP_USAGE = `usage: lockfleet-fleet backup --out <file> [--data-dir <dir>]

Consistent online copy of the database while the fleet runs, checked for integrity. Key files
in the data directory are not in it; keep them apart from the backup.`;

const USAGE = `usage: lockfleet-fleet <command> [options]

commands:
  serve    run the fleet service (HTTP API + dashboard, MQTT broker, SQLite)
  init     create a bank and its first two security officers
  add-officer  add the second security officer to a bank that has one
  backup   consistent online copy of the database
  verify-admin-log  check the admin log (or a copy's) against its signed checkpoints
  release  offline release tool: keygen | sign | verify (software updates for the locks)

lockfleet-fleet <command> --help shows a command's options and settings.`;

const COMMAND_USAGE: Record<string, string> = {
  serve: SERVE_USAGE,
  init: INIT_USAGE,
  "add-officer": ADD_OFFICER_USAGE,
  backup: BACKUP_USAGE,
  "verify-admin-log": VERIFY_USAGE,
  release: RELEASE_TOOL_USAGE,
};

/** The settings of `serve` from its arguments and `env`; bad values throw `E_CONFIG: <setting> …`. */
export function serveConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const { values } = parseArgs({ args: argv, options: serveArgOptions(), strict: true });
  return resolveServeConfig(flagsByKey(values), env);
}

function isAddressInUse(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, message, cause } = error as { code?: unknown; message?: unknown; cause?: unknown };
  if (code === "EADDRINUSE") return true;
  if (typeof message === "string" && message.includes("EADDRINUSE")) return true;
  return cause !== undefined && isAddressInUse(cause);
}

function portInUse(port: number, host: string, setting: string): CliError {
  return new CliError(
    "E_PORT_IN_USE",
    `port ${port} on ${host} is already in use; choose another with ${setting}`,
  );
}

/** Resolves when `port` can be bound on `host`; rejects with E_PORT_IN_USE naming `setting`. */
export function checkPortFree(port: number, host: string, setting: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolvePromise, reject) => {
    const probe = createServer();
    probe.once("error", (error) =>
      reject(isAddressInUse(error) ? portInUse(port, host, setting) : error),
    );
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolvePromise()));
  });
}

export interface RunningFleet {
  app: FastifyInstance;
  /** http://host:port actually bound. */
  url: string;
  close(): Promise<void>;
}

export async function serve(config: ServeConfig): Promise<RunningFleet> {
  const mqtt = config.options.mqtt;
  const embedded =
    "url" in mqtt ? undefined : { port: mqtt.port ?? 0, host: mqtt.host ?? "0.0.0.0" };
  const httpSetting = settingLabel("httpPort");
  const mqttSetting = settingLabel("mqttPort");
  // A full or read-only data directory is named before anything tries to write there.
  const unwritable = dataDirWriteProblem(config.options.dataDir);
  if (unwritable !== undefined) {
    const [, ...sentence] = unwritable.split(": ");
    throw new CliError("E_STORAGE", sentence.join(": "));
  }
  await checkPortFree(config.httpPort, config.httpHost, httpSetting);
  if (embedded !== undefined) await checkPortFree(embedded.port, embedded.host, mqttSetting);
  let app: FastifyInstance;
  try {
    app = await buildApp(config.options);
  } catch (error) {
    if (embedded !== undefined && isAddressInUse(error)) {
      throw portInUse(embedded.port, embedded.host, mqttSetting);
    }
    throw error;
  }
  try {
    await app.listen({ port: config.httpPort, host: config.httpHost });
  } catch (error) {
    await app.close();
    if (isAddressInUse(error)) throw portInUse(config.httpPort, config.httpHost, httpSetting);
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.httpPort;
  const host = config.httpHost.includes(":") ? `[${config.httpHost}]` : config.httpHost;
  return { app, url: `http://${host}:${port}`, close: () => app.close() };
}

/** The warning `serve` prints when locks are told a plain mqtt:// broker; undefined for mqtts://. */
export function plainMqttWarning(brokerUrl: string): string | undefined {
  if (!/^(mqtt|tcp):/.test(brokerUrl)) return undefined;
  return [
    `WARNING: PLAIN MQTT. Locks enrolled now connect to ${brokerUrl} without TLS: each lock's`,
    "broker password and every command travel in clear on the network. Only for a demo or a",
    `test; serve locks with ${settingLabel("mqttTlsCert")} and ${settingLabel("mqttTlsKey")}.`,
  ].join("\n");
}

/**
 * Locks are told the broker address at enrolment; a wildcard or loopback address there is one
 * they cannot reach. Returns the warning to print, or undefined when the address is usable.
 */
export function unreachableBrokerNote(brokerUrl: string, setting: string): string | undefined {
  let host: string;
  try {
    host = new URL(brokerUrl).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return undefined;
  }
  const wildcard = host === "0.0.0.0" || host === "::";
  const loopback = host === "localhost" || host === "::1" || host.startsWith("127.");
  if (!wildcard && !loopback) return undefined;
  return `note: locks enrolled now are told to connect to ${brokerUrl}, which ${
    wildcard ? "is no address a lock can reach" : "only this machine reaches"
  }; set ${setting} to the address locks reach it by`;
}

async function readStdinLines(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function checkPassword(password: string, who: string): void {
  const problem = passwordProblem(password);
  if (problem !== undefined) throw new CliError("E_PASSWORD", `${who}: ${problem}`);
}

function checkEmail(email: string): void {
  if (!isValidEmail(email)) {
    throw new CliError("E_EMAIL", `"${email}" is not an e-mail address (name@domain.tld)`);
  }
}

export async function init(
  argv: string[],
  output: Output = consoleOutput,
  readPassword: () => Promise<string> = readStdinLines,
): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "data-dir": { type: "string" },
      "bank-name": { type: "string" },
      "admin-name": { type: "string" },
      email: { type: "string" },
      "second-admin-name": { type: "string" },
      "second-email": { type: "string" },
      "password-stdin": { type: "boolean" },
    },
    strict: true,
  });
  const dataDir = resolve(values["data-dir"] ?? process.env.LOCKFLEET_DATA_DIR ?? "fleet-data");
  const bankName = values["bank-name"];
  const adminName = values["admin-name"];
  const email = values.email;
  if (bankName === undefined || adminName === undefined || email === undefined) {
    throw new CliError("E_CONFIG", "init needs --bank-name, --admin-name and --email");
  }
  const secondName = values["second-admin-name"];
  const secondEmail = values["second-email"];
  if ((secondName === undefined) !== (secondEmail === undefined)) {
    throw new CliError(
      "E_CONFIG",
      "the second officer needs both --second-admin-name and --second-email",
    );
  }
  checkEmail(email);
  if (secondEmail !== undefined) checkEmail(secondEmail);
  const withSecond = secondName !== undefined && secondEmail !== undefined;
  let passwords: string[];
  let generated = false;
  if (values["password-stdin"]) {
    passwords = (await readPassword()).split(/\r?\n/).slice(0, withSecond ? 2 : 1);
    if (passwords.length < (withSecond ? 2 : 1) || passwords.some((p) => p === "")) {
      throw new CliError(
        "E_PASSWORD",
        "standard input must give one password per officer, one per line",
      );
    }
  } else {
    passwords = withSecond ? [generatePassword(), generatePassword()] : [generatePassword()];
    generated = true;
  }
  checkPassword(passwords[0] as string, "the first officer's password");
  if (withSecond) checkPassword(passwords[1] as string, "the second officer's password");
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = openDatabase(join(dataDir, "fleet.db"));
  try {
    const result = await initFirstAdmin(
      {
        orgs: new OrgsRepository(db),
        people: new PeopleRepository(db),
        users: new UsersRepository(db),
        adminLog: new AdminLog(db, Date.now),
      },
      {
        bankName,
        adminName,
        email,
        password: passwords[0] as string,
        now: Date.now(),
        ...(withSecond
          ? { second: { name: secondName, email: secondEmail, password: passwords[1] as string } }
          : {}),
      },
    ).catch((error: unknown) => {
      // The set-up's own refusals are said as the command line's; anything else is a fault.
      const code = codeOf(error);
      if (code === "E_INIT_EXISTS" || code === "E_INIT_SAME_EMAIL") {
        throw new CliError(code, (error as CodedError).sentence);
      }
      throw error;
    });
    output.out(`bank ${result.bank.name} (${result.bank.id})`);
    for (const [index, officer] of result.officers.entries()) {
      output.out(
        `security officer ${officer.person.name} <${officer.user.email}> (${officer.user.id})`,
      );
      if (generated) {
        output.out(
          `${index === 0 ? "password" : "second officer password"} (shown once, note it now): ${passwords[index]}`,
        );
      }
    }
    if (result.dualControl) {
      output.out("dual control: on (two independent security officers)");
    } else {
      const warning = `warning: ${result.bank.name} runs WITHOUT dual control until a second security officer exists; add one with \`lockfleet-fleet add-officer --name <name> --email <email>\``;
      output.out("dual control: OFF (one security officer)");
      output.err(warning);
    }
  } finally {
    db.close();
  }
  secureDataFiles(dataDir);
}

export async function addOfficer(
  argv: string[],
  output: Output = consoleOutput,
  readPassword: () => Promise<string> = readStdinLines,
): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "data-dir": { type: "string" },
      "bank-id": { type: "string" },
      name: { type: "string" },
      email: { type: "string" },
      "password-stdin": { type: "boolean" },
    },
    strict: true,
  });
  const dataDir = resolve(values["data-dir"] ?? process.env.LOCKFLEET_DATA_DIR ?? "fleet-data");
  if (values.name === undefined || values.email === undefined) {
    throw new CliError("E_CONFIG", "add-officer needs --name and --email");
  }
  checkEmail(values.email);
  const password = values["password-stdin"]
    ? ((await readPassword()).split(/\r?\n/)[0] ?? "")
    : generatePassword();
  checkPassword(password, "the officer's password");
  const source = join(dataDir, "fleet.db");
  if (!existsSync(source)) throw new CliError("E_NO_DATABASE", `no database at ${source}`);
  const db = openDatabase(source);
  try {
    const orgs = new OrgsRepository(db);
    const banks = orgs.listBanks();
    const bankId = values["bank-id"] ?? (banks.length === 1 ? banks[0]?.id : undefined);
    if (bankId === undefined) {
      throw new CliError("E_CONFIG", "this fleet holds several banks: name one with --bank-id");
    }
    const { bank, user } = await addBootstrapOfficer(
      {
        orgs,
        people: new PeopleRepository(db),
        users: new UsersRepository(db),
        adminLog: new AdminLog(db, Date.now),
      },
      { bankId, name: values.name, email: values.email, password, now: Date.now() },
    ).catch((error: unknown) => {
      if (error instanceof CodedError) throw new CliError(error.code, error.sentence);
      throw error;
    });
    output.out(
      `security officer ${values.name} <${user.email}> (${user.id}) added to ${bank.name}`,
    );
    if (!values["password-stdin"]) output.out(`password (shown once, note it now): ${password}`);
    output.out("dual control: on (two independent security officers)");
  } finally {
    db.close();
  }
}

export async function backup(argv: string[], output: Output = consoleOutput): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { "data-dir": { type: "string" }, out: { type: "string" } },
    strict: true,
  });
  const dataDir = resolve(values["data-dir"] ?? process.env.LOCKFLEET_DATA_DIR ?? "fleet-data");
  if (values.out === undefined) throw new CliError("E_CONFIG", "backup needs --out <file>");
  const out = resolve(values.out);
  const source = join(dataDir, "fleet.db");
  if (!existsSync(source)) throw new CliError("E_NO_DATABASE", `no database at ${source}`);
  if (existsSync(out)) throw new CliError("E_BACKUP_EXISTS", `${out} exists; choose a new file`);
  mkdirSync(dirname(out), { recursive: true, mode: 0o700 });
  // SQLite's online backup: a consistent snapshot while the service keeps writing
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    await db.backup(out);
  } finally {
    db.close();
  }
  const copy = new Database(out, { readonly: true });
  try {
    const check = copy.pragma("integrity_check", { simple: true });
    if (check !== "ok")
      throw new CliError("E_BACKUP_CORRUPT", `integrity check of ${out}: ${String(check)}`);
  } finally {
    copy.close();
  }
  secureFile(out);
  output.out(`backup written to ${out} (${statSync(out).size} bytes, integrity ok)`);
  const keys = readdirSync(dataDir).filter((name) => !name.startsWith("fleet.db"));
  if (keys.length > 0) {
    // secrets at rest are sealed under these keys; a restore needs them, kept apart from backups
    output.out(
      `note: the key files ${keys.join(", ")} in ${dataDir} are not in this backup; keep a copy of them apart from it (a restore needs both)`,
    );
  }
}

export function verifyAdminLog(argv: string[], output: Output = consoleOutput): boolean {
  const { values } = parseArgs({
    args: argv,
    options: { "data-dir": { type: "string" }, db: { type: "string" } },
    strict: true,
  });
  const dataDir = resolve(values["data-dir"] ?? process.env.LOCKFLEET_DATA_DIR ?? "fleet-data");
  const file = resolve(values.db ?? join(dataDir, "fleet.db"));
  if (!existsSync(file)) throw new CliError("E_NO_DATABASE", `no database at ${file}`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const result = verifyWithCheckpoints(
      db,
      new AdminLog(db, Date.now),
      readCheckpointPublicKey(dataDir),
      readLatestCheckpoint(dataDir),
    );
    if (result.ok) {
      output.out(`admin log ok: ${result.entries} entries, chain and signed checkpoints agree`);
      return true;
    }
    output.err(`${result.reason} (admin log broken at entry ${result.brokenAt})`);
    return false;
  } finally {
    db.close();
  }
}

/** Runs one command; returns the process exit code. Errors print as `E_CODE: sentence`. */
export async function runCli(argv: string[], output: Output = consoleOutput): Promise<number> {
  const [command, ...rest] = argv;
  // the database, its WAL, backups and key files: the fleet's user only
  restrictUmask();
  try {
    if (command !== undefined && rest.some((arg) => arg === "--help" || arg === "-h")) {
      const usage = COMMAND_USAGE[command];
      if (usage !== undefined) {
        output.out(usage);
        return 0;
      }
    }
    switch (command) {
      case "serve": {
        const config = serveConfig(rest);
        const running = await serve(config);
        const chain = running.app.adminLogCheckpoints.verify();
        if (!chain.ok) {
          // keep serving (locks depend on it) but make the break impossible to miss
          running.app.log.error({ brokenAt: chain.brokenAt }, chain.reason);
          output.err(`${chain.reason} (admin log broken at entry ${chain.brokenAt})`);
        }
        output.out(`fleet listening on ${running.url} (data in ${running.app.dataDir})`);
        output.out(`devices connect to ${running.app.hub.brokerUrl}`);
        const plainNote = plainMqttWarning(running.app.hub.brokerUrl);
        if (plainNote !== undefined) {
          running.app.log.warn(plainNote);
          output.err(plainNote);
        }
        const pin = running.app.hub.brokerPin;
        if (pin !== undefined) {
          output.out(
            `locks trust the broker CA with SHA-256 ${pin} (pinned in every enrolment token)`,
          );
        }
        const unreachable = unreachableBrokerNote(
          running.app.hub.brokerUrl,
          settingLabel("brokerDeviceUrl"),
        );
        if (unreachable !== undefined) output.err(unreachable);
        const stop = () => {
          running.close().then(
            () => process.exit(0),
            () => process.exit(1),
          );
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        return 0;
      }
      case "init":
        await init(rest, output);
        return 0;
      case "add-officer":
        await addOfficer(rest, output);
        return 0;
      case "backup":
        await backup(rest, output);
        return 0;
      case "verify-admin-log":
        return verifyAdminLog(rest, output) ? 0 : 1;
      case "release":
        return await runReleaseTool(rest, output);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        output.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        output.err(`E_USAGE: unknown command "${command}"\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof CliError || error instanceof ConfigError) {
      output.err(error.message);
      return 1;
    }
    if (
      error instanceof TypeError &&
      "code" in error &&
      String(error.code).startsWith("ERR_PARSE_ARGS")
    ) {
      output.err(`E_USAGE: ${error.message}`);
      return 2;
    }
    // a coded error is a sentence for the operator; anything else is a fault worth its stack
    if (error instanceof CodedError) output.err(error.message);
    else output.err(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return 1;
  }
}
