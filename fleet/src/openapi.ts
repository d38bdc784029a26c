/**
 * The OpenAPI 3.1 document served at `/openapi.json`, generated from the routes as they are
 * registered (an `onRoute` hook), so every part's routes and their TypeBox schemas appear
 * without anyone maintaining a second description.
 */
import type { RouteOptions } from "fastify";

type JsonSchema = Record<string, unknown>;

declare module "fastify/types/schema.js" {
  /** Documentation members of a route schema, carried into the OpenAPI document. */
  interface FastifySchema {
    summary?: string;
    description?: string;
    tags?: readonly string[];
    /** Leave the route out of the document. */
    hide?: boolean;
    security?: ReadonlyArray<Record<string, readonly string[]>>;
  }
}

export interface RecordedRoute {
  method: string;
  url: string;
  schema: Record<string, unknown>;
}

const METHODS = ["get", "post", "put", "patch", "delete", "head", "options"] as const;

export class OpenApiCollector {
  private readonly routes: RecordedRoute[] = [];

  /** Called from `onRoute`; HEAD routes that fastify adds for GET are left out. */
  record(route: RouteOptions): void {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const config = route.config as { openapi?: boolean } | undefined;
    if (config?.openapi === false) return;
    const schema = (route.schema ?? {}) as Record<string, unknown>;
    if (schema.hide === true) return;
    for (const method of methods) {
      if (method === "HEAD" && route.exposeHeadRoute !== false && methods.length === 1) {
        // fastify's automatic HEAD twin of a GET route
        if (this.routes.some((r) => r.method === "GET" && r.url === route.url)) continue;
      }
      this.routes.push({ method: method.toUpperCase(), url: route.url, schema });
    }
  }

  recorded(): readonly RecordedRoute[] {
    return this.routes;
  }

  document(info: { title: string; version: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const route of this.routes) {
      const method = route.method.toLowerCase();
      if (!(METHODS as readonly string[]).includes(method) || method === "head") continue;
      const path = toOpenApiPath(route.url);
      const operations = paths[path] ?? {};
      operations[method] = operation(route);
      paths[path] = operations;
    }
    return {
      openapi: "3.1.0",
      info: {
        ...info,
        description:
          "lockfleet fleet service. Errors answer {code, message}. Authenticate with the " +
          "`lf_session` cookie (POST /api/v1/auth/login) or `Authorization: Bearer lft_…`.",
      },
      components: {
        securitySchemes: {
          session: { type: "apiKey", in: "cookie", name: "lf_session" },
          apiToken: { type: "http", scheme: "bearer", bearerFormat: "lft_…" },
        },
        schemas: {
          Error: {
            type: "object",
            required: ["code", "message"],
            properties: { code: { type: "string" }, message: { type: "string" } },
          },
        },
      },
      security: [{ session: [] }, { apiToken: [] }],
      paths,
    };
  }
}

/** `/orgs/:orgId/regions` → `/orgs/{orgId}/regions`. */
export function toOpenApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

function clean(schema: unknown): JsonSchema {
  // JSON round trip drops TypeBox's symbol keys and anything not serialisable
  return JSON.parse(JSON.stringify(schema ?? {})) as JsonSchema;
}

function parameters(schema: unknown, where: "path" | "query" | "header"): JsonSchema[] {
  const object = clean(schema);
  const properties = (object.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((object.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === "path" ? true : required.has(name),
    schema: property,
    ...(typeof property.description === "string" ? { description: property.description } : {}),
  }));
}

function operation(route: RecordedRoute): Record<string, unknown> {
  const schema = route.schema;
  const op: Record<string, unknown> = {
    operationId: `${route.method.toLowerCase()}${route.url
      .replace(/[:{}]/g, "")
      .split(/[/_-]/)
      .filter(Boolean)
      .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
      .join("")}`,
  };
  if (typeof schema.summary === "string") op.summary = schema.summary;
  if (typeof schema.description === "string") op.description = schema.description;
  if (Array.isArray(schema.tags)) op.tags = schema.tags;
  if (Array.isArray(schema.security)) op.security = schema.security;
  const params = [
    ...parameters(schema.params, "path"),
    ...parameters(schema.querystring ?? schema.query, "query"),
    ...parameters(schema.headers, "header"),
  ];
  // path parameters without a schema still need a declaration
  for (const match of route.url.matchAll(/:([A-Za-z0-9_]+)/g)) {
    const name = match[1] as string;
    if (!params.some((p) => p.in === "path" && p.name === name)) {
      params.push({ name, in: "path", required: true, schema: { type: "string" } });
    }
  }
  if (params.length > 0) op.parameters = params;
  if (schema.body !== undefined) {
    op.requestBody = {
      required: true,
      content: { "application/json": { schema: clean(schema.body) } },
    };
  }
  const responses: Record<string, unknown> = {};
  const declared = (schema.response ?? {}) as Record<string, unknown>;
  for (const [status, body] of Object.entries(declared)) {
    const content = clean(body);
    responses[status] = {
      description: typeof content.description === "string" ? content.description : "response",
      content: { "application/json": { schema: content } },
    };
  }
  if (Object.keys(responses).length === 0) responses["200"] = { description: "response" };
  responses.default = {
    description: "error",
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
  };
  op.responses = responses;
  return op;
}
