/**
 * Versioned migrations on PostgreSQL, from `fleet/migrations/postgres/NNN-name.sql`: the same
 * versions and names as the embedded engine's (`fleet/migrations/`), each applied once, in its
 * own transaction. Several instances may start at once: each migration runs under a
 * transaction-scoped advisory lock and is applied by whichever instance takes it first.
 */
import { join } from "node:path";
import type pg from "pg";
import { MIGRATIONS_DIR, type Migration, readMigrations } from "../db.js";

export const POSTGRES_MIGRATIONS_DIR = join(MIGRATIONS_DIR, "postgres");

/** Advisory lock key held while a migration is applied (any fixed 64-bit number would do). */
const MIGRATION_LOCK = 7_305_817_466;

/** Applies every migration not yet recorded in `schema_migrations`; returns the ones applied. */
export async function migratePostgres(
  pool: pg.Pool,
  migrations: Migration[] = readMigrations(POSTGRES_MIGRATIONS_DIR),
): Promise<Migration[]> {
  const client = await pool.connect();
  const done: Migration[] = [];
  try {
    for (const migration of migrations) {
      await client.query("BEGIN");
      try {
        await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
        await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
          version INTEGER PRIMARY KEY,
          name TEXT NOT NULL,
          applied_at TEXT NOT NULL
        )`);
        const applied = await client.query("SELECT 1 FROM schema_migrations WHERE version = $1", [
          migration.version,
        ]);
        if (applied.rowCount === 0) {
          await client.query(migration.sql);
          await client.query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            [migration.version, migration.name, new Date().toISOString()],
          );
          done.push(migration);
        }
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`E_MIGRATION_FAILED: ${migration.name} was not applied: ${reason}`, {
          cause: error,
        });
      }
    }
  } finally {
    client.release();
  }
  return done;
}
