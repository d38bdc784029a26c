/**
 * The PostgreSQL migrations against the running server (127.0.0.1:5432, database `test`), each
 * test run in its own schema: they apply once, several instances starting together apply each
 * once, and they give PostgreSQL the same tables and columns as the embedded engine.
 */
import { randomBytes } from "node:crypto";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { service } from "../../../test-support/services.js";
import { openDatabase, readMigrations } from "../../src/storage/db.js";
import { connectPostgres, redact } from "../../src/storage/postgres/connection.js";
import { migratePostgres, POSTGRES_MIGRATIONS_DIR } from "../../src/storage/postgres/migrate.js";

const postgres = await service.postgres();

describe.skipIf(!postgres.available)(`PostgreSQL migrations ${postgres.reason}`, () => {
  const schemas: string[] = [];
  const pools: pg.Pool[] = [];
  const newSchema = () => {
    const schema = `lf_test_${randomBytes(6).toString("hex")}`;
    schemas.push(schema);
    return schema;
  };
  const open = async (schema: string) => {
    const pool = await connectPostgres({ url: postgres.url, schema, max: 2 });
    pools.push(pool);
    return pool;
  };

  let pool: pg.Pool;
  beforeAll(async () => {
    pool = await open(newSchema());
  });
  afterAll(async () => {
    const admin = await connectPostgres({ url: postgres.url, max: 1 });
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    for (const each of pools) await each.end();
  });

  it("every migration applies once, in order; a second run applies none", async () => {
    const all = readMigrations(POSTGRES_MIGRATIONS_DIR);
    expect((await migratePostgres(pool)).map((m) => m.version)).toEqual(all.map((m) => m.version));
    expect(await migratePostgres(pool)).toEqual([]);
    const recorded = await pool.query("SELECT version FROM schema_migrations ORDER BY version");
    expect(recorded.rows.map((row) => row.version)).toEqual(all.map((m) => m.version));
  });

  it("both engines have the same migrations, by version and name", () => {
    const embedded = readMigrations().map((m) => m.name);
    expect(readMigrations(POSTGRES_MIGRATIONS_DIR).map((m) => m.name)).toEqual(embedded);
  });

  it("PostgreSQL gets the same tables and columns as the embedded engine", async () => {
    const sqlite = openDatabase(":memory:");
    const embedded = new Set<string>();
    try {
      const tables = sqlite
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .pluck()
        .all() as string[];
      for (const table of tables) {
        for (const column of sqlite.pragma(`table_info(${table})`) as Array<{ name: string }>) {
          embedded.add(`${table}.${column.name}`);
        }
      }
    } finally {
      sqlite.close();
    }
    const schema = schemas[0];
    const columns = await pool.query(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1",
      [schema],
    );
    const onPostgres = new Set(columns.rows.map((row) => `${row.table_name}.${row.column_name}`));
    expect([...onPostgres].sort()).toEqual([...embedded].sort());
  });

  it("several instances starting at once apply each migration exactly once", async () => {
    const schema = newSchema();
    const first = await open(schema);
    const second = await open(schema);
    const third = await open(schema);
    const runs = await Promise.all([first, second, third].map((each) => migratePostgres(each)));
    const applied = runs.flat().map((m) => m.version);
    const all = readMigrations(POSTGRES_MIGRATIONS_DIR).map((m) => m.version);
    expect([...applied].sort((a, b) => a - b)).toEqual(all);
  });

  it("a database that cannot be reached is a stable error that hides the password", async () => {
    const unreachable = "postgres://fleet:hunter2@127.0.0.1:1/test";
    await expect(connectPostgres({ url: unreachable })).rejects.toThrow(/^E_DATABASE: .*\*\*\*/);
    await expect(connectPostgres({ url: unreachable })).rejects.not.toThrow(/hunter2/);
    expect(redact(unreachable)).not.toContain("hunter2");
  });
});
