/**
 * Checks the device runtime runs in the background once the lock is up: the whole audit chain
 * is verified (store/chain-verification.ts) and the outcome goes on record through the core
 * (`audit.verified`, and a storageFault alarm when the chain is broken or the file damaged),
 * so the fleet sees it with the audit sync.
 */
import type { LockCore } from "../lock/lock-core.js";
import { verifyWholeChain } from "../store/chain-verification.js";
import type { SqliteLockStore } from "../store/sqlite-store.js";
import type { RuntimeLog } from "./log.js";

export interface BackgroundChecksOptions {
  store: SqliteLockStore;
  core: Pick<LockCore, "recordChainVerification">;
  checkpointPublicKey: Uint8Array;
  log: RuntimeLog;
  /** After the outcome went on record (re-arm the scheduler, publish state). */
  afterInput: () => void;
  /** Wait this long after start before walking the chain. Default 2 s. */
  delayMs?: number;
}

/** Starts the checks; returns the function that cancels what has not finished. */
export function startBackgroundChecks(options: BackgroundChecksOptions): () => void {
  let cancelled = false;
  const timer = setTimeout(() => {
    const started = Date.now();
    verifyWholeChain(options.store, {
      checkpointPublicKey: options.checkpointPublicKey,
      cancelled: () => cancelled,
      integrityProblems: () => options.store.integrityProblems(),
    }).then(
      (result) => {
        if (result === undefined || cancelled) return;
        const fields = { ...result, ms: Date.now() - started };
        if (result.ok) options.log.info("audit chain verified", fields);
        else options.log.error("audit chain verification failed", fields);
        options.core.recordChainVerification(result);
        options.afterInput();
      },
      (error: unknown) =>
        options.log.error("audit chain verification did not run", {
          err: error instanceof Error ? error.message : String(error),
        }),
    );
  }, options.delayMs ?? 2000);
  timer.unref();
  return () => {
    cancelled = true;
    clearTimeout(timer);
  };
}
