/**
 * Whether the data directory takes a write. A read of the database passes on a full or
 * read-only disk while every write of the fleet (audit ingest, alarms, decisions) fails: a
 * page-sized probe file shows it, for /healthz and before `serve` starts.
 */
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const PROBE = ".write-probe";

/** The coded sentence for an operator, or undefined when the write succeeded. */
export function dataDirWriteProblem(dataDir: string): string | undefined {
  if (!existsSync(dataDir)) return undefined; // created on start
  const probe = join(dataDir, PROBE);
  try {
    writeFileSync(probe, Buffer.alloc(4096));
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "EIO";
    const what = code === "ENOSPC" ? "disk full" : code === "EROFS" ? "read-only" : code;
    return `E_STORAGE: the data directory ${dataDir} refuses writes (${code}: ${what}); the fleet stores nothing until it takes writes again, locks keep their records until then`;
  } finally {
    try {
      rmSync(probe, { force: true });
    } catch {
      // a read-only directory has no probe file to remove
    }
  }
}
