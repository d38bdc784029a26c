/**
 * The health check a new version must pass after a switch: its lock store opens (the runtime
 * would not have started otherwise, and the head is read again here), the whole audit chain
 * verifies with the device's checkpoint key, the hardware self-test finds no faulty part, and
 * the fleet is reachable. Any failure rolls the version back (updater.ts).
 */
import type { SelfTestReport } from "@lockfleet/protocol";
import { verifyWholeChain } from "../store/chain-verification.js";
import type { LockStore } from "../store/lock-store.js";
import type { HealthReport } from "./updater.js";

export interface HealthSubject {
  store: Pick<LockStore, "auditBase" | "auditHead" | "auditRange" | "latestCheckpoint">;
  checkpointPublicKey: Uint8Array;
  selfTest(): Promise<SelfTestReport>;
  waitOnline(timeoutMs: number): Promise<void>;
}

export async function runHealthCheck(
  subject: HealthSubject,
  timeoutMs: number,
): Promise<HealthReport> {
  const checks: HealthReport["checks"] = [];
  try {
    subject.store.auditHead();
    checks.push({ check: "store", ok: true });
  } catch (error) {
    checks.push({ check: "store", ok: false, code: "E_STORAGE", message: messageOf(error) });
  }
  const chain = await verifyWholeChain(subject.store, {
    checkpointPublicKey: subject.checkpointPublicKey,
  }).catch((error: unknown) => ({
    ok: false as const,
    code: "E_AUDIT_CHAIN_BROKEN",
    message: messageOf(error),
  }));
  if (chain === undefined || chain.ok) checks.push({ check: "auditChain", ok: true });
  else checks.push({ check: "auditChain", ok: false, code: chain.code, message: chain.message });
  try {
    const report = await subject.selfTest();
    const faults = report.parts.filter((part) => part.result === "fault").map((part) => part.part);
    checks.push(
      faults.length === 0
        ? { check: "selfTest", ok: true }
        : {
            check: "selfTest",
            ok: false,
            code: "E_SELF_TEST_FAILED",
            message: `faulty parts: ${faults.join(", ")}`,
          },
    );
  } catch (error) {
    checks.push({
      check: "selfTest",
      ok: false,
      code: "E_SELF_TEST_FAILED",
      message: messageOf(error),
    });
  }
  try {
    await subject.waitOnline(timeoutMs);
    checks.push({ check: "fleet", ok: true });
  } catch (error) {
    checks.push({
      check: "fleet",
      ok: false,
      code: "E_FLEET_UNREACHABLE",
      message: messageOf(error),
    });
  }
  return { ok: checks.every((check) => check.ok), checks };
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 300);
}
