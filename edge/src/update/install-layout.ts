/**
 * The lock's software on disk, side by side (A/B), and the small state file that carries an
 * update across restarts and power cuts:
 *
 *   <installRoot>/slots/a/         one complete install tree (the factory install)
 *   <installRoot>/slots/b/         the other; an update is unpacked into whichever is not current
 *   <installRoot>/current          symlink to slots/a or slots/b, replaced with one rename()
 *   <installRoot>/update.json      the update state (written to a temporary file, then renamed)
 *   <installRoot>/downloads/       partial downloads, resumed after a restart
 *
 * The lock's data directory (keys, store, penalty state) lives elsewhere and is never inside
 * a slot, so both versions see the same data. This file imports only `node:` modules: the
 * launcher that systemd starts uses it too, and must not depend on either slot's code.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";

export type Slot = "a" | "b";

/** EX_TEMPFAIL: the controller exits with it to be started again into another slot. */
export const RESTART_EXIT_CODE = 75;

/**
 * Where an update stands. idle: nothing under way. downloading → verified → installed: the
 * new version is being fetched, has passed its hash and signature check, sits unpacked in the
 * other slot. switching: the `current` pointer is being moved. trial: the new version runs
 * and must pass its health check. healthy / rolledBack: the outcome, until the next update.
 */
export const UPDATE_PHASES = [
  "idle",
  "downloading",
  "verified",
  "installed",
  "switching",
  "trial",
  "healthy",
  "rolledBack",
] as const;
export type UpdatePhase = (typeof UPDATE_PHASES)[number];

export interface UpdateState {
  phase: UpdatePhase;
  releaseId?: string;
  version?: string;
  rolloutId?: string;
  /** The signed release as received (kept so that each step can be re-checked after a restart). */
  release?: { payload: string; signature: string };
  download?: { url: string; token: string };
  fromSlot?: Slot;
  toSlot?: Slot;
  fromVersion?: string;
  /** Starts of the trial version before it confirmed its health. */
  bootAttempts?: number;
  /** Why the last update ended without becoming healthy. */
  code?: string;
  reason?: string;
  /** True once the outcome is on record in the audit log (it is recorded once). */
  recorded?: boolean;
}

/** A trial version that has not confirmed its health after this many starts is rolled back. */
export const MAX_TRIAL_BOOTS = 3;

export function installPaths(root: string) {
  return {
    root,
    slots: join(root, "slots"),
    slot: (slot: Slot) => join(root, "slots", slot),
    current: join(root, "current"),
    state: join(root, "update.json"),
    downloads: join(root, "downloads"),
  };
}

export function otherSlot(slot: Slot): Slot {
  return slot === "a" ? "b" : "a";
}

/** The slot `current` points to. */
export function currentSlot(root: string): Slot {
  const target = readlinkSync(installPaths(root).current);
  const slot = target
    .split(/[\\/]/)
    .filter((part) => part.length > 0)
    .at(-1);
  if (slot !== "a" && slot !== "b") {
    throw new Error(
      `E_UPDATE_LAYOUT: ${installPaths(root).current} points to "${target}", not a slot`,
    );
  }
  return slot;
}

/** Flushes a directory entry (a rename is durable only once its directory is). */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes a file so that a power cut leaves either the old or the new content, never a mix. */
export function writeDurably(path: string, text: string): void {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, "w", 0o600);
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  fsyncDir(dirname(path));
}

/**
 * Points `current` at a slot with one rename of a new symlink over the old: at every instant
 * `current` names one complete slot.
 */
export function pointCurrent(root: string, slot: Slot): void {
  const paths = installPaths(root);
  const next = `${paths.current}.next`;
  rmSync(next, { force: true });
  symlinkSync(join("slots", slot), next);
  renameSync(next, paths.current);
  fsyncDir(root);
}

export function readUpdateState(root: string): UpdateState {
  const path = installPaths(root).state;
  if (!existsSync(path)) return { phase: "idle" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    // Written atomically, so this is damage, not a torn write: start over from the running slot.
    return { phase: "idle", code: "E_UPDATE_STATE", reason: `${path} is not JSON` };
  }
  const phase = (parsed as { phase?: unknown } | null)?.phase;
  if (typeof phase !== "string" || !(UPDATE_PHASES as readonly string[]).includes(phase)) {
    return { phase: "idle", code: "E_UPDATE_STATE", reason: `${path} names no known phase` };
  }
  return parsed as UpdateState;
}

export function writeUpdateState(root: string, state: UpdateState): void {
  writeDurably(installPaths(root).state, `${JSON.stringify(state, null, 2)}\n`);
}

/**
 * Sets up an install root around an existing install tree (the factory install) in slot a.
 * Used by the installation guide's first step and by tests.
 */
export function initInstallRoot(root: string): void {
  const paths = installPaths(root);
  mkdirSync(paths.slot("a"), { recursive: true });
  mkdirSync(paths.slot("b"), { recursive: true });
  mkdirSync(paths.downloads, { recursive: true });
  if (!existsSync(paths.current)) pointCurrent(root, "a");
}

/** What the launcher decided before it started a version. */
export interface BootDecision {
  slot: Slot;
  state: UpdateState;
  /** What changed, for the launcher's log line. */
  action: "none" | "trialStarted" | "switchCompleted" | "switchUndone" | "rolledBack";
}

/**
 * Run before every start (by the launcher systemd runs): brings the install back to a
 * consistent state after a power cut at any step of a switch, and rolls a trial version back
 * when it failed to confirm its health MAX_TRIAL_BOOTS times (a version that crashes before it
 * can run its own health check is rolled back here, by code that is in neither slot).
 */
export function reconcileBoot(root: string): BootDecision {
  const state = readUpdateState(root);
  const slot = currentSlot(root);
  if (state.phase === "switching" && state.toSlot !== undefined && state.fromSlot !== undefined) {
    if (slot === state.toSlot) {
      // The pointer moved before the power went: the new version starts on trial.
      const next: UpdateState = { ...state, phase: "trial", bootAttempts: 1 };
      writeUpdateState(root, next);
      return { slot, state: next, action: "switchCompleted" };
    }
    // The pointer never moved: the old version runs on and switches again when it may.
    const next: UpdateState = { ...state, phase: "installed" };
    writeUpdateState(root, next);
    return { slot, state: next, action: "switchUndone" };
  }
  if (state.phase === "trial" && state.fromSlot !== undefined && slot === state.toSlot) {
    const attempts = (state.bootAttempts ?? 0) + 1;
    if (attempts > MAX_TRIAL_BOOTS) {
      pointCurrent(root, state.fromSlot);
      const next: UpdateState = {
        ...state,
        phase: "rolledBack",
        bootAttempts: attempts - 1,
        code: "E_UPDATE_UNHEALTHY",
        reason: `version ${state.version ?? "?"} did not confirm its health in ${MAX_TRIAL_BOOTS} starts`,
        recorded: false,
      };
      writeUpdateState(root, next);
      return { slot: state.fromSlot, state: next, action: "rolledBack" };
    }
    const next: UpdateState = { ...state, bootAttempts: attempts };
    writeUpdateState(root, next);
    return { slot, state: next, action: attempts === 1 ? "trialStarted" : "none" };
  }
  return { slot, state, action: "none" };
}
