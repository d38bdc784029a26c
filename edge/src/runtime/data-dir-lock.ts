/**
 * One runtime per data directory. Two controllers on one lock store would both drive the bolt
 * and both connect as the same device, knocking each other off the broker. The lock is an
 * operating-system file lock (SQLite's exclusive locking mode on `runtime.lock`): the kernel
 * releases it when the holding process ends in any way, SIGKILL and power cut included, so
 * there is never a stale lock to clean up by hand.
 */
import { join } from "node:path";
import Database from "better-sqlite3";
import { RuntimeError } from "./errors.js";

export const DATA_DIR_LOCK_FILE = "runtime.lock";

export interface DataDirLock {
  release(): void;
}

/** Takes the data directory's lock, or refuses with E_DATA_DIR_IN_USE naming the holder. */
export function lockDataDir(dataDir: string): DataDirLock {
  const path = join(dataDir, DATA_DIR_LOCK_FILE);
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: 0 });
    db.pragma("locking_mode = EXCLUSIVE");
    // The first write takes the exclusive lock; in this mode it is held until the connection closes.
    db.exec("CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, since TEXT NOT NULL)");
    db.transaction(() => {
      db?.exec("DELETE FROM holder");
      db?.prepare("INSERT INTO holder (pid, since) VALUES (?, ?)").run(
        process.pid,
        new Date().toISOString(),
      );
    }).immediate();
  } catch (error) {
    try {
      db?.close();
    } catch {
      // the error below says what went wrong
    }
    if (error instanceof Database.SqliteError && error.code.startsWith("SQLITE_BUSY")) {
      throw new RuntimeError(
        "E_DATA_DIR_IN_USE",
        `another lockfleet runtime is running on ${dataDir} (it holds ${path}); stop it first — two controllers must never drive one lock`,
      );
    }
    throw new RuntimeError(
      "E_CONFIG",
      `cannot lock the data directory ${dataDir}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const held = db;
  return {
    release() {
      if (held.open) held.close();
    },
  };
}
