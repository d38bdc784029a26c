/**
 * Builds the fleet service (SPEC §5): fastify with the database, the device hub, the admin log,
 * the clock and `authorize` decorated once, then every part's routes from `routes/index.ts`.
 * `buildApp` never listens; `cli.ts` (serve) and tests (`app.inject()`, `listen({port: 0})`) do.
 * Every setting arrives in `FleetOptions`; nothing here reads the environment (`config.ts` turns
 * flags and environment variables into these options for `lockfleet-fleet serve`).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Database } from "better-sqlite3";
import Fastify, {
  type FastifyInstance,
  type FastifyRequest,
  type FastifyServerOptions,
} from "fastify";
import { AdminLog } from "./admin-log.js";
import {
  AdminLogCheckpoints,
  type CheckpointSinks,
  DEFAULT_CHECKPOINTS,
  loadOrCreateCheckpointKey,
} from "./admin-log-checkpoints.js";
import { SyslogForwarder } from "./alarms/forwarding/syslog.js";
import { WebhookForwarder } from "./alarms/forwarding/webhook.js";
import type { AlarmOptions } from "./alarms/settings.js";
import { resolvePrincipal } from "./auth/authenticate.js";
import { type AuthorizeHook, authorizeRoles, Scope } from "./auth/authorize.js";
import { loadOrCreateKey } from "./auth/keys.js";
import { DEFAULT_SCRYPT, type ScryptParameters } from "./auth/passwords.js";
import type { Principal, Role } from "./auth/principal.js";
import { ProposalService } from "./auth/proposals.js";
import {
  DEFAULT_LOGIN_RATE_LIMIT,
  LoginRateLimiter,
  type RateLimitOptions,
} from "./auth/rate-limit.js";
import { Lineage } from "./auth/separation.js";
import { DeviceHub, type DeviceHubOptions } from "./devices/hub.js";
import { fleetErrorHandler, fleetNotFoundHandler } from "./errors.js";
import { type MetricsRegistry, metrics } from "./metrics.js";
import { OpenApiCollector } from "./openapi.js";
import { PinLetters } from "./rights/pin-letters.js";
import { ROUTES } from "./routes/index.js";
import { CoreEvents, sweepExpiredPeople } from "./routes/people.js";
import { SecretBox } from "./secrets.js";
import { ContractsRepository } from "./storage/contracts-repository.js";
import { openDatabase } from "./storage/db.js";
import { secureDataFiles } from "./storage/file-modes.js";
import { OrgsRepository } from "./storage/orgs-repository.js";
import { PeopleRepository } from "./storage/people-repository.js";
import { ProposalsRepository } from "./storage/proposals-repository.js";
import { UsersRepository } from "./storage/users-repository.js";
import { installStrictInput, strictBodyValidators } from "./strict-input.js";

export interface FleetOptions {
  /** Holds `fleet.db` (unless `dbFile` says otherwise) and key files. Created if missing. */
  dataDir: string;
  dbFile?: string;
  /**
   * Embedded broker (`port` 0 picks a free one) with `tls`, or with `plain: true` stated
   * explicitly (demo, tests); or an external broker URL.
   */
  mqtt: DeviceHubOptions["mqtt"];
  /** Further DeviceHub settings (offline grace, clock drift, time sync interval, …). */
  hubOptions?: Omit<DeviceHubOptions, "db" | "dataDir" | "mqtt" | "clock" | "log">;
  /**
   * Key-encryption key (32 bytes) for the fleet's secrets at rest; without it the key is kept
   * in `<dataDir>/kek` (created 0600 on first start).
   */
  kek?: Uint8Array;
  /** Alarm forwarding (webhook, syslog) and escalation; default: no forwarding, default times. */
  alarms?: AlarmOptions;
  /** Milliseconds since the epoch; tests inject a fake clock. */
  clock?: () => number;
  logger?: FastifyServerOptions["logger"];
  /** scrypt cost for new password hashes (tests may lower it; production keeps the default). */
  passwordHashing?: ScryptParameters;
  loginRateLimit?: RateLimitOptions;
  sessionTtlMs?: number;
  /**
   * Mark the session cookie `Secure` (behind TLS). `serve` sets it unless the fleet listens on
   * loopback only; a direct caller of buildApp decides.
   */
  secureCookies?: boolean;
  /**
   * Addresses (or CIDR ranges) of reverse proxies whose `X-Forwarded-For` is believed: the login
   * throttle counts per real client address. Empty: the socket's address is the client's.
   */
  trustedProxies?: readonly string[];
  /**
   * Bearer token `/metrics` asks for. Without one, `/metrics` answers callers on the loopback
   * address only (scrape it from the same machine, or set a token).
   */
  metricsToken?: string;
  /** Signed admin-log checkpoints: at least every N entries and every M ms (admin-log-checkpoints.ts). */
  adminLogCheckpoints?: { everyEntries: number; everyMs: number };
  /** How often temporary validities are checked for expiry; 0 turns the timer off. */
  expirySweepMs?: number;
  /** Register only these route entries (defaults to every part's, from routes/index.ts). */
  routes?: typeof ROUTES;
}

export interface CoreRepositories {
  orgs: OrgsRepository;
  people: PeopleRepository;
  users: UsersRepository;
  contracts: ContractsRepository;
}

export interface AuthSettings {
  passwordHashing: ScryptParameters;
  loginLimiter: LoginRateLimiter;
  sessionTtlMs: number;
  secureCookies: boolean;
  /** HMAC key for document numbers given at identification (only the keyed hash is stored). */
  documentKey: Buffer;
}

declare module "fastify" {
  interface FastifyInstance {
    db: Database;
    hub: DeviceHub;
    adminLog: AdminLog;
    /** Signed checkpoints over the admin log's head; `verify()` checks chain and checkpoints. */
    adminLogCheckpoints: AdminLogCheckpoints;
    clock: () => number;
    /** Route guard by role: `{ onRequest: app.authorize("securityAdmin", "auditor") }`. */
    authorize: (...roles: Role[]) => AuthorizeHook;
    /** Like `authorize`, and a refused attempt is written to the admin log as `<action>.refused`. */
    authorizeAudited: (
      action: string,
      roles: readonly Role[],
      ownerOrgOf?: (request: FastifyRequest) => string | undefined,
    ) => AuthorizeHook;
    /** Scope checks by organisation and contract (see auth/authorize.ts). */
    scope: Scope;
    repos: CoreRepositories;
    /** Maker–checker for power (auth/proposals.ts). */
    proposals: ProposalService;
    /** Who made whom (auth/separation.ts). */
    lineage: Lineage;
    /** Initial codes kept sealed until their PIN letter is downloaded once. */
    pinLetters: PinLetters;
    /** Core happenings other parts follow: "person" (PersonChange). */
    coreEvents: CoreEvents;
    metrics: MetricsRegistry;
    openapi: OpenApiCollector;
    authSettings: AuthSettings;
    dataDir: string;
    /** `FleetOptions.metricsToken`, read by routes/health.ts. */
    metricsToken: string | undefined;
    /** `FleetOptions.alarms`, read by the alarm service (routes/alarms.ts). */
    alarmOptions: AlarmOptions;
  }
  interface FastifyRequest {
    /** Set by authentication; guaranteed on routes guarded by `app.authorize`, else may be null. */
    principal: Principal;
  }
}

export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60_000;

const httpRequests = metrics.counter(
  "lockfleet_http_requests_total",
  "HTTP requests answered, by method, route and status",
);

export async function buildApp(options: FleetOptions): Promise<FastifyInstance> {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const clock = options.clock ?? Date.now;
  const db = openDatabase(options.dbFile ?? join(options.dataDir, "fleet.db"));
  secureDataFiles(options.dataDir);
  const app = Fastify({
    logger: options.logger ?? false,
    trustProxy:
      options.trustedProxies === undefined || options.trustedProxies.length === 0
        ? false
        : [...options.trustedProxies],
    // bodies are validated without coercion (strict-input.ts); query strings keep theirs
    schemaController: { compilersFactory: { buildValidator: strictBodyValidators } },
    ajv: {
      customOptions: {
        // an unknown field is an error, never silently dropped
        removeAdditional: false,
        useDefaults: true,
        coerceTypes: "array",
        allErrors: false,
        // protocol schemas carry defaults inside unions (Optional/Partial policies), where ajv
        // ignores them; that is fine, and must not stop the app from starting
        strictSchema: false,
      },
    },
  });
  let hub: DeviceHub | undefined;
  let hubClosed = false;
  try {
    const repos: CoreRepositories = {
      orgs: new OrgsRepository(db),
      people: new PeopleRepository(db),
      users: new UsersRepository(db),
      contracts: new ContractsRepository(db),
    };
    const openapi = new OpenApiCollector();
    app.addHook("onRoute", (route) => openapi.record(route));

    app.decorate("db", db);
    app.decorate("clock", clock);
    app.decorate("dataDir", options.dataDir);
    app.decorate("metricsToken", options.metricsToken);
    app.decorate("alarmOptions", options.alarms ?? {});
    app.decorate("repos", repos);
    const adminLog = new AdminLog(db, clock);
    app.decorate("adminLog", adminLog);
    app.decorate("scope", new Scope(repos.orgs, repos.contracts, clock));
    const lineage = new Lineage(db);
    app.decorate("lineage", lineage);
    app.decorate(
      "proposals",
      new ProposalService(new ProposalsRepository(db), repos.users, lineage, adminLog, clock),
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

    const secrets =
      options.hubOptions?.secrets ??
      (options.kek === undefined
        ? SecretBox.load(options.dataDir, {})
        : new SecretBox(options.kek));
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

    hub = await DeviceHub.start({
      ...options.hubOptions,
      secrets,
      db,
      dataDir: options.dataDir,
      mqtt: options.mqtt,
      clock,
      log: app.log,
    });
    app.decorate("hub", hub);

    const sweepEvery = options.expirySweepMs ?? 30_000;
    const sweep = () => {
      try {
        sweepExpiredPeople(app);
        repos.users.deleteExpiredSessions(clock());
      } catch (error) {
        app.log.error({ err: error }, "E_EXPIRY_SWEEP: temporary validity sweep failed");
      }
    };
    let sweepTimer: NodeJS.Timeout | undefined;
    if (sweepEvery > 0) {
      sweepTimer = setInterval(sweep, sweepEvery);
      sweepTimer.unref();
    }

    const started = hub;
    app.addHook("onClose", async () => {
      if (sweepTimer !== undefined) clearInterval(sweepTimer);
      hubClosed = true;
      await started.close();
      if (db.open) db.close();
    });

    for (const entry of options.routes ?? ROUTES) {
      await app.register(entry.plugin, { prefix: entry.prefix });
    }
    await app.ready();
    // validities that ran out while the fleet was down are acted on at once
    if (sweepEvery > 0) sweep();
    return app;
  } catch (error) {
    await app.close().catch(() => undefined);
    if (hub !== undefined && !hubClosed) await hub.close().catch(() => undefined);
    if (db.open) db.close();
    throw error;
  }
}

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
