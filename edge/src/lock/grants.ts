/**
 * Signed access windows (SPEC §3): a grant verified with the fleet key lets the persons or the
 * tenant role it names take part in an opening of this lock, inside its window, up to its
 * maximum openings, until revoked — on top of the lock's own rules, never instead of them.
 */
import { parseInstant } from "@lockfleet/protocol";
import type { StoredGrant, StoredUser } from "./state.js";

export function grantApplies(
  stored: StoredGrant,
  user: Pick<StoredUser, "personId" | "tenantId" | "role">,
  lockId: string,
  now: number,
): boolean {
  const { grant, openings, revoked } = stored;
  return (
    !revoked &&
    openings < grant.maxOpenings &&
    parseInstant(grant.notBefore) <= now &&
    now < parseInstant(grant.notAfter) &&
    grant.locks.includes(lockId) &&
    ((grant.persons?.includes(user.personId) ?? false) ||
      (grant.tenantRole !== undefined &&
        grant.tenantRole.tenantId === user.tenantId &&
        grant.tenantRole.role === user.role))
  );
}

export function activeGrantFor(
  grants: Record<string, StoredGrant>,
  user: Pick<StoredUser, "personId" | "tenantId" | "role">,
  lockId: string,
  now: number,
): StoredGrant | undefined {
  return Object.values(grants).find((stored) => grantApplies(stored, user, lockId, now));
}
