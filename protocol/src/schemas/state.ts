/**
 * Retained lock state and availability (SPEC §4). Lock state (bolt) is kept apart from door
 * state and from the opening cycle, as Matter's door-lock cluster does.
 */
import { type Static, Type } from "@sinclair/typebox";
import { DeviceId, Hash, Instant, OrgId, Strict } from "./common.js";

export const BOLT_STATES = ["thrown", "retracted", "jammed", "unknown"] as const;
export const DOOR_STATES = ["closed", "open", "ajar", "forced", "unknown"] as const;
/**
 * idle: nothing under way; collecting: codes of a cycle being gathered; delay: time delay
 * running; window: confirmation window open; released: bolt retracted, door not yet opened;
 * open: door opened in an authorised cycle.
 */
export const CYCLE_PHASES = ["idle", "collecting", "delay", "window", "released", "open"] as const;

export const BoltState = Type.Union(BOLT_STATES.map((state) => Type.Literal(state)));
export const DoorState = Type.Union(DOOR_STATES.map((state) => Type.Literal(state)));
export const CyclePhase = Type.Union(CYCLE_PHASES.map((phase) => Type.Literal(phase)));
export type BoltState = Static<typeof BoltState>;
export type DoorState = Static<typeof DoorState>;
export type CyclePhase = Static<typeof CyclePhase>;

export const LockState = Strict({
  deviceId: DeviceId,
  org: OrgId,
  at: Instant,
  bolt: BoltState,
  door: DoorState,
  cycle: Strict({
    phase: CyclePhase,
    delayEndsAt: Type.Optional(Instant),
    windowEndsAt: Type.Optional(Instant),
    relockAt: Type.Optional(Instant),
    codesRequired: Type.Integer({ minimum: 0, maximum: 3 }),
    codesGiven: Type.Integer({ minimum: 0, maximum: 3 }),
  }),
  timeLocked: Type.Boolean(),
  timeLockedUntil: Type.Optional(Instant),
  blocked: Type.Boolean(),
  penaltyUntil: Type.Optional(Instant),
  /** Alarms currently standing on the lock (never the silent duress alarm). */
  activeAlarms: Type.Array(Type.String({ maxLength: 32 }), { maxItems: 16 }),
  trustedTime: Type.Boolean(),
  auditHead: Strict({ seq: Type.Integer({ minimum: 0 }), hash: Hash }),
  firmware: Type.Optional(Type.String({ maxLength: 64 })),
  hardwareProfile: Type.Optional(Type.String({ maxLength: 64 })),
});
export type LockState = Static<typeof LockState>;

/** Retained availability; the broker publishes the offline form as the device's last will. */
export const Availability = Strict({
  status: Type.Union([Type.Literal("online"), Type.Literal("offline")]),
  at: Type.Optional(Instant),
});
export type Availability = Static<typeof Availability>;
