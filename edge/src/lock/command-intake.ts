/**
 * A signed envelope from the fleet, inside the running unit of work: opened and checked
 * (signature, device, expiry, replay) against the lock's own clock and keys, then applied by
 * the lock's own rules (commands.ts); accepted and refused commands both go on record.
 */
import {
  type CommandResult,
  formatInstant,
  fromBase64url,
  type OpenedCommand,
  openCommand,
  peekEnvelopeId,
  type ReplayGuard,
} from "@lockfleet/protocol";
import { LockRuleError } from "../errors.js";
import { applyCommand, type CommandEffects, withAcknowledgement } from "./commands.js";
import type { LockContext } from "./lock-context.js";
import type { OpeningCycle } from "./opening-cycle.js";
import { TimeLockEvaluator } from "./time-lock.js";

/** What a command may ask of the lock beyond its state: re-sending audit, a self-test. */
export interface CommandRequests {
  auditResend(fromSeq: number, toSeq: number): void;
  selfTest(): void;
}

export class CommandIntake {
  readonly #ctx: LockContext;
  readonly #cycle: OpeningCycle;
  readonly #requests: CommandRequests;

  constructor(ctx: LockContext, cycle: OpeningCycle, requests: CommandRequests) {
    this.#ctx = ctx;
    this.#cycle = cycle;
    this.#requests = requests;
  }

  handle(received: Uint8Array | string): CommandResult {
    const ctx = this.#ctx;
    const at = formatInstant(ctx.lockTime());
    const guard: ReplayGuard = {
      highest: () => ctx.s.trust.highestSeq,
      accept: (_sender, seq) => ctx.set("trust", { ...ctx.s.trust, highestSeq: seq }),
    };
    const keys = (keyId: string) => {
      const key = ctx.s.trust.fleetKeys[keyId];
      return key === undefined ? undefined : fromBase64url(key);
    };
    // Every envelope's validity is checked against the lock's own clock, a time sync's too:
    // a delayed one has expired whatever time it carries (the fleet states a sync's validity
    // in the lock's clock as it last measured it, so a lock running behind or ahead accepts it).
    const opened = openCommand(received, {
      deviceId: ctx.deviceId,
      now: ctx.lockTime(),
      keys,
      replayGuard: guard,
    });
    if (!opened.ok) {
      const id = peekEnvelopeId(received) ?? "unknown";
      ctx.audit("command.rejected", null, {
        id,
        code: opened.error.code,
        reason: opened.error.message,
      });
      return { id, deviceId: ctx.deviceId, at, status: "error", error: opened.error };
    }
    const command = opened.value;
    try {
      const data = applyCommand(command, this.#effects(command));
      if (command.type === "audit.ack" || command.type === "audit.gapRequest") {
        // Kept in the `acks` section (committed with this command) and recorded as one
        // `audit.acknowledged` record ahead of the next record written for any other reason.
        ctx.set("acks", withAcknowledgement(ctx.s.acks, command, ctx.lockTime()));
      } else {
        ctx.audit("command.accepted", "fleet", {
          id: command.id,
          type: command.type,
          seq: command.seq,
        });
      }
      return {
        id: command.id,
        deviceId: ctx.deviceId,
        at,
        status: "ok",
        ...(data === undefined ? {} : { data }),
      };
    } catch (error) {
      if (!(error instanceof LockRuleError)) throw error;
      ctx.audit("command.rejected", "fleet", {
        id: command.id,
        type: command.type,
        code: error.code,
        reason: error.message,
      });
      return {
        id: command.id,
        deviceId: ctx.deviceId,
        at,
        status: "error",
        error: { code: error.code, message: error.message },
      };
    }
  }

  #effects(command: OpenedCommand): CommandEffects {
    const ctx = this.#ctx;
    return {
      deviceId: ctx.deviceId,
      sections: () => ctx.s,
      set: (name, value) => ctx.set(name, value),
      audit: (kind, actor, data) => ctx.audit(kind, actor, data),
      lockTime: () => ctx.lockTime(),
      codeHashKey: ctx.identity.codeHashKey,
      encryptionSecretKey: ctx.identity.encryptionSecretKey,
      setSchedule: (schedule) => {
        ctx.evaluator = new TimeLockEvaluator(schedule);
      },
      setTrustedTime: (time) => {
        ctx.set("time", time);
        // Trusted only once the new offset is on record.
        ctx.required().after.push(() => {
          ctx.trustedTime = true;
        });
      },
      endCycle: (reason) => this.#cycle.endByCommand(reason),
      envelopeExpiresAt: command.expiresAt,
      after: (action) => ctx.required().after.push(action),
      emitAuditResend: (fromSeq, toSeq) => this.#requests.auditResend(fromSeq, toSeq),
      emitSelfTest: () => this.#requests.selfTest(),
      acknowledge: (upToSeq, headHash) => ctx.store.acknowledge(upToSeq, headHash),
    };
  }
}
