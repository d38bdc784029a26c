/**
 * Write-behind queues of the hub: presence, lock state, command results, trusted keys and
 * security events are written in batches (a reconnect storm brings one of each per lock).
 */
import type { SecurityEvent } from "./device-repository.js";
import type { HubContext } from "./hub-context.js";
import type { PresenceUpdate } from "./live-device.js";

const PRESENCE_FLUSH_MS = 100;

export class WriteBehind {
  readonly #ctx: HubContext;
  #presenceQueue: PresenceUpdate[] = [];
  #resultQueue: Array<{
    deviceId: string;
    commandId: string;
    status: "ok" | "error";
    resultJson: string;
    at: string;
  }> = [];
  #trustQueue = new Map<string, string[]>();
  #securityQueue: SecurityEvent[] = [];
  /** Commands answered but not yet written: a second answer is a replay all the same. */
  readonly #answeredPending = new Set<string>();
  #presenceTimer: NodeJS.Timeout | undefined;

  constructor(ctx: HubContext) {
    this.#ctx = ctx;
  }

  queuePresence(update: PresenceUpdate): void {
    this.#presenceQueue.push(update);
    this.schedule();
  }

  schedule(): void {
    if (this.#presenceTimer !== undefined) return;
    this.#presenceTimer = setTimeout(() => this.flush(), PRESENCE_FLUSH_MS);
  }

  /**
   * Presence, state and command results are written in batches: a reconnect storm brings
   * one of each per lock, and a synchronous commit apiece would stall the hub for seconds.
   * They are what locks report again anyway (retained state, the audit record of a command).
   */
  flush(): void {
    if (this.#presenceTimer !== undefined) clearTimeout(this.#presenceTimer);
    this.#presenceTimer = undefined;
    const updates = this.#presenceQueue;
    const results = this.#resultQueue;
    const trust = this.#trustQueue;
    const security = this.#securityQueue;
    this.#securityQueue = [];
    this.#presenceQueue = [];
    this.#resultQueue = [];
    this.#trustQueue = new Map();
    try {
      this.#ctx.repository.writePresence(updates);
      this.#ctx.repository.recordCommandResults(results);
      this.#ctx.repository.setTrustedKeysOf(trust);
      this.#ctx.repository.insertSecurityEvents(security);
      this.#ctx.gate.flush();
    } catch (error) {
      this.#ctx.log.error({ err: error }, "E_PRESENCE_WRITE: lock presence or results not stored");
      this.#ctx.events.emit("writeFailed", error);
    } finally {
      for (const result of results) this.#answeredPending.delete(result.commandId);
    }
  }

  queueResult(result: {
    deviceId: string;
    commandId: string;
    status: "ok" | "error";
    resultJson: string;
    at: string;
  }): void {
    this.#answeredPending.add(result.commandId);
    this.#resultQueue.push(result);
    this.schedule();
  }

  /** Whether an answer to this command is queued and not yet written. */
  answered(commandId: string): boolean {
    return this.#answeredPending.has(commandId);
  }

  queueTrust(deviceId: string, keyIds: string[]): void {
    this.#trustQueue.set(deviceId, keyIds);
    this.schedule();
  }

  queueSecurity(event: SecurityEvent): void {
    this.#securityQueue.push(event);
    this.schedule();
  }
}
