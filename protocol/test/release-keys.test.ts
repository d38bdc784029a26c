import { describe, expect, it } from "vitest";
import { toBase64url } from "../src/crypto/bytes.js";
import { nodeEd25519 } from "../src/crypto/ed25519.js";
import { signRelease } from "../src/release.js";
import {
  advanceReleaseKeys,
  applyReleaseKeyChain,
  installedReleaseKeys,
  openTrustedRelease,
  parseReleaseKeyFile,
  signReleaseKeySet,
} from "../src/release-keys.js";
import type { ReleaseKeySetMetadata } from "../src/schemas/release-keys.js";

const NOW = Date.parse("2026-12-02T10:00:00.000Z");
const clock = { lockTime: NOW, trustedTime: true };
const key = (seed: number) => nodeEd25519.keyPairFromSeed(new Uint8Array(32).fill(seed));
const k1 = key(1);
const k2 = key(2);
const k3 = key(3);
const signer = (keyId: string, pair: { secretKey: Uint8Array }) => ({
  keyId,
  secretKey: pair.secretKey,
});
const installed = installedReleaseKeys(new Map([["k1", k1.publicKey]]));

function keySet(
  version: number,
  keys: Array<[string, Uint8Array]>,
  overrides: Partial<ReleaseKeySetMetadata> = {},
): ReleaseKeySetMetadata {
  return {
    v: 1,
    type: "releaseKeys",
    version,
    issuedAt: "2026-12-01T10:00:00.000Z",
    expiresAt: "2027-12-01T10:00:00.000Z",
    threshold: 1,
    keys: keys.map(([keyId, publicKey]) => ({ keyId, publicKey: toBase64url(publicKey) })),
    ...overrides,
  };
}

const v2 = signReleaseKeySet(keySet(2, [["k2", k2.publicKey]]), [
  signer("k1", k1),
  signer("k2", k2),
]);

function release(keyId: string, secretKey: Uint8Array) {
  return signRelease(
    {
      v: 1,
      type: "release",
      releaseId: "rel-1.2.0",
      version: "1.2.0",
      issuedAt: "2026-12-01T10:00:00.000Z",
      expiresAt: "2026-12-31T10:00:00.000Z",
      keyId,
      target: { name: "t.tar.gz", sha256: "ab".repeat(32), length: 10 },
      hardwareProfiles: ["virtual"],
      minimumFromVersion: "1.0.0",
    },
    secretKey,
  );
}

describe("release-key rotation (TUF root rules)", () => {
  it("a set vouched for by the trusted key and signed by its own moves trust; the left-out key is revoked", () => {
    const outcome = applyReleaseKeyChain(installed, [v2], clock);
    expect(outcome.refused).toBeUndefined();
    expect(outcome.trusted.version).toBe(2);
    expect([...outcome.trusted.keys.keys()]).toEqual(["k2"]);
    expect(outcome.revokedNow).toEqual(["k1"]);
    const old = openTrustedRelease(release("k1", k1.secretKey), outcome.trusted, clock);
    expect(old.ok || old.error.code).toBe("E_RELEASE_KEY_REVOKED");
    expect(openTrustedRelease(release("k2", k2.secretKey), outcome.trusted, clock).ok).toBe(true);
  });

  it("a set signed by the new key only is refused", () => {
    const self = signReleaseKeySet(keySet(2, [["k2", k2.publicKey]]), [signer("k2", k2)]);
    expect(applyReleaseKeyChain(installed, [self], clock).refused?.code).toBe(
      "E_RELEASE_KEYS_THRESHOLD",
    );
  });

  it("a set its own keys did not sign is refused", () => {
    const unproven = signReleaseKeySet(keySet(2, [["k2", k2.publicKey]]), [signer("k1", k1)]);
    expect(applyReleaseKeyChain(installed, [unproven], clock).refused?.code).toBe(
      "E_RELEASE_KEYS_NEW_THRESHOLD",
    );
  });

  it("a replayed older set is refused; sets already trusted are passed over", () => {
    const at2 = applyReleaseKeyChain(installed, [v2], clock).trusted;
    const v3 = signReleaseKeySet(keySet(3, [["k3", k3.publicKey]]), [
      signer("k2", k2),
      signer("k3", k3),
    ]);
    const at3 = applyReleaseKeyChain(at2, [v2, v3], clock);
    expect(at3.refused).toBeUndefined();
    expect(at3.trusted.version).toBe(3);
    expect([...at3.trusted.revoked].sort()).toEqual(["k1", "k2"]);
    // Another version-2 set the lock never took, signed by the revoked key: a replay.
    const other2 = signReleaseKeySet(keySet(2, [["k1", k1.publicKey]], { notes: "old" }), [
      signer("k1", k1),
    ]);
    expect(applyReleaseKeyChain(at3.trusted, [other2], clock).refused?.code).toBe(
      "E_RELEASE_KEYS_ROLLBACK",
    );
    expect(applyReleaseKeyChain(at3.trusted, [v2, v3], clock).accepted).toEqual([]);
  });

  it("an expired set is refused and nothing of its chain is taken; an expired middle link is not judged", () => {
    const expired = signReleaseKeySet(
      keySet(2, [["k2", k2.publicKey]], { expiresAt: "2026-12-02T09:00:00.000Z" }),
      [signer("k1", k1), signer("k2", k2)],
    );
    const outcome = applyReleaseKeyChain(installed, [expired], clock);
    expect(outcome.refused?.code).toBe("E_RELEASE_KEYS_EXPIRED");
    expect(outcome.trusted).toBe(installed);
    const v3 = signReleaseKeySet(keySet(3, [["k3", k3.publicKey]]), [
      signer("k2", k2),
      signer("k3", k3),
    ]);
    expect(applyReleaseKeyChain(installed, [expired, v3], clock).trusted.version).toBe(3);
    expect(
      applyReleaseKeyChain(installed, [v2], { lockTime: NOW, trustedTime: false }).refused?.code,
    ).toBe("E_RELEASE_KEYS_NO_TRUSTED_TIME");
  });

  it("once the trusted set expires, releases are refused until a newer set comes", () => {
    const at2 = applyReleaseKeyChain(installed, [v2], clock).trusted;
    const later = { lockTime: Date.parse("2028-01-01T00:00:00.000Z"), trustedTime: true };
    const opened = openTrustedRelease(release("k2", k2.secretKey), at2, later);
    expect(opened.ok || opened.error.code).toBe("E_RELEASE_KEYS_EXPIRED");
  });

  it("a threshold of two needs two distinct trusted signatures; a key id is never bound to another key", () => {
    const two = installedReleaseKeys(
      new Map([
        ["k1", k1.publicKey],
        ["k2", k2.publicKey],
      ]),
      { threshold: 2 },
    );
    const twice = signReleaseKeySet(keySet(2, [["k3", k3.publicKey]]), [
      signer("k1", k1),
      signer("k1", k1),
      signer("k3", k3),
    ]);
    expect(advanceReleaseKeys(two, twice).ok || "refused").toBe("refused");
    const both = signReleaseKeySet(keySet(2, [["k3", k3.publicKey]]), [
      signer("k1", k1),
      signer("k2", k2),
      signer("k3", k3),
    ]);
    expect(advanceReleaseKeys(two, both).ok).toBe(true);
    const rebound = signReleaseKeySet(keySet(2, [["k1", k3.publicKey]]), [
      signer("k1", k1),
      signer("k1", k3),
    ]);
    const result = advanceReleaseKeys(installed, rebound);
    expect(result.ok || result.error.code).toBe("E_RELEASE_KEYS_REBOUND");
  });

  it("the installed keys file is read with its version and threshold", () => {
    const file = JSON.stringify({
      version: 4,
      threshold: 1,
      keys: [{ keyId: "k1", publicKey: toBase64url(k1.publicKey) }],
    });
    const parsed = parseReleaseKeyFile(file, "keys.json");
    expect(parsed.ok && parsed.value.version).toBe(4);
    const bad = parseReleaseKeyFile('{"keys":[],"threshold":2}', "keys.json");
    expect(bad.ok || bad.error.code).toBe("E_RELEASE_KEYS_FILE");
  });
});
