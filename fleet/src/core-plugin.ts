/**
 * The fleet's core services as one fastify plugin (`lockfleet-core`): the database, clock,
 * core repositories, admin log with its signed checkpoints, scope checks, maker–checker
 * proposals, lineage, PIN letters, `authorize`, the request hooks every route relies on, and
 * the periodic sweep of temporary validities. Every other service plugin depends on it.
 */
import { join } from "node:path";
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import {
  AdminLogCheckpoints,
  type CheckpointSinks,
  DEFAULT_CHECKPOINTS,
  loadOrCreateCheckpointKey,
} from "./admin-log-checkpoints.js";
import { SyslogForwarder } from "./alarms/forwarding/syslog.js";
import { WebhookForwarder } from "./alarms/forwarding/webhook.js";
import type { AlarmOptions } from "./alarms/settings.js";
import type { AuthSettings, CoreRepositories, FleetOptions } from "./app.js";
import { resolvePrincipal } from "./auth/authenticate.js";
import { authorizeRoles, Scope } from "./auth/authorize.js";
import { loadOrCreateKey } from "./auth/keys.js";
import { DEFAULT_SCRYPT } from "./auth/passwords.js";
import type { Principal, Role } from "./auth/principal.js";
import { ProposalService } from "./auth/proposals.js";
import { DEFAULT_LOGIN_RATE_LIMIT, LoginRateLimiter } from "./auth/rate-limit.js";
import { fleetErrorHandler, fleetNotFoundHandler } from "./errors.js";
import { metrics } from "./metrics.js";
import { OpenApiCollector } from "./openapi.js";
import { PinLetters } from "./rights/pin-letters.js";
import { CoreEvents, sweepExpiredPeople } from "./routes/people.js";
import type { SecretBox } from "./secrets.js";
import type { FleetStore } from "./storage/fleet-store.js";
import { installStrictInput } from "./strict-input.js";

export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60_000;

export interface CorePluginOptions {
  store: FleetStore;
  secrets: SecretBox;
  fleet: FleetOptions;
}

const httpRequests = metrics.counter(
  "lockfleet_http_requests_total",
  "HTTP requests answered, by method, route and status",
);

const core: FastifyPluginAsync<CorePluginOptions> = async (
  app,
  { store, secrets, fleet: options },
) => {
  const clock = options.clock ?? Date.now;
  const repos: CoreRepositories = {
    orgs: store.orgs,
    people: store.people,
    users: store.users,
    contracts: store.contracts,
  };
  const db = store.sqlite;
  const openapi = new OpenApiCollector();
  app.addHook("onRoute", (route) => openapi.record(route));

  app.decorate("store", store);
  app.decorate("db", db);
  app.decorate("secrets", secrets);
  app.decorate("clock", clock);
  app.decorate("dataDir", options.dataDir);
  app.decorate("metricsToken", options.metricsToken);
  app.decorate("alarmOptions", options.alarms ?? {});
  app.decorate("repos", repos);
  const adminLog = store.adminLog(clock);
  app.decorate("adminLog", adminLog);
  app.decorate("scope", new Scope(repos.orgs, repos.contracts, clock));
  const lineage = store.lineage();
  app.decorate("lineage", lineage);
  app.decorate(
    "proposals",
    new ProposalService(store.proposals, repos.users, lineage, adminLog, clock, (work) =>
      store.transaction(work),
    ),
  );
  app.decorate("authorize", (...roles: Role[]) => authorizeRoles(roles));
  app.decorate(
    "authorizeAudited",
    (
      action: string,
      roles: readonly Role[],
      ownerOrgOf?: (request: FastifyRequest) => string | undefined,
    ) =>
      authorizeRoles(roles, (request, principal) => {
        const params = (request.params ?? {}) as Record<string, unknown>;
        const target = Object.values(params).find((value) => typeof value === "string");
        let owner: string | undefined;
        try {
          owner = ownerOrgOf?.(request);
        } catch {
          owner = undefined;
        }
        // written where the owner of the target (the bank) reads it
        adminLog.append({
          actor: principal.personId,
          action: `${action}.refused`,
          target: typeof target === "string" ? target : undefined,
          orgId: owner ?? principal.orgId,
          data: { code: "E_FORBIDDEN", role: principal.role, actorOrgId: principal.orgId },
        });
      }),
  );
  app.decorate("coreEvents", new CoreEvents());
  app.decorate("metrics", metrics);
  app.decorate("openapi", openapi);
  app.decorate("authSettings", {
    passwordHashing: options.passwordHashing ?? DEFAULT_SCRYPT,
    loginLimiter: new LoginRateLimiter(options.loginRateLimit ?? DEFAULT_LOGIN_RATE_LIMIT, clock),
    sessionTtlMs: options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS,
    secureCookies: options.secureCookies ?? false,
    documentKey: loadOrCreateKey(join(options.dataDir, "document-key")),
  } satisfies AuthSettings);
  app.decorateRequest("principal", null as unknown as Principal);

  installStrictInput(app);
  app.setErrorHandler(fleetErrorHandler);
  app.setNotFoundHandler(fleetNotFoundHandler);
  app.addHook("onRequest", async (request) => {
    // /metrics has its own bearer token (routes/health.ts), not an account's
    if (request.routeOptions.url === "/metrics") return;
    request.principal = resolvePrincipal(request, repos.users, clock()) as Principal;
  });
  app.addHook("onSend", async (request, reply, payload) => {
    reply.header("x-content-type-options", "nosniff");
    // answers carry tenant data: never cached by a browser or proxy
    if (request.url.startsWith("/api/")) reply.header("cache-control", "no-store");
    return payload;
  });
  app.addHook("onResponse", async (request, reply) => {
    httpRequests.inc({
      method: request.method,
      route: request.routeOptions.url ?? "unmatched",
      status: String(reply.statusCode),
    });
  });

  const checkpoints = new AdminLogCheckpoints(
    db,
    adminLog,
    loadOrCreateCheckpointKey(options.dataDir, secrets),
    options.dataDir,
    options.adminLogCheckpoints ?? DEFAULT_CHECKPOINTS,
    clock,
    checkpointSinks(options.alarms ?? {}),
    (error) =>
      app.log.error(
        { err: error },
        "E_ADMIN_LOG_CHECKPOINT_SINK: a sink did not take a checkpoint",
      ),
  );
  adminLog.onAppend = (entry) => {
    try {
      checkpoints.afterAppend(entry.seq);
    } catch (error) {
      app.log.error({ err: error }, "E_ADMIN_LOG_CHECKPOINT: signing a checkpoint failed");
    }
  };
  app.decorate("adminLogCheckpoints", checkpoints);
  app.decorate(
    "pinLetters",
    new PinLetters(db, secrets, adminLog, repos.orgs, repos.people, clock),
  );
  const checkpointTimer = setInterval(
    () => {
      try {
        checkpoints.tick();
      } catch (error) {
        app.log.error({ err: error }, "E_ADMIN_LOG_CHECKPOINT: signing a checkpoint failed");
      }
    },
    Math.min((options.adminLogCheckpoints ?? DEFAULT_CHECKPOINTS).everyMs, 60_000),
  );
  checkpointTimer.unref();
  app.addHook("onClose", async () => {
    clearInterval(checkpointTimer);
    adminLog.onAppend = undefined;
    await checkpoints.close();
  });

  const sweepEvery = options.expirySweepMs ?? 30_000;
  const sweep = () => {
    try {
      sweepExpiredPeople(app);
      repos.users.deleteExpiredSessions(clock());
    } catch (error) {
      app.log.error({ err: error }, "E_EXPIRY_SWEEP: temporary validity sweep failed");
    }
  };
  if (sweepEvery > 0) {
    const sweepTimer = setInterval(sweep, sweepEvery);
    sweepTimer.unref();
    app.addHook("onClose", async () => clearInterval(sweepTimer));
    // validities that ran out while the fleet was down are acted on once every part listens
    app.addHook("onReady", async () => sweep());
  }
};

export const corePlugin = fp(core, { name: "lockfleet-core" });

/** The alarm forwarding targets also receive every admin-log checkpoint. */
function checkpointSinks(alarms: AlarmOptions): CheckpointSinks {
  return {
    webhook:
      alarms.webhook === undefined
        ? undefined
        : new WebhookForwarder({ url: alarms.webhook.url, secret: alarms.webhook.secret }),
    syslog:
      alarms.syslog === undefined
        ? undefined
        : new SyslogForwarder({
            transport: alarms.syslog.transport,
            host: alarms.syslog.host,
            port: alarms.syslog.port,
            ...(alarms.syslog.facility === undefined ? {} : { facility: alarms.syslog.facility }),
          }),
  };
}
