/**
 * The lock store's schema as versioned steps. SQLite's `user_version` records how many have
 * run; opening a store runs the missing ones, each in its own transaction, and refuses a file
 * written by newer firmware (reading it with an older schema could misread the audit log).
 */
import type Database from "better-sqlite3";
import { LockStoreError } from "./lock-store.js";

export interface Migration {
  /** The `user_version` the file has after this step. */
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "sections, hash-chained audit log, checkpoints, meta",
    sql: `
      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
      CREATE TABLE sections (
        name TEXT PRIMARY KEY,
        json TEXT NOT NULL
      ) STRICT;
      CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        actor TEXT,
        data TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      ) STRICT;
      CREATE TABLE checkpoints (
        id INTEGER PRIMARY KEY,
        seq INTEGER NOT NULL,
        head_hash TEXT NOT NULL,
        json TEXT NOT NULL
      ) STRICT;
      CREATE INDEX checkpoints_by_seq ON checkpoints (seq);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

/** Brings the file at `path` up to SCHEMA_VERSION; returns the version it had before. */
export function migrate(db: Database.Database, path: string): number {
  const found = db.pragma("user_version", { simple: true }) as number;
  if (found > SCHEMA_VERSION) {
    throw new LockStoreError(
      "E_STORE_VERSION",
      `lock store ${path} has schema version ${found}; this firmware knows up to ${SCHEMA_VERSION}`,
    );
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= found) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
  return found;
}
