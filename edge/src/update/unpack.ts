/**
 * Unpacks a verified target (a gzip-compressed tar of an install tree) into the slot that is
 * not running, with the system's `tar` (GNU tar on Raspberry Pi OS refuses members that
 * climb out with `..` and strips leading `/`). The slot is emptied first, so a half-unpacked
 * earlier attempt leaves nothing behind; the running slot is never touched.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { UpdateError } from "../errors.js";
import { fsyncDir } from "./install-layout.js";

const run = promisify(execFile);

/** Kept in each installed slot: the signed release it came from (its version and proof). */
export const SLOT_RELEASE_FILE = "lockfleet-release.json";

export async function unpackIntoSlot(options: {
  archive: string;
  slotDir: string;
  /** The controller's entry the launcher starts, relative to the slot; it must be there. */
  entry: string;
  release: { payload: string; signature: string };
}): Promise<void> {
  rmSync(options.slotDir, { recursive: true, force: true });
  mkdirSync(options.slotDir, { recursive: true });
  try {
    await run("tar", ["-xzf", options.archive, "-C", options.slotDir, "--no-same-owner"], {
      timeout: 300_000,
    });
  } catch (error) {
    throw new Error(
      `E_UPDATE_UNPACK: the target could not be unpacked: ${error instanceof Error ? error.message.slice(0, 300) : String(error)}`,
    );
  }
  if (!existsSync(join(options.slotDir, options.entry))) {
    throw new UpdateError(
      "E_UPDATE_UNPACK",
      `the target has no ${options.entry}; nothing could start it`,
    );
  }
  writeFileSync(
    join(options.slotDir, SLOT_RELEASE_FILE),
    `${JSON.stringify(options.release, null, 2)}\n`,
  );
  // `sync` flushes every unpacked file before the slot is declared installed.
  await run("sync", [], { timeout: 120_000 }).catch(() => {});
  fsyncDir(options.slotDir);
}
