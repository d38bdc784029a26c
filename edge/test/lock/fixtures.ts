/** Shared set-up for the lock-core tests: a Berlin safe with dual control and a fleet key. */

import {
  type CommandBody,
  type CommandType,
  ed25519,
  encodeEnvelope,
  type LockPolicy,
  signEnvelope,
  toBase64url,
} from "@lockfleet/protocol";
import type { FactorySetup } from "../../src/index.js";
import { generateDeviceIdentity, LockHarness, ManualClock } from "../../src/lock/harness.js";
import { MemoryLockStore } from "../../src/store/memory-store.js";

export const START = Date.parse("2026-11-23T08:00:00.000Z"); // a Monday, 09:00 in Berlin
export const DEVICE = "safe-1";
export const ORG = "bank-a";

export const USERS = {
  anna: { slot: 1, personId: "p-anna", role: "user", enabled: true, code: "11223344" },
  ben: { slot: 2, personId: "p-ben", role: "manager", enabled: true, code: "55667788" },
  carl: { slot: 3, personId: "p-carl", role: "user", enabled: true, code: "24681357" },
  cora: {
    slot: 10,
    personId: "p-cora",
    role: "courier",
    tenantId: "cit-x",
    enabled: true,
    code: "97531864",
  },
} as const;

export function entry(user: { slot: number; code: string }, code = user.code): string {
  return `${String(user.slot).padStart(2, "0")}${code}#`;
}

export const fleetKeys = ed25519.generateKeyPair();

export function setup(
  options: {
    policy?: Partial<LockPolicy>;
    factory?: Partial<FactorySetup>;
    trusted?: boolean;
  } = {},
) {
  const clock = new ManualClock(START);
  const identity = generateDeviceIdentity(DEVICE, ORG);
  const store = new MemoryLockStore(DEVICE);
  const factory: FactorySetup = {
    timeZone: "Europe/Berlin",
    policy: { timeDelayMin: 0, ...options.policy },
    fleetKeys: { "fleet-1": toBase64url(fleetKeys.publicKey) },
    users: Object.values(USERS).map((user) => ({ ...user })),
    ...options.factory,
  };
  const lock = new LockHarness({ store, identity, clock, factory });
  lock.advance(1000);
  let seq = 0;
  const sign = <T extends CommandType>(
    type: T,
    body: CommandBody<T>,
    overrides: { seq?: number; expiresInMs?: number; deviceId?: string; issuedAt?: number } = {},
  ) => {
    seq = overrides.seq ?? seq + 1;
    const issuedAt = overrides.issuedAt ?? lock.core.lockTime();
    return encodeEnvelope(
      signEnvelope(
        {
          type,
          deviceId: overrides.deviceId ?? DEVICE,
          id: `c-${seq}`,
          seq,
          issuedAt,
          expiresAt: issuedAt + (overrides.expiresInMs ?? 10 * 60_000),
          keyId: "fleet-1",
          body,
        },
        fleetKeys.secretKey,
      ),
    );
  };
  if (options.trusted !== false) {
    const result = lock.command(
      sign("time.sync", { time: new Date(lock.core.lockTime()).toISOString() }),
    );
    if (result.status !== "ok") throw new Error(`time sync failed: ${JSON.stringify(result)}`);
  }
  return {
    lock,
    clock,
    identity,
    store,
    sign,
    kinds: () => store.auditRange(1, 1e9, 1e9).map((r) => r.kind),
    records: () => store.auditRange(1, 1e9, 1e9),
  };
}
