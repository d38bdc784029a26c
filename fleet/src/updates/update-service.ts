/**
 * Staged software rollouts (SPEC §4 key roles): the fleet keeps releases with their signed
 * metadata and relays them to the locks of a ring — a branch or all, a percentage of it — but
 * cannot sign one: the lock verifies the release key's signature itself. Starting a rollout
 * changes what runs on the locks, so it is proposed by one security officer and started by a
 * second, distinct, independent one; pausing only stops new offers and takes one.
 *
 * Each lock's progress (offered, downloading, verified, installed, healthy, rolled back) is read
 * from its own device-signed audit records, never from what the fleet sent.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import {
  type CommandResult,
  canonicalJson,
  formatInstant,
  ReleaseMetadata,
  type SignedRelease,
  type SignedReleaseKeySet,
  type UpdateOfferBody,
  validate,
} from "@lockfleet/protocol";
import type { AdminLog } from "../admin-log.js";
import type { Principal } from "../auth/principal.js";
import type { FleetCode } from "../error-catalogue.js";
import { FleetError, notFound } from "../errors.js";
import { newId } from "../ids.js";
import { type LockUpdateView, lockStatus } from "./lock-update-status.js";
import type { ReleaseTrust } from "./release-trust.js";
import { RingWidenings, type WideningRequest } from "./ring-widening.js";
import type { KeySetRow, ReleaseRow, RolloutRow, UpdateRepository } from "./update-repository.js";

export { LOCK_UPDATE_STATUSES, type LockUpdateStatus } from "./lock-update-status.js";

/** The largest range one request may ask for. */
export const MAX_RANGE_BYTES = 1024 * 1024;
/** The command id of an offer the hub could not send; it is sent again on resume. */
const UNSENT = "unsent";
const OFFERS_IN_FLIGHT = 32;
/** How long an offer stays valid at the lock. */
export const OFFER_TTL_MS = 60 * 60_000;

export interface UpdateHub {
  issueCommand(
    deviceId: string,
    type: "update.offer",
    body: UpdateOfferBody,
    options: { ttlMs?: number; waitMs?: number },
  ): Promise<{ commandId: string; result: CommandResult | undefined }>;
}

export interface UpdateServiceOptions {
  repository: UpdateRepository;
  /** The release keys the fleet trusts (public halves only) and the bank's key sets. */
  trust: ReleaseTrust;
  hub: UpdateHub;
  adminLog: Pick<AdminLog, "append">;
  /** Why `approver` does not count as a second officer beside `proposer`, or undefined. */
  independence: (approver: string, proposer: string) => FleetError | undefined;
  /** When the account was made (undefined: unknown): a second officer must predate the proposal. */
  accountCreatedAt: (userId: string) => string | undefined;
  /** Throws (404) when the principal may not act on the branch. */
  checkBranch: (principal: Principal, branchId: string) => void;
  /** Where targets are kept (`<dataDir>/releases`). */
  targetDir: string;
  clock: () => number;
  commandWaitMs?: number;
}

export interface RolloutView extends RolloutRow {
  version: string;
  /** Branches a widening added beside `branchId`. */
  branchIds: string[];
  locks: LockUpdateView[];
}

export class UpdateService {
  readonly #o: UpdateServiceOptions;
  /** Rollouts whose offers are being sent now: a sweep and an officer never send twice. */
  readonly #offering = new Set<string>();

  readonly #widening: RingWidenings;

  constructor(options: UpdateServiceOptions) {
    this.#o = options;
    this.#widening = new RingWidenings({
      options,
      bank: (principal) => this.#bank(principal),
      rollout: (principal, id) => this.#rollout(principal, id),
      checkSecondOfficer: (principal, proposedBy, proposedAt, refuse) =>
        this.#checkSecondOfficer(principal, proposedBy, proposedAt, refuse),
      offerRing: (id, downloadBase) => this.offerRing(id, downloadBase),
      view: (principal, id) => this.view(principal, id),
    });
  }

  #iso(): string {
    return formatInstant(this.#o.clock());
  }

  #bank(principal: Principal): void {
    if (principal.orgKind !== "bank")
      throw new FleetError("E_FORBIDDEN", "only a bank's officers manage its locks' software", 403);
  }

  /**
   * Keeps a release's signed metadata once its form (canonical JSON, schema) and its signature
   * under the bank's trusted release keys hold, so that a bank sees the problem before any lock
   * refuses; each lock still judges the signature itself.
   */
  addRelease(principal: Principal, signed: SignedRelease): ReleaseRow {
    this.#bank(principal);
    let parsed: unknown;
    try {
      parsed = JSON.parse(signed.payload);
    } catch {
      throw new FleetError("E_RELEASE_MALFORMED", "the release payload is not JSON");
    }
    const checked = validate(ReleaseMetadata, parsed, "release");
    if (!checked.ok) throw new FleetError("E_RELEASE_SCHEMA", checked.error.message);
    if (canonicalJson(checked.value) !== signed.payload)
      throw new FleetError(
        "E_RELEASE_NOT_CANONICAL",
        "the release payload is not in RFC 8785 canonical form",
      );
    const metadata = checked.value;
    this.#o.trust.verifyRelease(principal, metadata.releaseId, signed);
    if (this.#o.repository.release(principal.orgId, metadata.releaseId) !== undefined)
      throw new FleetError("E_CONFLICT", `release ${metadata.releaseId} is already kept`, 409);
    const row = {
      releaseId: metadata.releaseId,
      orgId: principal.orgId,
      version: metadata.version,
      keyId: metadata.keyId,
      payload: signed.payload,
      signature: signed.signature,
      targetName: metadata.target.name,
      targetSha256: metadata.target.sha256,
      targetLength: metadata.target.length,
      hardwareProfiles: metadata.hardwareProfiles,
      expiresAt: metadata.expiresAt,
      addedBy: principal.personId,
      addedAt: this.#iso(),
    };
    this.#o.repository.transaction(() => {
      this.#o.repository.insertRelease(row);
      this.#o.adminLog.append({
        actor: principal.personId,
        action: "release.add",
        target: row.releaseId,
        orgId: principal.orgId,
        data: { version: row.version, keyId: row.keyId, sha256: row.targetSha256 },
      });
    });
    return { ...row, targetStoredAt: null };
  }

  /** Keeps a signed release-key set once it follows from the bank's trusted keys. */
  addKeySet(principal: Principal, signed: SignedReleaseKeySet): KeySetRow {
    this.#bank(principal);
    return this.#o.trust.addKeySet(principal, signed);
  }

  keySets(principal: Principal): KeySetRow[] {
    this.#bank(principal);
    return this.#o.repository.keySets(principal.orgId);
  }

  releases(principal: Principal): ReleaseRow[] {
    this.#bank(principal);
    return this.#o.repository.releases(principal.orgId);
  }

  #release(principal: Principal, releaseId: string): ReleaseRow {
    const found = this.#o.repository.release(principal.orgId, releaseId);
    if (found === undefined) throw notFound("release", releaseId);
    return found;
  }

  /** Stores the target once its length and SHA-256 are the ones the signed metadata names. */
  storeTarget(principal: Principal, releaseId: string, bytes: Buffer): ReleaseRow {
    this.#bank(principal);
    const found = this.#release(principal, releaseId);
    if (bytes.byteLength !== found.targetLength)
      throw new FleetError(
        "E_UPDATE_LENGTH",
        `the target has ${bytes.byteLength} bytes, release ${releaseId} names ${found.targetLength}`,
      );
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    if (sha256 !== found.targetSha256)
      throw new FleetError(
        "E_UPDATE_HASH",
        `the target's SHA-256 is ${sha256}, release ${releaseId} names ${found.targetSha256}`,
      );
    mkdirSync(this.#o.targetDir, { recursive: true, mode: 0o700 });
    const path = this.#targetPath(found);
    writeFileSync(`${path}.tmp`, bytes, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
    const at = this.#iso();
    this.#o.repository.transaction(() => {
      this.#o.repository.markTargetStored(principal.orgId, releaseId, at);
      this.#o.adminLog.append({
        actor: principal.personId,
        action: "release.target",
        target: releaseId,
        orgId: principal.orgId,
        data: { sha256, length: bytes.byteLength },
      });
    });
    return { ...found, targetStoredAt: at };
  }

  #targetPath(release: Pick<ReleaseRow, "targetSha256">): string {
    return join(this.#o.targetDir, `${release.targetSha256}.target`);
  }

  /** The first officer proposes a rollout of a release to a ring of locks. */
  propose(
    principal: Principal,
    input: { releaseId: string; branchId?: string; percentage: number },
  ): RolloutView {
    this.#bank(principal);
    const found = this.#release(principal, input.releaseId);
    if (found.targetStoredAt === null)
      throw new FleetError(
        "E_RELEASE_NO_TARGET",
        `release ${input.releaseId} has no target stored yet`,
        409,
      );
    if (input.branchId !== undefined) this.#o.checkBranch(principal, input.branchId);
    const row: RolloutRow = {
      id: newId("ro"),
      orgId: principal.orgId,
      releaseId: found.releaseId,
      branchId: input.branchId ?? null,
      percentage: input.percentage,
      status: "proposed",
      proposedBy: principal.personId,
      proposedAt: this.#iso(),
      approvedBy: null,
      approvedAt: null,
      changedBy: null,
      changedAt: null,
      downloadBase: null,
      widening: null,
    };
    this.#o.repository.transaction(() => {
      this.#o.repository.insertRollout(row);
      this.#o.adminLog.append({
        actor: principal.personId,
        action: "rollout.propose",
        target: row.id,
        orgId: row.orgId,
        data: { releaseId: row.releaseId, branchId: row.branchId, percentage: row.percentage },
      });
    });
    return this.view(principal, row.id);
  }

  #rollout(principal: Principal, id: string): RolloutRow {
    const row = this.#o.repository.rollout(id);
    if (row === undefined || row.orgId !== principal.orgId) throw notFound("rollout", id);
    return row;
  }

  /**
   * A second, distinct, independent officer starts the rollout; the ring's locks are offered the
   * release at once (`downloadBase`: the fleet's address as the locks reach it).
   */
  async approve(principal: Principal, id: string, downloadBase: string): Promise<RolloutView> {
    this.#bank(principal);
    const rollout = this.#rollout(principal, id);
    const refuse = (code: FleetCode, message: string, status: number): never => {
      this.#o.adminLog.append({
        actor: principal.personId,
        action: "rollout.approve.refused",
        target: id,
        orgId: rollout.orgId,
        data: { code },
      });
      throw new FleetError(code, message, status);
    };
    if (rollout.status !== "proposed")
      throw new FleetError("E_ROLLOUT_STATE", `rollout ${id} is ${rollout.status}`, 409);
    this.#checkSecondOfficer(principal, rollout.proposedBy, rollout.proposedAt, refuse);
    if (rollout.branchId !== null) this.#o.checkBranch(principal, rollout.branchId);
    // A key rotation since the upload may have revoked the release's key: no lock would take it.
    const kept = this.#release(principal, rollout.releaseId);
    const unusable = this.#o.trust.refusal(rollout.orgId, {
      payload: kept.payload,
      signature: kept.signature,
    });
    if (unusable !== undefined) refuse(unusable.code, unusable.message, 422);
    const started = this.#o.repository.transaction(() => {
      if (
        !this.#o.repository.setStatus(
          id,
          "proposed",
          "running",
          principal.personId,
          this.#iso(),
          true,
        )
      )
        return false;
      this.#o.repository.setDownloadBase(id, downloadBase);
      this.#o.adminLog.append({
        actor: principal.personId,
        action: "rollout.approve",
        target: id,
        orgId: rollout.orgId,
        data: {
          releaseId: rollout.releaseId,
          approvedBy: [rollout.proposedBy, principal.personId],
        },
      });
      return true;
    });
    if (!started)
      throw new FleetError("E_ROLLOUT_STATE", `rollout ${id} was decided meanwhile`, 409);
    await this.offerRing(id, downloadBase);
    return this.view(principal, id);
  }

  /**
   * A second officer counts only when distinct from the proposer, independent of them (no
   * puppet) and already an active officer when the change was proposed.
   */
  #checkSecondOfficer(
    principal: Principal,
    proposedBy: string,
    proposedAt: string,
    refuse: (code: FleetCode, message: string, status: number) => never,
  ): void {
    if (principal.personId === proposedBy)
      refuse(
        "E_SAME_APPROVER",
        "a rollout change is approved by an officer other than its proposer",
        409,
      );
    const dependent = this.#o.independence(principal.personId, proposedBy);
    if (dependent !== undefined) refuse(dependent.code, dependent.message, dependent.statusCode);
    const createdAt = this.#o.accountCreatedAt(principal.userId);
    if (createdAt === undefined || createdAt > proposedAt)
      refuse(
        "E_NOT_YET_ACTIVE",
        "the second officer must already have been an active officer when the change was proposed",
        403,
      );
  }

  /** Widening a started rollout's ring (ring-widening.ts): proposed, then a second officer. */
  proposeWidening(principal: Principal, id: string, input: WideningRequest): RolloutView {
    return this.#widening.propose(principal, id, input);
  }

  approveWidening(principal: Principal, id: string, downloadBase: string): Promise<RolloutView> {
    return this.#widening.approve(principal, id, downloadBase);
  }

  rejectWidening(principal: Principal, id: string): RolloutView {
    return this.#widening.reject(principal, id);
  }

  reject(principal: Principal, id: string): RolloutView {
    this.#bank(principal);
    this.#transition(principal, id, "proposed", "rejected", "rollout.reject");
    return this.view(principal, id);
  }

  /** Stops new offers; locks already downloading or installing finish what they started. */
  pause(principal: Principal, id: string): RolloutView {
    this.#bank(principal);
    this.#transition(principal, id, "running", "paused", "rollout.pause");
    return this.view(principal, id);
  }

  /** Continues within the ring the two officers approved; locks not yet offered are offered now. */
  async resume(principal: Principal, id: string, downloadBase: string): Promise<RolloutView> {
    this.#bank(principal);
    this.#transition(principal, id, "paused", "running", "rollout.resume");
    this.#o.repository.setDownloadBase(id, downloadBase);
    await this.offerRing(id, downloadBase);
    return this.view(principal, id);
  }

  #transition(
    principal: Principal,
    id: string,
    from: RolloutRow["status"],
    to: RolloutRow["status"],
    action: string,
  ): void {
    const rollout = this.#rollout(principal, id);
    const moved = this.#o.repository.transaction(() => {
      if (!this.#o.repository.setStatus(id, from, to, principal.personId, this.#iso()))
        return false;
      this.#o.adminLog.append({
        actor: principal.personId,
        action,
        target: id,
        orgId: rollout.orgId,
        data: { releaseId: rollout.releaseId },
      });
      return true;
    });
    if (!moved)
      throw new FleetError(
        "E_ROLLOUT_STATE",
        `rollout ${id} is ${rollout.status}, not ${from}`,
        409,
      );
  }

  /**
   * The ring: the bank's active locks (in the branch, if one is named), ordered by a hash of
   * rollout and lock id — a stable, unbiased sample — cut at the percentage.
   */
  ring(rollout: Pick<RolloutRow, "id" | "orgId" | "branchId" | "percentage">): string[] {
    const candidates = this.#o.repository.ringCandidates(
      rollout.orgId,
      rollout.branchId === null
        ? null
        : [rollout.branchId, ...this.#o.repository.extraBranches(rollout.id)],
    );
    const ordered = candidates
      .map((deviceId) => ({
        deviceId,
        rank: createHash("sha256").update(`${rollout.id}:${deviceId}`).digest("hex"),
      }))
      .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
    return ordered
      .slice(0, Math.ceil((ordered.length * rollout.percentage) / 100))
      .map((entry) => entry.deviceId);
  }

  /** Offers the release to every lock of the ring not offered yet (while the rollout runs). */
  async offerRing(id: string, downloadBase: string, renew: readonly string[] = []): Promise<void> {
    if (this.#offering.has(id)) return;
    this.#offering.add(id);
    try {
      await this.#offerRing(id, downloadBase, renew);
    } finally {
      this.#offering.delete(id);
    }
  }

  async #offerRing(id: string, downloadBase: string, renew: readonly string[]): Promise<void> {
    const rollout = this.#o.repository.rollout(id);
    if (rollout === undefined || rollout.status !== "running") return;
    const found = this.#o.repository.release(rollout.orgId, rollout.releaseId);
    if (found === undefined) return;
    // Nothing is offered that the locks would refuse under the keys trusted now.
    if (
      this.#o.trust.refusal(rollout.orgId, { payload: found.payload, signature: found.signature })
    )
      return;
    const releaseKeys = this.#o.trust.chain(rollout.orgId);
    const renewed = new Set(renew);
    const already = new Set(
      this.#o.repository
        .offered(id)
        // null: the fleet stopped between recording the offer and sending it
        .filter((row) => row.commandId !== null && row.commandId !== UNSENT)
        .map((row) => row.deviceId)
        .filter((deviceId) => !renewed.has(deviceId)),
    );
    const pending = [
      ...new Set([...this.ring(rollout).filter((deviceId) => !already.has(deviceId)), ...renewed]),
    ];
    // A few offers in flight at a time: the hub commits each command's seq before it leaves.
    for (let i = 0; i < pending.length; i += OFFERS_IN_FLIGHT) {
      await Promise.all(
        pending
          .slice(i, i + OFFERS_IN_FLIGHT)
          .map((deviceId) => this.#offer(id, deviceId, found, downloadBase, releaseKeys)),
      );
    }
  }

  async #offer(
    rolloutId: string,
    deviceId: string,
    found: ReleaseRow,
    downloadBase: string,
    releaseKeys: UpdateOfferBody["releaseKeys"],
  ): Promise<void> {
    const token = randomBytes(32).toString("base64url");
    this.#o.repository.insertOffer(rolloutId, deviceId, hashToken(token), this.#iso());
    const body: UpdateOfferBody = {
      release: { payload: found.payload, signature: found.signature },
      rolloutId,
      download: { url: `${downloadBase.replace(/\/+$/, "")}/api/v1/updates/download`, token },
      // The bank's key sets ride along: a lock takes a rotation before it judges the release.
      ...(releaseKeys === undefined || releaseKeys.length === 0 ? {} : { releaseKeys }),
    };
    try {
      const issued = await this.#o.hub.issueCommand(deviceId, "update.offer", body, {
        ttlMs: OFFER_TTL_MS,
        waitMs: this.#o.commandWaitMs ?? 0,
      });
      const refused =
        issued.result?.status === "error" ? (issued.result.error?.code ?? "E_UNKNOWN") : null;
      this.#o.repository.offerAnswered(rolloutId, deviceId, issued.commandId, refused);
    } catch {
      // Not sent (hub down): the row stays, marked, and the offer goes again on resume.
      this.#o.repository.offerAnswered(rolloutId, deviceId, UNSENT, null);
    }
  }

  /**
   * The sweep for locks that were away: in every running rollout, ring members not offered yet
   * are offered, and a lock whose offer expired (or never left) while it was offline is offered
   * again once the device part sees it online. Returns how many offers went again.
   */
  async renewOffers(): Promise<number> {
    const now = this.#o.clock();
    let renewed = 0;
    for (const rollout of this.#o.repository.runningRollouts()) {
      if (rollout.downloadBase === null) continue;
      const stale = this.#o.repository.offersToRenew(
        rollout.id,
        formatInstant(now),
        formatInstant(now - OFFER_TTL_MS),
      );
      renewed += stale.length;
      await this.offerRing(rollout.id, rollout.downloadBase, stale);
    }
    return renewed;
  }

  view(principal: Principal, id: string): RolloutView {
    const rollout = this.#rollout(principal, id);
    const found = this.#o.repository.release(rollout.orgId, rollout.releaseId);
    const progress = new Map(
      this.#o.repository.progress(id).map((row) => [row.deviceId, row] as const),
    );
    const offered = new Map(
      this.#o.repository.offered(id).map((row) => [row.deviceId, row] as const),
    );
    const deviceIds = new Set([
      ...offered.keys(),
      ...(rollout.status === "proposed" || rollout.status === "rejected" ? [] : this.ring(rollout)),
    ]);
    return {
      ...rollout,
      version: found?.version ?? "?",
      branchIds: this.#o.repository.extraBranches(id),
      locks: [...deviceIds].sort().map((deviceId) => {
        const offer = offered.get(deviceId);
        return lockStatus(
          deviceId,
          progress.get(deviceId),
          offer?.offeredAt ?? null,
          offer?.refusedCode ?? null,
        );
      }),
    };
  }

  list(principal: Principal): RolloutView[] {
    this.#bank(principal);
    return this.#o.repository.rollouts(principal.orgId).map((row) => this.view(principal, row.id));
  }

  /**
   * One range of a target for the lock holding the offer's token: `bytes=a-b`, at most
   * MAX_RANGE_BYTES. The token names the lock and the rollout; nothing else is needed.
   */
  readRange(
    token: string,
    range: string | undefined,
  ): { bytes: Buffer; start: number; end: number; total: number } {
    const offer = this.#o.repository.offerByToken(hashToken(token));
    if (offer === undefined)
      throw new FleetError("E_UNAUTHENTICATED", "the download token is unknown", 401);
    const rollout = this.#o.repository.rollout(offer.rolloutId);
    const found =
      rollout === undefined
        ? undefined
        : this.#o.repository.release(rollout.orgId, rollout.releaseId);
    if (rollout === undefined || found === undefined || rollout.status === "rejected")
      throw new FleetError("E_NOT_FOUND", "the offered release is no longer kept", 404);
    const match = /^bytes=(\d{1,12})-(\d{1,12})$/.exec(range ?? "");
    const start = Number(match?.[1]);
    const end = Math.min(Number(match?.[2]), found.targetLength - 1);
    if (match === null || start > end || end - start + 1 > MAX_RANGE_BYTES)
      throw new FleetError(
        "E_RANGE",
        `ask for one range "bytes=a-b" inside the target, at most ${MAX_RANGE_BYTES} bytes`,
        416,
      );
    const path = this.#targetPath(found);
    if (!existsSync(path)) throw new FleetError("E_NOT_FOUND", "the target is not stored", 404);
    const bytes = Buffer.alloc(end - start + 1);
    const fd = openSync(path, "r");
    try {
      readSync(fd, bytes, 0, bytes.byteLength, start);
    } finally {
      closeSync(fd);
    }
    return { bytes, start, end, total: found.targetLength };
  }

  /** Removes a target file (tests, and a release withdrawn before any rollout). */
  dropTarget(release: Pick<ReleaseRow, "targetSha256">): void {
    rmSync(this.#targetPath(release), { force: true });
  }
}

function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
