/** Who is calling: the account, the person behind it, their organisation and role. */

export const BANK_ROLES = ["securityAdmin", "branchManager", "auditor", "technician"] as const;
export const CIT_ROLES = ["citDispatcher", "citCrew"] as const;
export const ROLES = [...BANK_ROLES, ...CIT_ROLES] as const;

export type BankRole = (typeof BANK_ROLES)[number];
export type CitRole = (typeof CIT_ROLES)[number];
/** `system` is the fleet itself (expiry sweeps, bootstrap); no login account carries it. */
export type Role = BankRole | CitRole | "system";
export type OrgKind = "bank" | "cit";

export interface Principal {
  userId: string;
  personId: string;
  orgId: string;
  orgKind: OrgKind;
  role: Role;
  via: "session" | "token";
  /**
   * Branch managers only: the branches they may see and act on (named, or their region's).
   * Undefined for every other role (the whole organisation, or the contract for CIT roles).
   */
  branches?: readonly string[];
  /** After an admin-forced reset: the account may only change its password. */
  mustChangePassword?: boolean;
}

/** Roles whose accounts hold power (approve, command locks, give rights): opened by proposal. */
export const POWER_ROLES: readonly Role[] = ["securityAdmin", "branchManager", "technician"];

/** Whether a principal may act on something in `branchId` (branch managers: their branches). */
export function inBranchScope(
  principal: Pick<Principal, "role" | "branches">,
  branchId: string,
): boolean {
  if (principal.role !== "branchManager") return true;
  return principal.branches?.includes(branchId) ?? false;
}

/** The actor recorded when the fleet acts on its own. */
export const SYSTEM_ACTOR = "system";

export function roleFitsOrgKind(role: Role, kind: OrgKind): boolean {
  if (role === "system") return false;
  return kind === "bank"
    ? (BANK_ROLES as readonly string[]).includes(role)
    : (CIT_ROLES as readonly string[]).includes(role);
}
