/**
 * The device runtime's side of software updates: the updater wired to the running lock (its
 * clock, its locked-and-idle state, its audit log, its health check), and the answer to an
 * `update.offer` command the lock core has accepted as a fleet command.
 */
import type { AuditEventKind, CommandResult, UpdateOfferBody } from "@lockfleet/protocol";
import { codeOf } from "@lockfleet/protocol";
import type { LockCore } from "../lock/lock-core.js";
import type { RuntimeLog } from "../runtime/log.js";
import type { SqliteLockStore } from "../store/sqlite-store.js";
import { runHealthCheck } from "./health-check.js";
import { SoftwareUpdater, type UpdateOptions } from "./updater.js";

export interface RunningLock {
  org: string;
  hardwareProfile: string;
  core: LockCore;
  store: SqliteLockStore;
  checkpointPublicKey: Uint8Array;
  log: RuntimeLog;
  stopped(): boolean;
  /** New audit records are in the store: sync them and publish the state. */
  recordsAppended(): void;
  selfTest: Parameters<typeof runHealthCheck>[0]["selfTest"];
  waitOnline(timeoutMs: number): Promise<void>;
  onRestartRequested?: (reason: string) => void;
}

/** The updater for a running lock; undefined (logged) when the install root cannot be read. */
export function updaterFor(options: UpdateOptions, lock: RunningLock): SoftwareUpdater | undefined {
  try {
    return new SoftwareUpdater(options, {
      hardwareProfile: lock.hardwareProfile,
      lockTime: () => lock.core.lockTime(),
      trustedTime: () => lock.core.state(lock.org).trustedTime,
      safeToSwitch: () => {
        if (lock.stopped()) return false;
        const state = lock.core.state(lock.org);
        return state.bolt === "thrown" && state.door === "closed" && state.cycle.phase === "idle";
      },
      record: (kind: AuditEventKind, data) => {
        // The lock's own record, outside any command: appended and chained like the core's.
        lock.store.commit({ events: [{ at: lock.core.lockTime(), kind, actor: null, data }] });
        lock.recordsAppended();
      },
      healthCheck: (timeoutMs) =>
        runHealthCheck(
          {
            store: lock.store,
            checkpointPublicKey: lock.checkpointPublicKey,
            selfTest: lock.selfTest,
            waitOnline: (ms) => lock.waitOnline(ms),
          },
          timeoutMs,
        ),
      requestRestart: (reason) => {
        lock.log.warn("restart requested", { reason });
        lock.onRestartRequested?.(reason);
      },
      log: lock.log,
    });
  } catch (error) {
    lock.log.error("software updates off: the install root cannot be read", {
      err: error instanceof Error ? error.message : String(error),
    });
    return undefined;
  }
}

/**
 * The result of an `update.offer` the core accepted (signature, device, expiry, replay): the
 * updater judges the release inside, and its answer is the command's result.
 */
export function answerUpdateOffer(
  updater: SoftwareUpdater | undefined,
  payload: Buffer,
  accepted: CommandResult,
): CommandResult {
  const { data: _accepted, ...result } = accepted;
  if (updater === undefined) {
    return {
      ...result,
      status: "error",
      error: {
        code: "E_UPDATE_UNSUPPORTED",
        message: "this lock runs without an A/B install root and takes no software updates",
      },
    };
  }
  let outcome: ReturnType<SoftwareUpdater["offer"]>;
  let releaseId = "unknown";
  try {
    // The exact bytes the core verified; nothing else is read.
    const envelope = JSON.parse(payload.toString("utf8")) as { payload: string };
    const body = (JSON.parse(envelope.payload) as { body: UpdateOfferBody }).body;
    const id = (JSON.parse(body.release.payload) as { releaseId?: unknown }).releaseId;
    if (typeof id === "string") releaseId = id;
    outcome = updater.offer(body);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    outcome = {
      ok: false,
      code: codeOf(error) ?? "E_UPDATE_FAILED",
      message,
    };
  }
  return outcome.ok
    ? { ...result, data: { releaseId, accepted: true } }
    : {
        ...result,
        status: "error",
        error: { code: outcome.code, message: outcome.message.slice(0, 1000) },
      };
}
