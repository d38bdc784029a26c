/**
 * `lockfleet-sim lock`: a lock you can type into. The person's keys go to the keypad of the
 * virtual board; single letters move the world around the lock (door, housing tamper loop,
 * a stuck bolt), cut the power or run the self-test. After every change it shows the LCD's
 * two lines, bolt, door, buzzer and the silent-alarm count, and it prints every audit record
 * the lock writes. At a terminal each key acts as it is pressed; from a pipe the same
 * commands are read line by line, so a session can be scripted.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import type { AuditRecord, SelfTestReport } from "@lockfleet/protocol";
import { SimulatorError } from "../errors.js";
import type { CommandIo } from "../scenario/command.js";
import { parseDuration } from "../scenario/duration.js";
import { type DeviceStarted, LockDevice } from "./lock-device.js";
import type { DeviceStartOptions, LockView } from "./messages.js";

export const LOCK_USAGE =
  "lock [--profile virtual] [--data DIR] [--fleet URL --token T] [--auto-open 15s] [--broker-url URL]";

export const LOCK_HELP = [
  "keys: 0-9 # * go to the keypad (# enter, * clear/cancel)",
  "  o door open     c door close    t tamper toggle   j bolt jam toggle",
  "  p power cycle   s self-test     w wait 1 s        q quit     h help",
  "  (piped input also takes a line `wait 2s`)",
].join("\n");

export interface LockConsoleOptions {
  profile: string;
  dataDir?: string;
  fleet?: { url: string; token: string };
  /**
   * Run on its own and open automatically this often; piped standard input still takes the
   * console's commands (a soak run types wrong codes or opens the door through it).
   */
  autoOpenMs?: number;
  /** Reach the broker at this address instead of the one told at enrolment (a proxy, a relay). */
  brokerUrl?: string;
}

export function parseLockArgs(args: readonly string[]): LockConsoleOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      profile: { type: "string", default: "virtual" },
      data: { type: "string" },
      fleet: { type: "string" },
      token: { type: "string" },
      "auto-open": { type: "string" },
      "broker-url": { type: "string" },
    },
    strict: true,
  });
  const autoOpen = values["auto-open"];
  const autoOpenMs = autoOpen === undefined ? undefined : parseDuration(autoOpen);
  if (autoOpen !== undefined && (autoOpenMs === undefined || autoOpenMs < 1000)) {
    throw new SimulatorError(
      "E_USAGE",
      `--auto-open takes a duration of at least 1s, e.g. 15s (got "${autoOpen}")`,
    );
  }
  if ((values.fleet === undefined) !== (values.token === undefined)) {
    throw new SimulatorError("E_USAGE", "--fleet URL and --token T come together");
  }
  return {
    profile: values.profile,
    ...(values.data === undefined ? {} : { dataDir: values.data }),
    ...(values.fleet === undefined || values.token === undefined
      ? {}
      : { fleet: { url: values.fleet, token: values.token } }),
    ...(autoOpenMs === undefined ? {} : { autoOpenMs }),
    ...(values["broker-url"] === undefined ? {} : { brokerUrl: values["broker-url"] }),
  };
}

export interface ConsoleInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?: (raw: boolean) => unknown;
}

type Step =
  | { kind: "char"; char: string }
  | { kind: "wait"; ms: number }
  | { kind: "bad"; text: string };

export function formatView(view: LockView, silentAlarms: number): string {
  const [top, bottom] = view.lcd;
  return `lock: [${top.padEnd(16)}] [${bottom.padEnd(16)}] bolt=${view.bolt} door=${view.door} buzzer=${view.buzzer ? "on" : "off"} silentAlarms=${silentAlarms} cycle=${view.cycle} fleet=${view.fleet}`;
}

export function formatAudit(record: AuditRecord): string {
  const actor = record.actor === null ? "" : ` by ${record.actor}`;
  const data = Object.keys(record.data).length === 0 ? "" : ` ${JSON.stringify(record.data)}`;
  return `audit #${record.seq} ${record.at} ${record.kind}${actor}${data}`;
}

function formatSelfTest(report: SelfTestReport): string {
  return `self-test: ${report.parts.map((part) => `${part.part}=${part.result}`).join(" ")}`;
}

/** Runs the console until `q`, Ctrl-C or the end of piped input; returns the exit code. */
export async function runLockConsole(
  options: LockConsoleOptions,
  io: CommandIo,
  input: ConsoleInput,
): Promise<number> {
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "lockfleet-lock-"));
  const world = { door: false, tamper: false, jammed: false };
  /** Silent-alarm pulses of earlier power-ups (each power-up's board counts from zero). */
  let earlierPulses = 0;
  let view: LockView | undefined;
  let powered = false;
  let shownSeq = 0;
  let lockLost: (() => void) | undefined;
  const pulses = () => earlierPulses + (view?.silentAlarmPulses ?? 0);
  const device = new LockDevice({
    view: (next) => {
      view = next;
      io.stdout(formatView(next, pulses()));
    },
    audit: (records) => {
      for (const record of records) {
        if (record.seq <= shownSeq) continue;
        shownSeq = record.seq;
        io.stdout(formatAudit(record));
      }
    },
    selfTest: (report) => io.stdout(formatSelfTest(report)),
    note: (text) => io.stdout(text),
    lost: (reason) => {
      powered = false;
      io.stderr(`E_LOCK_LOST: ${reason}`);
      lockLost?.();
    },
  });
  const startOptions = (): DeviceStartOptions => ({
    dataDir,
    profile: options.profile,
    shownSeq,
    ...(options.fleet === undefined ? {} : { fleet: options.fleet }),
    world: { ...world },
    ...(options.autoOpenMs === undefined ? {} : { autoOpenMs: options.autoOpenMs }),
    ...(options.brokerUrl === undefined ? {} : { brokerUrl: options.brokerUrl }),
  });
  const describeStart = (started: DeviceStarted) => {
    const how =
      started.mode === "bench"
        ? "bench-top lock without a fleet (users 01 and 02, see README)"
        : `at fleet org ${started.org}${started.enrolled ? " (enrolled now)" : ""}`;
    io.stdout(
      `lock ${started.deviceId} started, ${how}; data ${dataDir}${started.cleanStart ? "" : "; previous run ended without a clean shutdown"}`,
    );
  };

  try {
    try {
      describeStart(await device.start(startOptions()));
      powered = true;
    } catch (error) {
      io.stderr(messageOf(error));
      return 1;
    }

    let quit = false;
    const act = async (step: Step): Promise<void> => {
      if (step.kind === "bad") {
        io.stderr(`E_CONSOLE_INPUT: "${step.text}" is not a command (h for help)`);
        return;
      }
      if (step.kind === "wait") {
        await sleep(step.ms);
        return;
      }
      const { char } = step;
      if (/^[0-9#*]$/.test(char)) {
        if (!powered) return io.stderr("E_LOCK_OFF: the lock has no power");
        await device.input({ op: "key", key: char });
        return;
      }
      switch (char.toLowerCase()) {
        case "o":
        case "c":
          world.door = char.toLowerCase() === "o";
          io.stdout(world.door ? "> door opened" : "> door closed");
          if (powered) await device.input({ op: "door", open: world.door });
          return;
        case "t":
          world.tamper = !world.tamper;
          io.stdout(world.tamper ? "> housing opened (tamper)" : "> housing closed");
          if (powered) await device.input({ op: "tamper", active: world.tamper });
          return;
        case "j":
          world.jammed = !world.jammed;
          io.stdout(world.jammed ? "> bolt jammed" : "> bolt free again");
          if (powered) await device.input({ op: "jam", jammed: world.jammed });
          return;
        case "s":
          if (!powered) return io.stderr("E_LOCK_OFF: the lock has no power");
          await device.input({ op: "selfTest" });
          return;
        case "w":
          await sleep(1000);
          return;
        case "p":
          io.stdout("> power cut");
          await device.powerCut();
          powered = false;
          earlierPulses = pulses();
          view = undefined;
          await sleep(300);
          io.stdout("> power back");
          describeStart(await device.start(startOptions()));
          powered = true;
          return;
        case "h":
        case "?":
          io.stdout(LOCK_HELP);
          return;
        case "q":
        case "\u0003":
        case "\u0004":
          quit = true;
          return;
        default:
          if (char.trim() === "") return;
          io.stderr(`E_CONSOLE_INPUT: "${char}" is not a command (h for help)`);
      }
    };

    if (options.autoOpenMs !== undefined) {
      // On its own: it opens by itself until SIGINT or SIGTERM stops it cleanly; commands piped
      // in meanwhile act on it too (never a terminal's keys: it runs unattended; `q` does not
      // stop it, a signal does).
      io.stdout(
        `auto-open every ${options.autoOpenMs / 1000} s; SIGINT or SIGTERM stops the lock cleanly`,
      );
      const ended = await new Promise<"signal" | "lost">((resolve) => {
        const onSignal = () => resolve("signal");
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
        lockLost = () => resolve("lost");
        if (input.isTTY !== true) {
          void readSteps(input, async (step) => {
            await act(step).catch((error: unknown) => io.stderr(messageOf(error)));
            return true;
          });
        }
      });
      if (ended === "lost") return 1;
      await device.stop();
      io.stdout(`lock stopped${temporary ? "" : `; its state stays in ${dataDir}`}`);
      return 0;
    }
    io.stdout(LOCK_HELP);
    await readSteps(input, async (step) => {
      if (quit) return false;
      try {
        await act(step);
      } catch (error) {
        io.stderr(messageOf(error));
      }
      return !quit;
    });
    await device.stop();
    io.stdout(`lock stopped${temporary ? "" : `; its state stays in ${dataDir}`}`);
    return 0;
  } finally {
    await device.powerCut();
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Feeds the steps of the input one at a time to `handle` (false: stop reading). A terminal
 * is read key by key in raw mode; a pipe line by line, each character of a line a step.
 */
async function readSteps(
  input: ConsoleInput,
  handle: (step: Step) => Promise<boolean>,
): Promise<void> {
  if (input.isTTY === true && input.setRawMode !== undefined) {
    input.setRawMode(true);
    input.setEncoding("utf8");
    try {
      for await (const chunk of input) {
        for (const char of String(chunk)) {
          if (!(await handle({ kind: "char", char }))) return;
        }
      }
    } finally {
      input.setRawMode(false);
      input.pause();
    }
    return;
  }
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) {
      for (const step of lineSteps(line)) {
        if (!(await handle(step))) return;
      }
    }
  } finally {
    lines.close();
  }
}

/** One line of piped input: `wait 2s`, or command characters (spaces ignored). */
export function lineSteps(line: string): Step[] {
  const text = line.trim();
  const wait = /^wait\s+(\S+)$/.exec(text);
  if (wait !== null) {
    const ms = parseDuration(wait[1] as string);
    return ms === undefined ? [{ kind: "bad", text }] : [{ kind: "wait", ms }];
  }
  return [...text.replace(/\s+/g, "")].map((char) => ({ kind: "char", char }));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const lockCommand = {
  usage: LOCK_USAGE,
  summary:
    "a lock you can type into: the real edge runtime on the virtual board (keypad, door, tamper, jam, power cycle)",
  async run(args: readonly string[], io: CommandIo): Promise<number> {
    let options: LockConsoleOptions;
    try {
      options = parseLockArgs(args);
    } catch (error) {
      io.stderr(messageOf(error));
      io.stderr(`usage: lockfleet-sim ${LOCK_USAGE}`);
      return 2;
    }
    return runLockConsole(options, io, process.stdin);
  },
};
