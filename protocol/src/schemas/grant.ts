/**
 * Signed access window (SPEC §3 "Signed access windows"). Sent to a lock as an envelope of
 * type "grant"; the lock verifies it offline with the fleet key and applies it on top of its
 * own delay, time-lock and penalty rules.
 */
import { type Static, Type } from "@sinclair/typebox";
import { DeviceId, Id, Instant, PersonId, Strict, TenantId } from "./common.js";
import { UserRole } from "./lock.js";

export const AccessGrant = Strict({
  grantId: Id,
  /** The access window this grant implements, in the fleet. */
  windowId: Type.Optional(Id),
  locks: Type.Array(DeviceId, { minItems: 1, maxItems: 64, uniqueItems: true }),
  /** Named persons, or everyone of a tenant holding a role (at least one of the two). */
  persons: Type.Optional(Type.Array(PersonId, { minItems: 1, maxItems: 32, uniqueItems: true })),
  tenantRole: Type.Optional(Strict({ tenantId: TenantId, role: UserRole })),
  notBefore: Instant,
  notAfter: Instant,
  maxOpenings: Type.Integer({ minimum: 1, maximum: 100 }),
  /** Whether the lock's dual control still applies inside the window (true) or one code suffices. */
  dualControlRequired: Type.Boolean(),
  purpose: Type.Optional(Type.String({ maxLength: 200 })),
});
export type AccessGrant = Static<typeof AccessGrant>;
