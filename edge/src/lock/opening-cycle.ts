/**
 * The opening cycle (SPEC §3 "Opening"): the round of codes, dual control and mixed parties,
 * the time delay, the confirmation window, the release, the relock and its close seal. The
 * cycle is a section on record (state.ts CycleSection), so a power loss restarts a delay
 * instead of skipping it; its deadlines run on the monotonic clock (deadlines.ts).
 */
import { formatInstant, openSealedSecret } from "@lockfleet/protocol";
import type { FailSecureMark } from "../store/lock-store.js";
import { openingCloseSeal } from "./close-seal.js";
import { isDue, MINUTE, SECOND } from "./deadlines.js";
import { DISPLAY } from "./display.js";
import { alreadyCounted, mixedPartiesPossible } from "./dual-control.js";
import type { LockContext } from "./lock-context.js";
import type { Authorisation, CycleSection } from "./state.js";
import { delayMinutes } from "./time-delay.js";

/** A person about to join the round: who and for which party; the rest may follow later. */
export type CandidateAuthorisation = Pick<Authorisation, "personId" | "party"> &
  Partial<Authorisation>;

/** Why the cycle refuses a person. */
export type CycleRefusal = "samePerson" | "mixedPartiesRequired";

/** The round with a person added, or why the cycle refuses them. */
export type Prospect =
  | { refusal: CycleRefusal }
  | { refusal: undefined; cycle: CycleSection; authorisations: Authorisation[]; required: number };

export class OpeningCycle {
  readonly #ctx: LockContext;
  readonly #onRelock: () => void;

  /** `onRelock`: the bolt is thrown and confirmed at the end of an opening (or with none). */
  constructor(ctx: LockContext, onRelock: () => void) {
    this.#ctx = ctx;
    this.#onRelock = onRelock;
  }

  /**
   * What the round would hold with `authorisation` added, or why the cycle refuses this person:
   * the same person never counts twice, and with mixed parties required there must remain room
   * for the missing party.
   */
  prospect(authorisation: CandidateAuthorisation): Prospect {
    const ctx = this.#ctx;
    const cycle: CycleSection = ctx.s.cycle ?? {
      phase: "collecting",
      round: 1,
      authorisations: [],
      opening: [],
      duress: false,
      openingNumber: 0,
    };
    if (alreadyCounted(cycle.authorisations, authorisation.personId)) {
      return { refusal: "samePerson" };
    }
    const authorisations: Authorisation[] = [
      ...cycle.authorisations,
      { slot: null, via: "code", duress: false, ...authorisation },
    ];
    const central = ctx.s.remote.centralRelease;
    if (
      central !== undefined &&
      central.expiresAt > ctx.lockTime() &&
      !authorisations.some((a) => a.via === "centralRelease")
    ) {
      authorisations.push({
        personId: `fleet:${central.commandId}`,
        slot: null,
        party: "bank",
        via: "centralRelease",
        duress: false,
      });
    }
    const required = ctx.codesRequired(authorisations);
    if (!mixedPartiesPossible(ctx.s.policy, authorisations, required)) {
      return { refusal: "mixedPartiesRequired" };
    }
    return { refusal: undefined, cycle, authorisations, required };
  }

  /** The cycle refuses a person (same person twice, mixed parties): on record, on the display. */
  refuse(user: Pick<Authorisation, "personId" | "slot">, reason: CycleRefusal): void {
    const ctx = this.#ctx;
    ctx.audit("code.rejected", user.personId, { slot: user.slot, reason });
    if (reason === "mixedPartiesRequired") ctx.show(DISPLAY.notPermitted());
    ctx.buzz("reject");
  }

  /** A person's authorisation joins the round; a complete round starts the delay or releases. */
  authorise(authorisation: Authorisation): void {
    const ctx = this.#ctx;
    const existing = ctx.s.cycle;
    const prospect = this.prospect(authorisation);
    if (prospect.refusal !== undefined) {
      this.refuse(authorisation, prospect.refusal);
      return;
    }
    const { cycle, required } = prospect;
    const authorisations = prospect.authorisations.slice(
      0,
      Math.max(required, prospect.authorisations.length),
    );
    const next: CycleSection = {
      ...cycle,
      authorisations,
      duress: cycle.duress || authorisation.duress,
    };
    if (existing === undefined || existing === null)
      ctx.audit("cycle.started", authorisation.personId, { via: authorisation.via });
    ctx.audit("code.accepted", authorisation.personId, {
      slot: authorisation.slot,
      via: authorisation.via,
      round: next.round,
      given: authorisations.length,
      required,
      ...(authorisation.grantId === undefined ? {} : { grantId: authorisation.grantId }),
    });
    ctx.buzz("accept");
    if (authorisations.length < required) {
      ctx.set("cycle", next);
      ctx.deadlines.secondCode = ctx.mono() + ctx.s.policy.secondCodeTimeoutSec * SECOND;
      return;
    }
    ctx.deadlines.secondCode = undefined;
    if (next.round === 1) {
      if (ctx.isTimeLocked() || ctx.s.remote.blocked) {
        this.end("cycle.cancelled", { reason: "timeLockedOrBlocked" });
        return;
      }
      this.#startDelay({ ...next, opening: authorisations }, false);
    } else {
      this.#release(next, authorisations);
    }
  }

  /**
   * The cycle on record at boot: a delay or window restarts the delay in full, an opening cut
   * off by the power loss stays authorised, anything else expires. `mark`: the lock had failed
   * secure without the store taking it, so a cycle not yet opened stays ended.
   */
  resumeAtBoot(mark: FailSecureMark | undefined): void {
    const ctx = this.#ctx;
    const cycle = ctx.s.cycle;
    if (mark !== undefined && cycle && cycle.phase !== "released" && cycle.phase !== "open") {
      this.end("cycle.expired", { reason: "failSecure" });
    } else if (cycle !== undefined && cycle !== null) {
      if ((cycle.phase === "delay" || cycle.phase === "window") && cycle.opening.length > 0) {
        this.#startDelay(
          { ...cycle, phase: "delay", round: 1, authorisations: cycle.opening },
          true,
        );
      } else if (cycle.phase === "released" || cycle.phase === "open") {
        // An opening the power loss cut off was authorised and stays on record as such: the
        // bolt is thrown now (fail-secure), a door found open continues that opening, and
        // the close seal follows once the bolt is confirmed thrown with the door closed.
        ctx.set("cycle", { ...cycle, afterRestart: true });
      } else {
        this.end("cycle.expired", { reason: "restart" });
      }
    }
  }

  #startDelay(cycle: CycleSection, afterRestart: boolean): void {
    const ctx = this.#ctx;
    const minutes = delayMinutes(ctx.s.policy, cycle.duress);
    if (minutes === 0 && !afterRestart) {
      this.#release(cycle);
      return;
    }
    if (minutes === 0) {
      // After a restart the codes are always asked for again, even without a delay.
      this.#openWindow({ ...cycle, phase: "delay", round: 1 });
      return;
    }
    ctx.set("cycle", { ...cycle, phase: "delay", round: 1 });
    ctx.deadlines.delayEnds = ctx.mono() + minutes * MINUTE;
    ctx.deadlines.windowEnds = undefined;
    ctx.audit("cycle.delayStarted", null, {
      minutes,
      endsAt: formatInstant(ctx.lockTime() + minutes * MINUTE),
      ...(afterRestart ? { restarted: true } : {}),
    });
  }

  #openWindow(cycle: CycleSection): void {
    const ctx = this.#ctx;
    ctx.deadlines.delayEnds = undefined;
    ctx.deadlines.windowEnds = ctx.mono() + ctx.s.policy.confirmationWindowMin * MINUTE;
    ctx.set("cycle", { ...cycle, phase: "window", round: 2, authorisations: [] });
    ctx.audit("cycle.windowOpened", null, { minutes: ctx.s.policy.confirmationWindowMin });
    ctx.buzz("accept");
  }

  /** `confirmedBy`: who confirmed in the window (absent when the delay is zero). */
  #release(cycle: CycleSection, confirmedBy?: readonly Authorisation[]): void {
    const ctx = this.#ctx;
    if (ctx.isTimeLocked() || ctx.s.remote.blocked) {
      this.end("cycle.cancelled", {
        reason: ctx.s.remote.blocked ? "blocked" : "timeLocked",
      });
      return;
    }
    const openingNumber = ctx.s.openings.counter + 1;
    ctx.set("openings", { counter: openingNumber });
    const grants = { ...ctx.s.grants };
    for (const grantId of new Set(
      cycle.opening.flatMap((a) => (a.grantId === undefined ? [] : [a.grantId])),
    )) {
      const stored = grants[grantId];
      if (stored !== undefined) {
        grants[grantId] = { ...stored, openings: stored.openings + 1 };
        ctx.audit("grant.used", null, {
          grantId,
          openings: stored.openings + 1,
          maxOpenings: stored.grant.maxOpenings,
        });
      }
    }
    ctx.set("grants", grants);
    if (cycle.opening.some((a) => a.via === "centralRelease")) {
      ctx.set("remote", { ...ctx.s.remote, centralRelease: undefined });
    }
    ctx.set("cycle", { ...cycle, phase: "released", openingNumber });
    ctx.deadlines.delayEnds = undefined;
    ctx.deadlines.windowEnds = undefined;
    ctx.deadlines.relock = ctx.mono() + ctx.s.policy.autoRelockSec * SECOND;
    ctx.audit("cycle.confirmed", confirmedBy?.at(-1)?.personId ?? null, {
      openingNumber,
      persons: cycle.opening.map((a) => a.personId),
      ...(confirmedBy === undefined ? {} : { confirmedBy: confirmedBy.map((a) => a.personId) }),
    });
    ctx.driveBolt("retracted");
    ctx.buzz("release");
  }

  /** A cycle that has not opened ends, on record with the phase it was in. */
  end(kind: "cycle.cancelled" | "cycle.expired", data: { reason: string }): void {
    const ctx = this.#ctx;
    const cycle = ctx.s.cycle;
    ctx.deadlines.clearCycle();
    if (cycle !== undefined && cycle !== null) {
      ctx.set("cycle", undefined);
      ctx.audit(kind, null, { phase: cycle.phase, ...data });
    }
  }

  /** The bolt is confirmed thrown: an opening ends with its close seal. */
  relocked(): void {
    const ctx = this.#ctx;
    const cycle = ctx.s.cycle;
    // Only an opening ends here: the bolt confirming "thrown" at boot must not end a delay
    // that restarted after a power loss.
    const opening =
      cycle && (cycle.phase === "released" || cycle.phase === "open") ? cycle : undefined;
    // A bolt thrown while the door still stands open (at start-up, after a power loss during
    // the opening) ends nothing yet: the opening ends, and its seal is shown, after the close.
    if (opening !== undefined && ctx.doorOpen) return;
    ctx.deadlines.relock = undefined;
    ctx.deadlines.ajar = undefined;
    this.#onRelock();
    if (opening === undefined) return;
    const seal = this.#closeSeal(opening);
    ctx.set("cycle", undefined);
    ctx.audit("lock.relocked", null, {
      openingNumber: opening.openingNumber,
      closeSeal: seal,
      ...(opening.afterRestart === true ? { afterRestart: true } : {}),
    });
    ctx.show(DISPLAY.closeSeal(seal), true);
  }

  /** Proof that this opening ended locked (close-seal.ts). */
  #closeSeal(cycle: CycleSection): string {
    const ctx = this.#ctx;
    const otp = ctx.s.otp;
    const secret = otp
      ? openSealedSecret(otp.sealed, ctx.identity.encryptionSecretKey)
      : ctx.identity.codeHashKey;
    try {
      return openingCloseSeal(secret, ctx.deviceId, cycle.openingNumber, cycle.opening);
    } finally {
      if (otp) secret.fill(0);
    }
  }

  /** The cycle's deadlines that have passed: second code, delay, window, relock. */
  tick(now: number): void {
    const ctx = this.#ctx;
    const deadlines = ctx.deadlines;
    const cycle = ctx.s.cycle;
    if (cycle && isDue(deadlines.secondCode, now) && cycle.phase === "collecting") {
      this.end("cycle.expired", { reason: "secondCodeTimeout" });
    }
    if (cycle && isDue(deadlines.secondCode, now) && cycle.phase === "window") {
      deadlines.secondCode = undefined;
      ctx.set("cycle", { ...cycle, authorisations: [] });
    }
    if (cycle && cycle.phase === "delay" && isDue(deadlines.delayEnds, now))
      this.#openWindow(cycle);
    if (ctx.s.cycle?.phase === "window" && isDue(deadlines.windowEnds, now)) {
      this.end("cycle.expired", { reason: "confirmationWindowElapsed" });
    }
    if (isDue(deadlines.relock, now)) {
      deadlines.relock = undefined;
      if (ctx.s.cycle?.phase === "released")
        ctx.audit("cycle.expired", null, { reason: "doorNotOpened" });
      // A continued opening's bolt was thrown at start-up and is confirmed there: driving it
      // again would get no answer from the sensor, so the relock is complete now.
      if (ctx.bolt === "thrown" && ctx.boltCommand === undefined) this.relocked();
      else ctx.driveBolt("thrown");
    }
  }

  /**
   * A fleet command ends the cycle: an opening in progress (bolt retracted, door maybe open)
   * ends with its relock and close seal; only a cycle that has not opened yet is cancelled.
   */
  endByCommand(reason: string): void {
    const phase = this.#ctx.s.cycle?.phase;
    if (phase !== "released" && phase !== "open") this.end("cycle.cancelled", { reason });
  }
}
