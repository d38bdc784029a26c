/**
 * Signed fleet commands applied to the lock (SPEC §3 "Remote functions"). The envelope has
 * been verified already (signature, device, expiry, replay); what remains are the lock's own
 * rules, which a command never overrides: two approvers for anything that weakens the lock, a
 * running time lock never shortened, trusted time never moved back beyond the daily bound
 * (a larger correction only by a `time.set` two approvers confirmed).
 */
import {
  type AuditData,
  type AuditEventKind,
  canonicalJson,
  formatInstant,
  fromBase64url,
  isValid,
  LockPolicy,
  type OpenedCommand,
  openSealedSecret,
  parseInstant,
  type TimeLockSchedule,
  WEAKENING_APPROVERS_REQUIRED,
} from "@lockfleet/protocol";
import { LockRuleError } from "../errors.js";
import { hashCode, isDigits } from "./codes.js";
import {
  distinctApprovers,
  holidaysWeaken,
  policyWeakenings,
  scheduleWeakens,
} from "./policy-change.js";
import {
  type AckSection,
  GAP_RANGES_KEPT,
  type LockSections,
  type SectionMap,
  type SectionName,
  type StoredUser,
} from "./state.js";
import { holdOnScheduleChange, immediateTimeLockUntil, validateSchedule } from "./time-lock.js";
import {
  backwardBudgetMs,
  decideTimeSet,
  decideTimeSync,
  movesWithinDay,
  shiftMoves,
  type TimeSection,
} from "./trusted-time.js";

export interface CommandEffects {
  deviceId: string;
  sections(): LockSections;
  set<K extends SectionName>(name: K, value: SectionMap[K] | undefined): void;
  audit<K extends AuditEventKind>(kind: K, actor: string | null, data: AuditData<K>): void;
  lockTime(): number;
  codeHashKey: Uint8Array;
  encryptionSecretKey: Uint8Array;
  setSchedule(schedule: TimeLockSchedule): void;
  setTrustedTime(time: TimeSection): void;
  endCycle(reason: string): void;
  envelopeExpiresAt: number;
  after(action: () => void): void;
  emitAuditResend(fromSeq: number, toSeq: number): void;
  emitSelfTest(): void;
  acknowledge(upToSeq: number, headHash: string): void;
}

const FLEET = "fleet";

function requireTwoApprovers(approvedBy: readonly string[], what: string): void {
  if (distinctApprovers(approvedBy) < WEAKENING_APPROVERS_REQUIRED) {
    throw new LockRuleError(
      "E_APPROVALS_REQUIRED",
      `${what} weakens the lock and needs two distinct approvers`,
    );
  }
}

/** A user's weekly time profile must be a schedule the lock can evaluate. */
function checkTimeProfile(
  effects: CommandEffects,
  s: LockSections,
  slot: number,
  timeProfile: StoredUser["timeProfile"],
): void {
  if (timeProfile === undefined || timeProfile.length === 0) return;
  const invalid = validateSchedule({
    timeZone: s.timeLock.schedule.timeZone,
    weekly: timeProfile,
    holidays: [],
  });
  if (invalid !== undefined) {
    throw new LockRuleError(
      "E_TIME_PROFILE_INVALID",
      `time profile of user ${slot} on ${effects.deviceId}: ${invalid.message}`,
    );
  }
}

function actorOf(approvedBy: readonly string[] | undefined): string {
  return approvedBy?.[0] ?? FLEET;
}

/** Opens a sealed code and checks its form; the clear code lives only inside this function. */
function sealedCodeHash(
  effects: CommandEffects,
  slot: number,
  sealed: Parameters<typeof openSealedSecret>[0],
  codeLength: number,
): string {
  let clear: Uint8Array;
  try {
    clear = openSealedSecret(sealed, effects.encryptionSecretKey);
  } catch {
    throw new LockRuleError(
      "E_SEALED_BOX",
      "the sealed code cannot be opened with this lock's key",
    );
  }
  const code = new TextDecoder().decode(clear);
  clear.fill(0);
  if (!isDigits(code, codeLength))
    throw new LockRuleError("E_BAD_CODE", `a code on this lock has ${codeLength} digits`);
  return hashCode(effects.codeHashKey, slot, code);
}

export function applyCommand(
  command: OpenedCommand,
  effects: CommandEffects,
): Record<string, unknown> | undefined {
  const s = effects.sections();
  switch (command.type) {
    case "user.add": {
      const { user, initialCode, duressCode } = command.body;
      const existing = s.users[String(user.slot)];
      if (existing !== undefined && existing.personId !== user.personId) {
        throw new LockRuleError("E_SLOT_TAKEN", `user slot ${user.slot} belongs to another person`);
      }
      checkTimeProfile(effects, s, user.slot, user.timeProfile);
      const stored: StoredUser = {
        ...user,
        codeHash: sealedCodeHash(effects, user.slot, initialCode, s.policy.codeLength),
        ...(duressCode === undefined
          ? {}
          : {
              duressCodeHash: sealedCodeHash(effects, user.slot, duressCode, s.policy.codeLength),
            }),
        mustChangeCode: true,
      };
      effects.set("users", { ...s.users, [String(user.slot)]: stored });
      effects.audit("user.added", FLEET, {
        slot: user.slot,
        personId: user.personId,
        role: user.role,
        tenantId: user.tenantId ?? null,
      });
      return { slot: user.slot, personId: user.personId };
    }
    case "user.change": {
      const { slot, personId, changes } = command.body;
      const existing = s.users[String(slot)];
      if (existing === undefined || existing.personId !== personId) {
        throw new LockRuleError("E_NO_SUCH_USER", `no user ${personId} in slot ${slot}`);
      }
      checkTimeProfile(effects, s, slot, changes.timeProfile);
      effects.set("users", {
        ...s.users,
        [String(slot)]: { ...existing, ...changes } as StoredUser,
      });
      effects.audit("user.changed", FLEET, { slot, personId, changed: Object.keys(changes) });
      return { slot, personId };
    }
    case "user.delete": {
      const { slot, personId } = command.body;
      const existing = s.users[String(slot)];
      if (existing === undefined || existing.personId !== personId) {
        throw new LockRuleError("E_NO_SUCH_USER", `no user ${personId} in slot ${slot}`);
      }
      const { [String(slot)]: _removed, ...rest } = s.users;
      effects.set("users", rest);
      effects.audit("user.deleted", FLEET, { slot, personId });
      return { slot, personId, deleted: true };
    }
    case "policy.change": {
      const { policy, approvedBy } = command.body;
      if (!isValid(LockPolicy, policy)) throw new LockRuleError("E_SCHEMA", "policy is not valid");
      const weakenings = policyWeakenings(s.policy, policy);
      if (weakenings.length > 0)
        requireTwoApprovers(approvedBy, `policy change (${weakenings.join("; ")})`);
      effects.set("policy", policy);
      effects.audit("policy.changed", actorOf(approvedBy), { policy, approvedBy, weakenings });
      return { weakenings };
    }
    case "timeLock.schedule": {
      const { schedule, approvedBy } = command.body;
      const invalid = validateSchedule(schedule);
      if (invalid !== undefined) throw new LockRuleError(invalid.code, invalid.message);
      if (scheduleWeakens(s.timeLock.schedule, schedule))
        requireTwoApprovers(approvedBy, "time-lock schedule change");
      return changeSchedule(effects, schedule, approvedBy, "timeLock.scheduleChanged");
    }
    case "timeLock.holidays": {
      const { holidays, approvedBy } = command.body;
      const schedule = { ...s.timeLock.schedule, holidays };
      const invalid = validateSchedule(schedule);
      if (invalid !== undefined) throw new LockRuleError(invalid.code, invalid.message);
      if (holidaysWeaken(s.timeLock.schedule.holidays, holidays))
        requireTwoApprovers(approvedBy, "holiday calendar change");
      return changeSchedule(effects, schedule, approvedBy, "timeLock.holidaysChanged");
    }
    case "timeLock.immediate": {
      const now = effects.lockTime();
      const until = immediateTimeLockUntil(
        now,
        command.body.minutes * 60_000,
        s.timeLock.immediateUntil,
      );
      effects.set("timeLock", { ...s.timeLock, immediateUntil: until });
      effects.endCycle("immediateTimeLock");
      effects.audit("timeLock.immediate", FLEET, {
        minutes: command.body.minutes,
        until: formatInstant(until),
      });
      return { until: formatInstant(until) };
    }
    case "remote.block": {
      effects.set("remote", { ...s.remote, blocked: true, blockReason: command.body.reason });
      effects.endCycle("remoteBlock");
      effects.audit("remote.blocked", FLEET, { reason: command.body.reason });
      return { blocked: true };
    }
    case "remote.unblock": {
      // Lifting a block weakens the lock: only the fleet may, after its own approval, which
      // the command must name (the envelope's signature is checked before this point).
      if (distinctApprovers(command.body.approvedBy) < 1)
        throw new LockRuleError("E_APPROVALS_REQUIRED", "unblock names no approver");
      const { blockReason: _reason, ...remote } = s.remote;
      effects.set("remote", { ...remote, blocked: false });
      effects.audit("remote.unblocked", actorOf(command.body.approvedBy), {
        approvedBy: command.body.approvedBy,
      });
      return { blocked: false };
    }
    case "remote.centralRelease": {
      const { approvedBy, reason } = command.body;
      if (distinctApprovers(approvedBy) < 1)
        throw new LockRuleError("E_APPROVALS_REQUIRED", "central release names no approver");
      effects.set("remote", {
        ...s.remote,
        centralRelease: { commandId: command.id, approvedBy, expiresAt: command.expiresAt },
      });
      effects.audit("remote.centralRelease", actorOf(approvedBy), {
        approvedBy,
        reason,
        until: formatInstant(command.expiresAt),
      });
      return { until: formatInstant(command.expiresAt) };
    }
    case "grant": {
      const grant = command.body;
      if (!grant.locks.includes(effects.deviceId)) {
        throw new LockRuleError("E_WRONG_DEVICE", `grant ${grant.grantId} does not name this lock`);
      }
      if (grant.persons === undefined && grant.tenantRole === undefined) {
        throw new LockRuleError(
          "E_SCHEMA",
          `grant ${grant.grantId} names neither persons nor a tenant role`,
        );
      }
      if (parseInstant(grant.notAfter) <= parseInstant(grant.notBefore)) {
        throw new LockRuleError("E_SCHEMA", `grant ${grant.grantId} ends before it begins`);
      }
      const now = effects.lockTime();
      if (parseInstant(grant.notAfter) <= now) {
        throw new LockRuleError(
          "E_GRANT_EXPIRED",
          `grant ${grant.grantId} expired at ${grant.notAfter} (lock time ${formatInstant(now)})`,
        );
      }
      const existing = s.grants[grant.grantId];
      if (existing?.revoked)
        throw new LockRuleError("E_GRANT_REVOKED", `grant ${grant.grantId} was revoked`);
      // The fleet sends a grant again when it cannot know whether the lock got it (it stopped
      // in between): the same grant, unchanged, is taken without a second record.
      if (existing !== undefined && canonicalJson(existing.grant) === canonicalJson(grant)) {
        return { grantId: grant.grantId };
      }
      effects.set("grants", {
        ...pruneGrants(s, effects.lockTime()),
        [grant.grantId]: { grant, openings: existing?.openings ?? 0, revoked: false },
      });
      effects.audit("grant.installed", FLEET, {
        grantId: grant.grantId,
        persons: grant.persons ?? null,
        tenantRole: grant.tenantRole ?? null,
        notBefore: grant.notBefore,
        notAfter: grant.notAfter,
        maxOpenings: grant.maxOpenings,
        dualControlRequired: grant.dualControlRequired,
      });
      return { grantId: grant.grantId };
    }
    case "grant.revoke": {
      const existing = s.grants[command.body.grantId];
      if (existing === undefined)
        throw new LockRuleError("E_NO_SUCH_GRANT", `no grant ${command.body.grantId} on this lock`);
      effects.set("grants", {
        ...s.grants,
        [command.body.grantId]: { ...existing, revoked: true },
      });
      effects.audit("grant.revoked", FLEET, { grantId: command.body.grantId });
      return { grantId: command.body.grantId, revoked: true };
    }
    case "time.sync": {
      const trusted = parseInstant(command.body.time);
      const current = effects.lockTime();
      const budgetMs = backwardBudgetMs(s.policy);
      const decision = decideTimeSync(current, trusted, s.time, budgetMs);
      if (!decision.accepted) {
        effects.audit("time.rejected", FLEET, {
          command: "time.sync",
          from: formatInstant(current),
          to: command.body.time,
          jumpMs: decision.jumpMs,
          reason: "backwardBoundPerDay",
          usedMs: decision.usedMs,
          budgetMs,
        });
        throw new LockRuleError(
          "E_TIME_BACKWARDS",
          `trusted time ${command.body.time} is ${-decision.jumpMs / 1000} s behind lock time ${formatInstant(current)}; the clock may go back ${budgetMs / 1000} s per 24 h (${decision.usedMs / 1000} s used), a larger correction needs a confirmed time.set`,
        );
      }
      effects.setTrustedTime({ offsetMs: decision.offsetMs, backward: decision.backward });
      effects.audit("time.changed", FLEET, {
        command: "time.sync",
        from: formatInstant(current),
        to: command.body.time,
        jumpMs: decision.jumpMs,
      });
      return { offsetMs: decision.offsetMs, jumpMs: decision.jumpMs };
    }
    case "time.set": {
      const { time, confirmJumpSec, approvedBy, reason } = command.body;
      requireTwoApprovers(approvedBy, "setting the clock");
      const current = effects.lockTime();
      const decision = decideTimeSet(
        current,
        parseInstant(time),
        s.time.offsetMs,
        confirmJumpSec * 1000,
      );
      if (!decision.accepted) {
        effects.audit("time.rejected", actorOf(approvedBy), {
          command: "time.set",
          from: formatInstant(current),
          to: time,
          jumpMs: decision.jumpMs,
          reason: "notAsConfirmed",
          confirmJumpSec,
          approvedBy,
        });
        throw new LockRuleError(
          "E_TIME_NOT_CONFIRMED",
          `setting the clock to ${time} moves it ${decision.jumpMs / 1000} s from lock time ${formatInstant(current)}, not the ${confirmJumpSec} s confirmed`,
        );
      }
      // A confirmed correction does not use up the daily bound of the syncs that follow it.
      effects.setTrustedTime({
        offsetMs: decision.offsetMs,
        backward: shiftMoves(movesWithinDay(s.time.backward, current), decision.jumpMs),
      });
      effects.audit("time.changed", actorOf(approvedBy), {
        command: "time.set",
        from: formatInstant(current),
        to: time,
        jumpMs: decision.jumpMs,
        confirmJumpSec,
        approvedBy,
        reason,
      });
      return { offsetMs: decision.offsetMs, jumpMs: decision.jumpMs };
    }
    case "audit.ack": {
      try {
        effects.acknowledge(command.body.upToSeq, command.body.headHash);
      } catch (error) {
        throw new LockRuleError(
          "E_ACK_MISMATCH",
          error instanceof Error ? error.message : String(error),
        );
      }
      // On record with the next audit record (AckSection), not as a record of its own.
      return { upToSeq: command.body.upToSeq };
    }
    case "audit.gapRequest": {
      const { fromSeq, toSeq } = command.body;
      if (toSeq < fromSeq) throw new LockRuleError("E_SCHEMA", "gap request ends before it starts");
      effects.after(() => effects.emitAuditResend(fromSeq, toSeq));
      return { fromSeq, toSeq };
    }
    case "update.offer": {
      // Accepted as a fleet command only; the release itself is judged by the device runtime's
      // updater (release key, rollback, expiry), which answers with its own result.
      return { updateOffered: command.body.rolloutId };
    }
    case "selfTest.request": {
      effects.after(() => effects.emitSelfTest());
      return { started: true };
    }
    case "otp.secret": {
      try {
        openSealedSecret(command.body.secret, effects.encryptionSecretKey).fill(0);
      } catch {
        throw new LockRuleError(
          "E_SEALED_BOX",
          "the one-time-code secret cannot be opened with this lock's key",
        );
      }
      // The counter never goes back: codes already accepted must never become valid again.
      const previous = s.otp ?? undefined;
      const highest = Math.max(previous?.highest ?? 0, command.body.counter);
      effects.set("otp", {
        sealed: command.body.secret,
        highest,
        used: previous?.used ?? [],
      });
      effects.audit("otp.secretInstalled", FLEET, { counter: highest });
      return { installed: true };
    }
    case "fleetKey.install": {
      const { keyId, publicKey, retire } = command.body;
      let keyBytes: Uint8Array | undefined;
      try {
        keyBytes = fromBase64url(publicKey);
      } catch {
        keyBytes = undefined; // not canonical base64url: refused below, never a lock fault
      }
      if (keyBytes?.length !== 32)
        throw new LockRuleError("E_BAD_KEY", "a fleet key has 32 bytes in canonical base64url");
      const fleetKeys = { ...s.trust.fleetKeys, [keyId]: publicKey };
      if (retire !== undefined) {
        if (retire === keyId) throw new LockRuleError("E_BAD_KEY", "a key cannot retire itself");
        delete fleetKeys[retire];
      }
      effects.set("trust", { ...s.trust, fleetKeys });
      effects.audit("fleetKey.installed", FLEET, { keyId, retired: retire ?? null });
      if (retire !== undefined) effects.audit("fleetKey.retired", FLEET, { keyId: retire });
      return { keyId };
    }
  }
}

function changeSchedule(
  effects: CommandEffects,
  schedule: TimeLockSchedule,
  approvedBy: string[],
  kind: "timeLock.scheduleChanged" | "timeLock.holidaysChanged",
): Record<string, unknown> {
  const s = effects.sections();
  const now = effects.lockTime();
  // A running time lock is never shortened: the old end is kept as a hold.
  const hold = holdOnScheduleChange(s.timeLock.schedule, schedule, now);
  if (hold === Number.POSITIVE_INFINITY) {
    // A running lock that outlasts the evaluator's 400-year horizon cannot be held as an
    // instant; refusing keeps it running (never shortened) and the lock working.
    throw new LockRuleError(
      "E_TIME_LOCK_INVALID",
      "the running time lock lasts beyond 400 years; a change that would shorten it is refused",
    );
  }
  const immediateUntil = Math.max(s.timeLock.immediateUntil ?? 0, hold ?? 0);
  effects.set("timeLock", { schedule, ...(immediateUntil > now ? { immediateUntil } : {}) });
  effects.setSchedule(schedule);
  effects.audit(kind, actorOf(approvedBy), {
    schedule,
    approvedBy,
    ...(hold === undefined ? {} : { heldUntil: formatInstant(hold) }),
  });
  return hold === undefined ? {} : { heldUntil: formatInstant(hold) };
}

/** Grants that ended long ago need not be kept on the lock (their use is in the audit log). */
function pruneGrants(s: LockSections, now: number): SectionMap["grants"] {
  return Object.fromEntries(
    Object.entries(s.grants).filter(
      ([, stored]) => parseInstant(stored.grant.notAfter) > now - 7 * 24 * 3600_000,
    ),
  );
}

/**
 * The `acks` section after one more accepted audit acknowledgement or gap request: counts,
 * first and last ids and seqs, the highest acknowledged audit seq, the re-sent ranges.
 */
export function withAcknowledgement(
  previous: AckSection | undefined,
  command: OpenedCommand,
  at: number,
): AckSection {
  const next: AckSection = previous
    ? { ...previous, ranges: [...previous.ranges] }
    : {
        commands: 0,
        firstId: command.id,
        lastId: command.id,
        firstSeq: command.seq,
        lastSeq: command.seq,
        since: at,
        at,
        acks: 0,
        gapRequests: 0,
        ranges: [],
      };
  next.commands += 1;
  next.lastId = command.id;
  next.firstSeq = Math.min(next.firstSeq, command.seq);
  next.lastSeq = Math.max(next.lastSeq, command.seq);
  next.at = at;
  if (command.type === "audit.ack") {
    const body = command.body as { upToSeq: number };
    next.acks += 1;
    next.upToSeq = Math.max(next.upToSeq ?? 0, body.upToSeq);
  } else {
    const body = command.body as { fromSeq: number; toSeq: number };
    next.gapRequests += 1;
    if (next.ranges.length < GAP_RANGES_KEPT) {
      next.ranges.push({ fromSeq: body.fromSeq, toSeq: body.toSeq });
    }
  }
  return next;
}
