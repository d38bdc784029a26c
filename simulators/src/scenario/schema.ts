/**
 * The scenario file format: one virtual lock (`lock`) and what happens to it (`steps`). One
 * TypeBox schema gives the TypeScript types and the runtime check; `parseScenario` adds the
 * messages a person writing a scenario needs ("step 3: unknown step kind "kyes"").
 */
import {
  AlarmKindSchema,
  AuditEventKindSchema,
  BOLT_STATES,
  COMMAND_BODIES,
  COMMAND_TYPES,
  type CommandType,
  CYCLE_PHASES,
  DEFAULT_LOCK_POLICY,
  DeviceId,
  DOOR_STATES,
  Holiday,
  Instant,
  LockPolicy,
  LockUser,
  MAX_HOLIDAYS,
  MAX_WEEKLY_LOCK_PERIODS,
  OrgId,
  Strict,
  TimeZone,
  WeeklyPeriod,
} from "@lockfleet/protocol";
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { DURATION_PATTERN } from "./duration.js";

const Duration = Type.String({
  pattern: DURATION_PATTERN,
  description: 'A number and a unit, repeated: "90s", "5m", "1h30m", "2d", "250ms"',
});
const Digits = Type.String({ pattern: "^\\d{6,8}$", description: "A clear code, 6–8 digits" });
const KEYS_PATTERN = "^[0-9#* ]*[0-9#*][0-9#* ]*$";
const Note = Type.Optional(
  Type.String({ maxLength: 500, description: "What the step means, for the reader" }),
);

function literals<T extends string>(values: readonly T[]) {
  return Type.Union(values.map((value) => Type.Literal(value)));
}

/** A user installed at factory set-up with a clear code (hashed by the lock at once). */
export const ScenarioUser = Strict({
  ...LockUser.properties,
  enabled: Type.Optional(Type.Boolean({ default: true })),
  code: Digits,
  /** Separate duress code (policy duressMode "separateCode"). */
  duressCode: Type.Optional(Digits),
  /** The person must choose their own code at the keypad before first use. */
  mustChangeCode: Type.Optional(Type.Boolean()),
});
export type ScenarioUser = Static<typeof ScenarioUser>;

export const TIME_SYNC_MODES = ["always", "atStart", "never"] as const;

export const ScenarioLock = Strict({
  deviceId: Type.Optional(DeviceId),
  org: Type.Optional(OrgId),
  /** IANA time zone of the container; time locks are evaluated in it. */
  timeZone: TimeZone,
  /** The instant the lock is powered up for the first time (factory set-up). */
  start: Instant,
  /** Changes to the default policy (SPEC §3 defaults). */
  policy: Type.Optional(Type.Partial(LockPolicy, { additionalProperties: false })),
  users: Type.Optional(Type.Array(ScenarioUser, { maxItems: 100 })),
  /** Weekly time-lock periods, local wall time. */
  weekly: Type.Optional(Type.Array(WeeklyPeriod, { maxItems: MAX_WEEKLY_LOCK_PERIODS })),
  holidays: Type.Optional(Type.Array(Holiday, { maxItems: MAX_HOLIDAYS })),
  /** Factory master code of slot 00 (default 12345678); it must be changed on first use. */
  factoryMasterCode: Type.Optional(Digits),
  /**
   * When the runner's fleet sends the lock trusted time: at start and after every power cycle
   * ("always", as a fleet does when a lock comes back online), only at start, or never.
   */
  timeSync: Type.Optional(literals(TIME_SYNC_MODES)),
});
export type ScenarioLock = Static<typeof ScenarioLock>;

export const KeysStep = Strict({
  /** Keypad keys in order: digits, '#' (enter), '*' (clear / cancel); spaces are ignored. */
  keys: Type.String({ pattern: KEYS_PATTERN }),
  note: Note,
});
export const AdvanceStep = Strict({ advance: Duration, note: Note });
export const AtStep = Strict({ at: Instant, note: Note });
export const DoorStep = Strict({ door: literals(["open", "close"] as const), note: Note });
export const TamperStep = Strict({ tamper: Type.Boolean(), note: Note });
export const JamStep = Strict({ jam: Type.Boolean(), note: Note });
export const PowerStep = Strict({
  power: Type.Literal("cycle"),
  /** How long the lock stays without power (the clock runs on). */
  off: Type.Optional(Duration),
  note: Note,
});

export const ScenarioCommand = Strict({
  type: literals(COMMAND_TYPES),
  /**
   * The command body as the fleet would send it. Where a body carries a secret sealed to the
   * lock (user.add initialCode/duressCode, otp.secret secret), `{"clear": "12345678"}` (UTF-8)
   * or `{"hex": "…"}` may stand in: the runner seals it to the lock. time.sync without a body
   * sends the runner's time.
   */
  body: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  /** The result the lock must answer: "ok" (default) or an error code such as E_REPLAY. */
  result: Type.Optional(Type.String({ pattern: "^(ok|E_[A-Z0-9_]+)$" })),
  /** Envelope seq to use instead of the next one (replay tests). */
  seq: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Envelope validity from now (default 10m). */
  expiresIn: Type.Optional(Duration),
});
export type ScenarioCommand = Static<typeof ScenarioCommand>;
export const CommandStep = Strict({ command: ScenarioCommand, note: Note });

export const BUZZER_SOUNDS = ["key", "accept", "reject", "release", "alarm", "off"] as const;

/** An audit record to look for: its kind and, optionally, its actor and a subset of its data. */
export const EventMatch = Strict({
  kind: AuditEventKindSchema,
  actor: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type EventMatch = Static<typeof EventMatch>;

export const Expectation = Type.Object(
  {
    bolt: Type.Optional(literals(BOLT_STATES)),
    door: Type.Optional(literals(DOOR_STATES)),
    cycle: Type.Optional(literals(CYCLE_PHASES)),
    /** A text either line contains, {"exact": text} one line equals, or both lines exactly. */
    display: Type.Optional(
      Type.Union([
        Type.String(),
        Strict({ exact: Type.String() }),
        Type.Tuple([Type.String(), Type.String()]),
      ]),
    ),
    /** Silent-alarm pulses since the start: a count, or whether there was any. */
    silentAlarm: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Boolean()])),
    /** The last sound the buzzer was driven to. */
    buzzer: Type.Optional(literals(BUZZER_SOUNDS)),
    /** The alarms standing on the lock now, in any order (the duress alarm never stands). */
    alarms: Type.Optional(Type.Array(AlarmKindSchema, { uniqueItems: true })),
    timeLocked: Type.Optional(Type.Boolean()),
    /** The latest audit record. */
    lastEvent: Type.Optional(EventMatch),
    /** Audit records present since the previous expect step (or the start). */
    events: Type.Optional(Type.Array(Type.Union([AuditEventKindSchema, EventMatch]))),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type Expectation = Static<typeof Expectation>;
export const ExpectStep = Strict({ expect: Expectation, note: Note });

/** Each step does one thing, named by its one key besides `note`. */
export const STEP_KINDS = {
  keys: KeysStep,
  advance: AdvanceStep,
  at: AtStep,
  door: DoorStep,
  tamper: TamperStep,
  jam: JamStep,
  power: PowerStep,
  command: CommandStep,
  expect: ExpectStep,
} as const;
export type StepKind = keyof typeof STEP_KINDS;

export const ScenarioStep = Type.Union(Object.values(STEP_KINDS));
export type ScenarioStep = Static<typeof ScenarioStep>;

export const Scenario = Strict({
  $schema: Type.Optional(Type.String()),
  name: Type.Optional(Type.String({ maxLength: 200 })),
  description: Type.Optional(Type.String({ maxLength: 4000 })),
  lock: ScenarioLock,
  steps: Type.Array(ScenarioStep, { minItems: 1 }),
});
export type Scenario = Static<typeof Scenario>;

const ScenarioOutline = Strict({
  ...Scenario.properties,
  steps: Type.Array(Type.Unknown(), { minItems: 1 }),
});

export type ParseResult =
  | { ok: true; scenario: Scenario }
  | { ok: false; step?: number; message: string };

/** Where a SealedSecret goes in a command body, by command type: these accept a clear form. */
export const SEALED_FIELDS: Partial<Record<CommandType, readonly string[]>> = {
  "user.add": ["initialCode", "duressCode"],
  "otp.secret": ["secret"],
};

/** The clear stand-in for a sealed secret: UTF-8 text or hex bytes. */
export type ClearSecret = { clear: string } | { hex: string };

export function isClearSecret(value: unknown): value is ClearSecret {
  if (typeof value !== "object" || value === null) return false;
  const keys = Object.keys(value);
  if (keys.length !== 1) return false;
  const [key] = keys;
  const text = (value as Record<string, unknown>)[key ?? ""];
  if (typeof text !== "string") return false;
  return key === "clear" || (key === "hex" && /^([0-9a-f]{2})+$/i.test(text));
}

/**
 * The body the lock will receive, with clear secrets sealed by `seal` and the defaults for an
 * omitted body (time.sync: the fleet's time now; others: empty).
 */
export function commandBody(
  command: ScenarioCommand,
  seal: (secret: ClearSecret) => unknown,
  fleetNow: number,
): Record<string, unknown> {
  if (command.body === undefined) {
    return command.type === "time.sync" ? { time: new Date(fleetNow).toISOString() } : {};
  }
  const body: Record<string, unknown> = { ...command.body };
  for (const field of SEALED_FIELDS[command.type] ?? []) {
    const value = body[field];
    if (isClearSecret(value)) body[field] = seal(value);
  }
  return body;
}

/** A well-formed sealed box for checking bodies before the lock (and its key) exists. */
const PLACEHOLDER_SEAL = {
  alg: "x25519-xsalsa20-poly1305",
  ephemeralPublicKey: "A".repeat(43),
  nonce: "A".repeat(32),
  box: "AAAA",
};

const checkers = new WeakMap<TSchema, ReturnType<typeof TypeCompiler.Compile>>();

/** The first schema error as "at /path: message", or undefined when the value is valid. */
function firstError(schema: TSchema, value: unknown): string | undefined {
  let checker = checkers.get(schema);
  if (checker === undefined) {
    checker = TypeCompiler.Compile(schema);
    checkers.set(schema, checker);
  }
  if (checker.Check(value)) return undefined;
  // The deepest error names the field a person has to fix; unions report only at their root.
  let best: { path: string; message: string; schema: TSchema } | undefined;
  for (const error of checker.Errors(value)) {
    if (best === undefined || error.path.length > best.path.length) {
      best = { path: error.path, message: error.message, schema: error.schema };
    }
  }
  if (best === undefined) return "does not match its schema";
  const where = best.path === "" ? "/" : best.path;
  if (best.schema.pattern === DURATION_PATTERN) {
    return `at ${where}: not a duration (a number and a unit, repeated: "90s", "5m", "1h30m", "2d")`;
  }
  if (best.schema.pattern === KEYS_PATTERN) {
    return `at ${where}: keypad keys are the digits 0-9, "#" (enter) and "*" (clear), spaces ignored`;
  }
  const allowed = literalValues(best.schema);
  if (allowed !== undefined) {
    return `at ${where}: expected one of ${allowed.map((item) => JSON.stringify(item)).join(", ")}`;
  }
  return `at ${where}: ${best.message}`;
}

/** The values a union of literals allows ("open", "close"), to name them in a message. */
function literalValues(schema: TSchema): unknown[] | undefined {
  const members: unknown = schema.anyOf;
  if (!Array.isArray(members) || members.length === 0) return undefined;
  const values: unknown[] = [];
  for (const member of members as TSchema[]) {
    if (!("const" in member)) return undefined;
    values.push(member.const);
  }
  return values;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function checkLock(lock: ScenarioLock): string | undefined {
  if (!isTimeZone(lock.timeZone))
    return `lock.timeZone "${lock.timeZone}" is not an IANA time zone`;
  const codeLength = lock.policy?.codeLength ?? DEFAULT_LOCK_POLICY.codeLength;
  const slots = new Set<number>();
  for (const user of lock.users ?? []) {
    if (slots.has(user.slot)) return `lock.users: slot ${user.slot} is given twice`;
    slots.add(user.slot);
    for (const [field, code] of [
      ["code", user.code],
      ["duressCode", user.duressCode],
    ] as const) {
      if (code !== undefined && code.length !== codeLength) {
        return `lock.users: slot ${user.slot} ${field} has ${code.length} digits; this lock's codes have ${codeLength}`;
      }
    }
  }
  if (lock.factoryMasterCode !== undefined && lock.factoryMasterCode.length !== codeLength) {
    return `lock.factoryMasterCode has ${lock.factoryMasterCode.length} digits; this lock's codes have ${codeLength}`;
  }
  return undefined;
}

function checkStep(step: unknown): string | undefined {
  if (!isObject(step)) return 'a step is an object such as {"keys": "0111223344#"}';
  const keys = Object.keys(step);
  const kinds = keys.filter((key): key is StepKind => Object.hasOwn(STEP_KINDS, key));
  if (kinds.length === 0) {
    const unknown = keys.find((key) => key !== "note");
    return unknown === undefined
      ? `a step needs a kind (${Object.keys(STEP_KINDS).join(", ")})`
      : `unknown step kind "${unknown}" (known: ${Object.keys(STEP_KINDS).join(", ")})`;
  }
  if (kinds.length > 1) {
    return `one step does one thing; found ${kinds.map((kind) => `"${kind}"`).join(" and ")}`;
  }
  const kind = kinds[0] as StepKind;
  const invalid = firstError(STEP_KINDS[kind], step);
  if (invalid !== undefined) return `${kind} ${invalid}`;
  if (kind === "command") {
    const command = (step as Static<typeof CommandStep>).command;
    const body = commandBody(command, () => PLACEHOLDER_SEAL, 0);
    const bodyInvalid = firstError(COMMAND_BODIES[command.type], body);
    if (bodyInvalid !== undefined) return `${command.type} body ${bodyInvalid}`;
  }
  return undefined;
}

/** Checks a parsed JSON value against the scenario format; every message names its place. */
export function parseScenario(value: unknown): ParseResult {
  if (!isObject(value))
    return { ok: false, message: "a scenario is an object with lock and steps" };
  const outline = firstError(ScenarioOutline, value);
  if (outline !== undefined) return { ok: false, message: `scenario ${outline}` };
  const lockProblem = checkLock(value.lock as ScenarioLock);
  if (lockProblem !== undefined) return { ok: false, message: lockProblem };
  const steps = value.steps as unknown[];
  for (const [index, step] of steps.entries()) {
    const problem = checkStep(step);
    if (problem !== undefined) {
      return { ok: false, step: index + 1, message: `step ${index + 1}: ${problem}` };
    }
  }
  return { ok: true, scenario: value as Scenario };
}
