/**
 * The simulators' error catalogue: every code the simulators raise or print, with what it
 * means (CONVENTIONS: one error catalogue per package). Each error is a CodedError carrying
 * its code as a typed field; a code is read from that field, never parsed out of a message.
 * Codes of the edge (E_USAGE) and the protocol are theirs; fleet codes the simulators read
 * from the fleet's answers are named in FLEET_CODES_READ.
 */
import type { RuntimeErrorCode } from "@lockfleet/edge";
import { CodedError } from "@lockfleet/protocol";

/** Scenario runs (scenario/). */
export const SCENARIO_ERRORS = {
  E_SCENARIO_FILE: "the scenario file cannot be read",
  E_SCENARIO_JSON: "the scenario file is not JSON",
  E_SCENARIO_FORMAT: "the scenario does not follow the format",
  E_SCENARIO_STEP: "a step asks for something impossible",
  E_EXPECTATION: "the lock did not do what an expect step or expected result says",
  E_LOCK_FAULT: "the lock core failed internally and threw its bolt",
} as const;

/** Setting up a scenario's lock (scenario/stores.ts, scenario/virtual-lock.ts). */
export const SCENARIO_LOCK_ERRORS = {
  E_DB_EXISTS: "the scenario's lock database exists already; a scenario starts from a new lock",
  E_TIME_SYNC: "the lock refused the trusted time the scenario gave it",
} as const;

/** The lock console (lock-console/). */
export const CONSOLE_ERRORS = {
  E_CONSOLE_INPUT: "a key or line typed at the console is not a command",
  E_LOCK_START: "the lock process ended before it started",
  E_LOCK_LOST: "the lock process ended while the console ran",
  E_LOCK_OFF: "the console's lock has no power",
  E_LOCK_NOT_STARTED: "the lock process was used before it started",
} as const;

/** The virtual board (virtual-board/). */
export const VIRTUAL_BOARD_ERRORS = {
  E_VIRTUAL_PIN: "the virtual board has no such pin",
  E_VIRTUAL_PART: "the profile has no such part on the virtual board",
  E_VIRTUAL_KEY: "the profile's keypad has no such key",
  E_VIRTUAL_I2C: "an I2C read was asked for without a callback",
} as const;

/** The load generator (load/). */
export const LOAD_ERRORS = {
  E_LOAD_ENROLMENT: "the fleet refused or garbled a simulated lock's enrolment",
  E_LOAD_NO_CONTAINER: "the admin sees no container to enrol the locks for",
  E_LOAD_FLEET_UNREACHABLE: "the fleet did not answer the load generator",
  E_LOAD_OFFLINE: "a simulated lock or the fleet stand-in is not connected",
  E_LOAD_TOKEN_FILE: "the API token file cannot be read or is empty",
  E_LOAD_FAILED: "the load run failed",
} as const;

/** The soak run (soak/). */
export const SOAK_ERRORS = {
  E_SOAK: "a process of the soak run ended, or an awaited event did not come in time",
} as const;

/** The demo (demo/). */
export const DEMO_ERRORS = {
  E_DEMO_API: "the fleet refused a call of the demo",
  E_DEMO_DATA: "the demo's data directory is damaged or from an interrupted start",
  E_DEMO_ENROLMENT: "a demo lock could not be enrolled",
  E_DEMO_FAILED: "the demo failed to start",
  E_DEMO_FLEET_INIT: "the demo fleet's database could not be set up",
  E_DEMO_FLEET_ROUTE_MISSING: "the fleet has no route the demo needs yet",
  E_DEMO_FLEET_START: "the demo fleet did not start",
  E_DEMO_FLEET_UNREACHABLE: "the demo fleet did not answer",
  E_DEMO_LOCK_OFFLINE: "a demo lock did not come online",
  E_DEMO_LOCK_START: "a demo lock did not start",
  E_DEMO_LOGIN: "a demo person could not log in",
  E_DEMO_PART_MISSING: "a part of the project the demo needs is not built yet",
  E_DEMO_PORT: "a port setting of the demo is not valid",
  E_DEMO_PORT_TAKEN: "a port the demo needs is taken",
  E_DEMO_STOPPED: "the demo was stopped while its story ran",
  E_DEMO_STOP_TIMEOUT: "the demo did not stop in time",
  E_DEMO_STORY: "the demo's story failed",
  E_DEMO_TIMEOUT: "something the demo waited for did not happen in time",
} as const;

/** The simulators' whole catalogue. */
export const SIMULATOR_ERRORS = {
  ...SCENARIO_ERRORS,
  ...SCENARIO_LOCK_ERRORS,
  ...CONSOLE_ERRORS,
  ...VIRTUAL_BOARD_ERRORS,
  ...LOAD_ERRORS,
  ...SOAK_ERRORS,
  ...DEMO_ERRORS,
} as const;

/** Fleet codes the simulators act on when the fleet answers with them (the fleet's catalogue). */
export const FLEET_CODES_READ = ["E_NOT_FOUND", "E_RIGHT_EXISTS"] as const;

export type ScenarioFailureCode = keyof typeof SCENARIO_ERRORS;
export type LoadErrorCode = keyof typeof LOAD_ERRORS | RuntimeErrorCode;
export type DemoErrorCode = keyof typeof DEMO_ERRORS | RuntimeErrorCode;
export type SimulatorErrorCode = keyof typeof SIMULATOR_ERRORS | RuntimeErrorCode;

/** An error of the simulators: the scenario runner, the console, the virtual board, the soak run. */
export class SimulatorError extends CodedError<SimulatorErrorCode> {
  override readonly name = "SimulatorError";
}

/** The load generator: a sentence the operator of the run can act on. */
export class LoadError extends CodedError<LoadErrorCode> {
  override readonly name = "LoadError";
}

/**
 * Errors of the demo: a stable code and a sentence that says what to do. A missing part of
 * the project (while it is being built) is named, so a newcomer knows it is not their set-up.
 * A refused fleet call keeps the fleet's own code in `fleetCode`.
 */
export class DemoError extends CodedError<DemoErrorCode> {
  override readonly name = "DemoError";
  readonly fleetCode: string | undefined;

  constructor(
    code: DemoErrorCode,
    detail: string,
    options?: { cause?: unknown; fleetCode?: string },
  ) {
    super(code, detail, options);
    this.fleetCode = options?.fleetCode;
  }
}
