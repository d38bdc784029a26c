/**
 * What the fleet checks and decides beyond a plain rollout, over HTTP (app.inject) with two
 * stand-in locks over real MQTT: it verifies release signatures and release-key sets against
 * the release public keys it is configured with (never holding a private one), relays the key
 * sets with each offer, widens a running rollout's ring only with a second officer, and offers
 * a release again to a lock whose offer expired while it was offline, once it is online.
 */
import { createHash, randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  nodeEd25519,
  type ReleaseKeySetMetadata,
  type SignedRelease,
  signRelease,
  signReleaseKeySet,
  toBase64url,
  type UpdateOfferBody,
} from "@lockfleet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OFFER_TTL_MS } from "../../src/updates/update-service.js";
import { SimulatedLock } from "../devices/simulated-lock.js";
import { createFixture, type Fixture } from "../fixtures.js";

const k1 = nodeEd25519.generateKeyPair();
const k2 = nodeEd25519.generateKeyPair();
const target = randomBytes(4096);
let f: Fixture;
const locks: SimulatedLock[] = [];

function release(version: string, keyId: string, secretKey: Uint8Array): SignedRelease {
  return signRelease(
    {
      v: 1,
      type: "release",
      releaseId: `rel-${version}-${keyId}`,
      version,
      issuedAt: new Date(Date.now() - 60_000).toISOString(),
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      keyId,
      target: {
        name: `lockfleet-${version}.tar.gz`,
        sha256: createHash("sha256").update(target).digest("hex"),
        length: target.byteLength,
      },
      hardwareProfiles: ["virtual"],
      minimumFromVersion: "0.1.0",
    },
    secretKey,
  );
}

function keySet(
  signers: Array<[string, Uint8Array]>,
  overrides: Partial<ReleaseKeySetMetadata> = {},
) {
  return signReleaseKeySet(
    {
      v: 1,
      type: "releaseKeys",
      version: 2,
      issuedAt: new Date(Date.now() - 60_000).toISOString(),
      expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      threshold: 1,
      keys: [{ keyId: "k2", publicKey: toBase64url(k2.publicKey) }],
      ...overrides,
    },
    signers.map(([keyId, secretKey]) => ({ keyId, secretKey })),
  );
}

const api = (
  who: Parameters<Fixture["as"]>[0],
  method: "GET" | "POST",
  url: string,
  payload?: unknown,
) =>
  f.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: f.as(who),
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

const availability = (deviceId: string) =>
  (
    f.app.db.prepare("SELECT availability FROM devices WHERE device_id = ?").get(deviceId) as {
      availability: string;
    }
  ).availability;

async function eventually(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const offers = (lock: SimulatedLock) =>
  lock.commandsOfType("update.offer") as Array<{ body: UpdateOfferBody; id: string }>;

beforeAll(async () => {
  f = await createFixture();
  for (const container of [f.container, f.uncontractedContainer]) {
    const lock = new SimulatedLock();
    const { token } = f.app.hub.createEnrolmentToken({
      orgId: f.bank.id,
      containerId: container.id,
      ttlMs: 60_000,
      createdBy: f.accounts.securityAdmin.person.id,
    });
    lock.accept(await f.app.hub.enrol(lock.enrolmentRequest(token)));
    await lock.connect();
    locks.push(lock);
  }
});
afterAll(async () => {
  for (const lock of locks) lock.crash();
  await f?.close();
});

let earlyRollout = "";

describe("the fleet checks release signatures and key sets itself", () => {
  const keysFile = () => join(f.dataDir, "release-keys.json");

  it("a release is refused with a stable code when the fleet has no release keys or the signature does not verify", async () => {
    rmSync(keysFile(), { force: true });
    const none = await api("securityAdmin", "POST", "/updates/releases", {
      release: release("1.1.0", "k1", k1.secretKey),
    });
    expect(none.statusCode).toBe(409);
    expect(none.json().code).toBe("E_RELEASE_NO_KEYS");
    writeFileSync(
      keysFile(),
      JSON.stringify({ keys: [{ keyId: "k1", publicKey: toBase64url(k1.publicKey) }] }),
    );
    const forged = await api("securityAdmin", "POST", "/updates/releases", {
      release: release("1.1.0", "k1", k2.secretKey),
    });
    expect(forged.json().code).toBe("E_RELEASE_BAD_SIGNATURE");
    const unknown = await api("securityAdmin", "POST", "/updates/releases", {
      release: release("1.1.0", "k2", k2.secretKey),
    });
    expect(unknown.json().code).toBe("E_RELEASE_UNKNOWN_KEY");
    const refusals = f.app.db
      .prepare("SELECT COUNT(*) AS n FROM admin_log WHERE action = 'release.add.refused'")
      .get() as { n: number };
    expect(refusals.n).toBe(3);
    // A good release under the old key, proposed before the rotation below.
    await api("securityAdmin", "POST", "/updates/releases", {
      release: release("1.0.5", "k1", k1.secretKey),
    });
    await f.app.inject({
      method: "PUT",
      url: "/api/v1/updates/releases/rel-1.0.5-k1/target",
      headers: { ...f.as("securityAdmin"), "content-type": "application/octet-stream" },
      payload: target,
    });
    const proposed = await api("securityAdmin", "POST", "/updates/rollouts", {
      releaseId: "rel-1.0.5-k1",
      percentage: 100,
    });
    expect(proposed.statusCode).toBe(201);
    earlyRollout = proposed.json().id;
  });

  it("a key set is kept only when the trusted key vouches for it, unexpired and newer; then the revoked key's releases are refused", async () => {
    const add = (keySetBody: unknown) =>
      api("securityAdmin", "POST", "/updates/release-keys", { keySet: keySetBody });
    expect((await add(keySet([["k2", k2.secretKey]]))).json().code).toBe(
      "E_RELEASE_KEYS_THRESHOLD",
    );
    const expired = keySet(
      [
        ["k1", k1.secretKey],
        ["k2", k2.secretKey],
      ],
      {
        // Expiry is judged on the fleet's clock.
        issuedAt: new Date(f.clock.now() - 86_400_000).toISOString(),
        expiresAt: new Date(f.clock.now() - 1000).toISOString(),
      },
    );
    expect((await add(expired)).json().code).toBe("E_RELEASE_KEYS_EXPIRED");
    const rotation = keySet([
      ["k1", k1.secretKey],
      ["k2", k2.secretKey],
    ]);
    const kept = await add(rotation);
    expect(kept.statusCode).toBe(201);
    expect(kept.json()).toMatchObject({ version: 2, keyIds: ["k2"], revoked: ["k1"] });
    expect((await add(rotation)).json().code).toBe("E_RELEASE_KEYS_ROLLBACK");
    const revoked = await api("securityAdmin", "POST", "/updates/releases", {
      release: release("1.1.0", "k1", k1.secretKey),
    });
    expect(revoked.json().code).toBe("E_RELEASE_KEY_REVOKED");
    // A rollout of a release kept before the rotation cannot start: no lock would take it.
    const stale = await api("secondOfficer", "POST", `/updates/rollouts/${earlyRollout}/approve`);
    expect(stale.json().code).toBe("E_RELEASE_KEY_REVOKED");
    expect(locks.flatMap((lock) => offers(lock))).toEqual([]);
    const added = await api("securityAdmin", "POST", "/updates/releases", {
      release: release("1.1.0", "k2", k2.secretKey),
    });
    expect(added.statusCode).toBe(201);
    const stored = await f.app.inject({
      method: "PUT",
      url: "/api/v1/updates/releases/rel-1.1.0-k2/target",
      headers: { ...f.as("securityAdmin"), "content-type": "application/octet-stream" },
      payload: target,
    });
    expect(stored.statusCode).toBe(200);
    const listed = await api("auditor", "GET", "/updates/release-keys");
    expect(listed.json().items).toHaveLength(1);
  });
});

describe("rings that widen and offers that come again", () => {
  let rolloutId = "";

  it("the offer carries the key sets; widening the ring needs a second officer and offers the new members", async () => {
    const proposed = await api("securityAdmin", "POST", "/updates/rollouts", {
      releaseId: "rel-1.1.0-k2",
      branchId: f.branch.id,
      percentage: 1,
    });
    rolloutId = proposed.json().id;
    const started = await api("secondOfficer", "POST", `/updates/rollouts/${rolloutId}/approve`);
    expect(started.json().locks).toHaveLength(1);
    const first = locks.find((lock) => lock.deviceId === started.json().locks[0].deviceId);
    const other = locks.find((lock) => lock !== first) as SimulatedLock;
    await eventually(() => offers(first as SimulatedLock).length === 1, "first offer");
    expect(offers(first as SimulatedLock)[0]?.body.releaseKeys).toHaveLength(1);

    const narrower = await api("securityAdmin", "POST", `/updates/rollouts/${rolloutId}/widen`, {
      percentage: 1,
    });
    expect(narrower.json().code).toBe("E_ROLLOUT_NOT_WIDER");
    const widen = await api("securityAdmin", "POST", `/updates/rollouts/${rolloutId}/widen`, {
      percentage: 100,
    });
    expect(widen.json().widening).toMatchObject({ percentage: 100 });
    expect(widen.json().locks).toHaveLength(1);
    const self = await api("securityAdmin", "POST", `/updates/rollouts/${rolloutId}/widen/approve`);
    expect(self.json().code).toBe("E_SAME_APPROVER");
    expect(offers(other)).toEqual([]);

    // The other lock goes offline before the wider ring reaches it.
    await other.disconnect();
    await eventually(() => availability(other.deviceId) === "offline", "offline");
    const widened = await api(
      "secondOfficer",
      "POST",
      `/updates/rollouts/${rolloutId}/widen/approve`,
    );
    expect(widened.statusCode).toBe(200);
    expect(widened.json()).toMatchObject({ percentage: 100, widening: null });
    expect(widened.json().locks).toHaveLength(2);
  });

  it("an offer that expired while the lock was offline goes again once it is online, and only then", async () => {
    const other = locks.find((lock) => offers(lock).length === 0) as SimulatedLock;
    f.clock.advance(OFFER_TTL_MS + 60_000);
    // Offline: nothing is sent; the lock that answered its offer is never offered again.
    expect(await f.app.updates.renewOffers()).toBe(0);
    await other.connect();
    await eventually(() => availability(other.deviceId) === "online", "online");
    expect(await f.app.updates.renewOffers()).toBe(1);
    await eventually(() => offers(other).length === 1, "renewed offer");
    expect(offers(other)[0]?.body.rolloutId).toBe(rolloutId);
    // Answered now: the sweep leaves it alone.
    await eventually(
      () =>
        (
          f.app.db
            .prepare(
              "SELECT c.status FROM rollout_locks l JOIN device_commands c ON c.id = l.command_id WHERE l.device_id = ?",
            )
            .get(other.deviceId) as { status: string } | undefined
        )?.status === "ok",
      "answer",
    );
    expect(await f.app.updates.renewOffers()).toBe(0);
  });
});
