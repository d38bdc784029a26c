/**
 * Who may decide an access window, and when enough people have (SPEC §5 "Access windows"):
 * bank officers of the container's bank — a security admin or a branch manager — never anyone
 * of the CIT company and never a member of the crew; where the container's policy asks for
 * dual control, two distinct people, and the same person twice counts once.
 */
import type { LockPolicy } from "@lockfleet/protocol";
import type { Principal, Role } from "../auth/principal.js";
import type { FleetCode } from "../error-catalogue.js";

export const WINDOW_APPROVER_ROLES = ["securityAdmin", "branchManager"] as const satisfies Role[];

/**
 * Two approvers wherever the container itself requires more than one code: the four-eyes rule
 * at the lock extends to the remote decision that stands in for a bank officer's presence.
 */
export function approvalsRequired(policy: Pick<LockPolicy, "dualControl"> | undefined): 1 | 2 {
  return policy?.dualControl === "single" ? 1 : 2;
}

export interface WindowParties {
  bankOrgId: string;
  citOrgId: string;
  crew: readonly string[];
  requestedBy: string;
}

export type ApprovalRefusal = { code: FleetCode; message: string; statusCode: 403 | 409 };

/** Why `principal` may not approve (or reject) this window, or undefined when they may. */
export function approvalRefusal(
  principal: Pick<Principal, "role" | "orgId" | "orgKind" | "personId">,
  window: WindowParties,
  approvedBy: readonly string[],
): ApprovalRefusal | undefined {
  if (principal.orgKind !== "bank" || principal.orgId !== window.bankOrgId) {
    return {
      code: "E_FORBIDDEN",
      message: "only officers of the bank that owns the container decide its access windows",
      statusCode: 403,
    };
  }
  if (!(WINDOW_APPROVER_ROLES as readonly string[]).includes(principal.role)) {
    return {
      code: "E_FORBIDDEN",
      message: `role ${principal.role} may not decide access windows (security admin or branch manager)`,
      statusCode: 403,
    };
  }
  if (window.crew.includes(principal.personId) || window.requestedBy === principal.personId) {
    return {
      code: "E_FORBIDDEN",
      message: "a member of the crew or the requester may not decide their own window",
      statusCode: 403,
    };
  }
  if (approvedBy.includes(principal.personId)) {
    return {
      code: "E_SAME_APPROVER",
      message: "this person has already approved; a second approval must come from someone else",
      statusCode: 409,
    };
  }
  return undefined;
}

/** Distinct people among the approvals: what counts towards the required number. */
export function distinctApprovers(approvedBy: readonly string[]): number {
  return new Set(approvedBy).size;
}
