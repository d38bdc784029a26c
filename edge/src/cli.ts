/**
 * lockfleet-edge: the lock controller's command line on the device.
 *
 *   lockfleet-edge provision --fleet URL --token TOKEN --profile ID [--data DIR]
 *   lockfleet-edge run [--profile ID] [--data DIR]
 *   lockfleet-edge status [--data DIR] [--json]
 *   lockfleet-edge selftest [--data DIR] [--profile ID] [--json]
 *   lockfleet-edge factory-reset --master-code CODE|- [--data DIR] [--discard-audit]
 *
 * Every failure prints `E_CODE: sentence` on stderr and exits non-zero (2 for usage errors).
 */
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import {
  installedReleaseKeys,
  type SelfTestReport,
  type TrustedReleaseKeys,
} from "@lockfleet/protocol";
import { FIRMWARE_VERSION } from "./lock/lock-core.js";
import { DEFAULT_DATA_DIR, dataPaths } from "./runtime/device-files.js";
import { DeviceRuntime, type HardwareOpener, recordSelfTest } from "./runtime/device-runtime.js";
import { errorCode, RuntimeError } from "./runtime/errors.js";
import { jsonLog, type LogLevel, type RuntimeLog } from "./runtime/log.js";
import { resolveProfile } from "./runtime/profile.js";
import { deviceStatus, factoryReset, provision } from "./runtime/provision.js";
import { SqliteLockStore } from "./store/sqlite-store.js";
import { RESTART_EXIT_CODE } from "./update/install-layout.js";
import { DEFAULT_RELEASE_KEYS_FILE, readReleaseKeys } from "./update/release-keys.js";

/** The version of this build when its slot holds no signed release (the factory install). */
const EDGE_VERSION = FIRMWARE_VERSION.slice(FIRMWARE_VERSION.indexOf("/") + 1);

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Reads one line (a token or a master code given as "-"). */
  readLine: () => Promise<string>;
  env: NodeJS.ProcessEnv;
  /** Opens the lock hardware for a profile (default: the edge hardware layer). */
  openHardware?: HardwareOpener;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT); default: those signals. */
  stopSignal?: Promise<void>;
}

const USAGE = `usage: lockfleet-edge <command> [options]

commands:
  provision --fleet URL --token TOKEN|- --profile ID   enrol this device with the fleet
            [--broker-ca FILE]                         CA of an mqtts:// broker (private CA)
  run [--profile ID]                                   run the lock controller
      [--install-root DIR] [--release-keys FILE]       take signed software updates (A/B)
  status [--json]                                      what is provisioned here
  selftest [--profile ID] [--json]                     exercise each hardware part
  factory-reset --master-code CODE|- [--discard-audit] erase identity, configuration and store

common options:
  --data DIR        data directory (default $LOCKFLEET_DATA_DIR or ${DEFAULT_DATA_DIR})
  --kek-file FILE   key-encryption key (default: systemd credential lockfleet-kek, /etc/lockfleet/kek)
  --log-level L     debug | info | warn | error (run)
`;

/** What `lockfleet-edge <command> --help` prints: that command's options and an example. */
const COMMAND_HELP: Readonly<Record<string, string>> = {
  provision: `usage: lockfleet-edge provision --fleet URL --token TOKEN|- --profile ID [options]

Enrols this device with the fleet: creates the device keys here, sends the one-time
enrolment token the bank's security admin created for the container, and stores the
identity the fleet answers with, sealed under the key-encryption key.

  --fleet URL        the fleet's address, e.g. https://fleet.bank.example
  --token TOKEN|-    the one-time enrolment token; - reads it from standard input
                     (or $LOCKFLEET_ENROLMENT_TOKEN), so it stays out of the shell history
  --profile ID       hardware profile of this lock (raspberry-pi, arduino-firmata, …)
  --broker-ca FILE   CA certificate of an mqtts:// broker with a private CA
  --data DIR, --kek-file FILE   as for every command

example: lockfleet-edge provision --fleet https://fleet.bank.example --token - --profile raspberry-pi
`,
  run: `usage: lockfleet-edge run [--profile ID] [--log-level L] [options]

Runs the lock controller (normally started by systemd as the lockfleet-edge service).

  --profile ID      hardware profile (default: the one given at provisioning)
  --log-level L     debug | info | warn | error (default info; JSON lines on standard output)
  --data DIR, --kek-file FILE   as for every command
`,
  status: `usage: lockfleet-edge status [--json] [options]

Shows what is provisioned here: device id, organisation, container, profile, fleet and
broker addresses, fleet keys, store size and where the key-encryption key is.

  --json            the same as JSON
  --data DIR, --kek-file FILE   as for every command
`,
  selftest: `usage: lockfleet-edge selftest [--profile ID] [--json] [options]

Exercises each hardware part (keypad, display, bolt motor, door contact, buzzer, …) and
prints each part's result; exits 1 when a part is at fault. On a provisioned lock the
result is recorded in the audit trail. Stop the service first (systemctl stop lockfleet-edge):
the hardware can be driven by one program at a time.

  --profile ID      hardware profile (default: the one given at provisioning)
  --json            the report as JSON
  --data DIR, --kek-file FILE   as for every command
`,
  "factory-reset": `usage: lockfleet-edge factory-reset --master-code CODE|- [--discard-audit] [options]

Erases the device identity, configuration and store, after checking the master code.
Refused while audit records have not reached the fleet, unless --discard-audit.

  --master-code CODE|-   the lock's master code; - reads it from standard input
  --discard-audit        erase even audit records the fleet has not acknowledged
  --data DIR, --kek-file FILE   as for every command
`,
};

const OPTIONS = {
  fleet: { type: "string" },
  token: { type: "string" },
  profile: { type: "string" },
  data: { type: "string" },
  "kek-file": { type: "string" },
  "broker-ca": { type: "string" },
  "master-code": { type: "string" },
  "discard-audit": { type: "boolean" },
  "log-level": { type: "string" },
  "install-root": { type: "string" },
  "release-keys": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** The edge hardware layer, loaded only by the commands that drive hardware (Johnny-Five is large). */
const defaultOpenHardware: HardwareOpener = async (profile) => {
  const { openHardware } = await import("./hardware/open-hardware.js");
  return openHardware(profile);
};

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    io.stderr(`E_USAGE: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  const helpFor = command === "help" ? positionals[1] : command;
  if (
    (values.help === true || command === "help") &&
    helpFor !== undefined &&
    COMMAND_HELP[helpFor] !== undefined
  ) {
    io.stdout(COMMAND_HELP[helpFor]);
    return 0;
  }
  if (values.help === true || command === undefined || command === "help") {
    io.stdout(USAGE);
    return command === undefined && values.help !== true ? 2 : 0;
  }
  const dataDir = values.data ?? io.env.LOCKFLEET_DATA_DIR ?? DEFAULT_DATA_DIR;
  const kekFile = values["kek-file"];
  const secretArgument = async (value: string | undefined, envName: string) =>
    value === "-" ? (await io.readLine()).trim() : (value ?? io.env[envName]);
  try {
    switch (command) {
      case "provision": {
        const fleetUrl = values.fleet;
        const token = await secretArgument(values.token, "LOCKFLEET_ENROLMENT_TOKEN");
        if (fleetUrl === undefined || token === undefined || values.profile === undefined) {
          throw new RuntimeError(
            "E_USAGE",
            "provision needs --fleet URL --token TOKEN --profile ID",
          );
        }
        const result = await provision({
          fleetUrl,
          token,
          profile: values.profile,
          dataDir,
          ...(kekFile === undefined ? {} : { kekFile }),
          ...(values["broker-ca"] === undefined ? {} : { brokerTls: { ca: values["broker-ca"] } }),
        });
        io.stdout(
          `provisioned ${result.deviceId} (org ${result.org}, container ${result.containerId}, profile ${result.profile})\n` +
            `broker ${result.brokerUrl}\ndevice signing key ${result.signingPublicKey}\n` +
            `next: lockfleet-edge selftest, then start the service (systemctl enable --now lockfleet-edge)\n`,
        );
        return 0;
      }
      case "run":
        return await run(values, dataDir, kekFile, io);
      case "status": {
        const status = deviceStatus(dataDir, kekFile);
        if (values.json === true) io.stdout(`${JSON.stringify(status, null, 2)}\n`);
        else io.stdout(formatStatus(status));
        return 0;
      }
      case "selftest":
        return await selfTest(values, dataDir, kekFile, io);
      case "factory-reset": {
        const masterCode = await secretArgument(values["master-code"], "LOCKFLEET_MASTER_CODE");
        if (masterCode === undefined || masterCode.length === 0) {
          throw new RuntimeError(
            "E_USAGE",
            "factory-reset needs --master-code CODE (or - to read it from stdin)",
          );
        }
        const result = factoryReset({
          dataDir,
          masterCode,
          ...(kekFile === undefined ? {} : { kekFile }),
          discardUnacknowledgedAudit: values["discard-audit"] === true,
        });
        io.stdout(
          `factory reset: ${result.deviceId} erased from ${dataDir}; provision again to use this lock\n`,
        );
        return 0;
      }
      default:
        throw new RuntimeError("E_USAGE", `unknown command "${command}"`);
    }
  } catch (error) {
    const code = errorCode(error);
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(
      `${code !== undefined && message.startsWith(code) ? message : `${code ?? "E_INTERNAL"}: ${message}`}\n`,
    );
    if (code === "E_USAGE") io.stderr(USAGE);
    return code === "E_USAGE" ? 2 : 1;
  }
}

type Values = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>
>["values"];

async function run(
  values: Values,
  dataDir: string,
  kekFile: string | undefined,
  io: CliIo,
): Promise<number> {
  const level = (values["log-level"] ?? io.env.LOCKFLEET_LOG_LEVEL ?? "info") as LogLevel;
  if (!["debug", "info", "warn", "error"].includes(level)) {
    throw new RuntimeError(
      "E_USAGE",
      `--log-level ${level} is not one of debug, info, warn, error`,
    );
  }
  const log = jsonLog({ level, write: io.stdout });
  const installRoot = values["install-root"];
  let restart: (() => void) | undefined;
  const restartRequested = new Promise<"restart">((resolve) => {
    restart = () => resolve("restart");
  });
  const runtime = await DeviceRuntime.start({
    dataDir,
    ...(kekFile === undefined ? {} : { kekFile }),
    ...(values.profile === undefined ? {} : { profile: values.profile }),
    hardware: io.openHardware ?? defaultOpenHardware,
    log,
    ...(installRoot === undefined
      ? {}
      : {
          update: {
            installRoot,
            releaseKeys: trustedReleaseKeys(values["release-keys"], log),
            factoryVersion: EDGE_VERSION,
          },
          onRestartRequested: () => restart?.(),
        }),
  });
  const why = await Promise.race([io.stopSignal ?? stopSignal(), restartRequested]);
  await runtime.stop();
  // The launcher starts the version `current` now points to (deploy/raspberry-pi).
  return why === "restart" ? RESTART_EXIT_CODE : 0;
}

/**
 * The release keys, or none: a missing or damaged file must not keep the lock from running
 * (it would stay shut for its users); every offer is then refused as E_RELEASE_UNKNOWN_KEY.
 */
function trustedReleaseKeys(file: string | undefined, log: RuntimeLog): TrustedReleaseKeys {
  try {
    return readReleaseKeys(file ?? DEFAULT_RELEASE_KEYS_FILE);
  } catch (error) {
    log.warn("no release keys: software updates are refused", {
      err: error instanceof Error ? error.message : String(error),
    });
    return installedReleaseKeys(new Map());
  }
}

async function selfTest(
  values: Values,
  dataDir: string,
  kekFile: string | undefined,
  io: CliIo,
): Promise<number> {
  const status = deviceStatus(dataDir, kekFile);
  const profileId = values.profile ?? status.profile;
  if (status.profile !== undefined && profileId !== status.profile) {
    resolveProfile(profileId);
    throw new RuntimeError(
      "E_PROFILE_MISMATCH",
      `this device was provisioned with hardware profile "${status.profile}", not "${profileId}"`,
    );
  }
  const profile = resolveProfile(profileId);
  if (profile.io.plugin === "virtual" && io.openHardware === undefined) {
    throw new RuntimeError(
      "E_PROFILE_VIRTUAL",
      `profile "${profile.id}" is a virtual lock with no hardware on this machine to test; ` +
        "try a virtual lock with `npx lockfleet-sim lock`, or give the profile of the lock's " +
        "real hardware (e.g. --profile raspberry-pi)",
    );
  }
  const hardware = await (io.openHardware ?? defaultOpenHardware)(profile);
  let report: SelfTestReport;
  try {
    report = await hardware.selfTest(status.deviceId ?? "unprovisioned");
  } finally {
    await hardware.close();
  }
  const faults = report.parts.filter((part) => part.result === "fault");
  if (values.json === true) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else io.stdout(formatSelfTest(report));
  if (status.provisioned && status.deviceId !== undefined) {
    // The service is stopped while the hardware is tested here; the record reaches the fleet
    // with the audit sync when the lock runs again.
    const store = SqliteLockStore.open(dataPaths(dataDir).store, status.deviceId);
    try {
      const offsetMs = store.readSection<{ offsetMs?: number }>("time")?.offsetMs ?? 0;
      recordSelfTest(store, report, Date.now() + offsetMs);
    } finally {
      store.close();
    }
    io.stdout("recorded in the audit trail; the fleet receives it with the next audit sync\n");
  }
  return faults.length === 0 ? 0 : 1;
}

function formatSelfTest(report: SelfTestReport): string {
  const width = Math.max(4, ...report.parts.map((part) => part.part.length));
  const lines = report.parts.map((part) =>
    `  ${part.part.padEnd(width)}  ${part.result.padEnd(9)}  ${part.detail ?? ""}`.trimEnd(),
  );
  return `self-test ${report.hardwareProfile} (${report.at})\n${lines.join("\n")}\n`;
}

function formatStatus(status: ReturnType<typeof deviceStatus>): string {
  if (!status.provisioned) {
    return `not provisioned (data directory ${status.dataDir}); key-encryption key ${status.kek.path} ${status.kek.present ? "present" : "absent"}\n`;
  }
  return [
    `device      ${status.deviceId}`,
    `org         ${status.org}`,
    `container   ${status.containerId}`,
    `profile     ${status.profile}`,
    `time zone   ${status.timeZone}`,
    `fleet       ${status.fleetUrl}`,
    `broker      ${status.brokerUrl}`,
    `provisioned ${status.provisionedAt}`,
    `fleet keys  ${status.fleetKeyIds?.join(", ")}`,
    `store       ${status.storeBytes === undefined ? "not created yet (first run creates it)" : `${status.storeBytes} bytes`}`,
    `kek         ${kekLine(status.kek)}`,
    "",
  ].join("\n");
}

/**
 * Where the key-encryption key is. A service started by systemd gets it as a credential that a
 * shell does not see; its absence here is then no fault of the running lock.
 */
function kekLine(kek: ReturnType<typeof deviceStatus>["kek"]): string {
  if (kek.present) return `${kek.path} (${kek.source})`;
  if (kek.source === "default") {
    return (
      `not readable from this shell at ${kek.path}; the lockfleet-edge service reads it from ` +
      "its systemd credential lockfleet-kek (only a fault if the service logs E_KEK_MISSING; " +
      "--kek-file FILE checks a file)"
    );
  }
  return `${kek.path} (${kek.source}) MISSING: the lock cannot start without it`;
}

function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      resolve();
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}

function readLineFromStdin(): Promise<string> {
  return new Promise((resolve) => {
    const reader = createInterface({ input: process.stdin, terminal: false });
    let done = false;
    reader.once("line", (line) => {
      done = true;
      reader.close();
      resolve(line);
    });
    reader.once("close", () => {
      if (!done) resolve("");
    });
  });
}

/** Runs the command line in this process (the `lockfleet-edge` bin calls this). */
export async function runCli(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  try {
    process.exitCode = await main(argv, {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      readLine: readLineFromStdin,
      env: process.env,
    });
  } catch (error) {
    process.stderr.write(`E_INTERNAL: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void runCli();
}
