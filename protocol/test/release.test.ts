import { describe, expect, it } from "vitest";
import { fromBase64url, toBase64url } from "../src/crypto/bytes.js";
import { nodeEd25519, tweetnaclEd25519 } from "../src/crypto/ed25519.js";
import {
  checkReleaseApplies,
  checkTarget,
  compareVersions,
  openRelease,
  type RunningSoftware,
  signRelease,
} from "../src/release.js";
import type { ReleaseMetadata } from "../src/schemas/release.js";

const NOW = Date.parse("2026-12-02T10:00:00.000Z");
const releaseKey = nodeEd25519.keyPairFromSeed(new Uint8Array(32).fill(3));
const fleetKey = nodeEd25519.keyPairFromSeed(new Uint8Array(32).fill(7));
const KEYS = new Map([["release-2026", releaseKey.publicKey]]);

function metadata(overrides: Partial<ReleaseMetadata> = {}): ReleaseMetadata {
  return {
    v: 1,
    type: "release",
    releaseId: "rel-1.2.0",
    version: "1.2.0",
    issuedAt: "2026-12-01T10:00:00.000Z",
    expiresAt: "2026-12-31T10:00:00.000Z",
    keyId: "release-2026",
    target: { name: "lockfleet-edge-1.2.0.tar.gz", sha256: "ab".repeat(32), length: 1000 },
    hardwareProfiles: ["virtual"],
    minimumFromVersion: "1.0.0",
    ...overrides,
  };
}

const running: RunningSoftware = {
  version: "1.1.0",
  hardwareProfile: "virtual",
  lockTime: NOW,
  trustedTime: true,
};

function opened(overrides: Partial<ReleaseMetadata> = {}) {
  const result = openRelease(signRelease(metadata(overrides), releaseKey.secretKey), KEYS);
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

describe("release metadata", () => {
  it("a release signed by the release key opens, with either Ed25519 backend", () => {
    const signed = signRelease(metadata(), releaseKey.secretKey);
    for (const backend of [nodeEd25519, tweetnaclEd25519]) {
      const result = openRelease(signed, KEYS, backend);
      expect(result.ok && result.value.metadata.version).toBe("1.2.0");
    }
  });

  it("a release signed by the fleet's command key is refused, even under the release key's id", () => {
    const signed = signRelease(metadata(), fleetKey.secretKey);
    const result = openRelease(signed, KEYS);
    expect(!result.ok && result.error.code).toBe("E_RELEASE_BAD_SIGNATURE");
    const foreign = openRelease(
      signRelease(metadata({ keyId: "fleet-1" }), fleetKey.secretKey),
      KEYS,
    );
    expect(!foreign.ok && foreign.error.code).toBe("E_RELEASE_UNKNOWN_KEY");
  });

  it("a changed byte, a malleated signature or a non-canonical payload are refused", () => {
    const signed = signRelease(metadata(), releaseKey.secretKey);
    const changed = openRelease(
      { ...signed, payload: signed.payload.replace("1.2.0", "9.2.0") },
      KEYS,
    );
    expect(!changed.ok && changed.error.code).toBe("E_RELEASE_BAD_SIGNATURE");
    // S + L: the same signature in a second encoding (strict RFC 8032 refuses it).
    const signature = fromBase64url(signed.signature);
    const order = [
      0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
      0x14,
    ];
    let carry = 0;
    for (let i = 0; i < 32; i += 1) {
      const sum = (signature[32 + i] ?? 0) + (order[i] ?? (i === 31 ? 0x10 : 0)) + carry;
      signature[32 + i] = sum & 0xff;
      carry = sum >> 8;
    }
    const malleated = openRelease({ ...signed, signature: toBase64url(signature) }, KEYS);
    expect(!malleated.ok && malleated.error.code).toBe("E_RELEASE_BAD_SIGNATURE");
    const spaced = ` ${signed.payload}`;
    const notCanonical = openRelease(
      {
        payload: spaced,
        signature: toBase64url(
          nodeEd25519.sign(new TextEncoder().encode(spaced), releaseKey.secretKey),
        ),
      },
      KEYS,
    );
    expect(!notCanonical.ok && notCanonical.error.code).toBe("E_RELEASE_NOT_CANONICAL");
  });

  it("an older or equal version is refused as a rollback", () => {
    for (const version of ["1.1.0", "1.0.9", "1.1.0-rc.1"]) {
      const result = checkReleaseApplies(opened({ version }), running);
      expect(!result.ok && result.error.code).toBe("E_UPDATE_ROLLBACK");
    }
  });

  it("metadata past its expiry on the lock's trusted clock is refused as a freeze", () => {
    const result = checkReleaseApplies(opened({ expiresAt: "2026-12-02T09:59:59.999Z" }), running);
    expect(!result.ok && result.error.code).toBe("E_UPDATE_FROZEN");
    const untrusted = checkReleaseApplies(opened(), { ...running, trustedTime: false });
    expect(!untrusted.ok && untrusted.error.code).toBe("E_UPDATE_NO_TRUSTED_TIME");
  });

  it("a release for another hardware profile or from a newer minimum version is refused", () => {
    const profile = checkReleaseApplies(opened({ hardwareProfiles: ["raspberry-pi-4"] }), running);
    expect(!profile.ok && profile.error.code).toBe("E_UPDATE_PROFILE");
    const from = checkReleaseApplies(opened({ minimumFromVersion: "1.1.5" }), running);
    expect(!from.ok && from.error.code).toBe("E_UPDATE_FROM_TOO_OLD");
    expect(checkReleaseApplies(opened(), running).ok).toBe(true);
  });

  it("a target of the wrong length or hash is refused", () => {
    const meta = metadata();
    expect(checkTarget(meta, { length: 999, sha256: "ab".repeat(32) }).ok).toBe(false);
    const hash = checkTarget(meta, { length: 1000, sha256: "cd".repeat(32) });
    expect(!hash.ok && hash.error.code).toBe("E_UPDATE_HASH");
    expect(checkTarget(meta, { length: 1000, sha256: "ab".repeat(32) }).ok).toBe(true);
  });

  it("versions order by semantic-version precedence", () => {
    const ordered = [
      "0.9.9",
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0",
      "1.0.1",
      "1.10.0",
    ];
    for (let i = 1; i < ordered.length; i += 1) {
      expect(compareVersions(ordered[i - 1] as string, ordered[i] as string)).toBe(-1);
      expect(compareVersions(ordered[i] as string, ordered[i - 1] as string)).toBe(1);
    }
    expect(compareVersions("2.0.0", "2.0.0")).toBe(0);
  });
});
