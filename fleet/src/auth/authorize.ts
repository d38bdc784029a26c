/**
 * Authorisation by role and scope (SPEC §5): `app.authorize(...roles)` guards a route by role
 * (401 `E_UNAUTHENTICATED` without credentials, 403 `E_FORBIDDEN` for another role); the scope
 * checks below guard every read and write by organisation and contract. Something outside the
 * caller's scope answers 404, as if it did not exist, so ids of other tenants cannot be probed.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { FleetError, notFound, outOfScope } from "../errors.js";
import type { Contract, ContractsRepository } from "../storage/contracts-repository.js";
import type { Branch, Container, Org, OrgsRepository } from "../storage/orgs-repository.js";
import { inBranchScope, type Principal, type Role } from "./principal.js";

export type AuthorizeHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

export function unauthenticated(): FleetError {
  return new FleetError("E_UNAUTHENTICATED", "log in or present an API token first", 401);
}

/** The preHandler/onRequest hook behind `app.authorize(...roles)`. */
export function authorizeRoles(
  roles: readonly Role[],
  onRefused?: (request: FastifyRequest, principal: Principal) => void,
): AuthorizeHook {
  const allowed = new Set<Role>(roles);
  return async (request) => {
    const principal = request.principal;
    if (principal === undefined || principal === null) throw unauthenticated();
    if (
      principal.mustChangePassword === true &&
      request.routeOptions.url !== "/api/v1/auth/password"
    ) {
      throw new FleetError(
        "E_PASSWORD_CHANGE_REQUIRED",
        "this account's password was reset; change it (POST /api/v1/auth/password) before anything else",
        403,
      );
    }
    if (!allowed.has(principal.role)) {
      onRefused?.(request, principal);
      throw new FleetError(
        "E_FORBIDDEN",
        `role ${principal.role} may not ${request.method} ${request.routeOptions.url ?? request.url}`,
        403,
      );
    }
  };
}

/** The principal of an authorised request (routes guarded by `app.authorize`). */
export function principalOf(request: FastifyRequest): Principal {
  const principal = request.principal;
  if (principal === undefined || principal === null) throw unauthenticated();
  return principal;
}

/**
 * A bank principal acts on its own organisation only. CIT principals act on their own
 * organisation only too; their sight of a bank's containers goes through contracts
 * (`assertContainerScope`).
 */
export function assertOrgScope(principal: Principal, orgId: string): void {
  if (principal.role === "system") return;
  if (principal.orgId !== orgId) throw outOfScope("organisation", orgId, orgId);
}

/**
 * Scope checks that need the database, decorated once as `app.scope`. Every part calls these
 * before it reads or changes anything tied to an organisation, a branch or a container.
 */
export class Scope {
  constructor(
    private readonly orgs: OrgsRepository,
    private readonly contracts: ContractsRepository,
    private readonly clock: () => number,
  ) {}

  assertOrg(principal: Principal, orgId: string): void {
    assertOrgScope(principal, orgId);
  }

  /** Organisations visible to the principal: its own, plus the other side of its contracts. */
  org(principal: Principal, orgId: string): Org {
    const org = this.orgs.getOrg(orgId);
    if (org === undefined) throw notFound("organisation", orgId);
    if (principal.role === "system" || org.id === principal.orgId) return org;
    if (principal.orgKind === "bank") {
      if (org.sponsorOrgId === principal.orgId) return org;
      const contracted = this.contracts
        .list({ bankOrgId: principal.orgId, citOrgId: org.id }, { limit: 1 })
        .items.some(() => true);
      if (contracted) return org;
    } else if (
      this.contracts
        .inForceForCit(principal.orgId, this.clock())
        .some((contract) => contract.bankOrgId === org.id)
    ) {
      return org;
    }
    throw outOfScope("organisation", orgId, org.id);
  }

  /** Whether a bank principal manages `orgId`: its own org, or a CIT company it registered. */
  manages(principal: Principal, orgId: string): boolean {
    if (principal.role === "system" || principal.orgId === orgId) return true;
    if (principal.orgKind !== "bank") return false;
    return this.orgs.getOrg(orgId)?.sponsorOrgId === principal.orgId;
  }

  /** Container ids a CIT principal may see now; `undefined` for bank principals (own org). */
  citContainerIds(principal: Principal): string[] | undefined {
    if (principal.orgKind !== "cit" || principal.role === "system") return undefined;
    return this.contracts.containerIdsForCit(principal.orgId, this.clock());
  }

  /**
   * The contract in force now between `citOrgId` and the bank that lists `containerId`, if any:
   * what a window request by that CIT company is checked against (standing windows).
   */
  contractInForce(citOrgId: string, containerId: string): Contract | undefined {
    return this.contracts.inForceFor(citOrgId, containerId, this.clock());
  }

  /** The container, if the principal may see it: bank → own org; CIT → under a contract in force. */
  container(principal: Principal, containerId: string): Container {
    const container = this.orgs.getContainer(containerId);
    if (container === undefined) throw notFound("container", containerId);
    if (principal.role === "system") return container;
    if (principal.orgKind === "bank") {
      if (container.orgId !== principal.orgId || !inBranchScope(principal, container.branchId)) {
        throw outOfScope("container", containerId, container.orgId);
      }
      return container;
    }
    if (this.contracts.inForceFor(principal.orgId, containerId, this.clock()) === undefined) {
      throw outOfScope("container", containerId, container.orgId);
    }
    return container;
  }

  /** The branch, if the principal may see it: bank → own org; CIT → holds a contracted container. */
  branch(principal: Principal, branchId: string): Branch {
    const branch = this.orgs.getBranch(branchId);
    if (branch === undefined) throw notFound("branch", branchId);
    if (principal.role === "system") return branch;
    if (principal.orgKind === "bank") {
      if (branch.orgId !== principal.orgId || !inBranchScope(principal, branch.id)) {
        throw outOfScope("branch", branchId, branch.orgId);
      }
      return branch;
    }
    const ids = this.citContainerIds(principal) ?? [];
    const holds = ids.some((id) => this.orgs.getContainer(id)?.branchId === branch.id);
    if (!holds) throw outOfScope("branch", branchId, branch.orgId);
    return branch;
  }
}

/** Alias under the name ARCHITECTURE.md uses; needs the app's scope (`app.scope.container`). */
export function assertContainerScope(
  scope: Scope,
  principal: Principal,
  containerId: string,
): Container {
  return scope.container(principal, containerId);
}
