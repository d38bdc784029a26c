/**
 * Where a scenario's lock keeps its state. A power cycle must restart the lock from exactly
 * what the store holds, as after a real power cut: the in-memory store is copied as a crash
 * would leave it; a SQLite file is opened again without a clean close.
 */
import { existsSync } from "node:fs";
import { type LockStore, MemoryLockStore, SqliteLockStore } from "@lockfleet/edge";

export interface ScenarioStore {
  /** The store the running lock uses. */
  readonly current: LockStore;
  /** The same state, reopened as after a power cut (no clean shutdown); becomes `current`. */
  restartUnclean(): LockStore;
  close(): void;
  /** What kind of store this is, for the report ("memory", "sqlite PATH"). */
  readonly description: string;
}

export function memoryScenarioStore(deviceId: string): ScenarioStore {
  let current = new MemoryLockStore(deviceId);
  return {
    get current() {
      return current;
    },
    restartUnclean() {
      current = current.reopen(false);
      return current;
    },
    close() {
      current.close();
    },
    description: "memory",
  };
}

/**
 * A SQLite file store. A power cut is simulated by opening the file again while the old
 * connection is left as it was, never closed: the new start finds the file marked in use,
 * exactly as after a crash. The abandoned connections are closed only at the end, before the
 * last one, so the file is finally marked as cleanly shut down.
 */
export function sqliteScenarioStore(path: string): (deviceId: string) => ScenarioStore {
  return (deviceId) => {
    const abandoned: SqliteLockStore[] = [];
    let current = SqliteLockStore.open(path, deviceId);
    return {
      get current() {
        return current;
      },
      restartUnclean() {
        abandoned.push(current);
        current = SqliteLockStore.open(path, deviceId);
        return current;
      },
      close() {
        for (const store of abandoned) store.close();
        current.close();
      },
      description: `sqlite ${path}`,
    };
  };
}

/**
 * The store the command line asked for: a new SQLite file with --db, memory otherwise. An
 * existing file is refused: a scenario starts from a lock fresh from the factory, and a
 * file a person wants to keep is never overwritten.
 */
export function scenarioStoreFor(
  db: string | undefined,
): { ok: true; value: (deviceId: string) => ScenarioStore } | { ok: false; message: string } {
  if (db === undefined) return { ok: true, value: memoryScenarioStore };
  if (existsSync(db)) {
    return {
      ok: false,
      message: `E_DB_EXISTS: ${db} already exists; a scenario starts from a new lock, give a new file`,
    };
  }
  return { ok: true, value: sqliteScenarioStore(db) };
}
