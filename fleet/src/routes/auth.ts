/**
 * Login, logout, who am I, API tokens. Login is rate limited per account and per address
 * (429 `E_RATE_LIMITED`); a wrong email and a wrong password answer alike and take alike long.
 */
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/authorize.js";
import { assertPasswordAcceptable } from "../auth/password-policy.js";
import {
  decoyPasswordHash,
  hashPassword,
  MIN_PASSWORD_LENGTH,
  verifyPassword,
} from "../auth/passwords.js";
import { ROLES } from "../auth/principal.js";
import {
  hashSecret,
  newApiTokenSecret,
  newSessionSecret,
  readCookie,
  SESSION_COOKIE,
  sessionCookie,
} from "../auth/tokens.js";
import { FleetError, notFound } from "../errors.js";
import { idParams, Ok, PageOf, PageQuery } from "./common.js";

const Email = Type.String({ minLength: 3, maxLength: 254, pattern: "^[^\\s@]+@[^\\s@]+$" });
const LoginBody = Type.Object(
  { email: Email, password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);
const PasswordBody = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: 1024 }),
    newPassword: Type.String({ minLength: MIN_PASSWORD_LENGTH, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
const RoleSchema = Type.Union(ROLES.map((role) => Type.Literal(role)));
export const UserView = Type.Object({
  id: Type.String(),
  personId: Type.String(),
  orgId: Type.String(),
  role: RoleSchema,
  email: Type.String(),
  createdAt: Type.String(),
  createdBy: Type.Optional(Type.String()),
  proposalId: Type.Optional(Type.String()),
  branchIds: Type.Optional(Type.Array(Type.String())),
  regionId: Type.Optional(Type.String()),
  mustChangePassword: Type.Optional(Type.Boolean()),
  disabledAt: Type.Optional(Type.String()),
});
const Me = Type.Object({
  user: UserView,
  principal: Type.Object({
    userId: Type.String(),
    personId: Type.String(),
    orgId: Type.String(),
    orgKind: Type.Union([Type.Literal("bank"), Type.Literal("cit")]),
    role: Type.String(),
    via: Type.Union([Type.Literal("session"), Type.Literal("token")]),
  }),
  personName: Type.String(),
  orgName: Type.String(),
  /** Banks: false while fewer than two independent security officers exist (no checker). */
  dualControl: Type.Optional(Type.Boolean()),
  officers: Type.Optional(Type.Integer()),
});
const TokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 366 })),
  },
  { additionalProperties: false },
);
const TokenView = Type.Object({
  id: Type.String(),
  userId: Type.String(),
  name: Type.String(),
  createdAt: Type.String(),
  expiresAt: Type.Optional(Type.String()),
  lastUsedAt: Type.Optional(Type.String()),
  revokedAt: Type.Optional(Type.String()),
});

export const authRoutes: FastifyPluginAsync = async (app) => {
  const { users, people, orgs } = app.repos;
  const settings = app.authSettings;
  const everyone = app.authorize(...ROLES);

  const loginFailed = () =>
    new FleetError("E_LOGIN_FAILED", "email or password wrong, or the account is not active", 401);

  app.post<{ Body: Static<typeof LoginBody> }>(
    "/auth/login",
    {
      schema: {
        summary: "Log in; sets the HttpOnly `lf_session` cookie",
        tags: ["auth"],
        body: LoginBody,
        response: { 200: Type.Object({ user: UserView, expiresAt: Type.String() }) },
      },
    },
    async (request, reply) => {
      const email = request.body.email.toLowerCase();
      const limiter = settings.loginLimiter;
      // counted before the password is checked: parallel guesses cannot outrun the limit
      const waitMs = limiter.begin(email, request.ip);
      if (waitMs > 0) {
        const seconds = Math.ceil(waitMs / 1000);
        throw new FleetError(
          "E_RATE_LIMITED",
          `too many login attempts; try again in ${seconds} s`,
          429,
          { "retry-after": String(seconds) },
        );
      }
      const credentials = users.credentialsFor(email);
      const matches = await verifyPassword(
        request.body.password,
        credentials?.passwordHash ?? (await decoyPasswordHash(settings.passwordHashing)),
      );
      const now = app.clock();
      if (credentials === undefined || !matches) {
        limiter.failed();
        if (credentials !== undefined) {
          app.adminLog.append({
            actor: credentials.user.personId,
            action: "auth.loginFailed",
            target: credentials.user.id,
            orgId: credentials.user.orgId,
            data: { address: request.ip },
          });
        }
        throw loginFailed();
      }
      const secret = newSessionSecret();
      const expiresAt = now + settings.sessionTtlMs;
      users.createSession({
        tokenHash: hashSecret(secret),
        userId: credentials.user.id,
        now,
        expiresAt,
      });
      // the person behind the account must be enabled and valid right now
      if (users.principalForSession(hashSecret(secret), now) === undefined) {
        users.deleteSession(hashSecret(secret));
        throw loginFailed();
      }
      limiter.succeeded(email, request.ip);
      app.adminLog.append({
        actor: credentials.user.personId,
        action: "auth.login",
        target: credentials.user.id,
        orgId: credentials.user.orgId,
        data: { address: request.ip },
      });
      reply.header(
        "set-cookie",
        sessionCookie(secret, {
          maxAgeSec: Math.floor(settings.sessionTtlMs / 1000),
          secure: settings.secureCookies,
        }),
      );
      return { user: credentials.user, expiresAt: new Date(expiresAt).toISOString() };
    },
  );

  app.post<{ Body: Static<typeof PasswordBody> }>(
    "/auth/password",
    {
      onRequest: everyone,
      schema: {
        summary:
          "Change my own password (the current one is required); other sessions and API tokens end",
        tags: ["auth"],
        body: PasswordBody,
        response: { 200: Ok },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const user = users.get(principal.userId);
      if (user === undefined) throw notFound("user", principal.userId);
      // guessing the current password through this route is throttled like login
      const waitMs = settings.loginLimiter.begin(user.email, request.ip);
      if (waitMs > 0) {
        const seconds = Math.ceil(waitMs / 1000);
        throw new FleetError(
          "E_RATE_LIMITED",
          `too many attempts; try again in ${seconds} s`,
          429,
          {
            "retry-after": String(seconds),
          },
        );
      }
      const stored = users.passwordHashOf(user.id) ?? "";
      if (!(await verifyPassword(request.body.currentPassword, stored))) {
        settings.loginLimiter.failed();
        throw new FleetError("E_PASSWORD_WRONG", "the current password is not right", 403);
      }
      settings.loginLimiter.succeeded(user.email, request.ip);
      assertPasswordAcceptable(request.body.newPassword);
      if (request.body.newPassword === request.body.currentPassword) {
        throw new FleetError(
          "E_PASSWORD_SAME",
          "the new password must differ from the current one",
        );
      }
      const passwordHash = await hashPassword(request.body.newPassword, settings.passwordHashing);
      const session = readCookie(request.headers.cookie, SESSION_COOKIE);
      app.store.transaction(() => {
        users.setPassword(user.id, {
          passwordHash,
          mustChange: false,
          now: app.clock(),
          ...(principal.via === "session" && session !== undefined
            ? { keepSession: hashSecret(session) }
            : {}),
        });
        app.adminLog.append({
          actor: principal.personId,
          action: "auth.passwordChange",
          target: user.id,
          orgId: user.orgId,
        });
      });
      return { ok: true as const };
    },
  );

  app.post(
    "/auth/logout",
    { schema: { summary: "End this session", tags: ["auth"], response: { 200: Ok } } },
    async (request, reply) => {
      const secret = readCookie(request.headers.cookie, SESSION_COOKIE);
      if (secret !== undefined && secret !== "") users.deleteSession(hashSecret(secret));
      reply.header(
        "set-cookie",
        sessionCookie("", { maxAgeSec: 0, secure: settings.secureCookies }),
      );
      return { ok: true as const };
    },
  );

  app.get(
    "/auth/me",
    {
      onRequest: everyone,
      schema: { summary: "Who am I", tags: ["auth"], response: { 200: Me } },
    },
    async (request) => {
      const principal = principalOf(request);
      const user = users.get(principal.userId);
      if (user === undefined) throw notFound("user", principal.userId);
      return {
        user,
        principal,
        personName: people.get(principal.personId, app.clock())?.name ?? "",
        orgName: orgs.getOrg(principal.orgId)?.name ?? "",
        ...(principal.orgKind === "bank" ? app.proposals.dualControl(principal.orgId) : {}),
      };
    },
  );

  app.post<{ Body: Static<typeof TokenBody> }>(
    "/auth/tokens",
    {
      onRequest: everyone,
      schema: {
        summary: "Create an API token for integrations; the secret is shown only in this answer",
        tags: ["auth"],
        body: TokenBody,
        response: { 201: Type.Object({ token: Type.String(), apiToken: TokenView }) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      if (principal.via !== "session") {
        // a leaked token must not be able to mint longer-lived ones
        throw new FleetError("E_FORBIDDEN", "API tokens are created from a login session", 403);
      }
      const secret = newApiTokenSecret();
      const now = app.clock();
      const apiToken = app.store.transaction(() => {
        const apiToken = users.createToken({
          userId: principal.userId,
          name: request.body.name,
          tokenHash: hashSecret(secret),
          now,
          ...(request.body.expiresInDays === undefined
            ? {}
            : { expiresAt: now + request.body.expiresInDays * 86_400_000 }),
        });
        app.adminLog.append({
          actor: principal.personId,
          action: "auth.tokenCreate",
          target: apiToken.id,
          orgId: principal.orgId,
          data: { name: apiToken.name, expiresAt: apiToken.expiresAt },
        });
        return apiToken;
      });
      return reply.code(201).send({ token: secret, apiToken });
    },
  );

  app.get<{ Querystring: Static<typeof PageQuery> }>(
    "/auth/tokens",
    {
      onRequest: everyone,
      schema: {
        summary: "My API tokens (never their secrets)",
        tags: ["auth"],
        querystring: PageQuery,
        response: { 200: PageOf(TokenView) },
      },
    },
    async (request) => users.listTokens(principalOf(request).userId, request.query),
  );

  app.delete<{ Params: { tokenId: string } }>(
    "/auth/tokens/:tokenId",
    {
      onRequest: everyone,
      schema: {
        summary: "Revoke one of my API tokens",
        tags: ["auth"],
        params: idParams("tokenId"),
        response: { 200: Ok },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const token = users.getToken(request.params.tokenId);
      if (token === undefined || token.userId !== principal.userId) {
        throw notFound("API token", request.params.tokenId);
      }
      app.store.transaction(() => {
        users.revokeToken(token.id, app.clock());
        app.adminLog.append({
          actor: principal.personId,
          action: "auth.tokenRevoke",
          target: token.id,
          orgId: principal.orgId,
        });
      });
      return { ok: true as const };
    },
  );
};
