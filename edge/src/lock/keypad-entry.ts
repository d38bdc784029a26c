/**
 * The keypad and its entry modes (SPEC §3 "Users and codes", "Wrong-code penalty"): a code
 * (slot + digits) joins the opening cycle; a courier's or service person's code asks for the
 * one-time code; '*' on an idle lock starts a code change; a master's code at the open
 * container enters programming. Wrong codes count towards the lockout, duress codes signal
 * silently and otherwise behave exactly like the normal code.
 */
import { type CodeRefusal, formatInstant } from "@lockfleet/protocol";
import { LockError } from "../errors.js";
import { codeBehindDuressEntry, codeMatches, hashCode, isDigits, isTrivialCode } from "./codes.js";
import { MINUTE, SECOND } from "./deadlines.js";
import { DISPLAY, type DisplayLines } from "./display.js";
import { activeGrantFor } from "./grants.js";
import type { LockContext } from "./lock-context.js";
import { acceptOneTimeCode } from "./one-time-codes.js";
import type { OpeningCycle } from "./opening-cycle.js";
import { afterWrongCode, NO_PENALTY } from "./penalty.js";
import { policyWeakenings } from "./policy-change.js";
import { programPolicy } from "./programming.js";
import type { Authorisation, StoredGrant, StoredUser } from "./state.js";
import { userRefusal } from "./users.js";

/** What the next '#' means. */
export type EntryMode =
  | { kind: "code" }
  | { kind: "oneTimeCode"; user: StoredUser; duress: boolean }
  | { kind: "changeCode"; stage: "identify" }
  | { kind: "program"; user: StoredUser }
  | NewCodeEntry;

type NewCodeEntry = {
  kind: "changeCode";
  stage: "new" | "repeat";
  user: StoredUser;
  newCodeHash?: string;
  newDuressHash?: string;
};

const CODE_MODE: EntryMode = { kind: "code" };

export class KeypadEntry {
  readonly #ctx: LockContext;
  readonly #cycle: OpeningCycle;
  #entry = "";
  #mode: EntryMode = CODE_MODE;

  constructor(ctx: LockContext, cycle: OpeningCycle) {
    this.#ctx = ctx;
    this.#cycle = cycle;
  }

  /** Digits typed so far (the screen shows one star each). */
  get typed(): number {
    return this.#entry.length;
  }

  get programming(): boolean {
    return this.#mode.kind === "program";
  }

  /** Forgets what was typed and any prompt (fail-secure). */
  reset(): void {
    this.#entry = "";
    this.#ctx.deadlines.entry = undefined;
    this.#mode = CODE_MODE;
  }

  /** The container closed: programming ends with it. */
  endProgramming(): void {
    if (this.#mode.kind === "program") this.#mode = CODE_MODE;
  }

  /** The key timeout passed: a half-typed code, an abandoned code change or prompt ends. */
  abandon(): void {
    this.#entry = "";
    this.#ctx.deadlines.entry = undefined;
    if (this.#mode.kind !== "code") {
      this.#mode = CODE_MODE;
      this.#ctx.message = undefined;
    }
  }

  /** One key: digits, '#' (enter) or '*' (clear; cancel; on an idle lock: change code). */
  press(key: string): void {
    const ctx = this.#ctx;
    if (!/^[0-9#*]$/.test(key)) throw new LockError("E_BAD_KEY", `"${key}" is not a keypad key`);
    ctx.buzz("key");
    ctx.message = undefined;
    if (ctx.deadlines.penaltyUntil !== undefined) {
      // Not evaluated during a lockout, so it cannot restart or extend it.
      return;
    }
    if (/\d/.test(key)) {
      if (this.#entry.length < 16) this.#entry += key;
      ctx.deadlines.entry = ctx.mono() + ctx.s.policy.keyTimeoutSec * SECOND;
      return;
    }
    const entered = this.#entry;
    this.#entry = "";
    ctx.deadlines.entry = undefined;
    if (key === "*") this.#star(entered);
    else if (entered.length > 0) this.#enter(entered); // a lone '#' is no attempt at a code
    // Read again: a keypad programming step may just have changed the key timeout.
    if (this.#mode.kind !== "code")
      ctx.deadlines.entry = ctx.mono() + ctx.s.policy.keyTimeoutSec * SECOND;
  }

  #star(entered: string): void {
    const ctx = this.#ctx;
    if (entered.length > 0) return;
    if (this.#mode.kind !== "code") {
      this.#mode = CODE_MODE;
      return;
    }
    const cycle = ctx.s.cycle;
    if (
      cycle &&
      (cycle.phase === "collecting" || cycle.phase === "delay" || cycle.phase === "window")
    ) {
      this.#cycle.end("cycle.cancelled", { reason: "cancelled at keypad" });
      ctx.show(DISPLAY.cancelled());
      return;
    }
    if (!cycle) {
      this.#mode = { kind: "changeCode", stage: "identify" };
      ctx.show(DISPLAY.changeCode(), true);
    }
  }

  #enter(entered: string): void {
    const ctx = this.#ctx;
    const mode = this.#mode;
    if (mode.kind === "oneTimeCode") {
      this.#enterOneTimeCode(mode.user, mode.duress, entered);
      return;
    }
    if (mode.kind === "changeCode" && mode.stage !== "identify") {
      this.#enterNewCode(mode, entered);
      return;
    }
    if (mode.kind === "program") {
      this.#enterProgramming(mode.user, entered);
      return;
    }
    const policy = ctx.s.policy;
    if (!isDigits(entered, 2 + policy.codeLength)) {
      this.#wrongCode(entered.slice(0, 2), "format");
      return;
    }
    const slot = Number(entered.slice(0, 2));
    const code = entered.slice(2);
    const user = ctx.s.users[String(slot)];
    const match = this.#matchCode(slot, code, user);
    if (user === undefined || match === undefined) {
      this.#wrongCode(entered.slice(0, 2), "wrongCode");
      return;
    }
    const party = user.tenantId === undefined ? "bank" : "cit";
    const awaitingOneTimeCode =
      mode.kind === "code" &&
      !user.mustChangeCode &&
      (user.role === "courier" || user.role === "service") &&
      this.#activeGrantFor(user) === undefined &&
      this.#otpOfFirstRound(user) === undefined;
    // A code that only leads to the one-time-code prompt ends no series of wrong codes: else
    // one known code would let a person guess one-time codes without ever reaching a lockout.
    if (!awaitingOneTimeCode) this.#correctCode();
    if (match === "duress") this.#duress(user);
    if (mode.kind === "changeCode" || user.mustChangeCode) {
      this.#mode = { kind: "changeCode", stage: "new", user };
      ctx.audit("code.accepted", user.personId, {
        slot,
        purpose: "codeChange",
        forced: user.mustChangeCode,
      });
      ctx.show(DISPLAY.newCode(), true);
      ctx.buzz("accept");
      return;
    }
    if (
      user.role === "master" &&
      match === "normal" &&
      ctx.s.cycle?.phase === "open" &&
      !ctx.faulted
    ) {
      // Only with the container open may a master programme the lock (SPEC §3).
      this.#mode = { kind: "program", user };
      ctx.audit("code.accepted", user.personId, { slot, purpose: "programming" });
      ctx.buzz("accept");
      return;
    }
    const refusal = this.#refusal(user);
    if (refusal !== undefined) {
      ctx.audit("code.rejected", user.personId, { slot, reason: refusal.reason });
      if (refusal.display !== undefined) ctx.show(refusal.display);
      ctx.buzz("reject");
      return;
    }
    const grant = this.#activeGrantFor(user);
    const confirmingOtp = this.#otpOfFirstRound(user);
    if (grant === undefined && confirmingOtp !== undefined) {
      // The confirmation after the delay belongs to the same cycle: the one-time code accepted
      // in the first round still counts, inside its window, and is not asked for again.
      this.#cycle.authorise({
        personId: user.personId,
        slot,
        party,
        via: "otp",
        duress: match === "duress",
        otp: confirmingOtp,
      });
      return;
    }
    if (grant === undefined && (user.role === "courier" || user.role === "service")) {
      // Couriers and service staff hold something besides their code: a grant or a one-time code.
      // A person the cycle would refuse anyway is refused before the one-time code is asked
      // for, so that no code is keyed in (and spent) for nothing.
      const prospect = this.#cycle.prospect({ personId: user.personId, party });
      if (prospect.refusal !== undefined) {
        this.#cycle.refuse({ personId: user.personId, slot }, prospect.refusal);
        return;
      }
      this.#mode = { kind: "oneTimeCode", user, duress: match === "duress" };
      ctx.audit("code.accepted", user.personId, { slot, awaiting: "oneTimeCode" });
      ctx.show(DISPLAY.oneTimeCode(), true);
      ctx.buzz("accept");
      return;
    }
    this.#cycle.authorise({
      personId: user.personId,
      slot,
      party,
      via: grant === undefined ? "code" : "grant",
      duress: match === "duress",
      ...(grant === undefined
        ? {}
        : { grantId: grant.grant.grantId, single: !grant.grant.dualControlRequired }),
    });
  }

  #matchCode(
    slot: number,
    code: string,
    user: StoredUser | undefined,
  ): "normal" | "duress" | undefined {
    const key = this.#ctx.identity.codeHashKey;
    const mode = this.#ctx.s.policy.duressMode;
    // Every comparison is made whatever matches, so timing does not tell which one did.
    const normal = codeMatches(key, slot, code, user?.codeHash);
    const byDigit =
      mode === "lastDigitPlusOne" &&
      codeMatches(key, slot, codeBehindDuressEntry(code), user?.codeHash);
    const separate = mode === "separateCode" && codeMatches(key, slot, code, user?.duressCodeHash);
    if (normal) return "normal";
    if (byDigit || separate) return "duress";
    return undefined;
  }

  #correctCode(): void {
    const penalty = this.#ctx.s.penalty;
    if (penalty.consecutiveWrong !== 0 || penalty.lockouts !== 0)
      this.#ctx.set("penalty", NO_PENALTY);
  }

  #wrongCode(slotText: string, reason: "format" | "wrongCode" | "oneTimeCode"): void {
    const ctx = this.#ctx;
    this.#mode = CODE_MODE;
    const { state, lockoutMs } = afterWrongCode(ctx.s.policy, ctx.s.penalty);
    ctx.set("penalty", state);
    ctx.audit("code.rejected", null, {
      slot: slotText,
      reason,
      consecutiveWrong: state.consecutiveWrong,
    });
    ctx.buzz("reject");
    ctx.show(DISPLAY.wrongCode());
    if (lockoutMs !== undefined) {
      ctx.deadlines.penaltyUntil = ctx.mono() + lockoutMs;
      ctx.audit("penalty.started", null, {
        minutes: lockoutMs / MINUTE,
        lockout: state.lockouts,
      });
      ctx.raise("wrongCodeEntryLimit", null, { minutes: lockoutMs / MINUTE });
    }
  }

  #duress(user: StoredUser): void {
    const ctx = this.#ctx;
    // Silent: the relay pulses and the alarm leaves at highest priority; nothing local changes.
    ctx.output(() => ctx.outputs.pulseSilentAlarm());
    ctx.raise("forcedUser", user.personId, { slot: user.slot });
  }

  /** Why this user may not take part in an opening now, if they may not. */
  #refusal(user: StoredUser): { reason: CodeRefusal; display?: DisplayLines } | undefined {
    const ctx = this.#ctx;
    const now = ctx.lockTime();
    const cycle = ctx.s.cycle;
    // After an internal error the lock opens no more until it has restarted.
    if (ctx.faulted || ctx.storageFault.active) return { reason: "fault" };
    if (cycle && (cycle.phase === "released" || cycle.phase === "open")) {
      return { reason: "alreadyOpen" }; // the screen already says OPEN DOOR / DOOR OPEN
    }
    if (cycle?.phase === "delay") return { reason: "delayRunning" }; // the countdown stays on the screen
    if (ctx.s.remote.blocked) return { reason: "blocked", display: DISPLAY.blocked() };
    if (ctx.isTimeLocked()) return { reason: "timeLocked", display: DISPLAY.timeLocked() };
    const refusal = userRefusal(user, now, ctx.s.policy, ctx.s.timeLock.schedule.timeZone);
    return refusal === undefined ? undefined : { reason: refusal, display: DISPLAY.notPermitted() };
  }

  /** In the confirmation window: the one-time code this user gave in the first round, if still in its window. */
  #otpOfFirstRound(user: StoredUser): Authorisation["otp"] {
    const ctx = this.#ctx;
    const cycle = ctx.s.cycle;
    if (cycle?.phase !== "window") return undefined;
    const given = cycle.opening.find((a) => a.personId === user.personId && a.otp !== undefined);
    const now = ctx.lockTime();
    return given?.otp !== undefined && given.otp.notBefore <= now && now < given.otp.notAfter
      ? given.otp
      : undefined;
  }

  #activeGrantFor(user: StoredUser): StoredGrant | undefined {
    return activeGrantFor(this.#ctx.s.grants, user, this.#ctx.deviceId, this.#ctx.lockTime());
  }

  #enterOneTimeCode(user: StoredUser, duress: boolean, entered: string): void {
    const ctx = this.#ctx;
    this.#mode = CODE_MODE;
    const otp = ctx.s.otp;
    if (otp === undefined || otp === null) {
      ctx.audit("otp.rejected", user.personId, { reason: "noSecretInstalled" });
      ctx.show(DISPLAY.notPermitted());
      ctx.buzz("reject");
      return;
    }
    if (!isDigits(entered, 8)) {
      this.#wrongCode(String(user.slot).padStart(2, "0"), "oneTimeCode");
      return;
    }
    const accepted = acceptOneTimeCode(otp, ctx.identity.encryptionSecretKey, {
      lockId: ctx.deviceId,
      personId: user.personId,
      code: entered,
      at: ctx.lockTime(),
    });
    if (accepted === undefined) {
      ctx.audit("otp.rejected", user.personId, { reason: "noMatch" });
      this.#wrongCode(String(user.slot).padStart(2, "0"), "oneTimeCode");
      return;
    }
    const { match } = accepted;
    this.#correctCode();
    // The counter is spent whatever follows: a code that has been keyed in may have been seen,
    // and each code is accepted once (SPEC §3).
    ctx.set("otp", accepted.next);
    const party = user.tenantId === undefined ? "bank" : "cit";
    const prospect = this.#cycle.prospect({ personId: user.personId, party });
    if (prospect.refusal !== undefined) {
      // The rules changed while the code was being keyed in (a policy change, say): the code
      // opens nothing, and the record says that its counter is spent all the same.
      ctx.audit("otp.rejected", user.personId, {
        reason: prospect.refusal,
        counter: match.counter,
        notBefore: formatInstant(match.notBefore),
        notAfter: formatInstant(match.notAfter),
        counterSpent: true,
      });
      if (prospect.refusal === "mixedPartiesRequired") ctx.show(DISPLAY.notPermitted());
      ctx.buzz("reject");
      return;
    }
    ctx.audit("otp.accepted", user.personId, {
      counter: match.counter,
      notBefore: formatInstant(match.notBefore),
      notAfter: formatInstant(match.notAfter),
    });
    this.#cycle.authorise({
      personId: user.personId,
      slot: user.slot,
      party,
      via: "otp",
      duress,
      otp: { counter: match.counter, notBefore: match.notBefore, notAfter: match.notAfter },
    });
  }

  #enterProgramming(user: StoredUser, entered: string): void {
    const ctx = this.#ctx;
    if (ctx.s.cycle?.phase !== "open") {
      this.#mode = CODE_MODE;
      ctx.audit("code.rejected", user.personId, { slot: user.slot, reason: "containerClosed" });
      ctx.show(DISPLAY.notPermitted());
      ctx.buzz("reject");
      return;
    }
    const result = programPolicy(ctx.s.policy, entered);
    if (!result.ok) {
      ctx.audit("code.rejected", user.personId, {
        slot: user.slot,
        purpose: "programming",
        reason: result.reason,
      });
      ctx.show(DISPLAY.codeRefused());
      ctx.buzz("reject");
      return;
    }
    const weakenings = policyWeakenings(ctx.s.policy, result.policy);
    ctx.set("policy", result.policy);
    ctx.audit("policy.changed", user.personId, {
      via: "keypad",
      changed: result.changed,
      policy: result.policy,
      weakenings,
    });
    ctx.show(DISPLAY.programmed());
    ctx.buzz("accept");
  }

  #enterNewCode(mode: NewCodeEntry, entered: string): void {
    const ctx = this.#ctx;
    const { user } = mode;
    const key = ctx.identity.codeHashKey;
    const policy = ctx.s.policy;
    if (mode.stage === "new") {
      const refused =
        !isDigits(entered, policy.codeLength) ||
        isTrivialCode(entered) ||
        codeMatches(key, user.slot, entered, user.codeHash) ||
        // A code equal to the person's own duress code would make every opening a duress one.
        codeMatches(key, user.slot, entered, user.duressCodeHash);
      if (refused) {
        this.#mode = CODE_MODE;
        ctx.audit("code.rejected", user.personId, { slot: user.slot, reason: "newCodeRefused" });
        ctx.show(DISPLAY.codeRefused());
        ctx.buzz("reject");
        return;
      }
      this.#mode = { ...mode, stage: "repeat", newCodeHash: hashCode(key, user.slot, entered) };
      ctx.show(DISPLAY.repeatCode(), true);
      return;
    }
    this.#mode = CODE_MODE;
    if (!codeMatches(key, user.slot, entered, mode.newCodeHash)) {
      ctx.audit("code.rejected", user.personId, { slot: user.slot, reason: "repeatMismatch" });
      ctx.show(DISPLAY.codeRefused());
      ctx.buzz("reject");
      return;
    }
    const users = {
      ...ctx.s.users,
      [String(user.slot)]: { ...user, codeHash: mode.newCodeHash ?? "", mustChangeCode: false },
    };
    ctx.set("users", users);
    ctx.audit("code.changed", user.personId, {
      slot: user.slot,
      wasInitialCode: user.mustChangeCode,
    });
    ctx.show(DISPLAY.codeChanged());
    ctx.buzz("accept");
  }
}
