/**
 * The first administrator (`lockfleet-fleet init`) and seeding in tests: a bank organisation,
 * its first person — identified and enabled by the fleet itself, recorded as `system` — and a
 * security admin account for that person.
 */
import type { AdminLog } from "../admin-log.js";
import type { OrgsRepository } from "../storage/orgs-repository.js";
import type { PeopleRepository, Person } from "../storage/people-repository.js";
import type { User, UsersRepository } from "../storage/users-repository.js";
import { DEFAULT_SCRYPT, hashPassword, type ScryptParameters } from "./passwords.js";
import { type BankRole, type CitRole, SYSTEM_ACTOR } from "./principal.js";

export interface CoreStores {
  orgs: OrgsRepository;
  people: PeopleRepository;
  users: UsersRepository;
}

/** A person identified and enabled by `by` (the fleet itself when seeding), with an account. */
export async function createEnabledAccount(
  stores: CoreStores,
  input: {
    orgId: string;
    name: string;
    role: BankRole | CitRole;
    email: string;
    password: string;
    now: number;
    by?: string;
    passwordHashing?: ScryptParameters;
  },
): Promise<{ person: Person; user: User }> {
  const by = input.by ?? SYSTEM_ACTOR;
  const created = stores.people.create({
    orgId: input.orgId,
    name: input.name,
    createdBy: by,
    now: input.now,
  });
  stores.people.identify(created.id, { by, documentType: "other", now: input.now });
  stores.people.enable(created.id, { by, now: input.now });
  const user = stores.users.create({
    personId: created.id,
    orgId: input.orgId,
    role: input.role,
    email: input.email.toLowerCase(),
    passwordHash: await hashPassword(input.password, input.passwordHashing ?? DEFAULT_SCRYPT),
    now: input.now,
  });
  return { person: stores.people.get(created.id, input.now) as Person, user };
}

export async function initFirstAdmin(
  stores: CoreStores & { adminLog: AdminLog },
  input: { bankName: string; adminName: string; email: string; password: string; now: number },
) {
  if (stores.users.emailTaken(input.email.toLowerCase())) {
    throw new Error(`E_INIT_EXISTS: an account for ${input.email} already exists`);
  }
  const bank = stores.orgs.createOrg({ kind: "bank", name: input.bankName });
  const { person, user } = await createEnabledAccount(stores, {
    orgId: bank.id,
    name: input.adminName,
    role: "securityAdmin",
    email: input.email,
    password: input.password,
    now: input.now,
  });
  stores.adminLog.append({
    actor: SYSTEM_ACTOR,
    action: "fleet.init",
    target: user.id,
    orgId: bank.id,
    data: { bankName: bank.name, personId: person.id, email: user.email },
  });
  return { bank, person, user };
}
