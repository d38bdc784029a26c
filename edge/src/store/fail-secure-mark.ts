/**
 * The fail-secure mark next to the lock store (`lock.sqlite-failsecure`): a small file whose
 * space is reserved when the store opens, so that the mark can be written in place when the
 * disk is full and SQLite refuses every write. It tells the next start that the cycle the
 * store still holds ended when the lock failed secure (it must not restart as after a power
 * loss). Writing in place allocates nothing; the write is synced before the call returns.
 */
import { closeSync, fsyncSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import type { FailSecureMark } from "./lock-store.js";

export const FAIL_SECURE_MARK_BYTES = 1024;

export function failSecureMarkPath(storePath: string): string {
  return `${storePath}-failsecure`;
}

/** Reserves the mark's space (blank) unless it is there; false when it cannot be reserved. */
export function reserveFailSecureMark(path: string): boolean {
  try {
    if (statSync(path).size >= FAIL_SECURE_MARK_BYTES) return true;
  } catch {
    // absent: reserved below
  }
  try {
    writeInPlace(path, "", "w");
    return true;
  } catch {
    return false;
  }
}

export function writeFailSecureMark(path: string, mark: FailSecureMark): void {
  const text = JSON.stringify({ ...mark, error: mark.error.slice(0, 300) });
  writeInPlace(path, text, "r+");
}

export function clearFailSecureMark(path: string): void {
  writeInPlace(path, "", "r+");
}

export function readFailSecureMark(path: string): FailSecureMark | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
  if (text === "") return undefined;
  try {
    const mark = JSON.parse(text) as Partial<FailSecureMark>;
    if (typeof mark.at !== "number" || typeof mark.headSeq !== "number") return undefined;
    return { at: mark.at, headSeq: mark.headSeq, error: String(mark.error ?? "") };
  } catch {
    return undefined;
  }
}

function writeInPlace(path: string, text: string, flags: "w" | "r+"): void {
  const bytes = Buffer.alloc(FAIL_SECURE_MARK_BYTES, " ");
  bytes.write(text.slice(0, FAIL_SECURE_MARK_BYTES), "utf8");
  const fd = openSync(path, flags, 0o600);
  try {
    writeSync(fd, bytes, 0, bytes.length, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
