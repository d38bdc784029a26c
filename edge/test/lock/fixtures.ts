/** Shared set-up for the lock-core tests: a Berlin safe with dual control and a fleet key. */

import {
  type CommandBody,
  type CommandType,
  ed25519,
  encodeEnvelope,
  type LockPolicy,
  sealSecret,
  signEnvelope,
  toBase64url,
  x25519,
} from "@lockfleet/protocol";
import type { FactorySetup } from "../../src/index.js";
import {
  generateDeviceIdentity,
  LockHarness,
  ManualClock,
  type VirtualOutputs,
} from "../../src/lock/harness.js";
import { MemoryLockStore } from "../../src/store/memory-store.js";

export const START = Date.parse("2026-11-23T08:00:00.000Z"); // a Monday, 09:00 in Berlin
export const DEVICE = "safe-1";
export const ORG = "bank-a";
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;

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

export interface SetupOptions {
  policy?: Partial<LockPolicy>;
  factory?: Partial<FactorySetup>;
  trusted?: boolean;
  store?: MemoryLockStore;
}

export function setup(options: SetupOptions = {}) {
  const clock = new ManualClock(START);
  const identity = generateDeviceIdentity(DEVICE, ORG);
  let store = options.store ?? new MemoryLockStore(DEVICE);
  const factory: FactorySetup = {
    timeZone: "Europe/Berlin",
    policy: { timeDelayMin: 0, ...options.policy },
    fleetKeys: { "fleet-1": toBase64url(fleetKeys.publicKey) },
    users: Object.values(USERS).map((user) => ({ ...user })),
    ...options.factory,
  };
  let lock = new LockHarness({ store, identity, clock, factory });
  lock.advance(1000);
  let seq = 0;
  const sign = <T extends CommandType>(
    type: T,
    body: CommandBody<T>,
    overrides: {
      seq?: number;
      expiresInMs?: number;
      deviceId?: string;
      issuedAt?: number;
      keyId?: string;
      secretKey?: Uint8Array;
    } = {},
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
          keyId: overrides.keyId ?? "fleet-1",
          body,
        },
        overrides.secretKey ?? fleetKeys.secretKey,
      ),
    );
  };
  const syncTime = () => {
    const result = lock.command(
      sign("time.sync", { time: new Date(lock.core.lockTime()).toISOString() }),
    );
    if (result.status !== "ok") throw new Error(`time sync failed: ${JSON.stringify(result)}`);
  };
  if (options.trusted !== false) syncTime();
  const lockPublicKey = x25519.keyPairFromSecretKey(identity.encryptionSecretKey).publicKey;
  return {
    get lock() {
      return lock;
    },
    get store() {
      return store;
    },
    get outputs(): VirtualOutputs {
      return lock.outputs;
    },
    clock,
    identity,
    factory,
    sign,
    syncTime,
    /** Seals a secret (a code as text, or bytes) to this lock's X25519 key, as the fleet does. */
    seal: (secret: string | Uint8Array) =>
      sealSecret(
        typeof secret === "string" ? new TextEncoder().encode(secret) : secret,
        lockPublicKey,
      ),
    /**
     * Power cycle: the same store reopened (after a crash unless `clean`), a new core booted
     * on it, with fresh virtual outputs. Trusted time is lost with the boot.
     */
    restart(clean = false) {
      if (clean) lock.core.shutdown();
      store = store.reopen(clean);
      lock = new LockHarness({ store, identity, clock });
      return lock;
    },
    kinds: () => store.auditRange(1, 1e9, 1e9).map((r) => r.kind),
    records: () => store.auditRange(1, 1e9, 1e9),
    /** Records appended after `seq`. */
    since: (seq: number) => store.auditRange(seq + 1, 1e9, 1e9),
    head: () => store.auditHead().seq,
    display: () => lock.core.display.join(" | "),
  };
}

export type Setup = ReturnType<typeof setup>;

/** Alarms raised (alarm.raised records) as their kinds. */
export function alarmsOf(records: readonly { kind: string; data: Record<string, unknown> }[]) {
  return records.filter((r) => r.kind === "alarm.raised").map((r) => r.data.alarm);
}
