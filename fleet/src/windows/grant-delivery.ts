/**
 * Grant delivery: an approved window becomes a signed grant pushed to each reachable lock of
 * its container (and to a lock when it comes back online), each answer recorded; a revoked
 * window's grant is taken back from the locks that got it.
 */
import { type AccessGrant, type CommandResult, parseInstant } from "@lockfleet/protocol";
import { FleetError } from "../errors.js";
import type { WindowContext } from "./window-context.js";
import { SYSTEM } from "./window-context.js";
import type { AccessWindow } from "./window-repository.js";

export class GrantDelivery {
  readonly #ctx: WindowContext;

  constructor(ctx: WindowContext) {
    this.#ctx = ctx;
  }

  // ------------------------------------------------------------------ delivery

  #grant(window: AccessWindow, deviceId: string): AccessGrant {
    if (window.grantId === null) {
      throw new FleetError("E_INTERNAL", `approved window ${window.id} has no grant id`, 500);
    }
    return {
      grantId: window.grantId,
      windowId: window.id,
      locks: [deviceId],
      persons: window.crew,
      notBefore: window.notBefore,
      notAfter: window.notAfter,
      maxOpenings: window.maxOpenings,
      // The lock's own dual control still applies inside a window; the grant adds, never replaces.
      dualControlRequired: true,
      purpose: window.purpose.slice(0, 200),
    };
  }

  /** Pushes the signed grant to every reachable lock of the container; records each answer. */
  async deliver(window: AccessWindow): Promise<void> {
    const locks = this.#ctx.o.locks.locksOf(this.#ctx.container(window));
    await Promise.all(
      locks.map(async (lock) => {
        if (!lock.online) {
          this.#ctx.o.windows.setLock(window.id, lock.deviceId, "notSent", null, this.#ctx.iso());
          return;
        }
        this.#ctx.o.windows.setLock(window.id, lock.deviceId, "sent", null, this.#ctx.iso());
        let result: CommandResult | undefined;
        try {
          result = await this.#ctx.o.hub.sendCommand(
            lock.deviceId,
            "grant",
            this.#grant(window, lock.deviceId),
            {
              waitMs: this.#ctx.waitMs,
            },
          );
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          this.#ctx.o.windows.setLock(
            window.id,
            lock.deviceId,
            "error",
            { error: message },
            this.#ctx.iso(),
          );
          this.#ctx.log(SYSTEM, "window.grant.failed", window, {
            deviceId: lock.deviceId,
            error: message,
          });
          return;
        }
        this.#recordGrantResult(window, lock.deviceId, result);
      }),
    );
  }

  /**
   * Whether a lock coming online is owed its grant: never sent, or sent without an answer long
   * enough ago that it was not merely in flight — a fleet killed between marking it sent and
   * the lock receiving it would otherwise never send it again. The lock takes a grant it
   * already holds again without change (its openings are kept), so sending twice is harmless.
   */
  #owedTo(lock: { grantStatus: string; result: unknown; updatedAt: string }, now: number): boolean {
    if (lock.grantStatus === "notSent") return true;
    return (
      lock.grantStatus === "sent" &&
      lock.result === null &&
      parseInstant(lock.updatedAt) <= now - this.#ctx.waitMs
    );
  }

  /**
   * A lock that was offline when its window was approved gets the grant when it comes back, as
   * long as the window is still open.
   */
  async onLockOnline(deviceId: string): Promise<void> {
    const container = this.#ctx.o.locks.containerOf(deviceId);
    if (container === undefined) return;
    const now = this.#ctx.now();
    for (const window of this.#ctx.o.windows.openWindowsOfContainer(container.containerId)) {
      if (window.grantId === null || parseInstant(window.notAfter) <= now) continue;
      const lock = window.locks.find((entry) => entry.deviceId === deviceId);
      if (lock !== undefined && !this.#owedTo(lock, now)) continue;
      this.#ctx.o.windows.setLock(window.id, deviceId, "sent", null, this.#ctx.iso());
      try {
        const result = await this.#ctx.o.hub.sendCommand(
          deviceId,
          "grant",
          this.#grant(window, deviceId),
          {
            waitMs: this.#ctx.waitMs,
          },
        );
        this.#recordGrantResult(window, deviceId, result);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.#ctx.o.windows.setLock(
          window.id,
          deviceId,
          "error",
          { error: message },
          this.#ctx.iso(),
        );
      }
    }
  }

  #recordGrantResult(
    window: AccessWindow,
    deviceId: string,
    result: CommandResult | undefined,
  ): void {
    if (result === undefined) {
      this.#ctx.log(SYSTEM, "window.grant.sent", window, { deviceId, confirmed: false });
      return;
    }
    const status = result.status === "ok" ? "installed" : "error";
    this.#ctx.o.windows.setLock(
      window.id,
      deviceId,
      status,
      result as unknown as Record<string, unknown>,
      this.#ctx.iso(),
    );
    this.#ctx.log(SYSTEM, "window.grant.result", window, {
      deviceId,
      status: result.status,
      ...(result.error === undefined ? {} : { error: result.error.code }),
    });
    if (result.status === "ok") this.#ctx.activate(window.id);
  }

  async revokeAtLocks(window: AccessWindow, grantId: string): Promise<void> {
    const delivered = window.locks.filter((lock) =>
      ["sent", "installed", "error"].includes(lock.grantStatus),
    );
    await Promise.all(
      delivered.map(async (lock) => {
        this.#ctx.o.windows.setLock(window.id, lock.deviceId, "revoking", null, this.#ctx.iso());
        let result: CommandResult | undefined;
        try {
          result = await this.#ctx.o.hub.sendCommand(
            lock.deviceId,
            "grant.revoke",
            { grantId },
            { waitMs: this.#ctx.o.locks.online(lock.deviceId) ? this.#ctx.waitMs : 0 },
          );
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          this.#ctx.o.windows.setLock(
            window.id,
            lock.deviceId,
            "revokeFailed",
            { error: message },
            this.#ctx.iso(),
          );
          return;
        }
        if (result === undefined) return;
        const status = result.status === "ok" ? "revoked" : "revokeFailed";
        this.#ctx.o.windows.setLock(
          window.id,
          lock.deviceId,
          status,
          result as unknown as Record<string, unknown>,
          this.#ctx.iso(),
        );
        this.#ctx.log(SYSTEM, "window.revoke.result", window, {
          deviceId: lock.deviceId,
          status: result.status,
        });
      }),
    );
  }
}
