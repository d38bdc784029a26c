/**
 * Openings and close seals: follows each lock's verified audit (grant installs and uses,
 * one-time codes accepted or spent, relocks), verifies the close seal of a relock or the one a
 * crew reports, closes the window on a verified seal and records a refused one.
 */
import {
  type AuditRecord,
  auditDataOf,
  CLOSE_SEAL_PATTERN,
  matchOtpCloseSeal,
  parseInstant,
  verifyOpeningSeal,
} from "@lockfleet/protocol";
import { FleetError } from "../errors.js";
import type { Actor, WindowContext } from "./window-context.js";
import { SYSTEM } from "./window-context.js";
import type { AccessWindow } from "./window-repository.js";

export class CloseSeals {
  readonly #ctx: WindowContext;

  constructor(ctx: WindowContext) {
    this.#ctx = ctx;
  }

  // ------------------------------------------------------------------ close seals

  #close(
    window: AccessWindow,
    deviceId: string,
    actor: string,
    data: Record<string, unknown>,
  ): AccessWindow {
    this.#ctx.o.windows.transition(window.id, ["approved", "active"], "closed", {
      closed_at: this.#ctx.iso(),
      closed_by_device: deviceId,
    });
    const closed = this.#ctx.must(window.id);
    this.#ctx.log(actor, "window.close", closed, { deviceId, ...data });
    this.#ctx.emit("window.closed", closed);
    return closed;
  }

  #refuseSeal(
    window: AccessWindow | undefined,
    deviceId: string | null,
    source: "audit" | "http",
    actor: string,
    reason: string,
  ): FleetError {
    const code = "E_SEAL_INVALID";
    this.#ctx.o.windows.insertSealRefusal({
      windowId: window?.id ?? null,
      deviceId,
      source,
      code,
      reason,
      at: this.#ctx.iso(),
    });
    if (window !== undefined)
      this.#ctx.log(actor, "window.closeSeal.refused", window, { deviceId, source, code, reason });
    return new FleetError(code, reason, 400);
  }

  /** The close seal as read off the lock's display and reported by the crew (offline locks). */
  closeWithSeal(principal: Actor, id: string, seal: string): AccessWindow {
    const window = this.#ctx.get(principal, id);
    if (window.status !== "approved" && window.status !== "active") {
      throw new FleetError(
        "E_WINDOW_STATE",
        `window ${id} is ${window.status}; it cannot be closed`,
        409,
      );
    }
    if (!CLOSE_SEAL_PATTERN.test(seal)) {
      throw this.#refuseSeal(window, null, "http", principal.personId, "a close seal is 8 digits");
    }
    const otpNotBefore = window.otpNotBefore;
    const otpNotAfter = window.otpNotAfter;
    if (otpNotBefore !== null && otpNotAfter !== null) {
      for (const deviceId of new Set(this.#ctx.o.windows.codes(id).map((code) => code.deviceId))) {
        const candidates = this.#ctx.o.windows
          .codes(id)
          .filter((code) => code.deviceId === deviceId)
          .map((code) => ({
            lockId: deviceId,
            counter: code.counter,
            personId: code.personId,
            notBefore: parseInstant(otpNotBefore),
            notAfter: parseInstant(otpNotAfter),
          }));
        const secret = this.#ctx.o.hub.otpSecret(deviceId);
        try {
          const match = matchOtpCloseSeal(secret, candidates, seal);
          if (match !== undefined) {
            this.#ctx.o.windows.markCodeUsed(deviceId, match.counter, this.#ctx.iso());
            return this.#close(window, deviceId, principal.personId, {
              source: "http",
              counter: match.counter,
            });
          }
        } finally {
          secret.fill(0);
        }
      }
    }
    throw this.#refuseSeal(
      window,
      null,
      "http",
      principal.personId,
      `the seal does not belong to an opening under window ${id}`,
    );
  }

  /** Follows a lock's verified audit: grant installs and uses, one-time codes, relocks. */
  onAudit(deviceId: string, records: readonly AuditRecord[]): void {
    for (const record of records) {
      try {
        this.#onRecord(deviceId, record);
      } catch (error) {
        // One bad record must not stop the others; the failure is recorded for the bank.
        this.#ctx.o.adminLog.append({
          actor: SYSTEM,
          action: "window.audit.failed",
          target: deviceId,
          data: {
            seq: record.seq,
            kind: record.kind,
            error: error instanceof Error ? error.message : String(error),
          },
        });
      }
    }
  }

  #onRecord(deviceId: string, record: AuditRecord): void {
    switch (record.kind) {
      case "grant.installed":
      case "grant.revoked": {
        const grant = auditDataOf(record, record.kind);
        const window = grant.ok ? this.#ctx.o.windows.byGrantId(grant.value.grantId) : undefined;
        if (window === undefined) return;
        const status = record.kind === "grant.installed" ? "installed" : "revoked";
        this.#ctx.o.windows.setLock(
          window.id,
          deviceId,
          status,
          { auditSeq: record.seq, at: record.at },
          this.#ctx.iso(),
        );
        if (status === "installed" && window.status === "approved") this.#ctx.activate(window.id);
        return;
      }
      case "grant.used": {
        const grant = auditDataOf(record, "grant.used");
        const window = grant.ok ? this.#ctx.o.windows.byGrantId(grant.value.grantId) : undefined;
        if (window === undefined) return;
        if (
          this.#ctx.o.windows.insertOpening({
            windowId: window.id,
            deviceId,
            via: "grant",
            auditSeq: record.seq,
            personId: record.actor,
            counter: null,
            at: record.at,
          })
        ) {
          this.#ctx.log(SYSTEM, "window.used", window, {
            deviceId,
            via: "grant",
            auditSeq: record.seq,
          });
          this.#ctx.activate(window.id);
        }
        return;
      }
      case "otp.accepted": {
        const read = auditDataOf(record, "otp.accepted");
        if (!read.ok) return;
        const data = read.value;
        const code = this.#ctx.o.windows.codeByCounter(deviceId, data.counter);
        if (code === undefined) return;
        const window = this.#ctx.o.windows.get(code.windowId);
        if (window === undefined) return;
        this.#ctx.o.windows.markCodeUsed(deviceId, data.counter, record.at);
        if (
          this.#ctx.o.windows.insertOpening({
            windowId: window.id,
            deviceId,
            via: "otp",
            auditSeq: record.seq,
            personId: record.actor ?? code.personId,
            counter: data.counter,
            at: record.at,
          })
        ) {
          this.#ctx.log(SYSTEM, "window.used", window, {
            deviceId,
            via: "otp",
            counter: data.counter,
            auditSeq: record.seq,
          });
          this.#ctx.activate(window.id);
        }
        return;
      }
      case "otp.rejected": {
        // A code the lock took but whose cycle another rule then refused is spent: the
        // dispatcher sees it as used and issues a new one.
        const read = auditDataOf(record, "otp.rejected");
        if (!read.ok) return;
        const data = read.value;
        if (data.counterSpent !== true || data.counter === undefined) return;
        const code = this.#ctx.o.windows.codeByCounter(deviceId, data.counter);
        if (code === undefined) return;
        const window = this.#ctx.o.windows.get(code.windowId);
        if (window === undefined) return;
        this.#ctx.o.windows.markCodeUsed(deviceId, data.counter, record.at);
        this.#ctx.log(SYSTEM, "window.codeSpent", window, {
          deviceId,
          counter: data.counter,
          reason: data.reason,
          auditSeq: record.seq,
        });
        return;
      }
      case "lock.relocked": {
        this.#onRelock(deviceId, record);
        return;
      }
      default:
        return;
    }
  }

  #onRelock(deviceId: string, record: AuditRecord): void {
    const openings = this.#ctx.o.windows.openOpenings(deviceId);
    if (openings.length === 0) return; // an opening that no window was involved in
    const relock = auditDataOf(record, "lock.relocked");
    const seal = relock.ok ? relock.value.closeSeal : "";
    const openingNumber = relock.ok ? relock.value.openingNumber : undefined;
    const secret = this.#ctx.o.hub.otpSecret(deviceId);
    let verified = false;
    try {
      for (const opening of openings) {
        const window = this.#ctx.o.windows.get(opening.windowId);
        if (window === undefined) continue;
        if (
          opening.via === "otp" &&
          opening.counter !== null &&
          window.otpNotBefore !== null &&
          window.otpNotAfter !== null
        ) {
          const match = matchOtpCloseSeal(
            secret,
            [
              {
                lockId: deviceId,
                counter: opening.counter,
                personId: opening.personId ?? "",
                notBefore: parseInstant(window.otpNotBefore),
                notAfter: parseInstant(window.otpNotAfter),
              },
            ],
            seal,
          );
          if (match !== undefined) verified = true;
        } else if (opening.via === "grant" && openingNumber !== undefined) {
          if (verifyOpeningSeal(secret, deviceId, openingNumber, seal)) verified = true;
        }
      }
    } finally {
      secret.fill(0);
    }
    const ids = openings.map((opening) => opening.id);
    const windowIds = [...new Set(openings.map((opening) => opening.windowId))];
    if (!verified) {
      this.#ctx.o.windows.setOpeningSeal(ids, "refused", this.#ctx.iso(), openingNumber);
      for (const windowId of windowIds) {
        this.#refuseSeal(
          this.#ctx.o.windows.get(windowId),
          deviceId,
          "audit",
          SYSTEM,
          `close seal in audit record ${record.seq} of ${deviceId} does not verify`,
        );
      }
      return;
    }
    this.#ctx.o.windows.setOpeningSeal(ids, "verified", this.#ctx.iso(), openingNumber);
    for (const windowId of windowIds) {
      const window = this.#ctx.o.windows.get(windowId);
      if (window !== undefined && (window.status === "approved" || window.status === "active")) {
        this.#close(window, deviceId, SYSTEM, { source: "audit", auditSeq: record.seq });
      }
    }
  }
}
