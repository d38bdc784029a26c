/**
 * Runs one scenario: sets up a virtual lock from `lock`, performs the steps in order, hands
 * every audit record to `onEvent` as it is written, and stops at the first expectation the
 * lock does not meet.
 */
import { readFile } from "node:fs/promises";
import { type AuditRecord, CodedError, formatInstant } from "@lockfleet/protocol";
import type { ScenarioFailureCode } from "../errors.js";
import { parseDuration } from "./duration.js";
import { type Observation, unmetExpectation } from "./expectations.js";
import { commandBody, parseScenario, type Scenario, type ScenarioStep } from "./schema.js";
import { memoryScenarioStore, type ScenarioStore } from "./stores.js";
import { VirtualLock } from "./virtual-lock.js";

export type { ScenarioFailureCode } from "../errors.js";

export type ScenarioResult =
  | {
      status: "passed";
      /** Steps performed. */
      steps: number;
      /** Audit records written, factory set-up included. */
      events: number;
      /** Lock time at the end. */
      endedAt: string;
      store: string;
    }
  | {
      status: "failed";
      code: ScenarioFailureCode;
      /** 1-based step number; absent when the file or the lock set-up is at fault. */
      step?: number;
      /** The code, then `: step N …`, ready to show to a person. */
      message: string;
      events: number;
    };

export interface RunScenarioOptions {
  /** Called with every audit record, in order, as soon as the step that wrote it is done. */
  onEvent?: (record: AuditRecord) => void;
  /** Where the lock keeps its state; in memory by default. */
  openStore?: (deviceId: string) => ScenarioStore;
}

/** A step that failed: its code, and the sentence the result names. */
class StepFailure extends CodedError<ScenarioFailureCode> {
  override readonly name = "StepFailure";
}

/** Failures that mean the scenario itself is wrong, not the lock (exit code 2 on the command line). */
export const SCENARIO_FILE_FAULTS: readonly ScenarioFailureCode[] = [
  "E_SCENARIO_FILE",
  "E_SCENARIO_JSON",
  "E_SCENARIO_FORMAT",
  "E_SCENARIO_STEP",
];

/** Reads and parses a scenario file; the result still has to pass `runScenario`'s checks. */
export async function readScenarioFile(
  path: string,
): Promise<
  | { ok: true; value: unknown }
  | { ok: false; code: "E_SCENARIO_FILE" | "E_SCENARIO_JSON"; message: string }
> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    return {
      ok: false,
      code: "E_SCENARIO_FILE",
      message: `E_SCENARIO_FILE: cannot read ${path} (${reason})`,
    };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return {
      ok: false,
      code: "E_SCENARIO_JSON",
      message: `E_SCENARIO_JSON: ${path} is not JSON: ${error instanceof Error ? error.message : error}`,
    };
  }
}

/** Runs a scenario given as parsed JSON (checked here) or as a typed value. */
export async function runScenario(
  input: unknown,
  options: RunScenarioOptions = {},
): Promise<ScenarioResult> {
  const parsed = parseScenario(input);
  if (!parsed.ok) {
    return {
      status: "failed",
      code: "E_SCENARIO_FORMAT",
      ...(parsed.step === undefined ? {} : { step: parsed.step }),
      message: `E_SCENARIO_FORMAT: ${parsed.message}`,
      events: 0,
    };
  }
  return new ScenarioRun(parsed.scenario, options).run();
}

class ScenarioRun {
  readonly #scenario: Scenario;
  readonly #options: RunScenarioOptions;
  #lock: VirtualLock | undefined;
  #lastSeq = 0;
  #events = 0;
  #lastEvent: AuditRecord | undefined;
  #recent: AuditRecord[] = [];
  #recentSince = "since the start";
  #fault: AuditRecord | undefined;

  constructor(scenario: Scenario, options: RunScenarioOptions) {
    this.#scenario = scenario;
    this.#options = options;
  }

  async run(): Promise<ScenarioResult> {
    const openStore = this.#options.openStore ?? memoryScenarioStore;
    let lock: VirtualLock;
    try {
      lock = new VirtualLock({ lock: this.#scenario.lock, openStore });
    } catch (error) {
      return this.#failed("E_SCENARIO_STEP", undefined, `lock: ${messageOf(error)}`);
    }
    this.#lock = lock;
    try {
      this.#flush();
      if (this.#fault !== undefined) return this.#faulted(undefined);
      for (const [index, step] of this.#scenario.steps.entries()) {
        const number = index + 1;
        try {
          this.#perform(lock, step, number);
        } catch (error) {
          this.#flush();
          if (error instanceof StepFailure) return this.#failed(error.code, number, error.sentence);
          return this.#failed("E_SCENARIO_STEP", number, messageOf(error));
        }
        this.#flush();
        if (this.#fault !== undefined) return this.#faulted(number);
      }
      return {
        status: "passed",
        steps: this.#scenario.steps.length,
        events: this.#events,
        endedAt: formatInstant(lock.harness.core.lockTime()),
        store: lock.storeDescription,
      };
    } finally {
      lock.close();
    }
  }

  #perform(lock: VirtualLock, step: ScenarioStep, number: number): void {
    if ("keys" in step) lock.press(step.keys);
    else if ("advance" in step) lock.advance(parseDuration(step.advance) ?? 0);
    else if ("at" in step) {
      const target = Date.parse(step.at);
      const now = lock.clock.now();
      if (target < now) {
        throw new StepFailure(
          "E_SCENARIO_STEP",
          `at ${step.at} is before the scenario's time ${formatInstant(now)}; time only runs forward`,
        );
      }
      lock.advance(target - now);
    } else if ("door" in step) lock.door(step.door === "open");
    else if ("tamper" in step) lock.tamper(step.tamper);
    else if ("jam" in step) lock.jam(step.jam);
    else if ("power" in step) lock.powerCycle(parseDuration(step.off ?? "0s") ?? 0);
    else if ("command" in step) this.#command(lock, step.command);
    else if ("expect" in step) {
      this.#flush();
      const unmet = unmetExpectation(step.expect, this.#observe(lock));
      if (unmet !== undefined) throw new StepFailure("E_EXPECTATION", unmet);
      this.#recent = [];
      this.#recentSince = `since step ${number}`;
    }
  }

  #command(lock: VirtualLock, command: Extract<ScenarioStep, { command: unknown }>["command"]) {
    const body = commandBody(command, (secret) => lock.seal(secret), lock.clock.now());
    const expiresInMs =
      command.expiresIn === undefined ? undefined : parseDuration(command.expiresIn);
    const result = lock.command(command.type, body, {
      ...(command.seq === undefined ? {} : { seq: command.seq }),
      ...(expiresInMs === undefined ? {} : { expiresInMs }),
    });
    const expected = command.result ?? "ok";
    const answered = result.status === "ok" ? "ok" : (result.error?.code ?? "error");
    if (answered !== expected) {
      const why = result.status === "ok" ? "" : ` (${result.error?.message ?? "no reason given"})`;
      throw new StepFailure(
        "E_EXPECTATION",
        `expected command ${command.type} to answer ${JSON.stringify(expected)}, got ${JSON.stringify(answered)}${why}`,
      );
    }
  }

  #observe(lock: VirtualLock): Observation {
    return {
      state: lock.state(),
      display: lock.outputs.displayLines,
      silentAlarmPulses: lock.outputs.silentAlarmPulses,
      buzzer: lock.outputs.lastBuzzer,
      lastEvent: this.#lastEvent,
      recentEvents: this.#recent,
      recentSince: this.#recentSince,
    };
  }

  /** Hands new audit records to onEvent and notes what expectations and faults need. */
  #flush(): void {
    const lock = this.#lock;
    if (lock === undefined) return;
    for (const record of lock.auditAfter(this.#lastSeq)) {
      this.#lastSeq = record.seq;
      this.#events += 1;
      this.#lastEvent = record;
      this.#recent.push(record);
      if (record.kind === "lock.fault") this.#fault ??= record;
      this.#options.onEvent?.(record);
    }
  }

  #faulted(step: number | undefined): ScenarioResult {
    const error = this.#fault?.data.error;
    return this.#failed(
      "E_LOCK_FAULT",
      step,
      `the lock core failed and threw its bolt: ${typeof error === "string" ? error : "no reason recorded"}`,
    );
  }

  #failed(code: ScenarioFailureCode, step: number | undefined, detail: string): ScenarioResult {
    const where = step === undefined ? "" : `step ${step}${code === "E_EXPECTATION" ? " " : ": "}`;
    return {
      status: "failed",
      code,
      ...(step === undefined ? {} : { step }),
      message: `${code}: ${where}${detail}`,
      events: this.#events,
    };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
