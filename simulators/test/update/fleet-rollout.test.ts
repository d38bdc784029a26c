/**
 * A software update end to end through the real parts: the fleet service on real sockets (HTTP
 * and its embedded broker), a release signed offline and uploaded, a rollout proposed by one
 * security officer and started by the second, and the real device runtime on the virtual board
 * that is offered the release over MQTT, fetches the target from the fleet's download route in
 * ranges, switches, passes its health check on the next start — and the fleet shows the lock
 * healthy from the lock's own signed audit records.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  currentSlot,
  DeviceRuntime,
  initInstallRoot,
  openHardware,
  reconcileBoot,
} from "@lockfleet/edge";
import { virtualProfile } from "@lockfleet/hardware-profiles";
import { nodeEd25519, signRelease, signReleaseKeySet, toBase64url } from "@lockfleet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVirtualBoard } from "../../src/virtual-board/virtual-board.js";
import { E2eWorld, until, type VirtualLock } from "../e2e/harness/world.js";

const releaseKey = nodeEd25519.generateKeyPair();
const work = mkdtempSync(join(tmpdir(), "lockfleet-rollout-"));

function installTree(version: string): Buffer {
  const tree = join(work, `tree-${version}`);
  mkdirSync(join(tree, "edge", "bin"), { recursive: true });
  writeFileSync(join(tree, "edge", "bin", "lockfleet-edge.js"), `// ${version}\n`);
  writeFileSync(join(tree, "edge", "payload.bin"), randomBytes(20_000));
  execFileSync("tar", ["-czf", `${tree}.tar.gz`, "-C", tree, "."]);
  return readFileSync(`${tree}.tar.gz`);
}

describe("a signed update from the fleet's rollout to a healthy lock", () => {
  let world: E2eWorld;
  let enrolled: VirtualLock;
  let runtime: DeviceRuntime | undefined;
  const boards: Array<{ close(): void }> = [];
  const root = join(work, "install");
  const restarts: string[] = [];

  async function startLock(): Promise<DeviceRuntime> {
    const board = createVirtualBoard(virtualProfile);
    boards.push(board);
    runtime = await DeviceRuntime.start({
      dataDir: enrolled.dataDir,
      kek: enrolled.kek,
      clock: enrolled.clock,
      hardware: await openHardware(virtualProfile, { io: board.io }),
      mqtt: { reconnectMinMs: 100, reconnectMaxMs: 500, keepaliveSec: 10 },
      update: {
        installRoot: root,
        releaseKeys: new Map([["release-e2e", releaseKey.publicKey]]),
        factoryVersion: "0.1.0",
        chunkBytes: 8192,
        switchPollMs: 50,
        healthTimeoutMs: 10_000,
      },
      onRestartRequested: (reason) => restarts.push(reason),
    });
    return runtime;
  }

  beforeAll(async () => {
    world = await E2eWorld.start();
    // The fleet checks releases against the release public keys it is configured with.
    writeFileSync(
      join(world.fleet.dataDir, "release-keys.json"),
      JSON.stringify({
        keys: [{ keyId: "release-e2e", publicKey: toBase64url(releaseKey.publicKey) }],
      }),
    );
    enrolled = await world.enrolLock(world.fleet.container.id);
    // The same lock, restarted from its A/B install.
    await enrolled.stop();
    initInstallRoot(root);
    await startLock();
  });
  afterAll(async () => {
    await runtime?.stop().catch(() => {});
    for (const board of boards) board.close();
    await world?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("goes from offered to healthy, and the fleet shows each step as the lock reports it", async () => {
    const lock = runtime as DeviceRuntime;
    await until("trusted time from the fleet", () => lock.state().trustedTime);
    const target = installTree("0.2.0");
    const release = signRelease(
      {
        v: 1,
        type: "release",
        releaseId: "rel-0.2.0",
        version: "0.2.0",
        issuedAt: world.iso(-60_000),
        expiresAt: world.iso(7 * 86_400_000),
        keyId: "release-e2e",
        target: {
          name: "lockfleet-0.2.0.tar.gz",
          sha256: createHash("sha256").update(target).digest("hex"),
          length: target.byteLength,
        },
        hardwareProfiles: [virtualProfile.id],
        minimumFromVersion: "0.1.0",
      },
      releaseKey.secretKey,
    );
    // A key rotation the fleet keeps and relays: a second release key joins, vouched for by the first.
    const second = nodeEd25519.generateKeyPair();
    const keySet = signReleaseKeySet(
      {
        v: 1,
        type: "releaseKeys",
        version: 2,
        issuedAt: world.iso(-60_000),
        expiresAt: world.iso(30 * 86_400_000),
        threshold: 1,
        keys: [
          { keyId: "release-e2e", publicKey: toBase64url(releaseKey.publicKey) },
          { keyId: "release-e2e-2", publicKey: toBase64url(second.publicKey) },
        ],
      },
      [
        { keyId: "release-e2e", secretKey: releaseKey.secretKey },
        { keyId: "release-e2e-2", secretKey: second.secretKey },
      ],
    );
    await world.ok("securityAdmin", "POST", "updates/release-keys", { keySet });
    await world.ok("securityAdmin", "POST", "updates/releases", { release });
    const upload = await fetch(`${world.baseUrl}/api/v1/updates/releases/rel-0.2.0/target`, {
      method: "PUT",
      headers: { ...world.fleet.as("securityAdmin"), "content-type": "application/octet-stream" },
      body: target,
    });
    expect(upload.status).toBe(200);
    const proposed = await world.ok<{ id: string }>("securityAdmin", "POST", "updates/rollouts", {
      releaseId: "rel-0.2.0",
      percentage: 100,
    });
    await world.ok("secondOfficer", "POST", `updates/rollouts/${proposed.id}/approve`);

    await until("the switch", () => restarts.length > 0, 15_000);
    // The lock took the rotation from the offer before it judged the release.
    expect(lock.updater?.trustedKeys.version).toBe(2);
    expect(currentSlot(root)).toBe("b");
    // What the launcher does when the controller exits for the restart.
    await lock.stop();
    reconcileBoot(root);
    const trial = await startLock();
    expect(trial.updater?.runningVersion).toBe("0.2.0");
    // The new version trusts what the old one accepted (kept outside both slots).
    expect([...(trial.updater?.trustedKeys.keys.keys() ?? [])]).toEqual([
      "release-e2e",
      "release-e2e-2",
    ]);
    type View = { locks: Array<{ deviceId: string; status: string }> };
    const status = async () =>
      (await world.ok<View>("auditor", "GET", `updates/rollouts/${proposed.id}`)).locks[0];
    let seen: { deviceId: string; status: string } | undefined;
    for (let attempt = 0; attempt < 150; attempt += 1) {
      seen = await status();
      if (seen?.status === "healthy") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(seen).toEqual({
      deviceId: enrolled.deviceId,
      status: "healthy",
      at: expect.any(String),
      code: null,
    });
    const kinds = trial.store
      .auditRange(1, trial.store.auditHead().seq)
      .filter((record) => record.kind.startsWith("update."))
      .map((record) => record.kind);
    expect(kinds).toEqual([
      "update.keysAccepted",
      "update.offered",
      "update.downloading",
      "update.verified",
      "update.installed",
      "update.switched",
      "update.healthy",
    ]);
  }, 40_000);
});
