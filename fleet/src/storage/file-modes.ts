/**
 * Files the fleet writes hold tenants' data and secrets (database, WAL, backups, key files):
 * they are readable by the fleet's own user only (0600, folders 0700), whatever the umask.
 */
import { chmodSync, existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** New files of this process are created without group or world bits (SQLite's WAL and SHM too). */
export function restrictUmask(): void {
  process.umask(0o077);
}

/** 0600 for every file in the data directory, 0700 for the directory itself. */
export function secureDataFiles(dataDir: string): void {
  if (!existsSync(dataDir)) return;
  chmodSync(dataDir, 0o700);
  for (const name of readdirSync(dataDir)) {
    const path = join(dataDir, name);
    if (statSync(path).isFile()) chmodSync(path, 0o600);
  }
}

export function secureFile(path: string): void {
  if (existsSync(path)) chmodSync(path, 0o600);
}
