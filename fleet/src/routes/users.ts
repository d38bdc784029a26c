/**
 * Login accounts per role. Each account belongs to a person of the same organisation; the role
 * must fit the organisation's kind (bank roles in a bank, CIT roles in a CIT company). A bank's
 * security admin manages its own and its registered CIT companies' accounts; a CIT dispatcher
 * may open crew accounts in their own company. An account that holds power (security admin,
 * branch manager, technician), a change of role or scope, and a forced password reset of such
 * an account are proposals a second officer approves (routes/proposals.ts); a branch manager
 * is always bound to named branches or a region.
 */
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/authorize.js";
import { assertEmail, assertPasswordAcceptable } from "../auth/password-policy.js";
import { generatePassword, hashPassword, MIN_PASSWORD_LENGTH } from "../auth/passwords.js";
import {
  POWER_ROLES,
  type Principal,
  ROLES,
  type Role,
  roleFitsOrgKind,
} from "../auth/principal.js";
import { conflict, FleetError, notFound } from "../errors.js";
import type { BranchScope, User } from "../storage/users-repository.js";
import { UserView } from "./auth.js";
import { idParams, PageOf, pageQueryWith } from "./common.js";
import { ProposalAccepted, proposalView } from "./proposals.js";

const RoleSchema = Type.Union(ROLES.map((role) => Type.Literal(role)));
const ScopeFields = {
  branchIds: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      minItems: 1,
      maxItems: 200,
      uniqueItems: true,
      description: "Branch manager: the branches the account acts on",
    }),
  ),
  regionId: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 64,
      description: "Branch manager: every branch of this region",
    }),
  ),
};
const CreateUserBody = Type.Object(
  {
    personId: Type.String({ maxLength: 64 }),
    role: RoleSchema,
    email: Type.String({ minLength: 3, maxLength: 254 }),
    password: Type.Optional(
      Type.String({
        minLength: MIN_PASSWORD_LENGTH,
        maxLength: 1024,
        description: "Omit to have one generated and shown once in the answer",
      }),
    ),
    ...ScopeFields,
  },
  { additionalProperties: false },
);
const RoleBody = Type.Object({ role: RoleSchema, ...ScopeFields }, { additionalProperties: false });
const UsersQuery = pageQueryWith({ orgId: Type.Optional(Type.String({ maxLength: 64 })) });
const UserParams = idParams("userId");
const CreatedUser = Type.Object({
  user: UserView,
  generatedPassword: Type.Optional(Type.String()),
});

export const userRoutes: FastifyPluginAsync = async (app) => {
  const { users, people, orgs } = app.repos;
  const readers = app.authorize("securityAdmin", "auditor", "citDispatcher");
  const creators = app.authorize("securityAdmin", "citDispatcher");
  const closers = app.authorize("securityAdmin", "citDispatcher");
  const securityAdmin = app.authorize("securityAdmin");

  /** A branch manager's scope, checked against the bank's own branches and regions. */
  const checkScope = (orgId: string, role: Role, scope: BranchScope): BranchScope | undefined => {
    if (role !== "branchManager") {
      if (scope.branchIds !== undefined || scope.regionId !== undefined) {
        throw new FleetError("E_SCOPE", "only a branch manager is bound to branches or a region");
      }
      return undefined;
    }
    if ((scope.branchIds === undefined) === (scope.regionId === undefined)) {
      throw new FleetError(
        "E_SCOPE_REQUIRED",
        "a branch manager is bound to named branches (branchIds) or one region (regionId)",
      );
    }
    for (const id of scope.branchIds ?? []) {
      if (orgs.getBranch(id)?.orgId !== orgId) throw notFound("branch", id);
    }
    if (scope.regionId !== undefined) {
      const region = orgs.getRegion(scope.regionId);
      if (region === undefined || region.orgId !== orgId) throw notFound("region", scope.regionId);
    }
    return scope;
  };

  const userInScope = (principal: Principal, userId: string): User => {
    const user = users.get(userId);
    if (user === undefined || !app.scope.manages(principal, user.orgId)) {
      throw notFound("user", userId);
    }
    return user;
  };

  app.get<{ Querystring: Static<typeof UsersQuery> }>(
    "/users",
    {
      onRequest: readers,
      schema: { tags: ["people"], querystring: UsersQuery, response: { 200: PageOf(UserView) } },
    },
    async (request) => {
      const principal = principalOf(request);
      const { orgId, ...page } = request.query;
      const target = orgId ?? principal.orgId;
      if (!app.scope.manages(principal, target)) throw notFound("organisation", target);
      return users.list([target], page);
    },
  );

  app.post<{ Body: Static<typeof CreateUserBody> }>(
    "/users",
    {
      onRequest: creators,
      schema: {
        summary:
          "Open a login account for a person; an account with power (security admin, branch manager, technician) is a proposal (202) a second officer approves",
        tags: ["people"],
        body: CreateUserBody,
        response: { 201: CreatedUser, 202: ProposalAccepted },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const body = request.body;
      const person = people.get(body.personId, app.clock());
      if (person === undefined || !app.scope.manages(principal, person.orgId)) {
        throw notFound("person", body.personId);
      }
      if (person.status === "deleted")
        throw conflict("E_PERSON_DELETED", `person ${person.id} was deleted`);
      if (person.id === principal.personId) {
        throw new FleetError("E_SELF_SERVICE", "nobody opens an account for themselves", 403);
      }
      const org = orgs.getOrg(person.orgId);
      if (org === undefined) throw notFound("organisation", person.orgId);
      if (!roleFitsOrgKind(body.role, org.kind)) {
        throw new FleetError(
          "E_ROLE_ORG",
          `role ${body.role} does not exist in a ${org.kind} organisation`,
        );
      }
      if (principal.role === "citDispatcher" && body.role !== "citCrew") {
        throw new FleetError("E_FORBIDDEN", "a CIT dispatcher may open crew accounts only", 403);
      }
      assertEmail(body.email);
      const email = body.email.toLowerCase();
      if (users.emailTaken(email))
        throw conflict("E_EMAIL_TAKEN", `${email} already has an account`);
      if (body.password !== undefined) assertPasswordAcceptable(body.password);
      const scope = checkScope(person.orgId, body.role, body);
      if (POWER_ROLES.includes(body.role)) {
        const proposal = app.proposals.propose(principal, {
          orgId: person.orgId,
          kind: "user.create",
          subjectPersonId: person.id,
          payload: {
            personId: person.id,
            role: body.role,
            email,
            ...(scope ?? {}),
            ...(body.password === undefined
              ? {}
              : {
                  passwordHash: await hashPassword(body.password, app.authSettings.passwordHashing),
                }),
          },
          summary: `${body.role} account <${email}> for ${person.name}`,
        });
        return reply.code(202).send({ proposal: proposalView(proposal) });
      }
      const generatedPassword = body.password === undefined ? generatePassword() : undefined;
      const passwordHash = await hashPassword(
        body.password ?? (generatedPassword as string),
        app.authSettings.passwordHashing,
      );
      const user = app.store.transaction(() => {
        const user = users.create({
          personId: person.id,
          orgId: person.orgId,
          role: body.role,
          email,
          passwordHash,
          now: app.clock(),
          createdBy: principal.personId,
        });
        app.adminLog.append({
          actor: principal.personId,
          action: "user.create",
          target: user.id,
          orgId: user.orgId,
          data: { personId: person.id, role: user.role, email },
        });
        return user;
      });
      return reply
        .code(201)
        .send({ user, ...(generatedPassword === undefined ? {} : { generatedPassword }) });
    },
  );

  app.proposals.register("user.create", async (proposal, approver) => {
    // the payload was written by this route's own proposal above
    const p = proposal.payload as unknown as {
      personId: string;
      role: Exclude<Role, "system">;
      email: string;
      passwordHash?: string;
    } & BranchScope;
    if (users.emailTaken(p.email))
      throw conflict("E_EMAIL_TAKEN", `${p.email} already has an account`);
    const person = people.get(p.personId, app.clock());
    if (person === undefined || person.status === "deleted") {
      throw conflict("E_PERSON_DELETED", `person ${p.personId} no longer exists`);
    }
    const generatedPassword = p.passwordHash === undefined ? generatePassword() : undefined;
    const passwordHash =
      p.passwordHash ??
      (await hashPassword(generatedPassword as string, app.authSettings.passwordHashing));
    const user = app.store.transaction(() => {
      const created = users.create({
        personId: p.personId,
        orgId: proposal.orgId,
        role: p.role,
        email: p.email,
        passwordHash,
        now: app.clock(),
        createdBy: proposal.proposedBy,
        proposalId: proposal.id,
        scope: { branchIds: p.branchIds, regionId: p.regionId },
      });
      app.adminLog.append({
        actor: approver.personId,
        action: "user.create",
        target: created.id,
        orgId: created.orgId,
        data: {
          personId: p.personId,
          role: created.role,
          email: p.email,
          proposalId: proposal.id,
          proposedBy: proposal.proposedBy,
        },
      });
      return created;
    });
    return {
      answer: { user, ...(generatedPassword === undefined ? {} : { generatedPassword }) },
      result: { userId: user.id },
    };
  });

  app.post<{ Params: Static<typeof UserParams>; Body: Static<typeof RoleBody> }>(
    "/users/:userId/role",
    {
      onRequest: securityAdmin,
      schema: {
        summary: "Propose a new role or branch scope for an account (a second officer approves)",
        tags: ["people"],
        params: UserParams,
        body: RoleBody,
        response: { 202: ProposalAccepted },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const user = userInScope(principal, request.params.userId);
      const org = orgs.getOrg(user.orgId);
      if (org === undefined || !roleFitsOrgKind(request.body.role, org.kind)) {
        throw new FleetError(
          "E_ROLE_ORG",
          `role ${request.body.role} does not fit this organisation`,
        );
      }
      const scope = checkScope(user.orgId, request.body.role, request.body);
      const proposal = app.proposals.propose(principal, {
        orgId: user.orgId,
        kind: "user.role",
        subjectPersonId: user.personId,
        payload: { userId: user.id, role: request.body.role, ...(scope ?? {}) },
        summary: `account <${user.email}>: ${user.role} → ${request.body.role}`,
      });
      return reply.code(202).send({ proposal: proposalView(proposal) });
    },
  );

  app.proposals.register("user.role", async (proposal, approver) => {
    // the payload was written by this route's own proposal above
    const p = proposal.payload as unknown as {
      userId: string;
      role: Exclude<Role, "system">;
    } & BranchScope;
    const user = users.get(p.userId);
    if (user === undefined || user.disabledAt !== undefined) {
      throw conflict("E_USER_DISABLED", `account ${p.userId} is closed`);
    }
    app.store.transaction(() => {
      users.setRole(user.id, {
        role: p.role,
        scope: { branchIds: p.branchIds, regionId: p.regionId },
        proposalId: proposal.id,
      });
      app.adminLog.append({
        actor: approver.personId,
        action: "user.role",
        target: user.id,
        orgId: user.orgId,
        data: {
          from: user.role,
          to: p.role,
          proposalId: proposal.id,
          proposedBy: proposal.proposedBy,
        },
      });
    });
    return { answer: { user: users.get(user.id) }, result: { userId: user.id, role: p.role } };
  });

  app.post<{ Params: Static<typeof UserParams> }>(
    "/users/:userId/password-reset",
    {
      onRequest: securityAdmin,
      schema: {
        summary:
          "Force a password reset: a one-time password, changed at the next login; for an account with power a proposal (202)",
        tags: ["people"],
        params: UserParams,
        response: {
          200: Type.Object({ user: UserView, temporaryPassword: Type.String() }),
          202: ProposalAccepted,
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const user = userInScope(principal, request.params.userId);
      if (user.disabledAt !== undefined) {
        throw conflict("E_USER_DISABLED", `account ${user.id} is closed`);
      }
      if (user.personId === principal.personId) {
        throw new FleetError(
          "E_SELF_SERVICE",
          "change your own password with POST /api/v1/auth/password",
          403,
        );
      }
      if (POWER_ROLES.includes(user.role)) {
        // whoever knows the one-time password can act as that officer: a second officer decides
        const proposal = app.proposals.propose(principal, {
          orgId: user.orgId,
          kind: "user.passwordReset",
          subjectPersonId: user.personId,
          payload: { userId: user.id },
          summary: `password reset of <${user.email}> (${user.role})`,
        });
        reply.header("cache-control", "no-store");
        return reply.code(202).send({ proposal: proposalView(proposal) });
      }
      return { user, temporaryPassword: await resetPassword(principal.personId, user, undefined) };
    },
  );

  const resetPassword = async (
    actor: string,
    user: User,
    proposalId: string | undefined,
  ): Promise<string> => {
    const temporary = generatePassword();
    const passwordHash = await hashPassword(temporary, app.authSettings.passwordHashing);
    app.store.transaction(() => {
      users.setPassword(user.id, { passwordHash, mustChange: true, now: app.clock() });
      app.adminLog.append({
        actor,
        action: "user.passwordReset",
        target: user.id,
        orgId: user.orgId,
        data: proposalId === undefined ? {} : { proposalId },
      });
    });
    return temporary;
  };

  app.proposals.register("user.passwordReset", async (proposal, approver) => {
    const user = users.get(String(proposal.payload.userId));
    if (user === undefined || user.disabledAt !== undefined) {
      throw conflict("E_USER_DISABLED", `account ${String(proposal.payload.userId)} is closed`);
    }
    const temporaryPassword = await resetPassword(approver.personId, user, proposal.id);
    return { answer: { user: users.get(user.id), temporaryPassword }, result: { userId: user.id } };
  });

  app.post<{ Params: { userId: string } }>(
    "/users/:userId/disable",
    {
      onRequest: closers,
      schema: {
        summary: "Close an account: its sessions end and its API tokens are revoked",
        tags: ["people"],
        params: idParams("userId"),
        response: { 200: UserView },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const user = userInScope(principal, request.params.userId);
      if (principal.role === "citDispatcher" && user.role !== "citCrew") {
        throw new FleetError("E_FORBIDDEN", "a CIT dispatcher may close crew accounts only", 403);
      }
      app.store.transaction(() => {
        users.disable(user.id, app.clock());
        app.adminLog.append({
          actor: principal.personId,
          action: "user.disable",
          target: user.id,
          orgId: user.orgId,
        });
      });
      return users.get(user.id);
    },
  );
};
