/**
 * Who is calling: a dashboard session (cookie `lf_session`) or an integration's API token
 * (`Authorization: Bearer lft_…`). Both are looked up by their SHA-256 hash; the account must
 * be active and the person behind it enabled and inside their validity at this moment.
 */
import type { FastifyRequest } from "fastify";
import { FleetError } from "../errors.js";
import type { UsersRepository } from "../storage/users-repository.js";
import type { Principal } from "./principal.js";
import { API_TOKEN_PREFIX, hashSecret, readCookie, SESSION_COOKIE } from "./tokens.js";

export function resolvePrincipal(
  request: FastifyRequest,
  users: UsersRepository,
  now: number,
): Principal | null {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    const token = match?.[1];
    if (token === undefined || !token.startsWith(API_TOKEN_PREFIX)) {
      throw new FleetError(
        "E_UNAUTHENTICATED",
        "Authorization must be `Bearer lft_…` with an API token",
        401,
      );
    }
    const principal = users.principalForToken(hashSecret(token), now);
    if (principal === undefined) {
      throw new FleetError("E_UNAUTHENTICATED", "API token unknown, revoked or expired", 401);
    }
    return principal;
  }
  const session = readCookie(request.headers.cookie, SESSION_COOKIE);
  if (session === undefined || session === "") return null;
  assertSameOrigin(request);
  // An unknown or expired session is treated as no session: login and public routes still work.
  return users.principalForSession(hashSecret(session), now) ?? null;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Cross-site request forgery guard for cookie sessions, besides SameSite=Strict: a changing
 * request that names an Origin must come from this very host.
 */
function assertSameOrigin(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return;
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = "";
  }
  if (originHost === "" || originHost !== request.headers.host) {
    throw new FleetError(
      "E_CROSS_ORIGIN",
      `a request from ${origin} may not use this site's session`,
      403,
    );
  }
}
