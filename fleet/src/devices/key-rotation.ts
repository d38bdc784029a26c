/**
 * Fleet key rotation: a new signing key is installed on every lock with a key it already
 * trusts before it signs anything, locks catch up on reconnect, and a key no active lock
 * trusts any more is retired.
 */
import type { CommandBody, CommandResult } from "@lockfleet/protocol";
import type { CommandDispatch } from "./command-dispatch.js";
import type { HubContext } from "./hub-context.js";
import type { LiveDevice } from "./live-device.js";

/** What a fleet key rotation did: in all, and per organisation owning locks. */
export interface FleetKeyRotation {
  keyId: string;
  confirmed: number;
  pending: number;
  byOrg: ReadonlyMap<string, { confirmed: number; pending: number }>;
}

export class KeyRotation {
  readonly #ctx: HubContext;
  readonly #dispatch: CommandDispatch;

  constructor(ctx: HubContext, dispatch: CommandDispatch) {
    this.#ctx = ctx;
    this.#dispatch = dispatch;
  }

  onKeyInstalled(device: LiveDevice, body: CommandBody<"fleetKey.install">): void {
    const trusted = new Set(device.trustedKeyIds);
    trusted.add(body.keyId);
    if (body.retire !== undefined) trusted.delete(body.retire);
    this.#ctx.countTrust(device.trustedKeyIds, -1);
    device.trustedKeyIds = [...trusted];
    this.#ctx.countTrust(device.trustedKeyIds, 1);
    this.#ctx.writes.queueTrust(device.deviceId, device.trustedKeyIds);
    this.#retireUnusedKeys();
  }

  /**
   * Brings one lock to the active key: installs it (signed with a key the lock trusts) when
   * missing, else retires the older keys the lock still trusts (signed with the active key).
   * Returns the command sent, if any.
   */
  reconcileTrust(device: LiveDevice, waitMs = 0): Promise<CommandResult | undefined> | undefined {
    const active = this.#ctx.keys.active();
    if (active === undefined || device.status !== "active") return undefined;
    if (!device.trustedKeyIds.includes(active.keyId)) {
      return this.#dispatch.sendCommand(
        device.deviceId,
        "fleetKey.install",
        { keyId: active.keyId, publicKey: active.publicKey },
        { waitMs },
      );
    }
    const stale = device.trustedKeyIds.find(
      (keyId) => keyId !== active.keyId && this.#ctx.keys.get(keyId)?.activatedAt !== undefined,
    );
    if (stale === undefined) return undefined;
    return this.#dispatch.sendCommand(
      device.deviceId,
      "fleetKey.install",
      { keyId: active.keyId, publicKey: active.publicKey, retire: stale },
      { waitMs },
    );
  }

  /** An activated, superseded key that no active lock trusts any more is retired for good. */
  #retireUnusedKeys(): void {
    const active = this.#ctx.keys.active();
    if (active === undefined) return;
    for (const key of this.#ctx.keys.all()) {
      if (
        key.keyId === active.keyId ||
        key.retiredAt !== undefined ||
        key.activatedAt === undefined
      )
        continue;
      if ((this.#ctx.trustCounts.get(key.keyId) ?? 0) === 0)
        this.#ctx.keys.retire(key.keyId, this.#ctx.clock());
    }
  }

  /**
   * Rotates the fleet signing key without bricking a lock: the new key is installed on every
   * lock with a command signed by a key it already trusts, and only then used for signing. A
   * lock that does not confirm (offline) keeps receiving envelopes signed with a key it trusts
   * and gets the new key when it reconnects; the old key is retired once no lock needs it.
   * The fleet key is the service's, shared by every organisation on it; the answer
   * counts confirmed and pending locks per organisation so that each is told only of its own.
   */
  async rotateFleetKey(): Promise<FleetKeyRotation> {
    const created = this.#ctx.keys.create(this.#ctx.clock(), false);
    const devices = [...this.#ctx.devices.values()].filter((device) => device.status === "active");
    const waitMs = this.#ctx.settings.keyInstallWaitMs;
    await forEachLimited(devices, 64, async (device) => {
      // Offline locks get the key when they reconnect (see #setAvailability).
      if (device.availability !== "online") return;
      const signer = this.#ctx.keys.signerFor(device.trustedKeyIds);
      if (signer === undefined) return;
      await this.#dispatch
        .sendCommand(
          device.deviceId,
          "fleetKey.install",
          { keyId: created.keyId, publicKey: created.publicKey },
          { waitMs },
        )
        .catch((error) =>
          this.#ctx.log.warn({ err: error, deviceId: device.deviceId }, "key install not sent"),
        );
    });
    this.#ctx.keys.activate(created.keyId, this.#ctx.clock());
    // Locks that confirmed now drop the old key (signed with the new one); the others get
    // the new key on their next connection.
    await forEachLimited(devices, 64, async (device) => {
      if (!device.trustedKeyIds.includes(created.keyId)) return;
      await this.reconcileTrust(device, waitMs)?.catch((error) =>
        this.#ctx.log.warn({ err: error, deviceId: device.deviceId }, "key retirement not sent"),
      );
    });
    this.#retireUnusedKeys();
    const byOrg = new Map<string, { confirmed: number; pending: number }>();
    let confirmed = 0;
    for (const device of devices) {
      const counts = byOrg.get(device.orgId) ?? { confirmed: 0, pending: 0 };
      if (device.trustedKeyIds.length === 1 && device.trustedKeyIds[0] === created.keyId) {
        counts.confirmed += 1;
        confirmed += 1;
      } else {
        counts.pending += 1;
      }
      byOrg.set(device.orgId, counts);
    }
    this.#ctx.log.info(
      { keyId: created.keyId, confirmed, locks: devices.length },
      "fleet key rotated",
    );
    return { keyId: created.keyId, confirmed, pending: devices.length - confirmed, byOrg };
  }
}

async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(workers);
}
