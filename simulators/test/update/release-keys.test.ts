/**
 * Release-key rotation and revocation at the real device runtime on the virtual board, over a
 * real MQTT broker: the test plays the fleet (it signs `update.offer` with the fleet key) and
 * the key holders (they sign key sets and releases). The lock takes a new key set only when
 * the key it trusts vouches for it, never goes back to an older one, keeps what it accepted
 * across a restart, and refuses what a revoked key signed afterwards; every decision is in its
 * audit log.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  currentSlot,
  initInstallRoot,
  installPaths,
  readUpdateState,
  reconcileBoot,
} from "@lockfleet/edge";
import {
  nodeEd25519,
  type ReleaseKeySetMetadata,
  type SignedRelease,
  type SignedReleaseKeySet,
  signRelease,
  signReleaseKeySet,
  toBase64url,
} from "@lockfleet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startAedes } from "../brokers.js";
import { DeviceUnderTest, until } from "../runtime/harness.js";

const TOKEN = "download-token-0123456789";
const ENTRY = "edge/bin/lockfleet-edge.js";
const k1 = nodeEd25519.generateKeyPair();
const k2 = nodeEd25519.generateKeyPair();
const stranger = nodeEd25519.generateKeyPair();
const work = mkdtempSync(join(tmpdir(), "lockfleet-release-keys-"));

function installTree(version: string): Buffer {
  const tree = join(work, `tree-${version}`);
  mkdirSync(join(tree, "edge", "bin"), { recursive: true });
  writeFileSync(join(tree, ENTRY), `// lock controller ${version}\n`);
  execFileSync("tar", ["-czf", `${tree}.tar.gz`, "-C", tree, "."]);
  return readFileSync(`${tree}.tar.gz`);
}
const target = installTree("1.1.0");

function release(keyId: string, secretKey: Uint8Array): SignedRelease {
  const now = Date.now();
  return signRelease(
    {
      v: 1,
      type: "release",
      releaseId: `rel-1.1.0-${keyId}`,
      version: "1.1.0",
      issuedAt: new Date(now - 60_000).toISOString(),
      expiresAt: new Date(now + 86_400_000).toISOString(),
      keyId,
      target: {
        name: "lockfleet-1.1.0.tar.gz",
        sha256: createHash("sha256").update(target).digest("hex"),
        length: target.byteLength,
      },
      hardwareProfiles: ["virtual"],
      minimumFromVersion: "1.0.0",
    },
    secretKey,
  );
}

function keySet(
  version: number,
  signers: Array<[string, Uint8Array]>,
  overrides: Partial<ReleaseKeySetMetadata> = {},
): SignedReleaseKeySet {
  const now = Date.now();
  return signReleaseKeySet(
    {
      v: 1,
      type: "releaseKeys",
      version,
      issuedAt: new Date(now - 60_000).toISOString(),
      expiresAt: new Date(now + 30 * 86_400_000).toISOString(),
      threshold: 1,
      keys: [{ keyId: "k2", publicKey: toBase64url(k2.publicKey) }],
      ...overrides,
    },
    signers.map(([keyId, secretKey]) => ({ keyId, secretKey })),
  );
}

describe("release-key rotation and revocation at the device runtime, on the virtual board", () => {
  let broker: Broker;
  let server: Server;
  let url = "";
  let requests = 0;
  let dut: DeviceUnderTest;
  let root: string;

  beforeAll(async () => {
    broker = await startAedes();
    server = createServer((req, res) => {
      requests += 1;
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
      if (req.headers["x-lockfleet-download-token"] !== TOKEN || range === null) {
        res.writeHead(401).end();
        return;
      }
      const start = Number(range[1]);
      const end = Math.min(Number(range[2]), target.byteLength - 1);
      res.writeHead(206, { "content-range": `bytes ${start}-${end}/${target.byteLength}` });
      res.end(target.subarray(start, end + 1));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/t`;
    root = mkdtempSync(join(work, "install-"));
    initInstallRoot(root);
    writeFileSync(join(installPaths(root).slot("a"), "package.json"), "{}");
    dut = new DeviceUnderTest({
      brokerUrl: broker.url,
      policy: { relockAfterCloseSec: 1 },
      runtime: {
        update: {
          installRoot: root,
          releaseKeys: new Map([["k1", k1.publicKey]]),
          factoryVersion: "1.0.0",
          entry: ENTRY,
          switchPollMs: 30,
        },
        onRestartRequested: () => undefined,
      },
    });
    await dut.setUp();
    await synced();
  }, 20_000);
  afterAll(async () => {
    await dut?.tearDown();
    await new Promise((resolve) => server?.close(resolve));
    await broker?.close();
    rmSync(work, { recursive: true, force: true });
  });

  async function synced(): Promise<void> {
    await dut.runtime.waitOnline(8000);
    // Expiry is judged on the lock's trusted clock: the fleet's time sync comes first.
    await dut.result(
      await dut.send("time.sync", { time: new Date().toISOString() }, { topic: "sync" }),
    );
  }

  async function offer(signed: SignedRelease, releaseKeys: SignedReleaseKeySet[]) {
    const id = await dut.send("update.offer", {
      release: signed,
      rolloutId: "ro-keys",
      download: { url, token: TOKEN },
      releaseKeys,
    });
    return dut.result(id);
  }

  const records = (kind: string) =>
    [...new Map(dut.auditArrivals().map((record) => [record.seq, record])).values()]
      .filter((record) => record.kind === kind)
      .sort((x, y) => x.seq - y.seq);

  it("a key set signed by the new key only, or expired, is refused; the old key still rules", async () => {
    const selfSigned = await offer(release("k2", k2.secretKey), [
      keySet(2, [["k2", k2.secretKey]]),
    ]);
    expect(selfSigned.error?.code).toBe("E_RELEASE_UNKNOWN_KEY");
    const expired = await offer(release("k2", k2.secretKey), [
      keySet(
        2,
        [
          ["k1", k1.secretKey],
          ["k2", k2.secretKey],
        ],
        {
          issuedAt: new Date(Date.now() - 86_400_000).toISOString(),
          expiresAt: new Date(Date.now() - 1000).toISOString(),
        },
      ),
    ]);
    expect(expired.error?.code).toBe("E_RELEASE_UNKNOWN_KEY");
    await until(() => records("update.keysRefused").length === 2, 5000, "refusals on record");
    expect(records("update.keysRefused").map((record) => record.data.code)).toEqual([
      "E_RELEASE_KEYS_THRESHOLD",
      "E_RELEASE_KEYS_EXPIRED",
    ]);
    expect(dut.runtime.updater?.trustedKeys.version).toBe(1);
    expect(records("update.keysAccepted")).toEqual([]);
  });

  it("a set the trusted key vouches for rotates to the new key and revokes the old one; the old key's releases are refused", async () => {
    const before = requests;
    const rotated = await offer(release("k1", k1.secretKey), [
      keySet(2, [
        ["k1", k1.secretKey],
        ["k2", k2.secretKey],
      ]),
    ]);
    expect(rotated.error?.code).toBe("E_RELEASE_KEY_REVOKED");
    expect(requests).toBe(before);
    const [accepted] = await until(
      () =>
        records("update.keysAccepted").length > 0 ? records("update.keysAccepted") : undefined,
      5000,
      "rotation on record",
    );
    expect(accepted?.data).toMatchObject({
      version: 2,
      trusted: 1,
      keyIds: ["k2"],
      revoked: ["k1"],
    });
  });

  it("after a restart the lock keeps the rotated keys, refuses a replayed older set, and takes the new key's release", async () => {
    await dut.runtime.stop();
    dut.board.close();
    reconcileBoot(root);
    await dut.start();
    await synced();
    expect(dut.runtime.updater?.trustedKeys.version).toBe(2);
    // A different version-2 set the lock never took, vouched for by the revoked key.
    const replay = keySet(
      2,
      [
        ["k1", k1.secretKey],
        ["s", stranger.secretKey],
      ],
      { keys: [{ keyId: "s", publicKey: toBase64url(stranger.publicKey) }] },
    );
    const replayed = await offer(release("k1", k1.secretKey), [replay]);
    expect(replayed.error?.code).toBe("E_RELEASE_KEY_REVOKED");
    await until(
      () => records("update.keysRefused").find((r) => r.data.code === "E_RELEASE_KEYS_ROLLBACK"),
      5000,
      "replay on record",
    );
    // A cycle runs (bolt retracted): the new key's release installs but waits to switch.
    await dut.board.typeKeys("0111223344#");
    await until(() => dut.board.boltPosition() === "retracted", 5000, "bolt retracted");
    const taken = await offer(release("k2", k2.secretKey), []);
    expect(taken.status).toBe("ok");
    await until(() => records("update.installed").length > 0, 10_000, "installed");
    expect(dut.runtime.updater?.trustedKeys.version).toBe(2);
  }, 20_000);

  it("a key revoked while its release waits to switch: the release is never switched to", async () => {
    const v3 = keySet(
      3,
      [
        ["k2", k2.secretKey],
        ["s", stranger.secretKey],
      ],
      { keys: [{ keyId: "s", publicKey: toBase64url(stranger.publicKey) }] },
    );
    const busy = await offer(release("k2", k2.secretKey), [v3]);
    expect(busy.error?.code).toBe("E_UPDATE_BUSY");
    expect(dut.runtime.updater?.trustedKeys.version).toBe(3);
    // The cycle ends and the lock relocks: the moment to switch, refused for the revoked key.
    dut.board.setDoor(true);
    await until(() => dut.runtime.state().door === "open", 3000, "door open");
    dut.board.setDoor(false);
    await until(
      () =>
        records("update.refused").find(
          (r) => r.data.code === "E_RELEASE_KEY_REVOKED" && r.data.releaseId === "rel-1.1.0-k2",
        ),
      10_000,
      "switch refused",
    );
    expect(dut.runtime.state().bolt).toBe("thrown");
    expect(currentSlot(root)).toBe("a");
    expect(readUpdateState(root).phase).toBe("idle");
  }, 20_000);
});
