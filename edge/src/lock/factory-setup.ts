/**
 * A new lock store set up from the factory: policy, time-lock schedule, trusted fleet keys,
 * the seed users (codes hashed at once, never kept) and the factory master code in slot 00,
 * which must be changed on first use (SPEC §3 "Users and codes").
 */
import {
  DEFAULT_LOCK_POLICY,
  LockPolicy,
  type LockUser,
  type TimeLockSchedule,
  validate,
} from "@lockfleet/protocol";
import { LockError } from "../errors.js";
import type { LockStore } from "../store/lock-store.js";
import { hashCode, isDigits } from "./codes.js";
import { NO_PENALTY } from "./penalty.js";
import type { Clock, DeviceIdentity } from "./ports.js";
import type { StoredUser } from "./state.js";
import { TimeLockEvaluator } from "./time-lock.js";

/** A user installed with a clear code at factory set-up or by a scenario; hashed at once. */
export type SeedUser = LockUser & { code: string; duressCode?: string; mustChangeCode?: boolean };

export interface FactorySetup {
  timeZone: string;
  policy?: Partial<LockPolicy>;
  weekly?: TimeLockSchedule["weekly"];
  holidays?: TimeLockSchedule["holidays"];
  /** Trusted fleet keys, base64url, by keyId. */
  fleetKeys?: Record<string, string>;
  users?: SeedUser[];
  /** Factory master code (slot 00); it must be changed on first use. */
  factoryMasterCode?: string;
}

const DEFAULT_FACTORY_MASTER_CODE = "12345678";

/** Writes the factory state into an empty store, with its `policy.changed` record. */
export function initialiseStore(
  store: LockStore,
  clock: Clock,
  identity: DeviceIdentity,
  factory: FactorySetup | undefined,
): void {
  if (factory === undefined) {
    throw new LockError(
      "E_NOT_PROVISIONED",
      "the lock store is empty and no factory set-up was given",
    );
  }
  const policy = { ...DEFAULT_LOCK_POLICY, ...factory.policy };
  const policyCheck = validate(LockPolicy, policy, "policy");
  if (!policyCheck.ok) throw new LockError("E_BAD_CONFIG", policyCheck.error.message);
  const schedule: TimeLockSchedule = {
    timeZone: factory.timeZone,
    weekly: factory.weekly ?? [],
    holidays: factory.holidays ?? [],
  };
  new TimeLockEvaluator(schedule); // throws E_TIME_LOCK_INVALID on a bad zone or period
  const key = identity.codeHashKey;
  const masterCode =
    factory.factoryMasterCode ?? DEFAULT_FACTORY_MASTER_CODE.slice(0, policy.codeLength);
  const users: Record<string, StoredUser> = {
    "0": {
      slot: 0,
      personId: "factory-master",
      role: "master",
      enabled: true,
      codeHash: hashCode(key, 0, masterCode),
      mustChangeCode: true,
    },
  };
  for (const seed of factory.users ?? []) {
    const { code, duressCode, mustChangeCode, ...user } = seed;
    if (!isDigits(code, policy.codeLength)) {
      throw new LockError(
        "E_BAD_CONFIG",
        `user ${user.slot} code must have ${policy.codeLength} digits`,
      );
    }
    users[String(user.slot)] = {
      ...user,
      codeHash: hashCode(key, user.slot, code),
      ...(duressCode === undefined ? {} : { duressCodeHash: hashCode(key, user.slot, duressCode) }),
      mustChangeCode: mustChangeCode ?? false,
    };
  }
  store.commit({
    sections: {
      policy,
      users,
      penalty: NO_PENALTY,
      timeLock: { schedule },
      remote: { blocked: false },
      grants: {},
      trust: { fleetKeys: factory.fleetKeys ?? {}, highestSeq: 0 },
      time: { offsetMs: 0 },
      openings: { counter: 0 },
    },
    events: [
      {
        at: clock.now(),
        kind: "policy.changed",
        actor: null,
        data: { reason: "factory set-up", policy, users: Object.keys(users).length },
      },
    ],
  });
}
