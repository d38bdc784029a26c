/**
 * The console's handle on the lock device process: starts it (and starts it again after a
 * power cut), sends it what the person does one thing at a time, and passes on what it
 * reports.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { SelfTestReport } from "@lockfleet/protocol";
import { SimulatorError } from "../errors.js";
import type { ConsoleToDevice, DeviceStartOptions, DeviceToConsole, LockView } from "./messages.js";

export type DeviceStarted = Extract<DeviceToConsole, { op: "started" }>;

export interface LockDeviceListener {
  view(view: LockView): void;
  audit(records: Extract<DeviceToConsole, { op: "audit" }>["records"]): void;
  selfTest(report: SelfTestReport): void;
  /** A line from the lock process about what it does by itself (automatic openings). */
  note?(text: string): void;
  /** The device process ended without being asked to (a crash). */
  lost(reason: string): void;
}

type Input =
  Exclude<ConsoleToDevice, { op: "start" | "stop" }> extends infer T
    ? T extends { id: number }
      ? Omit<T, "id">
      : never
    : never;

/** The device process module next to this one (.ts when run from source, .js when built). */
function deviceModule(): { path: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const extension = here.endsWith(".ts") ? ".ts" : ".js";
  const path = fileURLToPath(new URL(`./device-process${extension}`, import.meta.url));
  const execArgv = [...process.execArgv];
  if (extension === ".ts" && !execArgv.some((arg) => arg.includes("tsx"))) {
    execArgv.push("--conditions=@lockfleet/source", "--import", import.meta.resolve("tsx"));
  }
  return { path, execArgv };
}

export class LockDevice {
  readonly #listener: LockDeviceListener;
  #child: ChildProcess | undefined;
  #nextId = 1;
  readonly #waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  #expectingExit = false;

  constructor(listener: LockDeviceListener) {
    this.#listener = listener;
  }

  /** Powers the lock up; resolves once its runtime has started (enrolled first if new). */
  start(options: DeviceStartOptions): Promise<DeviceStarted> {
    const { path, execArgv } = deviceModule();
    const child = fork(path, [], { execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.#child = child;
    this.#expectingExit = false;
    return new Promise((resolve, reject) => {
      let started = false;
      child.on("message", (message: DeviceToConsole) => {
        switch (message.op) {
          case "started":
            started = true;
            resolve(message);
            return;
          case "failed":
            reject(new Error(message.message));
            child.kill("SIGKILL");
            return;
          case "view":
            this.#listener.view(message.view);
            return;
          case "audit":
            this.#listener.audit(message.records);
            return;
          case "selfTest":
            this.#listener.selfTest(message.report);
            return;
          case "note":
            this.#listener.note?.(message.text);
            return;
          case "done": {
            const waiter = this.#waiting.get(message.id);
            this.#waiting.delete(message.id);
            if (message.error === undefined) waiter?.resolve();
            else waiter?.reject(new Error(message.error));
            return;
          }
        }
      });
      child.on("exit", (code, signal) => {
        if (this.#child === child) this.#child = undefined;
        const reason = `the lock process ended (${signal ?? `exit ${String(code)}`})`;
        for (const waiter of this.#waiting.values()) waiter.reject(new Error(reason));
        this.#waiting.clear();
        if (!started) reject(new SimulatorError("E_LOCK_START", `${reason} before it started`));
        else if (!this.#expectingExit) this.#listener.lost(reason);
      });
      child.send({ op: "start", options } satisfies ConsoleToDevice);
    });
  }

  /** One thing the person does; resolves when the lock's board has taken it. */
  input(input: Input): Promise<void> {
    return this.#request(input as Omit<ConsoleToDevice, "id">);
  }

  /** Power lost: the process dies at once, nothing is shut down cleanly. */
  async powerCut(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#expectingExit = true;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await exited;
  }

  /** Clean shutdown (availability offline, store closed). */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#expectingExit = true;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    await this.#request({ op: "stop" }).catch(() => {});
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }

  #request(message: Omit<ConsoleToDevice, "id">): Promise<void> {
    const child = this.#child;
    if (child === undefined) {
      return Promise.reject(new SimulatorError("E_LOCK_OFF", "the lock has no power"));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      child.send({ ...message, id } as ConsoleToDevice);
    });
  }
}
