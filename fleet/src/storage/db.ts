/**
 * The fleet's SQLite database: WAL, foreign keys on, synchronous=FULL (an approval or an
 * admin action that was answered "ok" survives a power cut), and versioned migrations from
 * `fleet/migrations/NNN-name.sql`, each applied once, in its own transaction.
 */

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CodedError } from "@lockfleet/protocol";
import Database from "better-sqlite3";

export type { Database } from "better-sqlite3";

/** `fleet/migrations`, both from `src/storage/` (tests, tsx) and from `dist/storage/`. */
export const MIGRATIONS_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "migrations",
);

const MIGRATION_FILE = /^(\d{3})-[a-z0-9-]+\.sql$/;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  if (!existsSync(dir))
    throw new CodedError("E_MIGRATIONS_MISSING", `migration folder ${dir} not found`);
  const migrations: Migration[] = [];
  const seen = new Map<number, string>();
  for (const file of readdirSync(dir)) {
    if (!file.endsWith(".sql")) continue;
    const match = MIGRATION_FILE.exec(file);
    if (match?.[1] === undefined) {
      throw new CodedError(
        "E_MIGRATION_NAME",
        `${file} is not named NNN-name.sql (lower case, digits, -)`,
      );
    }
    const version = Number(match[1]);
    const previous = seen.get(version);
    if (previous !== undefined) {
      throw new CodedError(
        "E_MIGRATION_DUPLICATE",
        `${previous} and ${file} both claim version ${version}`,
      );
    }
    seen.set(version, file);
    migrations.push({ version, name: file, sql: readFileSync(join(dir, file), "utf8") });
  }
  return migrations.sort((a, b) => a.version - b.version);
}

/** Applies every migration not yet recorded in `schema_migrations`; returns the ones applied. */
export function migrate(db: Database.Database, migrations = readMigrations()): Migration[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  const applied = new Set(
    db
      .prepare("SELECT version FROM schema_migrations")
      .pluck()
      .all()
      .map((version) => Number(version)),
  );
  const record = db.prepare(
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
  );
  const done: Migration[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    const apply = db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, new Date().toISOString());
    });
    try {
      apply.immediate();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new CodedError("E_MIGRATION_FAILED", `${migration.name} was not applied: ${reason}`, {
        cause: error,
      });
    }
    done.push(migration);
  }
  return done;
}

export interface OpenDatabaseOptions {
  migrationsDir?: string;
  readonly?: boolean;
}

export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Database.Database {
  const db = new Database(path, { readonly: options.readonly ?? false });
  try {
    if (path !== ":memory:" && !options.readonly) db.pragma("journal_mode = WAL");
    db.pragma("foreign_keys = ON");
    db.pragma("synchronous = FULL");
    db.pragma("busy_timeout = 5000");
    if (!options.readonly) migrate(db, readMigrations(options.migrationsDir));
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
