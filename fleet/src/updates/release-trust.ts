/**
 * What the fleet trusts of release keys, and the early check it makes with them. The fleet is
 * configured with the public halves only (`<dataDir>/release-keys.json`, the same file the
 * locks get at installation) and keeps each bank's signed key sets; it verifies a release's
 * signature and a key set's vouching exactly as a lock will, so that a bank sees a wrong key,
 * a revoked key or a broken signature when it uploads, not when its locks refuse. The locks
 * still judge for themselves: the fleet holds no private release key and its word is not
 * needed for trust.
 */
import { existsSync, readFileSync } from "node:fs";
import {
  advanceReleaseKeys,
  applyReleaseKeyChain,
  formatInstant,
  MAX_RELEASE_KEY_CHAIN,
  type OpenedRelease,
  openTrustedRelease,
  parseReleaseKeyFile,
  type SignedRelease,
  type SignedReleaseKeySet,
  type TrustedReleaseKeys,
} from "@lockfleet/protocol";
import type { AdminLog } from "../admin-log.js";
import type { Principal } from "../auth/principal.js";
import type { FleetCode } from "../error-catalogue.js";
import { FleetError } from "../errors.js";
import type { KeySetRow, UpdateRepository } from "./update-repository.js";

export interface ReleaseTrustOptions {
  repository: UpdateRepository;
  adminLog: Pick<AdminLog, "append">;
  /** The installed release public keys (`<dataDir>/release-keys.json`). */
  keysFile: string;
  clock: () => number;
}

export class ReleaseTrust {
  readonly #o: ReleaseTrustOptions;

  constructor(options: ReleaseTrustOptions) {
    this.#o = options;
  }

  /** Read at each use, so that an operator can place or replace the file without a restart. */
  #installed(): TrustedReleaseKeys {
    if (!existsSync(this.#o.keysFile))
      throw new FleetError(
        "E_RELEASE_NO_KEYS",
        `the fleet has no release public keys: place release-keys.json (public halves, as the locks get them) in its data directory`,
        409,
      );
    const parsed = parseReleaseKeyFile(readFileSync(this.#o.keysFile, "utf8"), "release-keys.json");
    if (!parsed.ok) throw new FleetError(parsed.error.code, parsed.error.message, 500);
    return parsed.value;
  }

  /** The installed keys moved forward by the bank's accepted key sets. */
  trusted(orgId: string): TrustedReleaseKeys {
    let trusted = this.#installed();
    for (const row of this.#o.repository.keySets(orgId)) {
      const step = advanceReleaseKeys(trusted, signedOf(row));
      // Stored sets were checked when added; one the installed file supersedes is passed over.
      if (step.ok) trusted = step.value.trusted;
    }
    return trusted;
  }

  /** The key sets an offer carries: the newest few, oldest first. */
  chain(orgId: string): SignedReleaseKeySet[] {
    return this.#o.repository.keySets(orgId).slice(-MAX_RELEASE_KEY_CHAIN).map(signedOf);
  }

  #refused(principal: Principal, action: string, target: string, error: FleetError): never {
    this.#o.adminLog.append({
      actor: principal.personId,
      action: `${action}.refused`,
      target,
      orgId: principal.orgId,
      data: { code: error.code },
    });
    throw error;
  }

  /** The release's signature under the bank's trusted release keys, as a lock will judge it. */
  verifyRelease(principal: Principal, releaseId: string, signed: SignedRelease): OpenedRelease {
    let trusted: TrustedReleaseKeys;
    try {
      trusted = this.trusted(principal.orgId);
    } catch (error) {
      if (error instanceof FleetError) this.#refused(principal, "release.add", releaseId, error);
      throw error;
    }
    const opened = openTrustedRelease(signed, trusted, {
      lockTime: this.#o.clock(),
      trustedTime: true,
    });
    if (!opened.ok)
      this.#refused(
        principal,
        "release.add",
        releaseId,
        new FleetError(opened.error.code, opened.error.message, 422),
      );
    return opened.value;
  }

  /**
   * Why a kept release would be refused by the locks now (its key revoked or unknown since, the
   * newest key set expired), or undefined: checked before a rollout starts and before each offer.
   */
  refusal(orgId: string, signed: SignedRelease): { code: FleetCode; message: string } | undefined {
    try {
      const opened = openTrustedRelease(signed, this.trusted(orgId), {
        lockTime: this.#o.clock(),
        trustedTime: true,
      });
      return opened.ok ? undefined : opened.error;
    } catch (error) {
      return error instanceof FleetError ? { code: error.code, message: error.message } : undefined;
    }
  }

  /** Keeps a key set once it moves the bank's trust forward by the rules a lock applies. */
  addKeySet(principal: Principal, signed: SignedReleaseKeySet): KeySetRow {
    const current = this.trusted(principal.orgId);
    const outcome = applyReleaseKeyChain(current, [signed], {
      lockTime: this.#o.clock(),
      trustedTime: true,
    });
    const target = `release-keys:${outcome.refused?.version ?? outcome.trusted.version}`;
    if (outcome.refused !== undefined)
      this.#refused(
        principal,
        "releaseKeys.add",
        target,
        new FleetError(outcome.refused.code, outcome.refused.message, 422),
      );
    if (outcome.accepted.length === 0)
      this.#refused(
        principal,
        "releaseKeys.add",
        target,
        new FleetError(
          "E_RELEASE_KEYS_ROLLBACK",
          `key set ${current.version} is already trusted`,
          409,
        ),
      );
    const row: KeySetRow = {
      orgId: principal.orgId,
      version: outcome.trusted.version,
      payload: signed.payload,
      signatures: signed.signatures,
      keyIds: [...outcome.trusted.keys.keys()],
      revoked: outcome.revokedNow,
      expiresAt: formatInstant(outcome.trusted.expiresAt ?? 0),
      addedBy: principal.personId,
      addedAt: formatInstant(this.#o.clock()),
    };
    this.#o.repository.transaction(() => {
      this.#o.repository.insertKeySet(row);
      this.#o.adminLog.append({
        actor: principal.personId,
        action: "releaseKeys.add",
        target,
        orgId: principal.orgId,
        data: { version: row.version, keyIds: row.keyIds, revoked: row.revoked },
      });
    });
    return row;
  }
}

function signedOf(row: KeySetRow): SignedReleaseKeySet {
  return { payload: row.payload, signatures: row.signatures };
}
