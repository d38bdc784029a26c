/**
 * Errors of the fleet service: a stable machine code and a sentence for a person
 * (CONVENTIONS: errors). Every HTTP error answers `{code, message}`; every code is one of the
 * fleet's catalogue (error-catalogue.ts), so an uncatalogued code does not compile.
 */
import { CodedError } from "@lockfleet/protocol";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import type { FleetCode } from "./error-catalogue.js";

export class FleetError extends CodedError<FleetCode> {
  /** The sentence without the code prefix, as sent to clients. */
  readonly detail: string;
  readonly headers: Record<string, string>;
  /**
   * Set when the target exists but lies outside the caller's organisation or contract: the
   * caller is told "not found" (ids of other tenants cannot be probed), the admin log is told
   * the truth.
   */
  outOfScope = false;
  /** The organisation the target belongs to: its security team is the one to see the attempt. */
  ownerOrgId: string | undefined;

  constructor(
    code: FleetCode,
    message: string,
    readonly statusCode = 400,
    headers: Record<string, string> = {},
  ) {
    super(code, message);
    this.name = "FleetError";
    this.detail = message;
    this.headers = headers;
  }
}

export function notFound(what: string, id: string): FleetError {
  return new FleetError(
    "E_NOT_FOUND",
    `${what} ${id} does not exist or is outside your scope`,
    404,
  );
}

/** A target that exists but belongs to another tenant: answered as 404, recorded as refused. */
export function outOfScope(what: string, id: string, ownerOrgId?: string): FleetError {
  const error = notFound(what, id);
  error.outOfScope = true;
  error.ownerOrgId = ownerOrgId;
  return error;
}

export function forbidden(message: string): FleetError {
  return new FleetError("E_FORBIDDEN", message, 403);
}

export function conflict(code: FleetCode, message: string): FleetError {
  return new FleetError(code, message, 409);
}

export interface ErrorBody {
  code: FleetCode;
  message: string;
}

interface AjvLikeError {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Names the field a schema error is about: `body/email`, `querystring/limit`. */
export function describeValidationError(
  context: string | undefined,
  errors: readonly AjvLikeError[],
): string {
  const first = errors[0];
  if (first === undefined) return `${context ?? "request"} does not match its schema`;
  const params = first.params ?? {};
  let field = first.instancePath ?? "";
  if (typeof params.missingProperty === "string") field += `/${params.missingProperty}`;
  else if (typeof params.additionalProperty === "string") {
    return `${context ?? "request"}${field}/${params.additionalProperty} is not a known field`;
  }
  const where = `${context ?? "request"}${field}`;
  if (typeof params.missingProperty === "string") return `${where} is required`;
  return `${where} ${first.message ?? "does not match its schema"}`;
}

/**
 * Every refusal of an authenticated caller — a role without the right (403) or a target of
 * another tenant (404 outwardly) — goes into the fleet's hash-chained admin log: under the
 * organisation whose object was reached for when known, else under the caller's own.
 */
function recordRefusal(error: FleetError, request: FastifyRequest): void {
  if (error.statusCode !== 403 && !error.outOfScope) return;
  const principal = request.principal;
  if (principal === undefined || principal === null) return;
  if (!request.server.hasDecorator("adminLog")) return;
  const adminLog = request.server.adminLog;
  try {
    adminLog.append({
      orgId: error.ownerOrgId ?? principal.orgId,
      actor: principal.userId,
      action: "access.refused",
      target: `${request.method} ${request.routeOptions.url ?? request.url}`,
      data: {
        code: error.code,
        status: error.statusCode,
        outOfScope: error.outOfScope,
        role: principal.role,
        actorOrgId: principal.orgId,
        url: request.url,
        reason: error.detail,
      },
    });
  } catch (logError) {
    request.log.error({ err: logError }, "E_ADMIN_LOG: could not record an access refusal");
  }
}

/** Maps every error to `{code, message}` with the right status; 5xx details stay in the log. */
export function fleetErrorHandler(
  error: FastifyError | FleetError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error instanceof FleetError) {
    recordRefusal(error, request);
    for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
    if (error.statusCode >= 500) request.log.error({ err: error }, error.message);
    return reply.code(error.statusCode).send({ code: error.code, message: error.detail });
  }
  const fastifyError = error as FastifyError;
  if (Array.isArray(fastifyError.validation)) {
    return reply.code(400).send({
      code: "E_SCHEMA",
      message: describeValidationError(fastifyError.validationContext, fastifyError.validation),
    });
  }
  const status = fastifyError.statusCode ?? 500;
  if (status >= 500) {
    request.log.error({ err: error }, "unhandled error");
    return reply.code(500).send({ code: "E_INTERNAL", message: "internal error (see server log)" });
  }
  const code =
    status === 413
      ? "E_TOO_LARGE"
      : status === 415
        ? "E_UNSUPPORTED_MEDIA_TYPE"
        : status === 404
          ? "E_NOT_FOUND"
          : "E_BAD_REQUEST";
  return reply.code(status).send({ code, message: error.message });
}

export function fleetNotFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply
    .code(404)
    .send({ code: "E_NOT_FOUND", message: `no route ${request.method} ${request.url}` });
}
