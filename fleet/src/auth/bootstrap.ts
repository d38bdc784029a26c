/**
 * A new bank (`lockfleet-fleet init`) and seeding in tests: a bank organisation and its first
 * two security officers — identified and enabled by the fleet itself, recorded as `system` —
 * so that every power change from then on has a second, independent officer to approve it.
 * A bank set up with one officer runs without dual control until `add-officer` gives it a
 * second (only while it has fewer than two).
 */
import { CodedError } from "@lockfleet/protocol";
import type { AdminLog } from "../admin-log.js";
import type { OrgsRepository } from "../storage/orgs-repository.js";
import type { PeopleRepository, Person } from "../storage/people-repository.js";
import type { BranchScope, User, UsersRepository } from "../storage/users-repository.js";
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
    /** Branch managers: their branches or region. */
    scope?: BranchScope;
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
    createdBy: by,
    ...(input.scope === undefined ? {} : { scope: input.scope }),
  });
  return { person: stores.people.get(created.id, input.now) as Person, user };
}

export interface OfficerInput {
  name: string;
  email: string;
  password: string;
}

export async function initFirstAdmin(
  stores: CoreStores & { adminLog: AdminLog },
  input: {
    bankName: string;
    adminName: string;
    email: string;
    password: string;
    now: number;
    /** The second officer; without one the bank runs without dual control until added. */
    second?: OfficerInput;
    passwordHashing?: ScryptParameters;
  },
) {
  const emails = [input.email, ...(input.second === undefined ? [] : [input.second.email])].map(
    (email) => email.toLowerCase(),
  );
  if (new Set(emails).size !== emails.length) {
    throw new CodedError(
      "E_INIT_SAME_EMAIL",
      "the two officers need two different e-mail addresses",
    );
  }
  for (const email of emails) {
    if (stores.users.emailTaken(email)) {
      throw new CodedError("E_INIT_EXISTS", `an account for ${email} already exists`);
    }
  }
  const bank = stores.orgs.createOrg({ kind: "bank", name: input.bankName });
  const officers = [];
  for (const officer of [
    { name: input.adminName, email: input.email, password: input.password },
    ...(input.second === undefined ? [] : [input.second]),
  ]) {
    const { person, user } = await createEnabledAccount(stores, {
      orgId: bank.id,
      name: officer.name,
      role: "securityAdmin",
      email: officer.email,
      password: officer.password,
      now: input.now,
      ...(input.passwordHashing === undefined ? {} : { passwordHashing: input.passwordHashing }),
    });
    officers.push({ person, user });
  }
  const first = officers[0] as { person: Person; user: User };
  stores.adminLog.append({
    actor: SYSTEM_ACTOR,
    action: "fleet.init",
    target: first.user.id,
    orgId: bank.id,
    data: {
      bankName: bank.name,
      officers: officers.map(({ person, user }) => ({ personId: person.id, email: user.email })),
      dualControl: officers.length >= 2,
    },
  });
  return {
    bank,
    person: first.person,
    user: first.user,
    officers,
    dualControl: officers.length >= 2,
  };
}

/**
 * The second officer of a bank that was set up with one (`lockfleet-fleet add-officer`, run by
 * the operator on the fleet's machine): refused once the bank has two active officers, after
 * which every new officer is a proposal.
 */
export async function addBootstrapOfficer(
  stores: CoreStores & { adminLog: AdminLog },
  input: OfficerInput & { bankId: string; now: number; passwordHashing?: ScryptParameters },
) {
  const bank = stores.orgs.getOrg(input.bankId);
  if (bank === undefined || bank.kind !== "bank") {
    throw new CodedError("E_NOT_FOUND", `no bank ${input.bankId}`);
  }
  const officers = stores.users.activeOfficers(bank.id, input.now);
  if (officers.length >= 2) {
    throw new CodedError(
      "E_DUAL_CONTROL_EXISTS",
      `${bank.name} already has ${officers.length} officers; a new officer is a proposal a second officer approves`,
    );
  }
  if (stores.users.emailTaken(input.email.toLowerCase())) {
    throw new CodedError("E_INIT_EXISTS", `an account for ${input.email} already exists`);
  }
  const { person, user } = await createEnabledAccount(stores, {
    orgId: bank.id,
    name: input.name,
    role: "securityAdmin",
    email: input.email,
    password: input.password,
    now: input.now,
    ...(input.passwordHashing === undefined ? {} : { passwordHashing: input.passwordHashing }),
  });
  stores.adminLog.append({
    actor: SYSTEM_ACTOR,
    action: "fleet.addOfficer",
    target: user.id,
    orgId: bank.id,
    data: { personId: person.id, email: user.email, officers: officers.length + 1 },
  });
  return { bank, person, user };
}
