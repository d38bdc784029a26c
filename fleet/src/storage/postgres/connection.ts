/**
 * The PostgreSQL connection of the fleet (the engine for several instances, SPEC §2): a pool
 * from a `postgres://` URL, every connection of which works in one schema. A schema per
 * database user or per test keeps fleets (and test runs) apart in one database.
 */
import pg from "pg";

export interface PostgresOptions {
  /** `postgres://user@host:port/database` (credentials in the URL or the PG* environment). */
  url: string;
  /** Schema every connection works in (created when missing); default `public`. */
  schema?: string;
  /** Most connections the pool opens (default 10). */
  max?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Opens a pool whose connections use `schema`; fails with E_DATABASE when it cannot connect. */
export async function connectPostgres(options: PostgresOptions): Promise<pg.Pool> {
  const schema = options.schema ?? "public";
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`E_CONFIG: schema "${schema}" is not a plain lower-case SQL name`);
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    // set per connection by the server at start-up, so no query runs in another schema
    options: `-c search_path=${schema}`,
  });
  // an idle connection that breaks must not take the process down; the pool replaces it
  pool.on("error", () => undefined);
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } catch (error) {
    await pool.end().catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`E_DATABASE: cannot reach PostgreSQL at ${redact(options.url)}: ${reason}`, {
      cause: error,
    });
  }
  return pool;
}

/** The URL without its password, for messages and logs. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unreadable database URL)";
  }
}
