import type { TSchema } from "@sinclair/typebox";
import { describe, expect, it } from "vitest";
import { toBase64url } from "../../src/crypto/bytes.js";
import { sealSecret, x25519 } from "../../src/crypto/sealed-box.js";
import {
  ALARM_KINDS,
  ALARM_PRIORITY,
  Alarm,
  AUDIT_EVENT_KINDS,
  AuditRecord,
  Checkpoint,
  DeviceEventMessage,
  GENESIS_HASH,
} from "../../src/schemas/audit.js";
import {
  COMMAND_BODIES,
  COMMAND_TYPES,
  type CommandBody,
  type CommandType,
  isCommandType,
} from "../../src/schemas/commands.js";
import { Instant } from "../../src/schemas/common.js";
import {
  EnrolmentClaim,
  EnrolmentRequest,
  EnrolmentResponse,
} from "../../src/schemas/enrolment.js";
import { AccessGrant } from "../../src/schemas/grant.js";
import {
  DEFAULT_LOCK_POLICY,
  LockPolicy,
  LockUser,
  MAX_HOLIDAYS,
  MAX_WEEKLY_LOCK_PERIODS,
  POLICY_LIMITS,
  TimeLockSchedule,
} from "../../src/schemas/lock.js";
import { CommandResult, SelfTestReport } from "../../src/schemas/result.js";
import { Availability, LockState } from "../../src/schemas/state.js";
import { isValid, validate } from "../../src/validate.js";

const lockKey = x25519.generateKeyPair();
const sealed = sealSecret(new Uint8Array(32), lockKey.publicKey);
const publicKey = toBase64url(new Uint8Array(32).fill(1));
const signature = toBase64url(new Uint8Array(64).fill(2));
const hash = "ab".repeat(32);

const user = {
  slot: 12,
  personId: "p-cit-0007",
  role: "courier",
  tenantId: "cit-nord",
  validFrom: "2026-11-23T00:00:00.000Z",
  validUntil: "2026-12-31T23:59:59.999Z",
  timeProfile: [{ startDay: 1, startTime: "06:00", endDay: 5, endTime: "20:00" }],
  enabled: true,
} satisfies CommandBody<"user.add">["user"];

const grant = {
  grantId: "g-19",
  windowId: "w-7",
  locks: ["lock-0042"],
  persons: ["p-cit-0007", "p-cit-0008"],
  notBefore: "2026-11-23T08:00:00.000Z",
  notAfter: "2026-11-23T10:00:00.000Z",
  maxOpenings: 2,
  dualControlRequired: true,
  purpose: "ATM refill",
} satisfies CommandBody<"grant">;

const schedule = {
  timeZone: "Europe/Berlin",
  weekly: [{ startDay: 5, startTime: "18:00", endDay: 1, endTime: "07:00" }],
  holidays: [{ from: "2026-12-24", to: "2026-12-26", yearlyRepeat: true, name: "Christmas" }],
};

/** One good body per command type; the type makes sure no command is forgotten. */
const GOOD: { [T in CommandType]: CommandBody<T> } = {
  "user.add": { user, initialCode: sealed, duressCode: sealed },
  "user.change": {
    slot: 12,
    personId: "p-cit-0007",
    changes: { enabled: false, validUntil: "2026-11-30T00:00:00.000Z" },
  },
  "user.delete": { slot: 12, personId: "p-cit-0007" },
  "policy.change": { policy: DEFAULT_LOCK_POLICY, approvedBy: ["p-sec-1", "p-sec-2"] },
  "timeLock.schedule": { schedule, approvedBy: ["p-sec-1", "p-sec-2"] },
  "timeLock.holidays": { holidays: schedule.holidays, approvedBy: ["p-sec-1"] },
  "timeLock.immediate": { minutes: 14 * 60 },
  "remote.block": { reason: "robbery at branch" },
  "remote.unblock": { approvedBy: ["p-sec-1", "p-sec-2"] },
  "remote.centralRelease": { approvedBy: ["p-sec-1"], reason: "second person for CIT crew" },
  grant,
  "grant.revoke": { grantId: "g-19" },
  "time.sync": { time: "2026-11-23T10:00:00.000Z" },
  "time.set": {
    time: "2026-11-23T10:00:00.000Z",
    confirmJumpSec: -3600,
    approvedBy: ["p-sec-1", "p-sec-2"],
    reason: "real-time clock one hour fast after a repair",
  },
  "audit.ack": { upToSeq: 120, headHash: hash },
  "audit.gapRequest": { fromSeq: 40, toSeq: 55 },
  "selfTest.request": {},
  "otp.secret": { secret: sealed, counter: 0 },
  "fleetKey.install": { keyId: "fleet-2027-01", publicKey, retire: "fleet-2026-11" },
  "update.offer": {
    release: { payload: '{"type":"release"}', signature: toBase64url(new Uint8Array(64)) },
    rolloutId: "ro_0123456789abcdef",
    download: { url: "https://fleet.bank.example/api/v1/updates/download", token: "t".repeat(43) },
  },
};

/** One body per command type that breaks a rule other than "unknown field". */
const BAD: { [T in CommandType]: [string, unknown] } = {
  "user.add": ["a code in clear instead of sealed", { user, initialCode: "12345678" }],
  "user.change": ["a slot of three digits", { slot: 100, personId: "p-1", changes: {} }],
  "user.delete": ["no person id", { slot: 12 }],
  "policy.change": [
    "the same approver twice",
    { policy: DEFAULT_LOCK_POLICY, approvedBy: ["p-1", "p-1"] },
  ],
  "timeLock.schedule": [
    "a 25:00 local time",
    {
      schedule: {
        ...schedule,
        weekly: [{ startDay: 1, startTime: "25:00", endDay: 1, endTime: "26:00" }],
      },
      approvedBy: [],
    },
  ],
  "timeLock.holidays": [
    "a 13th month",
    { holidays: [{ from: "2026-13-01", to: "2026-13-02", yearlyRepeat: false }], approvedBy: [] },
  ],
  "timeLock.immediate": ["more than 144 hours", { minutes: 144 * 60 + 1 }],
  "remote.block": ["no reason", { reason: "" }],
  "remote.unblock": ["approvers not a list", { approvedBy: "p-sec-1" }],
  "remote.centralRelease": ["a reason that is not text", { approvedBy: ["p-1"], reason: 7 }],
  grant: ["zero openings", { ...grant, maxOpenings: 0 }],
  "grant.revoke": ["an id with a space", { grantId: "g 19" }],
  "time.sync": ["a local time", { time: "2026-11-23T11:00:00+01:00" }],
  "time.set": [
    "no confirmed jump",
    { time: "2026-11-23T10:00:00.000Z", approvedBy: ["p-1", "p-2"], reason: "fast clock" },
  ],
  "audit.ack": ["a head hash that is not SHA-256 hex", { upToSeq: 1, headHash: "head" }],
  "audit.gapRequest": ["seq 0", { fromSeq: 0, toSeq: 5 }],
  "selfTest.request": ["a body that is not an object", null],
  "otp.secret": ["a negative counter", { secret: sealed, counter: -1 }],
  "fleetKey.install": [
    "a public key of 31 bytes",
    { keyId: "k-2", publicKey: toBase64url(new Uint8Array(31)) },
  ],
  "update.offer": [
    "a download address that is not HTTP",
    {
      release: { payload: "{}", signature: toBase64url(new Uint8Array(64)) },
      rolloutId: "ro-1",
      download: { url: "file:///etc/shadow", token: "t".repeat(43) },
    },
  ],
};

describe("command bodies", () => {
  it("cover every command type of SPEC §3 remote functions and §4", () => {
    expect(COMMAND_TYPES.sort()).toEqual(Object.keys(GOOD).sort());
    expect(isCommandType("user.add")).toBe(true);
    expect(isCommandType("door.open")).toBe(false);
    expect(isCommandType("constructor")).toBe(false);
  });

  describe.each(COMMAND_TYPES)("%s", (type) => {
    const schema: TSchema = COMMAND_BODIES[type];

    it("accepts a good example", () => {
      const result = validate(schema, GOOD[type]);
      expect(result).toEqual({ ok: true, value: GOOD[type] });
    });

    it("refuses an unknown field (closed object)", () => {
      const result = validate(schema, { ...GOOD[type], openBoltNow: true }, `${type} body`);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.code).toBe("E_SCHEMA");
        expect(result.error.message).toMatch(
          new RegExp(`^${type.replace(".", "\\.")} body is not valid at`),
        );
      }
    });

    it(`refuses ${BAD[type][0]}`, () => {
      expect(isValid(schema, BAD[type][1])).toBe(false);
    });
  });

  it("user.change refuses an unknown field inside changes and a change of slot or person", () => {
    const schema = COMMAND_BODIES["user.change"];
    const good = GOOD["user.change"];
    expect(isValid(schema, { ...good, changes: { ...good.changes, code: "12345678" } })).toBe(
      false,
    );
    expect(isValid(schema, { ...good, changes: { slot: 13 } })).toBe(false);
    expect(isValid(schema, { ...good, changes: { personId: "p-x" } })).toBe(false);
  });

  it("user.add refuses an unknown field inside the user and inside the sealed secret", () => {
    const schema = COMMAND_BODIES["user.add"];
    expect(isValid(schema, { ...GOOD["user.add"], user: { ...user, code: "12345678" } })).toBe(
      false,
    );
    expect(
      isValid(schema, { ...GOOD["user.add"], initialCode: { ...sealed, plain: "1234" } }),
    ).toBe(false);
  });

  it("a user's role is one of master, manager, user, courier, service", () => {
    for (const role of ["master", "manager", "user", "courier", "service"]) {
      expect(isValid(LockUser, { ...user, role })).toBe(true);
    }
    expect(isValid(LockUser, { ...user, role: "admin" })).toBe(false);
  });

  it("timeLock.immediate: 1 minute to 144 hours", () => {
    const schema = COMMAND_BODIES["timeLock.immediate"];
    expect(isValid(schema, { minutes: 1 })).toBe(true);
    expect(isValid(schema, { minutes: 144 * 60 })).toBe(true);
    expect(isValid(schema, { minutes: 0 })).toBe(false);
    expect(isValid(schema, { minutes: 1.5 })).toBe(false);
  });

  it("time locks: at least 28 weekly periods and 64 holidays fit, one more does not", () => {
    const period = schedule.weekly[0];
    const holiday = schedule.holidays[0];
    const full = {
      ...schedule,
      weekly: Array(MAX_WEEKLY_LOCK_PERIODS).fill(period),
      holidays: Array(MAX_HOLIDAYS).fill(holiday),
    };
    expect(MAX_WEEKLY_LOCK_PERIODS).toBeGreaterThanOrEqual(28);
    expect(MAX_HOLIDAYS).toBeGreaterThanOrEqual(64);
    expect(isValid(TimeLockSchedule, full)).toBe(true);
    expect(isValid(TimeLockSchedule, { ...full, weekly: [...full.weekly, period] })).toBe(false);
    expect(isValid(TimeLockSchedule, { ...full, holidays: [...full.holidays, holiday] })).toBe(
      false,
    );
  });
});

describe("lock policy", () => {
  it("the defaults are the SPEC's and validate", () => {
    expect(isValid(LockPolicy, DEFAULT_LOCK_POLICY)).toBe(true);
    expect(DEFAULT_LOCK_POLICY).toMatchObject({
      codeLength: 8,
      keyTimeoutSec: 20,
      dualControl: "dual",
      secondCodeTimeoutSec: 60,
      timeDelayMin: 5,
      confirmationWindowMin: 3,
      wrongCodeLimit: 4,
      penaltyMin: 5,
      penaltyMaxMin: 20,
      autoRelockSec: 10,
      relockAfterCloseSec: 3,
      maxOpenSec: 15 * 60,
      masterMayOpen: false,
    });
  });

  it("the SPEC's ranges: code 6–8 digits, delay 0–99 min, window 1–19 min, open period 1 min–99 min 59 s", () => {
    expect(POLICY_LIMITS.codeLength).toMatchObject({ min: 6, max: 8 });
    expect(POLICY_LIMITS.timeDelayMin).toMatchObject({ min: 0, max: 99 });
    expect(POLICY_LIMITS.confirmationWindowMin).toMatchObject({ min: 1, max: 19 });
    expect(POLICY_LIMITS.maxOpenSec).toMatchObject({ min: 60, max: 99 * 60 + 59 });
  });

  describe.each(Object.keys(POLICY_LIMITS) as Array<keyof typeof POLICY_LIMITS>)("%s", (name) => {
    const { min, max } = POLICY_LIMITS[name];
    it(`accepts ${min} and ${max}, refuses ${min - 1}, ${max + 1} and a fraction`, () => {
      expect(isValid(LockPolicy, { ...DEFAULT_LOCK_POLICY, [name]: min })).toBe(true);
      expect(isValid(LockPolicy, { ...DEFAULT_LOCK_POLICY, [name]: max })).toBe(true);
      expect(isValid(LockPolicy, { ...DEFAULT_LOCK_POLICY, [name]: min - 1 })).toBe(false);
      expect(isValid(LockPolicy, { ...DEFAULT_LOCK_POLICY, [name]: max + 1 })).toBe(false);
      expect(isValid(LockPolicy, { ...DEFAULT_LOCK_POLICY, [name]: min + 0.5 })).toBe(false);
    });
  });

  it("dual control single, dual or triple; duress off, last digit + 1 or a separate code", () => {
    for (const dualControl of ["single", "dual", "triple"]) {
      expect(isValid(LockPolicy, { ...DEFAULT_LOCK_POLICY, dualControl })).toBe(true);
    }
    expect(isValid(LockPolicy, { ...DEFAULT_LOCK_POLICY, dualControl: "quad" })).toBe(false);
    for (const duressMode of ["off", "lastDigitPlusOne", "separateCode"]) {
      expect(isValid(LockPolicy, { ...DEFAULT_LOCK_POLICY, duressMode })).toBe(true);
    }
    expect(isValid(LockPolicy, { ...DEFAULT_LOCK_POLICY, duressMode: "loud" })).toBe(false);
  });

  it("a policy missing a field, or with one too many, is refused (nothing is filled in silently)", () => {
    const { timeDelayMin: _omitted, ...partial } = DEFAULT_LOCK_POLICY;
    expect(isValid(LockPolicy, partial)).toBe(false);
    expect(isValid(LockPolicy, { ...DEFAULT_LOCK_POLICY, openWithoutCode: true })).toBe(false);
  });
});

describe("access grant", () => {
  it("accepts named persons or a tenant role", () => {
    expect(isValid(AccessGrant, grant)).toBe(true);
    const { persons: _persons, ...byRole } = grant;
    expect(
      isValid(AccessGrant, { ...byRole, tenantRole: { tenantId: "cit-nord", role: "courier" } }),
    ).toBe(true);
  });

  it.each([
    ["no lock", { locks: [] }],
    ["the same lock twice", { locks: ["lock-1", "lock-1"] }],
    ["an empty person list", { persons: [] }],
    ["more than 100 openings", { maxOpenings: 101 }],
    ["a date without time", { notAfter: "2026-11-23" }],
    ["dual control as text", { dualControlRequired: "yes" }],
    ["an unknown field", { bypassTimeLock: true }],
    [
      "an unknown field in the tenant role",
      { tenantRole: { tenantId: "cit-nord", role: "courier", any: 1 } },
    ],
  ])("refuses %s", (_label, change) => {
    expect(isValid(AccessGrant, { ...grant, ...change })).toBe(false);
  });
});

describe("enrolment", () => {
  const claim = {
    token: "enrol-3f9a8c7d6e5b4a39",
    signingPublicKey: publicKey,
    encryptionPublicKey: publicKey,
    hardwareProfile: "pi-solenoid-v1",
    firmware: "0.1.0",
    requestedAt: "2026-11-23T09:00:00.000Z",
  };
  const response = {
    deviceId: "lock-0042",
    org: "bank-a",
    containerId: "atm-17",
    timeZone: "Europe/Berlin",
    broker: {
      url: "mqtts://fleet.bank-a.example:8883",
      username: "lock-0042",
      password: "x".repeat(32),
    },
    fleetKeys: [{ keyId: "fleet-2026-11", publicKey }],
    policy: DEFAULT_LOCK_POLICY,
    otpSecret: sealed,
  };

  it("accepts a request and a response", () => {
    expect(isValid(EnrolmentClaim, claim)).toBe(true);
    expect(isValid(EnrolmentRequest, { claim, proof: signature })).toBe(true);
    expect(isValid(EnrolmentResponse, response)).toBe(true);
  });

  it.each([
    ["a short token", { token: "abc" }],
    ["a request time that is not a UTC instant", { requestedAt: "yesterday" }],
    ["an unknown field", { masterCode: "12345678" }],
  ])("refuses a claim with %s", (_label, change) => {
    expect(isValid(EnrolmentClaim, { ...claim, ...change })).toBe(false);
  });

  it.each([
    ["no fleet key", { fleetKeys: [] }],
    ["a broker URL over HTTP", { broker: { ...response.broker, url: "http://x" } }],
    ["a short broker password", { broker: { ...response.broker, password: "short" } }],
    ["a one-time-code secret in clear", { otpSecret: "c2VjcmV0" }],
    ["a device id with a topic separator", { deviceId: "lock/0042" }],
  ])("refuses a response with %s", (_label, change) => {
    expect(isValid(EnrolmentResponse, { ...response, ...change })).toBe(false);
  });
});

describe("state and availability", () => {
  const state = {
    deviceId: "lock-0042",
    org: "bank-a",
    at: "2026-11-23T10:00:00.000Z",
    bolt: "thrown",
    door: "closed",
    cycle: {
      phase: "delay",
      delayEndsAt: "2026-11-23T10:05:00.000Z",
      codesRequired: 2,
      codesGiven: 2,
    },
    timeLocked: false,
    blocked: false,
    activeAlarms: [],
    trustedTime: true,
    auditHead: { seq: 0, hash: GENESIS_HASH },
  };

  it("accepts a lock state; bolt, door and cycle are separate", () => {
    expect(isValid(LockState, state)).toBe(true);
    expect(isValid(LockState, { ...state, bolt: "open" })).toBe(false);
    expect(isValid(LockState, { ...state, door: "jammed" })).toBe(false);
    expect(isValid(LockState, { ...state, cycle: { ...state.cycle, phase: "opening" } })).toBe(
      false,
    );
    expect(isValid(LockState, { ...state, cycle: { ...state.cycle, codesRequired: 4 } })).toBe(
      false,
    );
    expect(isValid(LockState, { ...state, duress: true })).toBe(false);
  });

  it("availability is online or offline", () => {
    expect(isValid(Availability, { status: "online", at: "2026-11-23T10:00:00.000Z" })).toBe(true);
    expect(isValid(Availability, { status: "offline" })).toBe(true);
    expect(isValid(Availability, { status: "away" })).toBe(false);
  });
});

describe("audit records, alarms, checkpoints, results", () => {
  const record = {
    deviceId: "lock-0042",
    seq: 1,
    at: "2026-11-23T10:00:00.000Z",
    kind: "code.accepted",
    actor: "p-bank-0001",
    data: { slot: 3 },
    prevHash: GENESIS_HASH,
    hash,
  };
  const alarm = {
    deviceId: "lock-0042",
    alarm: "forcedUser",
    priority: "critical",
    at: "2026-11-23T10:00:00.000Z",
    auditSeq: 7,
    actor: "p-bank-0001",
    data: {},
  };
  const checkpoint = {
    deviceId: "lock-0042",
    seq: 1,
    headHash: hash,
    at: "2026-11-23T10:00:00.000Z",
    keyId: "dev-lock-0042",
    signature,
  };

  it("an audit record carries the acting person, or null when the lock acted", () => {
    expect(isValid(AuditRecord, record)).toBe(true);
    expect(isValid(AuditRecord, { ...record, actor: null, kind: "bolt.thrown" })).toBe(true);
    expect(isValid(AuditRecord, { ...record, actor: undefined })).toBe(false);
    expect(isValid(AuditRecord, { ...record, kind: "code.guessed" })).toBe(false);
    expect(isValid(AuditRecord, { ...record, hash: hash.toUpperCase() })).toBe(false);
    expect(isValid(AuditRecord, { ...record, seq: 0 })).toBe(false);
    expect(isValid(AuditRecord, { ...record, note: "x" })).toBe(false);
    expect(new Set(AUDIT_EVENT_KINDS).size).toBe(AUDIT_EVENT_KINDS.length);
  });

  it("mains failing, mains back and a minor part fault have kinds of their own, apart from an unclean restart and a lock fault", () => {
    for (const kind of [
      "power.failed",
      "power.restored",
      "hardware.partFault",
      "hardware.partRestored",
    ]) {
      expect(isValid(AuditRecord, { ...record, actor: null, kind })).toBe(true);
    }
    const kinds: readonly string[] = AUDIT_EVENT_KINDS;
    expect(kinds).toContain("power.lost");
    expect(kinds).toContain("lock.fault");
    expect(isValid(AuditRecord, { ...record, actor: null, kind: "power.fail" })).toBe(false);
    expect(isValid(AuditRecord, { ...record, actor: null, kind: "hardware.fault" })).toBe(false);
  });

  it("alarms use Matter's names and every kind has a priority; duress and forced door are critical", () => {
    expect(isValid(Alarm, alarm)).toBe(true);
    expect(isValid(Alarm, { ...alarm, alarm: "burglary" })).toBe(false);
    expect(Object.keys(ALARM_PRIORITY).sort()).toEqual([...ALARM_KINDS].sort());
    expect(ALARM_PRIORITY.forcedUser).toBe("critical");
    expect(ALARM_PRIORITY.doorForcedOpen).toBe("critical");
  });

  it("a checkpoint may cover an empty chain (seq 0) and needs a full signature", () => {
    expect(isValid(Checkpoint, checkpoint)).toBe(true);
    expect(isValid(Checkpoint, { ...checkpoint, seq: 0, headHash: GENESIS_HASH })).toBe(true);
    expect(isValid(Checkpoint, { ...checkpoint, signature: signature.slice(1) })).toBe(false);
  });

  it("event messages are audit batches, alarms or checkpoints", () => {
    expect(isValid(DeviceEventMessage, { type: "audit", records: [record] })).toBe(true);
    expect(isValid(DeviceEventMessage, { type: "audit", records: [] })).toBe(false);
    expect(isValid(DeviceEventMessage, { type: "audit", records: Array(501).fill(record) })).toBe(
      false,
    );
    expect(isValid(DeviceEventMessage, { type: "alarm", alarm })).toBe(true);
    expect(isValid(DeviceEventMessage, { type: "checkpoint", checkpoint })).toBe(true);
    expect(isValid(DeviceEventMessage, { type: "checkpoint", alarm })).toBe(false);
  });

  it("a command result is {id, status, data?, error?: {code, message}}", () => {
    const base = { id: "cmd-1", deviceId: "lock-0042", at: "2026-11-23T10:00:00.000Z" };
    expect(isValid(CommandResult, { ...base, status: "ok", data: { started: true } })).toBe(true);
    expect(
      isValid(CommandResult, {
        ...base,
        status: "error",
        error: { code: "E_EXPIRED", message: "expired" },
      }),
    ).toBe(true);
    expect(
      isValid(CommandResult, {
        ...base,
        status: "error",
        error: { code: "expired", message: "x" },
      }),
    ).toBe(false);
    expect(isValid(CommandResult, { ...base, status: "maybe" })).toBe(false);
  });

  it("a self-test report lists parts as ok, fault or not fitted", () => {
    const report = {
      deviceId: "lock-0042",
      at: "2026-11-23T10:00:00.000Z",
      hardwareProfile: "pi-solenoid-v1",
      parts: [
        { part: "bolt", result: "ok" },
        { part: "display", result: "fault", detail: "no I2C answer at 0x27" },
        { part: "powerFail", result: "notFitted" },
      ],
    };
    expect(isValid(SelfTestReport, report)).toBe(true);
    expect(isValid(SelfTestReport, { ...report, parts: [{ part: "bolt", result: "meh" }] })).toBe(
      false,
    );
  });
});

describe("instants", () => {
  it.each(["2026-11-23T10:00:00Z", "2026-11-23T10:00:00.5Z", "2026-11-23T10:00:00.123Z"])(
    "accepts %s",
    (text) => {
      expect(isValid(Instant, text)).toBe(true);
    },
  );
  it.each([
    "2026-11-23T10:00:00",
    "2026-11-23T10:00:00+01:00",
    "2026-11-23 10:00:00Z",
    "2026-11-23T10:00:00.1234Z",
  ])("refuses %s", (text) => {
    expect(isValid(Instant, text)).toBe(false);
  });
});
