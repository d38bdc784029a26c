/**
 * The fleet's signing key ring (SPEC §4 "fleet signing key (rotatable, keyId)"). Private keys
 * sit in `fleet_keys` sealed under the key-encryption key and are opened into memory once.
 *
 * A lock is only ever sent envelopes signed with a key it is known to trust, so a rotation
 * that has not reached a lock yet (it was offline) never leaves it unable to verify commands.
 */
import {
  CodedError,
  ed25519,
  formatInstant,
  fromBase64url,
  toBase64url,
} from "@lockfleet/protocol";
import { newId } from "../ids.js";
import type { SecretBox } from "../secrets.js";
import type { DeviceRepository, FleetKeyRow } from "./device-repository.js";

export interface FleetKey {
  keyId: string;
  publicKey: string;
  createdAt: string;
  activatedAt: string | undefined;
  retiredAt: string | undefined;
}

/** A lock trusts at most this many fleet keys at once (EnrolmentResponse.fleetKeys). */
export const MAX_TRUSTED_FLEET_KEYS = 4;

function sealPurpose(keyId: string): string {
  return `fleet-signing-key:${keyId}`;
}

export class FleetKeyRing {
  readonly #secretKeys = new Map<string, Uint8Array>();
  #keys: FleetKey[] = [];

  constructor(
    private readonly repository: DeviceRepository,
    private readonly secrets: SecretBox,
    now: number,
  ) {
    this.#reload();
    if (this.active() === undefined) this.create(now, true);
  }

  #reload(): void {
    this.#keys = this.repository.fleetKeys().map((row: FleetKeyRow) => ({
      keyId: row.key_id,
      publicKey: row.public_key,
      createdAt: row.created_at,
      activatedAt: row.activated_at ?? undefined,
      retiredAt: row.retired_at ?? undefined,
    }));
    for (const row of this.repository.fleetKeys()) {
      if (row.retired_at !== null || this.#secretKeys.has(row.key_id)) continue;
      const seed = this.secrets.open(row.sealed_private_key, sealPurpose(row.key_id));
      this.#secretKeys.set(row.key_id, ed25519.keyPairFromSeed(seed).secretKey);
      seed.fill(0);
    }
  }

  /** A new key pair, its private half sealed before it is stored. */
  create(now: number, activate: boolean): FleetKey {
    const keyId = newId("fk");
    const pair = ed25519.generateKeyPair();
    const seed = pair.secretKey.slice(0, 32);
    const at = formatInstant(now);
    this.repository.insertFleetKey({
      key_id: keyId,
      public_key: toBase64url(pair.publicKey),
      sealed_private_key: this.secrets.seal(seed, sealPurpose(keyId)),
      created_at: at,
      activated_at: activate ? at : null,
    });
    seed.fill(0);
    this.#secretKeys.set(keyId, pair.secretKey);
    this.#reload();
    const key = this.#keys.find((candidate) => candidate.keyId === keyId);
    if (key === undefined) throw new CodedError("E_FLEET_KEY", `key ${keyId} was not stored`);
    return key;
  }

  activate(keyId: string, now: number): void {
    this.repository.activateFleetKey(keyId, formatInstant(now));
    this.#reload();
  }

  retire(keyId: string, now: number): void {
    this.repository.retireFleetKey(keyId, formatInstant(now));
    const secretKey = this.#secretKeys.get(keyId);
    secretKey?.fill(0);
    this.#secretKeys.delete(keyId);
    this.#reload();
  }

  /** The newest activated, unretired key: what new locks receive and what the fleet prefers. */
  active(): FleetKey | undefined {
    // Keys are listed in the order they were created; the last activated one wins.
    let newest: FleetKey | undefined;
    for (const key of this.#keys) {
      if (key.activatedAt !== undefined && key.retiredAt === undefined) newest = key;
    }
    return newest;
  }

  /** Keys that are neither retired nor still waiting to be installed. */
  published(): FleetKey[] {
    return this.#keys.filter((key) => key.activatedAt !== undefined && key.retiredAt === undefined);
  }

  all(): FleetKey[] {
    return [...this.#keys];
  }

  get(keyId: string): FleetKey | undefined {
    return this.#keys.find((key) => key.keyId === keyId);
  }

  /**
   * The key to sign with for a lock that trusts `trusted`: the active key if it does, else the
   * newest unretired key it trusts. Undefined when it trusts none the fleet still holds.
   */
  signerFor(trusted: readonly string[]): { keyId: string; secretKey: Uint8Array } | undefined {
    const active = this.active();
    const candidates = [
      ...(active === undefined ? [] : [active]),
      ...[...this.#keys].reverse().filter((key) => key.retiredAt === undefined),
    ];
    for (const key of candidates) {
      if (!trusted.includes(key.keyId)) continue;
      const secretKey = this.#secretKeys.get(key.keyId);
      if (secretKey !== undefined) return { keyId: key.keyId, secretKey };
    }
    return undefined;
  }

  publicKey(keyId: string): Uint8Array | undefined {
    const key = this.get(keyId);
    return key === undefined ? undefined : fromBase64url(key.publicKey);
  }
}
