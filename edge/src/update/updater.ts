/**
 * Software updates at the lock: takes a release the fleet offers (`update.offer`), judges it
 * with the release keys the lock trusts and its own clock and version (never the fleet's word),
 * fetches the target in ranges, checks length and SHA-256 before anything changes, unpacks it
 * into the slot that is not running, and switches only while the container is locked and no
 * cycle runs. The next start runs the new version on trial: it must pass its health check or
 * it switches back by itself. Every step is an `update.*` record in the lock's audit log.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  type AuditEventKind,
  applyReleaseKeyChain,
  checkReleaseApplies,
  checkTarget,
  codeOf,
  type OpenedRelease,
  openTrustedRelease,
  type ReleaseKeysAuditData,
  type SignedReleaseKeySet,
  type TrustedReleaseKeys,
  type UpdateAuditData,
  type UpdateOfferBody,
} from "@lockfleet/protocol";
import { UpdateError } from "../errors.js";
import type { RuntimeLog } from "../runtime/log.js";
import { DownloadError, downloadTarget, measureFile } from "./download.js";
import {
  currentSlot,
  installPaths,
  otherSlot,
  pointCurrent,
  readUpdateState,
  reconcileBoot,
  type UpdateState,
  writeUpdateState,
} from "./install-layout.js";
import { asTrustedKeys, loadTrustedKeys, saveTrustedKeys } from "./release-keys.js";
import { switchSlots } from "./switch-steps.js";
import { SLOT_RELEASE_FILE, unpackIntoSlot } from "./unpack.js";

export interface UpdateOptions {
  installRoot: string;
  /**
   * The installed release keys (a bare map: version 1, threshold 1). Signed key sets the lock
   * accepted since move trust on from these (kept in the install root).
   */
  releaseKeys: ReadonlyMap<string, Uint8Array> | TrustedReleaseKeys;
  /** The version of the factory install, when its slot holds no signed release. */
  factoryVersion: string;
  /** The controller's entry relative to a slot (what the launcher starts). */
  entry?: string;
  chunkBytes?: number;
  /** How long the trial version waits for the fleet in its health check. Default 60 s. */
  healthTimeoutMs?: number;
  /** How often an installed update looks for a moment to switch. Default 5 s. */
  switchPollMs?: number;
}

export const DEFAULT_ENTRY = "edge/bin/lockfleet-edge.js";

export interface HealthReport {
  ok: boolean;
  checks: Array<{ check: string; ok: boolean; code?: string; message?: string }>;
}

/** What the updater needs of the running lock. */
export interface UpdateHost {
  hardwareProfile: string;
  lockTime(): number;
  trustedTime(): boolean;
  /** Bolt thrown, door closed, no cycle under way. */
  safeToSwitch(): boolean;
  record(kind: AuditEventKind, data: UpdateAuditData | ReleaseKeysAuditData): void;
  healthCheck(timeoutMs: number): Promise<HealthReport>;
  /** Stop and exit so that the launcher starts the version `current` points to. */
  requestRestart(reason: string): void;
  log: RuntimeLog;
}

export type OfferOutcome = { ok: true } | { ok: false; code: string; message: string };

const BUSY_PHASES = new Set(["downloading", "verified", "installed", "switching", "trial"]);

export class SoftwareUpdater {
  readonly #options: UpdateOptions;
  readonly #host: UpdateHost;
  readonly runningVersion: string;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #working = false;
  #trusted: TrustedReleaseKeys;

  constructor(options: UpdateOptions, host: UpdateHost) {
    this.#options = options;
    this.#host = host;
    this.runningVersion = slotVersion(options.installRoot) ?? options.factoryVersion;
    this.#trusted = loadTrustedKeys(options.installRoot, asTrustedKeys(options.releaseKeys), (m) =>
      host.log.error("release key sets not all taken", { err: m }),
    );
  }

  /** The release keys trusted now. */
  get trustedKeys(): TrustedReleaseKeys {
    return this.#trusted;
  }

  #trustClock() {
    return { lockTime: this.#host.lockTime(), trustedTime: this.#host.trustedTime() };
  }

  /**
   * Moves trust on by the key sets an offer carries, before its release is judged: kept on disk
   * first, then on record; a refused chain changes nothing and is on record with its code.
   */
  #takeKeySets(chain: readonly SignedReleaseKeySet[] | undefined, rolloutId: string): void {
    if (chain === undefined || chain.length === 0) return;
    const before = this.#trusted;
    const outcome = applyReleaseKeyChain(before, chain, this.#trustClock());
    const context = { trusted: before.version, rolloutId };
    if (outcome.refused !== undefined) {
      this.#host.log.warn("release key set refused", { code: outcome.refused.code });
      this.#host.record("update.keysRefused", {
        ...context,
        version: outcome.refused.version,
        code: outcome.refused.code,
        reason: outcome.refused.message.slice(0, 500),
      });
      return;
    }
    if (outcome.accepted.length === 0) return;
    saveTrustedKeys(this.#options.installRoot, outcome.trusted);
    this.#trusted = outcome.trusted;
    this.#host.record("update.keysAccepted", {
      ...context,
      version: outcome.trusted.version,
      keyIds: [...outcome.trusted.keys.keys()],
      revoked: outcome.revokedNow,
    });
    this.#host.log.info("release keys rotated", {
      version: outcome.trusted.version,
      revoked: outcome.revokedNow,
    });
  }

  get state(): UpdateState {
    return readUpdateState(this.#options.installRoot);
  }

  /** Picks up where an update stood when the lock last stopped. */
  start(): void {
    const root = this.#options.installRoot;
    let state = readUpdateState(root);
    if (state.phase === "switching") state = reconcileBoot(root).state;
    switch (state.phase) {
      case "downloading":
      case "verified":
        this.#run(state);
        break;
      case "installed":
        this.#armSwitch();
        break;
      case "trial":
        if (currentSlot(root) === state.toSlot) void this.#trial(state);
        break;
      case "rolledBack":
        if (state.recorded !== true) {
          this.#record("update.rolledBack", state, {
            code: state.code ?? "E_UPDATE_UNHEALTHY",
            reason: state.reason ?? "the trial version was rolled back",
          });
          writeUpdateState(root, { ...state, recorded: true });
        }
        break;
      default:
        break;
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  /** Judges an offered release; on success the download starts in the background. */
  offer(body: UpdateOfferBody): OfferOutcome {
    const root = this.#options.installRoot;
    this.#takeKeySets(body.releaseKeys, body.rolloutId);
    const state = readUpdateState(root);
    const opened = openTrustedRelease(body.release, this.#trusted, this.#trustClock());
    const summary = opened.ok
      ? { releaseId: opened.value.metadata.releaseId, version: opened.value.metadata.version }
      : undefined;
    if (BUSY_PHASES.has(state.phase)) {
      if (summary !== undefined && summary.releaseId === state.releaseId) return { ok: true };
      const message = `release ${state.releaseId ?? "?"} is ${state.phase} on this lock`;
      this.#record(
        "update.refused",
        { phase: "idle", ...summary, rolloutId: body.rolloutId },
        { code: "E_UPDATE_BUSY", reason: message },
      );
      return refuse("E_UPDATE_BUSY", message);
    }
    if (!opened.ok) {
      this.#host.record("update.refused", {
        releaseId: peekField(body.release.payload, "releaseId") ?? "unknown",
        version: peekVersion(body.release.payload) ?? "0.0.0",
        running: this.runningVersion,
        rolloutId: body.rolloutId,
        code: opened.error.code,
        reason: opened.error.message.slice(0, 500),
      });
      return refuse(opened.error.code, opened.error.message);
    }
    if (state.phase === "rolledBack" && state.releaseId === opened.value.metadata.releaseId) {
      // The same build failed its health check here: it comes back only as a newer release.
      const message = `release ${state.releaseId} was rolled back on this lock (${state.code ?? "unhealthy"}); offer a newer one`;
      this.#record(
        "update.refused",
        { ...state, rolloutId: body.rolloutId },
        { code: "E_UPDATE_ROLLED_BACK", reason: message },
      );
      return refuse("E_UPDATE_ROLLED_BACK", message);
    }
    const applies = checkReleaseApplies(opened.value, {
      version: this.runningVersion,
      hardwareProfile: this.#host.hardwareProfile,
      lockTime: this.#host.lockTime(),
      trustedTime: this.#host.trustedTime(),
    });
    const from = currentSlot(root);
    const next: UpdateState = {
      phase: "downloading",
      releaseId: opened.value.metadata.releaseId,
      version: opened.value.metadata.version,
      rolloutId: body.rolloutId,
      release: body.release,
      download: body.download,
      fromSlot: from,
      toSlot: otherSlot(from),
      fromVersion: this.runningVersion,
    };
    if (!applies.ok) {
      this.#record("update.refused", next, {
        code: applies.error.code,
        reason: applies.error.message,
      });
      return refuse(applies.error.code, applies.error.message);
    }
    writeUpdateState(root, next);
    this.#record("update.offered", next, {});
    this.#run(next);
    return { ok: true };
  }

  /** Download → verify → unpack, each step recorded; then the switch waits for its moment. */
  #run(initial: UpdateState): void {
    if (this.#working) return;
    this.#working = true;
    this.#pipeline(initial)
      .catch((error: unknown) => this.#fail(initial, error))
      .finally(() => {
        this.#working = false;
      });
  }

  async #pipeline(initial: UpdateState): Promise<void> {
    const root = this.#options.installRoot;
    const paths = installPaths(root);
    const release = this.#reopen(initial);
    const partPath = join(paths.downloads, `${release.metadata.releaseId}.part`);
    let state = initial;
    if (state.phase === "downloading") {
      if (state.download === undefined)
        throw new UpdateError("E_UPDATE_STATE", "no download address");
      this.#record("update.downloading", state, {});
      await downloadTarget({
        url: state.download.url,
        token: state.download.token,
        length: release.metadata.target.length,
        partPath,
        ...(this.#options.chunkBytes === undefined ? {} : { chunkBytes: this.#options.chunkBytes }),
        cancelled: () => this.#stopped,
      });
      const measured = await measureFile(partPath);
      const target = checkTarget(release.metadata, measured);
      if (!target.ok) {
        rmSync(partPath, { force: true });
        throw new UpdateError(target.error.code, target.error.message);
      }
      state = { ...state, phase: "verified" };
      writeUpdateState(root, state);
      this.#record("update.verified", state, { bytes: measured.length });
    }
    if (this.#stopped) return;
    // The archive is checked again right before it is unpacked: the file could have changed on disk.
    const measured = await measureFile(partPath);
    const target = checkTarget(release.metadata, measured);
    if (!target.ok) {
      rmSync(partPath, { force: true });
      throw new UpdateError(target.error.code, target.error.message);
    }
    // Keys may have rotated during the download: a release by a revoked key goes no further.
    this.#reopen(state);
    const toSlot = state.toSlot ?? otherSlot(currentSlot(root));
    await unpackIntoSlot({
      archive: partPath,
      slotDir: paths.slot(toSlot),
      entry: this.#options.entry ?? DEFAULT_ENTRY,
      release: { payload: release.payload, signature: release.signature },
    });
    rmSync(partPath, { force: true });
    state = { ...state, phase: "installed", toSlot };
    writeUpdateState(root, state);
    this.#record("update.installed", state, { slot: toSlot });
    this.#armSwitch();
  }

  #reopen(state: UpdateState): OpenedRelease {
    if (state.release === undefined)
      throw new UpdateError("E_UPDATE_STATE", "the update state holds no release");
    const opened = openTrustedRelease(state.release, this.#trusted, undefined);
    if (!opened.ok) throw new UpdateError(opened.error.code, opened.error.message);
    return opened.value;
  }

  #armSwitch(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    const attempt = () => {
      if (this.#stopped) return;
      if (!this.#host.safeToSwitch()) return;
      if (this.#timer !== undefined) clearInterval(this.#timer);
      this.#timer = undefined;
      this.#switch();
    };
    this.#timer = setInterval(attempt, this.#options.switchPollMs ?? 5000);
    this.#timer.unref();
    queueMicrotask(attempt);
  }

  /** Switches now (the container is locked and idle); the restart starts the new version. */
  #switch(): void {
    const root = this.#options.installRoot;
    const state = readUpdateState(root);
    if (state.phase !== "installed") return;
    // An installed release whose key a key set revoked since is never switched to.
    const keyId =
      state.release === undefined ? undefined : peekField(state.release.payload, "keyId");
    if (keyId !== undefined && this.#trusted.revoked.has(keyId) && !this.#trusted.keys.has(keyId)) {
      this.#fail(
        state,
        new UpdateError(
          "E_RELEASE_KEY_REVOKED",
          `release key "${keyId}" was revoked before the switch`,
        ),
      );
      return;
    }
    // Recorded by the old version before the pointer moves: the chain shows who switched.
    this.#record("update.switched", state, { slot: state.toSlot ?? "b" });
    switchSlots(root, state);
    this.#host.log.info("software switched; restarting into the new version", {
      version: state.version,
      slot: state.toSlot,
    });
    this.#host.requestRestart(`switched to ${state.version ?? "?"}`);
  }

  async #trial(state: UpdateState): Promise<void> {
    const root = this.#options.installRoot;
    const report = await this.#host.healthCheck(this.#options.healthTimeoutMs ?? 60_000);
    if (this.#stopped) return;
    if (report.ok) {
      const healthy: UpdateState = { ...state, phase: "healthy" };
      writeUpdateState(root, healthy);
      this.#record("update.healthy", healthy, { running: state.version ?? this.runningVersion });
      this.#host.log.info("new version healthy", { version: state.version });
      return;
    }
    const failed = report.checks.find((check) => !check.ok);
    const code = failed?.code ?? "E_UPDATE_UNHEALTHY";
    const reason = `health check failed: ${failed?.check ?? "?"}: ${failed?.message ?? ""}`.slice(
      0,
      500,
    );
    if (state.fromSlot === undefined)
      throw new UpdateError("E_UPDATE_STATE", "no slot to roll back to");
    this.#record("update.rolledBack", state, {
      code,
      reason,
      running: state.version ?? this.runningVersion,
    });
    pointCurrent(root, state.fromSlot);
    writeUpdateState(root, { ...state, phase: "rolledBack", code, reason, recorded: true });
    this.#host.log.error("new version failed its health check; rolled back", { code, reason });
    this.#host.requestRestart(`rolled back from ${state.version ?? "?"}`);
  }

  #fail(state: UpdateState, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof DownloadError && this.#stopped) return; // resumes on the next start
    const code = codeOf(error) ?? "E_UPDATE_FAILED";
    this.#host.log.error("update failed", { code, err: message });
    writeUpdateState(this.#options.installRoot, {
      phase: "idle",
      ...(state.releaseId === undefined ? {} : { releaseId: state.releaseId }),
      code,
      reason: message.slice(0, 500),
    });
    this.#record("update.refused", state, { code, reason: message });
  }

  #record(kind: AuditEventKind, state: UpdateState, extra: Partial<UpdateAuditData>): void {
    this.#host.record(kind, {
      releaseId: state.releaseId ?? "unknown",
      version: state.version ?? "0.0.0",
      running: this.runningVersion,
      ...(state.rolloutId === undefined ? {} : { rolloutId: state.rolloutId }),
      ...extra,
      ...(extra.reason === undefined ? {} : { reason: extra.reason.slice(0, 500) }),
    });
  }
}

function refuse(code: string, message: string): OfferOutcome {
  return { ok: false, code, message };
}

/** The version of the signed release the current slot was installed from, if any. */
export function slotVersion(installRoot: string): string | undefined {
  const file = join(installPaths(installRoot).current, SLOT_RELEASE_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const release = JSON.parse(readFileSync(file, "utf8")) as { payload?: unknown };
    return typeof release.payload === "string" ? peekVersion(release.payload) : undefined;
  } catch {
    return undefined;
  }
}

function peekField(payload: string, field: string): string | undefined {
  try {
    const value = (JSON.parse(payload) as Record<string, unknown>)[field];
    return typeof value === "string" && /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/.test(value)
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}

function peekVersion(payload: string): string | undefined {
  const version = peekField(payload, "version");
  return version !== undefined && /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)
    ? version
    : undefined;
}
