/**
 * Releases and staged rollouts over HTTP (app.inject) with a stand-in lock over real MQTT: the
 * fleet keeps the signed metadata and the target, starts a rollout only when a second,
 * independent security officer approves, offers the ring the release, serves the target in
 * ranges to the token's holder only, and shows each lock's progress from the lock's own signed
 * audit records.
 */
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  nodeEd25519,
  type SignedRelease,
  signRelease,
  toBase64url,
  type UpdateOfferBody,
} from "@lockfleet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimulatedLock } from "../devices/simulated-lock.js";
import { createFixture, type Fixture } from "../fixtures.js";

const releaseKey = nodeEd25519.generateKeyPair();
const target = randomBytes(10_000);

function release(version: string): SignedRelease {
  return signRelease(
    {
      v: 1,
      type: "release",
      releaseId: `rel-${version}`,
      version,
      issuedAt: new Date(Date.now() - 60_000).toISOString(),
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      keyId: "release-test",
      target: {
        name: `lockfleet-${version}.tar.gz`,
        sha256: createHash("sha256").update(target).digest("hex"),
        length: target.byteLength,
      },
      hardwareProfiles: ["virtual"],
      minimumFromVersion: "0.1.0",
    },
    releaseKey.secretKey,
  );
}

const signed110 = release("1.1.0");
const offers = () =>
  lock.commandsOfType("update.offer") as Array<{ body: UpdateOfferBody; id: string }>;
let f: Fixture;
let lock: SimulatedLock;

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  f = await createFixture();
  // The fleet checks releases against the release public keys it is configured with.
  writeFileSync(
    join(f.dataDir, "release-keys.json"),
    JSON.stringify({
      keys: [{ keyId: "release-test", publicKey: toBase64url(releaseKey.publicKey) }],
    }),
  );
  const created = await f.app.inject({
    method: "POST",
    url: "/api/v1/enrolment-tokens",
    headers: f.as("securityAdmin"),
    payload: { containerId: f.container.id, ttlMinutes: 10 },
  });
  lock = new SimulatedLock();
  const enrolled = await f.app.inject({
    method: "POST",
    url: "/api/v1/enrolment",
    payload: lock.enrolmentRequest(created.json().token),
  });
  lock.accept(enrolled.json());
  await lock.connect();
});
afterAll(async () => {
  lock?.crash();
  await f?.close();
});

const api = (
  who: Parameters<Fixture["as"]>[0],
  method: "GET" | "POST" | "PUT",
  url: string,
  payload?: unknown,
) =>
  f.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: f.as(who),
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

describe("releases and staged rollouts", () => {
  let rolloutId = "";

  it("a release's signed metadata is kept as signed; its target only if length and SHA-256 match", async () => {
    const signed = signed110;
    expect(
      (await api("auditor", "POST", "/updates/releases", { release: signed })).statusCode,
    ).toBe(403);
    const spaced = await api("securityAdmin", "POST", "/updates/releases", {
      release: { ...signed, payload: ` ${signed.payload}` },
    });
    expect(spaced.json().code).toBe("E_RELEASE_NOT_CANONICAL");
    const added = await api("securityAdmin", "POST", "/updates/releases", { release: signed });
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({ version: "1.1.0", targetStoredAt: null });
    const upload = (bytes: Buffer) =>
      f.app.inject({
        method: "PUT",
        url: "/api/v1/updates/releases/rel-1.1.0/target",
        headers: { ...f.as("securityAdmin"), "content-type": "application/octet-stream" },
        payload: bytes,
      });
    const corrupted = Buffer.from(target);
    corrupted[5] = (corrupted[5] ?? 0) ^ 1;
    expect((await upload(corrupted)).json().code).toBe("E_UPDATE_HASH");
    const stored = await upload(target);
    expect(stored.statusCode).toBe(200);
    expect(stored.json().targetStoredAt).not.toBeNull();
  });

  it("a rollout starts only when a second, independent security officer approves it", async () => {
    const proposed = await api("securityAdmin", "POST", "/updates/rollouts", {
      releaseId: "rel-1.1.0",
      branchId: f.branch.id,
      percentage: 100,
    });
    expect(proposed.statusCode).toBe(201);
    rolloutId = proposed.json().id;
    expect(proposed.json()).toMatchObject({ status: "proposed", locks: [] });
    const self = await api("securityAdmin", "POST", `/updates/rollouts/${rolloutId}/approve`);
    expect(self.json().code).toBe("E_SAME_APPROVER");
    expect(
      (await api("auditor", "POST", `/updates/rollouts/${rolloutId}/approve`)).statusCode,
    ).toBe(403);
    expect(
      (await api("bankBAdmin", "POST", `/updates/rollouts/${rolloutId}/approve`)).statusCode,
    ).toBe(404);
    expect(lock.commandsOfType("update.offer")).toEqual([]);
    const started = await api("secondOfficer", "POST", `/updates/rollouts/${rolloutId}/approve`);
    expect(started.statusCode).toBe(200);
    expect(started.json()).toMatchObject({
      status: "running",
      approvedBy: f.accounts.secondOfficer.person.id,
    });
    await lock.until(() => lock.commandsOfType("update.offer").length === 1, 5000, "offer");
    const [offer] = offers();
    // The fleet relays the release exactly as signed.
    expect(offer?.body.release).toEqual(signed110);
  });

  it("the target is served in ranges to the holder of the offer's token only", async () => {
    const [offer] = offers();
    const token = offer?.body.download.token ?? "";
    const get = (headers: Record<string, string>) =>
      f.app.inject({ method: "GET", url: "/api/v1/updates/download", headers });
    const first = await get({ "x-lockfleet-download-token": token, range: "bytes=0-4095" });
    expect(first.statusCode).toBe(206);
    expect(first.headers["content-range"]).toBe(`bytes 0-4095/${target.byteLength}`);
    expect(Buffer.compare(first.rawPayload, target.subarray(0, 4096))).toBe(0);
    const last = await get({ "x-lockfleet-download-token": token, range: "bytes=8192-20000" });
    expect(Buffer.compare(last.rawPayload, target.subarray(8192))).toBe(0);
    expect(
      (await get({ "x-lockfleet-download-token": "x".repeat(43), range: "bytes=0-1" })).statusCode,
    ).toBe(401);
    expect((await get({ "x-lockfleet-download-token": token })).statusCode).toBe(416);
  });

  it("each lock's status comes from its own signed audit records; pause and resume", async () => {
    const steps = [
      "update.offered",
      "update.downloading",
      "update.verified",
      "update.installed",
    ] as const;
    const data = { releaseId: "rel-1.1.0", version: "1.1.0", running: "0.1.0", rolloutId };
    await lock.publishAudit(steps.map((kind) => lock.appendAudit(kind, data)));
    const status = async () =>
      (await api("auditor", "GET", `/updates/rollouts/${rolloutId}`)).json().locks[0]?.status;
    await eventually(async () => (await status()) === "installed", "installed");
    const paused = await api("securityAdmin", "POST", `/updates/rollouts/${rolloutId}/pause`);
    expect(paused.json().status).toBe("paused");
    await lock.publishAudit([lock.appendAudit("update.healthy", data)]);
    await eventually(async () => (await status()) === "healthy", "healthy");
    const resumed = await api("securityAdmin", "POST", `/updates/rollouts/${rolloutId}/resume`);
    expect(resumed.json().status).toBe("running");
    // Already offered: no second offer.
    expect(lock.commandsOfType("update.offer")).toHaveLength(1);
    const listed = await api("auditor", "GET", "/updates/rollouts");
    expect(listed.json().items[0]).toMatchObject({ id: rolloutId, version: "1.1.0" });
  });

  it("a puppet of the proposer does not count as the second officer", async () => {
    // The admin's puppet: a person and account the admin made, approved by an honest officer.
    const password = "puppet password long enough 42";
    const person = (await api("securityAdmin", "POST", "/people", { name: "Pat Puppet" })).json();
    await api("securityAdmin", "POST", `/people/${person.id}/identify`, { documentType: "idCard" });
    const enable = await api("securityAdmin", "POST", `/people/${person.id}/enable`, {});
    await api("secondOfficer", "POST", `/proposals/${enable.json().proposal.id}/approve`);
    const account = await api("securityAdmin", "POST", "/users", {
      personId: person.id,
      role: "securityAdmin",
      email: "pat@example.test",
      password,
    });
    await api("secondOfficer", "POST", `/proposals/${account.json().proposal.id}/approve`);
    const login = await f.app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      payload: { email: "pat@example.test", password },
    });
    expect(login.statusCode, login.body).toBe(200);
    const pat = { cookie: String(login.headers["set-cookie"]).split(";")[0] as string };
    const proposed = await api("securityAdmin", "POST", "/updates/rollouts", {
      releaseId: "rel-1.1.0",
      percentage: 50,
    });
    const id = proposed.json().id as string;
    const puppet = await f.app.inject({
      method: "POST",
      url: `/api/v1/updates/rollouts/${id}/approve`,
      headers: pat,
    });
    expect(puppet.json().code).toBe("E_PUPPET_APPROVER");
    // The puppet may still propose; a rollout nobody starts is rejected.
    const byPat = await f.app.inject({
      method: "POST",
      url: "/api/v1/updates/rollouts",
      headers: pat,
      payload: { releaseId: "rel-1.1.0", percentage: 10 },
    });
    expect(byPat.statusCode).toBe(201);
    const rejected = await api("securityAdmin", "POST", `/updates/rollouts/${id}/reject`);
    expect(rejected.json().status).toBe("rejected");
  });
});
