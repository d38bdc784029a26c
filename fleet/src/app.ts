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
import type { AdminLog } from "./admin-log.js";
import type { AdminLogCheckpoints } from "./admin-log-checkpoints.js";
import type { AlarmOptions, AlarmSettings } from "./alarms/settings.js";
import type { AuthorizeHook, Scope } from "./auth/authorize.js";
import type { ScryptParameters } from "./auth/passwords.js";
import type { Principal, Role } from "./auth/principal.js";
import type { ProposalService } from "./auth/proposals.js";
import type { LoginRateLimiter, RateLimitOptions } from "./auth/rate-limit.js";
import type { Lineage } from "./auth/separation.js";
import type { DeviceHub, DeviceHubOptions } from "./devices/hub.js";
import type { MetricsRegistry } from "./metrics.js";
import type { OpenApiCollector } from "./openapi.js";
import type { PinLetters } from "./rights/pin-letters.js";
import { ROUTES } from "./routes/index.js";
import type { CoreEvents } from "./routes/people.js";
import { SecretBox } from "./secrets.js";
import { registerServices } from "./services.js";
import type { ContractsRepository } from "./storage/contracts-repository.js";
import { secureDataFiles } from "./storage/file-modes.js";
import { FleetStore } from "./storage/fleet-store.js";
import type { OrgsRepository } from "./storage/orgs-repository.js";
import type { PeopleRepository } from "./storage/people-repository.js";
import type { UsersRepository } from "./storage/users-repository.js";
import { strictBodyValidators } from "./strict-input.js";

export { DEFAULT_SESSION_TTL_MS } from "./core-plugin.js";

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
  hubOptions?: Omit<DeviceHubOptions, "store" | "dataDir" | "mqtt" | "clock" | "log">;
  /**
   * Key-encryption key (32 bytes) for the fleet's secrets at rest; without it the key is kept
   * in `<dataDir>/kek` (created 0600 on first start).
   */
  kek?: Uint8Array;
  /** Alarm forwarding (webhook, syslog) and escalation; default: no forwarding, default times. */
  alarms?: AlarmOptions;
  /** Alarm escalation and forwarders as objects, instead of `alarms` (embedders, tests). */
  alarmSettings?: AlarmSettings;
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
    /** The fleet's storage: repositories by aggregate, read models, `transaction(fn)`. */
    store: FleetStore;
    /** The engine's handle (`store.sqlite`), for tests and operator tools; never for routes. */
    db: Database;
    /** Everything the fleet says to and hears from its locks (devices/plugin.ts). */
    hub: DeviceHub;
    /** Key-encryption for the fleet's secrets at rest. */
    secrets: SecretBox;
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

export async function buildApp(options: FleetOptions): Promise<FastifyInstance> {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const store = FleetStore.open(options.dbFile ?? join(options.dataDir, "fleet.db"));
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
  try {
    const secrets =
      options.hubOptions?.secrets ??
      (options.kek === undefined
        ? SecretBox.load(options.dataDir, {})
        : new SecretBox(options.kek));
    await registerServices(app, { store, secrets, options });
    for (const entry of options.routes ?? ROUTES) {
      await app.register(entry.plugin, { prefix: entry.prefix });
    }
    // added last, so it runs after every service's own onClose
    app.addHook("onClose", async () => {
      store.close();
    });
    await app.ready();
    return app;
  } catch (error) {
    await app.close().catch(() => undefined);
    store.close();
    throw error;
  }
}
