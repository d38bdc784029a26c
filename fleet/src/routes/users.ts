/**
 * Login accounts per role. Each account belongs to a person of the same organisation; the role
 * must fit the organisation's kind (bank roles in a bank, CIT roles in a CIT company). A bank's
 * security admin manages its own and its registered CIT companies' accounts; a CIT dispatcher
 * may open crew accounts in their own company.
 */
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/authorize.js";
import { generatePassword, hashPassword, MIN_PASSWORD_LENGTH } from "../auth/passwords.js";
import { ROLES, roleFitsOrgKind } from "../auth/principal.js";
import { conflict, FleetError, notFound } from "../errors.js";
import { UserView } from "./auth.js";
import { idParams, PageOf, pageQueryWith } from "./common.js";

const RoleSchema = Type.Union(ROLES.map((role) => Type.Literal(role)));
const CreateUserBody = Type.Object(
  {
    personId: Type.String({ maxLength: 64 }),
    role: RoleSchema,
    email: Type.String({ minLength: 3, maxLength: 254, pattern: "^[^\\s@]+@[^\\s@]+$" }),
    password: Type.Optional(
      Type.String({
        minLength: MIN_PASSWORD_LENGTH,
        maxLength: 1024,
        description: "Omit to have one generated and shown once in the answer",
      }),
    ),
  },
  { additionalProperties: false },
);
const UsersQuery = pageQueryWith({ orgId: Type.Optional(Type.String({ maxLength: 64 })) });

export const userRoutes: FastifyPluginAsync = async (app) => {
  const { users, people, orgs } = app.repos;
  const readers = app.authorize("securityAdmin", "auditor", "citDispatcher");
  const creators = app.authorize("securityAdmin", "citDispatcher");
  const closers = app.authorize("securityAdmin", "citDispatcher");

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
        summary: "Open a login account for a person; a generated password is shown only here",
        tags: ["people"],
        body: CreateUserBody,
        response: {
          201: Type.Object({ user: UserView, generatedPassword: Type.Optional(Type.String()) }),
        },
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
      const email = body.email.toLowerCase();
      if (users.emailTaken(email))
        throw conflict("E_EMAIL_TAKEN", `${email} already has an account`);
      const generatedPassword = body.password === undefined ? generatePassword() : undefined;
      const passwordHash = await hashPassword(
        body.password ?? (generatedPassword as string),
        app.authSettings.passwordHashing,
      );
      const user = users.create({
        personId: person.id,
        orgId: person.orgId,
        role: body.role,
        email,
        passwordHash,
        now: app.clock(),
      });
      app.adminLog.append({
        actor: principal.personId,
        action: "user.create",
        target: user.id,
        orgId: user.orgId,
        data: { personId: person.id, role: user.role, email },
      });
      return reply
        .code(201)
        .send({ user, ...(generatedPassword === undefined ? {} : { generatedPassword }) });
    },
  );

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
      const user = users.get(request.params.userId);
      if (user === undefined || !app.scope.manages(principal, user.orgId)) {
        throw notFound("user", request.params.userId);
      }
      if (principal.role === "citDispatcher" && user.role !== "citCrew") {
        throw new FleetError("E_FORBIDDEN", "a CIT dispatcher may close crew accounts only", 403);
      }
      users.disable(user.id, app.clock());
      app.adminLog.append({
        actor: principal.personId,
        action: "user.disable",
        target: user.id,
        orgId: user.orgId,
      });
      return users.get(user.id);
    },
  );
};
