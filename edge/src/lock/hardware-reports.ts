/**
 * What the lock hardware reports besides its inputs (SPEC §3: every event is on record;
 * unknown hardware and failures are reported, never silently ignored): mains failing and
 * back, a part failing while driven, a completed self-test, the background chain check.
 */
import { type AlarmKind, codeOf, type SelfTestReport } from "@lockfleet/protocol";
import { LockError } from "../errors.js";
import type { ChainVerification } from "../store/chain-verification.js";
import type { LockContext } from "./lock-context.js";
import type { BoltPosition } from "./ports.js";
import type { Sensors } from "./sensors.js";

/**
 * - `powerFail`: the optional power-fail input; mains failed (`failing`) or back
 *   (`power.failed` / `power.restored`).
 * - `partFault`: a part failed while driven (`part` is a profile part name or "board"):
 *   a lock fault for the parts in LOCK_FAULT_PARTS, else `hardware.partFault`.
 * - `boltJam`: the actuator's own timeout: the bolt sensor did not confirm a drive.
 * - `selfTest`: a completed self-test report.
 */
export type HardwareEvent =
  | { kind: "powerFail"; failing: boolean; source?: "powerFailInput" | "startUp" }
  | { kind: "partFault"; part: string; error: Error }
  | { kind: "boltJam"; expected: BoltPosition }
  | { kind: "selfTest"; report: SelfTestReport };

/**
 * Parts whose failure is a lock fault (fail-secure: bolt thrown, FAULT LOCKED) and which
 * alarm they raise: without them the bolt cannot be driven or confirmed, or a duress opening
 * cannot signal. Any other part's failure is recorded and the lock keeps working.
 */
const LOCK_FAULT_PARTS: Readonly<Record<string, AlarmKind>> = {
  boltActuator: "lockJammed",
  boltSensor: "lockJammed",
  board: "lockJammed",
  silentAlarmRelay: "selfTestFault",
};

export class HardwareReports {
  readonly #ctx: LockContext;
  readonly #sensors: Sensors;
  /** Parts whose failure is on record already (once per part until a self-test finds it ok). */
  readonly #faultedParts = new Set<string>();

  constructor(ctx: LockContext, sensors: Sensors) {
    this.#ctx = ctx;
    this.#sensors = sensors;
  }

  record(event: HardwareEvent): void {
    switch (event.kind) {
      case "powerFail":
        this.#powerFail(event.failing, event.source);
        return;
      case "partFault":
        this.#partFault(event.part, event.error);
        return;
      case "boltJam":
        // The actuator's timeout agrees with the core's own: the first one puts it on record.
        if (this.#ctx.boltCommand?.position === event.expected) this.#sensors.jammed("actuator");
        return;
      case "selfTest":
        this.#selfTestCompleted(event.report);
        return;
    }
  }

  /**
   * The power-fail input: `power.failed` / `power.restored` (never `power.lost`, which is an
   * unclean restart), with the powerLoss alarm raised and cleared through the usual records.
   */
  #powerFail(failing: boolean, source: "powerFailInput" | "startUp" = "powerFailInput"): void {
    const ctx = this.#ctx;
    const detail = { source };
    if (failing) {
      ctx.audit("power.failed", null, detail);
      ctx.raise("powerLoss", null, { ...detail, mains: "failed" });
      return;
    }
    ctx.audit("power.restored", null, detail);
    // Cleared even when this run of the lock did not raise it: the alarm may date from before
    // a restart and still be open at the fleet.
    ctx.activeAlarms.delete("powerLoss");
    ctx.audit("alarm.cleared", null, { alarm: "powerLoss", ...detail, mains: "restored" });
  }

  #partFault(part: string, error: Error): void {
    const ctx = this.#ctx;
    if (this.#faultedParts.has(part)) return;
    this.#faultedParts.add(part);
    const code = codeOf(error) ?? "E_HARDWARE_PART";
    const alarm = LOCK_FAULT_PARTS[part];
    const detail = { part, code, error: error.message.slice(0, 300) };
    if (alarm === undefined) {
      // The lock still decides and drives the bolt without it: recorded, the lock works on.
      ctx.audit("hardware.partFault", null, detail);
      return;
    }
    ctx.raise(alarm, null, detail);
    // A duress opening must look exactly like a normal one: a failed silent-alarm output
    // (its alarm reaches the fleet with the record above) locks the lock once the cycle is over.
    ctx.pendingFault = {
      error: new LockError("E_HARDWARE_PART", `${part} failed: ${error.message}`.slice(0, 280)),
      afterCycle: part === "silentAlarmRelay",
    };
  }

  #selfTestCompleted(report: SelfTestReport): void {
    const ctx = this.#ctx;
    ctx.audit("selfTest.completed", null, {
      hardwareProfile: report.hardwareProfile,
      parts: report.parts,
    });
    const faults = report.parts.filter((part) => part.result === "fault").map((p) => p.part);
    for (const part of report.parts) {
      // A part that had failed while driven and now tests ok is on record as working again.
      if (part.result === "ok" && this.#faultedParts.delete(part.part))
        ctx.audit("hardware.partRestored", null, { part: part.part });
    }
    if (faults.length > 0) ctx.raise("selfTestFault", null, { parts: faults });
    else ctx.clear("selfTestFault");
  }

  /** The background whole-chain verification; a broken chain or damaged file raises storageFault. */
  chainVerified(result: ChainVerification): void {
    const ctx = this.#ctx;
    ctx.audit("audit.verified", null, { ...result });
    if (!result.ok) {
      ctx.raise("storageFault", null, {
        code: result.code,
        ...(result.seq === undefined ? {} : { seq: result.seq }),
        error: result.message.slice(0, 300),
      });
    }
  }
}
