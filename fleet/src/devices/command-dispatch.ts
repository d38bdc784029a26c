/**
 * Command dispatch: signs each command with a key the lock trusts and the next per-lock seq,
 * stores it (group commit) before it leaves, publishes it, and hands the lock's result to
 * whoever waits for it.
 */
import {
  COMMAND_BODIES,
  type CommandBody,
  type CommandResult,
  type CommandType,
  encodeEnvelope,
  formatInstant,
  isCommandType,
  signEnvelope,
  topics,
  validate,
} from "@lockfleet/protocol";
import type { MqttClient } from "mqtt";
import { FleetError } from "../errors.js";
import { newId } from "../ids.js";
import { inLockClock, LOCK_CLOCK_COMMANDS } from "./clock-sync.js";
import type { CommandRow } from "./device-repository.js";
import type { HubContext } from "./hub-context.js";

/** Acks, gap requests and time sync go on `sync`; every other command on `cmd`. */
const SYNC_COMMANDS: ReadonlySet<CommandType> = new Set([
  "audit.ack",
  "audit.gapRequest",
  "time.sync",
]);

/**
 * Whose validity is stated in the lock's measured clock (`inLockClock`) rather than fleet time.
 * The lock checks expiry against its own clock, so a command stated in fleet time is refused
 * as expired by a lock running more than its TTL ahead. For the clock-setting commands that is
 * how they reach a lock whose clock is wrong at all. For audit acknowledgements and gap
 * requests it keeps the log flowing: stated in fleet time, each ack refused by a lock running
 * ahead became a `command.rejected` record, which the fleet acknowledged again, refused
 * again — the log grew by several records a second and nothing was acknowledged or pruned.
 * These two only tell the lock what the fleet has stored (or lacks); they open nothing and
 * grant nothing, so stating them in the clock the lock will check them against gives nobody
 * more power. Ordinary commands (open, block, policy, rights) keep fleet time: a lock whose
 * clock jumped ahead refuses them until two officers confirm a clock correction.
 */
const LOCK_CLOCK_VALIDITY: ReadonlySet<CommandType> = new Set([
  ...LOCK_CLOCK_COMMANDS,
  "audit.ack",
  "audit.gapRequest",
]);

/** Commands issued within this window share one commit (a storm issues thousands). */
const OUTBOX_COALESCE_MS = 20;

interface OutgoingCommand {
  row: Omit<CommandRow, "status" | "result" | "answered_at">;
  topic: string;
  payload: string;
  done: { resolve: () => void; reject: (error: unknown) => void };
}

interface ResultWaiter {
  resolve: (result: CommandResult | undefined) => void;
  timer: NodeJS.Timeout;
}

export class CommandDispatch {
  readonly #ctx: HubContext;
  readonly #waiters = new Map<string, ResultWaiter>();
  #outbox: OutgoingCommand[] = [];

  constructor(ctx: HubContext) {
    this.#ctx = ctx;
  }

  /**
   * Signs and sends a command: the next per-lock seq is persisted before the envelope leaves,
   * the envelope is stored in device_commands, and with `waitMs` the lock's result is awaited
   * (undefined when it does not answer in time).
   */
  async sendCommand<T extends CommandType>(
    deviceId: string,
    type: T,
    body: CommandBody<T>,
    options: { ttlMs?: number; waitMs?: number } = {},
  ): Promise<CommandResult | undefined> {
    return (await this.issueCommand(deviceId, type, body, options)).result;
  }

  /** As sendCommand, also naming the command (for callers that follow it up later). */
  async issueCommand<T extends CommandType>(
    deviceId: string,
    type: T,
    body: CommandBody<T>,
    options: { ttlMs?: number; waitMs?: number } = {},
  ): Promise<{ commandId: string; result: CommandResult | undefined }> {
    const now = this.#ctx.clock();
    const ttlMs = options.ttlMs ?? this.#ctx.settings.commandTtlMs;
    const validity = LOCK_CLOCK_VALIDITY.has(type)
      ? inLockClock(this.#ctx.device(deviceId), now, ttlMs)
      : { issuedAt: now, expiresAt: now + ttlMs };
    return this.send(deviceId, type, body, validity, options.waitMs);
  }

  async send<T extends CommandType>(
    deviceId: string,
    type: T,
    body: CommandBody<T>,
    validity: { issuedAt: number; expiresAt: number },
    waitMs = 0,
  ): Promise<{ commandId: string; result: CommandResult | undefined }> {
    const device = this.#ctx.device(deviceId);
    if (device.status !== "active") {
      throw new FleetError("E_DEVICE_RETIRED", `lock ${deviceId} is retired`, 409);
    }
    if (!isCommandType(type)) throw new FleetError("E_UNKNOWN_TYPE", `no command type "${type}"`);
    const checked = validate(COMMAND_BODIES[type], body, `${type} body`);
    if (!checked.ok) throw new FleetError("E_SCHEMA", checked.error.message);
    const signer = this.#ctx.keys.signerFor(device.trustedKeyIds);
    if (signer === undefined) {
      throw new FleetError(
        "E_FLEET_KEY",
        `lock ${deviceId} trusts none of the fleet keys still held (${device.trustedKeyIds.join(", ")})`,
        409,
      );
    }
    const client = this.#requireClient();
    const id = newId("cmd");
    device.commandSeq += 1;
    const seq = device.commandSeq;
    const envelope = signEnvelope(
      {
        type,
        deviceId,
        id,
        seq,
        issuedAt: validity.issuedAt,
        expiresAt: validity.expiresAt,
        keyId: signer.keyId,
        body,
      },
      signer.secretKey,
    );
    const topic = SYNC_COMMANDS.has(type)
      ? topics.sync(device.orgId, deviceId)
      : topics.cmd(device.orgId, deviceId);
    const answer = waitMs > 0 ? this.#waitForResult(id, waitMs) : undefined;
    try {
      await this.#commitAndPublish(client, {
        row: {
          id,
          device_id: deviceId,
          seq,
          type,
          body: JSON.stringify(body),
          key_id: signer.keyId,
          issued_at: formatInstant(validity.issuedAt),
          expires_at: formatInstant(validity.expiresAt),
        },
        topic,
        payload: encodeEnvelope(envelope),
      });
    } catch (error) {
      this.#dropWaiter(id);
      throw error;
    }
    return { commandId: id, result: answer === undefined ? undefined : await answer };
  }

  /**
   * Group commit: commands issued within a few milliseconds are stored in one transaction, then
   * published in issue order. Nothing leaves before its seq is durable.
   */
  #commitAndPublish(client: MqttClient, outgoing: Omit<OutgoingCommand, "done">): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#outbox.push({ ...outgoing, done: { resolve, reject } });
      if (this.#outbox.length === 1)
        setTimeout(() => this.#flushOutbox(client), OUTBOX_COALESCE_MS);
    });
  }

  #flushOutbox(client: MqttClient): void {
    const batch = this.#outbox;
    this.#outbox = [];
    try {
      this.#ctx.repository.insertCommands(batch.map((entry) => entry.row));
    } catch (error) {
      for (const entry of batch) entry.done.reject(error);
      return;
    }
    for (const entry of batch) {
      client.publishAsync(entry.topic, entry.payload, { qos: 1 }).then(
        () => entry.done.resolve(),
        (error: unknown) => entry.done.reject(error),
      );
    }
  }

  #dropWaiter(commandId: string): void {
    const waiter = this.#waiters.get(commandId);
    if (waiter === undefined) return;
    clearTimeout(waiter.timer);
    this.#waiters.delete(commandId);
  }

  #waitForResult(commandId: string, waitMs: number): Promise<CommandResult | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(commandId);
        resolve(undefined);
      }, waitMs);
      this.#waiters.set(commandId, { resolve, timer });
    });
  }

  #requireClient(): MqttClient {
    if (this.#ctx.client === undefined || this.#ctx.closed) {
      throw new FleetError("E_HUB_CLOSED", "the device hub is not connected to the broker", 503);
    }
    return this.#ctx.client;
  }

  /** Sends in the background; a failure is logged, never thrown into a message handler. */
  sendQuietly<T extends CommandType>(
    deviceId: string,
    type: T,
    body: CommandBody<T>,
    ttlMs?: number,
  ): void {
    if (this.#ctx.closed) return;
    this.sendCommand(deviceId, type, body, ttlMs === undefined ? {} : { ttlMs }).catch((error) => {
      if (!this.#ctx.closed) this.#ctx.log.warn({ err: error, deviceId, type }, "command not sent");
    });
  }

  /** Hands a lock's result to whoever waits for it. */
  settle(result: CommandResult): void {
    const waiter = this.#waiters.get(result.id);
    if (waiter !== undefined) {
      clearTimeout(waiter.timer);
      this.#waiters.delete(result.id);
      waiter.resolve(result);
    }
  }

  /** At shutdown: nobody waits any longer. */
  close(): void {
    for (const waiter of this.#waiters.values()) {
      clearTimeout(waiter.timer);
      waiter.resolve(undefined);
    }
    this.#waiters.clear();
  }
}
