/**
 * One-time codes for locks the network does not reach: derived per crew member and lock from
 * the lock's secret and fresh counters, shown once, only their inputs kept.
 */
import {
  formatInstant,
  type OneTimeCodeInput,
  oneTimeCode,
  parseInstant,
} from "@lockfleet/protocol";
import { FleetError } from "../errors.js";
import { otpWindowInside } from "./otp-window.js";
import type { Actor, WindowContext } from "./window-context.js";
import type { AccessWindow } from "./window-repository.js";
import type { IssuedCode } from "./window-service.js";

export class CodeIssue {
  readonly #ctx: WindowContext;

  constructor(ctx: WindowContext) {
    this.#ctx = ctx;
  }

  /**
   * One-time codes for each crew member at each lock of the container, derived from the lock's
   * secret and fresh counters. Shown once: only their inputs are kept, never the codes.
   */
  issueCodes(
    principal: Actor,
    id: string,
  ): { window: AccessWindow; notBefore: string; notAfter: string; codes: IssuedCode[] } {
    const window = this.#ctx.get(principal, id);
    if (principal.orgId !== window.citOrgId || principal.role !== "citDispatcher") {
      this.#ctx.log(principal.personId, "window.codes.refused", window, {
        role: principal.role,
        orgId: principal.orgId,
      });
      throw new FleetError(
        "E_FORBIDDEN",
        "one-time codes are shown to the CIT company's dispatcher only",
        403,
      );
    }
    if (window.status !== "approved" && window.status !== "active") {
      throw new FleetError(
        "E_WINDOW_STATE",
        `window ${id} is ${window.status}; codes exist only for an approved window`,
        409,
      );
    }
    const grid = otpWindowInside(parseInstant(window.notBefore), parseInstant(window.notAfter));
    if (grid === undefined) {
      throw new FleetError(
        "E_OTP_WINDOW",
        "one-time codes need a window holding at least one hour starting on a quarter hour (UTC)",
      );
    }
    const locks = this.#ctx.o.locks.locksOf(this.#ctx.container(window));
    if (locks.length === 0) {
      throw new FleetError(
        "E_NO_LOCK",
        `container ${window.containerId} has no lock enrolled`,
        409,
      );
    }
    const at = this.#ctx.iso();
    const codes: IssuedCode[] = [];
    this.#ctx.o.transaction(() => {
      const first = this.#ctx.o.windows.markCodesIssued(id, {
        at,
        to: principal.personId,
        otpNotBefore: formatInstant(grid.notBefore),
        otpNotAfter: formatInstant(grid.notAfter),
      });
      if (!first) {
        throw new FleetError(
          "E_CODES_ALREADY_SHOWN",
          `the one-time codes of window ${id} were shown once already`,
          409,
        );
      }
      for (const lock of locks) {
        const secret = this.#ctx.o.hub.otpSecret(lock.deviceId);
        try {
          const firstCounter = this.#ctx.o.hub.reserveOtpCounters(
            lock.deviceId,
            window.crew.length,
          );
          window.crew.forEach((personId, index) => {
            const input: OneTimeCodeInput = {
              lockId: lock.deviceId,
              counter: firstCounter + index,
              personId,
              notBefore: grid.notBefore,
              notAfter: grid.notAfter,
            };
            codes.push({ deviceId: lock.deviceId, personId, code: oneTimeCode(secret, input) });
            this.#ctx.o.windows.insertCode({
              windowId: id,
              deviceId: lock.deviceId,
              personId,
              counter: input.counter,
              issuedAt: at,
            });
          });
        } finally {
          secret.fill(0);
        }
      }
      const issued = this.#ctx.must(id);
      this.#ctx.log(principal.personId, "window.codes.issued", issued, {
        devices: locks.map((lock) => lock.deviceId),
        people: window.crew,
        notBefore: formatInstant(grid.notBefore),
        notAfter: formatInstant(grid.notAfter),
      });
    });
    this.#ctx.activate(id);
    return {
      window: this.#ctx.must(id),
      notBefore: formatInstant(grid.notBefore),
      notAfter: formatInstant(grid.notAfter),
      codes,
    };
  }
}
