/**
 * A window's deciding approval and its decision are separate writes: a fleet that stops
 * between them (killed, power lost) leaves the window "requested" with every approval it
 * needs, and neither officer may approve again (the same person never counts twice), so
 * nothing would ever grant it. At start-up such a deciding approval is withdrawn, on the
 * admin log: its officer approves again and the decision — grant and delivery — is taken whole.
 * The approval is withdrawn rather than acted on because its grant was never signed or sent.
 */
import type { AdminLog } from "../admin-log.js";
import type { WindowRepository } from "./window-repository.js";

export function withdrawInterruptedApprovals(
  windows: WindowRepository,
  adminLog: AdminLog,
): number {
  let withdrawn = 0;
  for (const { windowId, bankOrgId, personId } of windows.undecidedApprovals()) {
    if (!windows.withdrawApproval(windowId, personId)) continue;
    adminLog.append({
      actor: "system",
      action: "window.approve.withdrawn",
      target: windowId,
      orgId: bankOrgId,
      data: {
        personId,
        reason: "the fleet stopped between this approval and the decision; approve again",
      },
    });
    withdrawn += 1;
  }
  return withdrawn;
}
