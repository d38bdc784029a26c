/**
 * Signed software updates at the real device runtime on the virtual board, over a real MQTT
 * broker (aedes on a free port) and real HTTP range downloads: the test plays the fleet (it
 * signs `update.offer` with the fleet key) and the release manager (it signs releases with a
 * release key the lock trusts). A "new version" is a small install tree whose entry is a stub:
 * the switch, the trial start and the rollback are the lock's own code either way; the version
 * the lock runs is read from the slot `current` points to.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  currentSlot,
  initInstallRoot,
  installPaths,
  pointCurrent,
  readUpdateState,
  reconcileBoot,
  SWITCH_STEPS,
  type UpdateOptions,
  type UpdateState,
  writeUpdateState,
} from "@lockfleet/edge";
import {
  type AuditRecord,
  type LockState,
  nodeEd25519,
  type ReleaseMetadata,
  type SignedRelease,
  signRelease,
  verifyAuditChain,
} from "@lockfleet/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startAedes } from "../brokers.js";
import { DeviceUnderTest, until } from "../runtime/harness.js";

const releaseKey = nodeEd25519.generateKeyPair();
const RELEASE_KEY_ID = "release-test";
const TOKEN = "download-token-0123456789";
const ENTRY = "edge/bin/lockfleet-edge.js";
const work = mkdtempSync(join(tmpdir(), "lockfleet-update-"));

/** A gzip'd tar of a small install tree holding the controller's entry. */
function installTree(version: string): Buffer {
  const tree = join(work, `tree-${version}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(tree, "edge", "bin"), { recursive: true });
  writeFileSync(join(tree, ENTRY), `// lock controller ${version}\n`);
  writeFileSync(join(tree, "package.json"), JSON.stringify({ name: "lockfleet", version }));
  // Bulk that does not compress, so that the download takes several ranges.
  writeFileSync(join(tree, "edge", "payload.bin"), randomBytes(40_000));
  const archive = `${tree}.tar.gz`;
  execFileSync("tar", ["-czf", archive, "-C", tree, "."]);
  return readFileSync(archive);
}

function release(
  version: string,
  target: Buffer,
  overrides: Partial<ReleaseMetadata> = {},
  secretKey = releaseKey.secretKey,
): SignedRelease {
  const now = Date.now();
  return signRelease(
    {
      v: 1,
      type: "release",
      releaseId: `rel-${version}`,
      version,
      issuedAt: new Date(now - 60_000).toISOString(),
      expiresAt: new Date(now + 7 * 86_400_000).toISOString(),
      keyId: RELEASE_KEY_ID,
      target: {
        name: `lockfleet-${version}.tar.gz`,
        sha256: createHash("sha256").update(target).digest("hex"),
        length: target.byteLength,
      },
      hardwareProfiles: ["virtual"],
      minimumFromVersion: "1.0.0",
      ...overrides,
    },
    secretKey,
  );
}

/** The fleet's download endpoint: ranges only, bearer token required, every request counted. */
class TargetServer {
  readonly targets = new Map<string, Buffer>();
  requests = 0;
  readonly #server: Server = createServer((req, res) => this.#serve(req, res));
  url = "";

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  #serve(req: IncomingMessage, res: ServerResponse): void {
    this.requests += 1;
    const target = this.targets.get(req.url ?? "");
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
    if (req.headers["x-lockfleet-download-token"] !== TOKEN) {
      res.writeHead(401).end();
    } else if (target === undefined || range === null) {
      res.writeHead(target === undefined ? 404 : 416).end();
    } else {
      const start = Number(range[1]);
      const end = Math.min(Number(range[2]), target.byteLength - 1);
      res.writeHead(206, { "content-range": `bytes ${start}-${end}/${target.byteLength}` });
      res.end(target.subarray(start, end + 1));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

describe("signed software updates at the device runtime, on the virtual board", () => {
  let broker: Broker;
  const server = new TargetServer();
  let devices: DeviceUnderTest[] = [];
  const v110 = installTree("1.1.0");

  beforeAll(async () => {
    broker = await startAedes();
    await server.listen();
    server.targets.set("/t/1.1.0", v110);
  });
  afterAll(async () => {
    await server.close();
    await broker?.close();
    rmSync(work, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const dut of devices) await dut.tearDown();
    devices = [];
  });

  interface Lock {
    dut: DeviceUnderTest;
    root: string;
    restarts: string[];
  }

  async function lock(update: Partial<UpdateOptions> = {}): Promise<Lock> {
    const restarts: string[] = [];
    const root = mkdtempSync(join(work, "install-"));
    initInstallRoot(root);
    writeFileSync(join(installPaths(root).slot("a"), "package.json"), "{}");
    const dut = new DeviceUnderTest({
      brokerUrl: broker.url,
      policy: { relockAfterCloseSec: 1 },
      runtime: {
        update: {
          installRoot: root,
          releaseKeys: new Map([[RELEASE_KEY_ID, releaseKey.publicKey]]),
          factoryVersion: "1.0.0",
          entry: ENTRY,
          chunkBytes: 4096,
          switchPollMs: 30,
          healthTimeoutMs: 5000,
          ...update,
        },
        onRestartRequested: (reason) => restarts.push(reason),
      },
    });
    devices.push(dut);
    await dut.setUp();
    await dut.runtime.waitOnline(8000);
    // Expiry is judged on the lock's trusted clock: the fleet's time sync comes first.
    await dut.result(
      await dut.send("time.sync", { time: new Date().toISOString() }, { topic: "sync" }),
    );
    return { dut, root, restarts };
  }

  function offer(dut: DeviceUnderTest, signed: SignedRelease, path = "/t/1.1.0") {
    return dut
      .send("update.offer", {
        release: signed,
        rolloutId: "ro-1",
        download: { url: `${server.url}${path}`, token: TOKEN },
      })
      .then((id) => dut.result(id));
  }

  /** What the launcher does, then the runtime again on the same data directory. */
  async function powerBack(lock: Lock): Promise<void> {
    await lock.dut.runtime.stop();
    lock.dut.board.close();
    reconcileBoot(lock.root);
    await lock.dut.start();
  }

  /** The lock's update records, once each (the sync is at least once), in chain order. */
  const updateRecords = (dut: DeviceUnderTest) =>
    [...new Map(dut.auditArrivals().map((record) => [record.seq, record])).values()]
      .filter((record) => record.kind.startsWith("update."))
      .sort((x, y) => x.seq - y.seq);
  const arrived = (dut: DeviceUnderTest, kind: string) =>
    until(() => dut.auditArrivals().find((record) => record.kind === kind), 8000, kind);
  const firmware = (dut: DeviceUnderTest) =>
    (dut.opened(dut.latest("state") ?? { kind: "state", payload: "" }) as LockState).firmware;

  it("a signed newer release is fetched in ranges, verified, installed beside the running one, switched while locked, and confirmed healthy; data, keys and penalty survive", async () => {
    const l = await lock();
    const { dut, root } = l;
    // Four wrong codes: the penalty lockout runs across the switch.
    for (let i = 0; i < 4; i += 1) await dut.board.typeKeys("0199999999#");
    await until(() => dut.runtime.state().penaltyUntil, 5000, "penalty");
    const penaltyUntil = dut.runtime.state().penaltyUntil;
    const requestsBefore = server.requests;

    const answer = await offer(dut, release("1.1.0", v110));
    expect(answer.status).toBe("ok");
    await until(() => l.restarts.length > 0, 10_000, "switch");
    // About ten ranges of 4 KiB, none fetched twice.
    expect(v110.byteLength).toBeGreaterThan(8 * 4096);
    expect(server.requests - requestsBefore).toBe(Math.ceil(v110.byteLength / 4096));
    expect(currentSlot(root)).toBe("b");
    expect(readUpdateState(root).phase).toBe("trial");
    expect(existsSync(join(installPaths(root).slot("b"), ENTRY))).toBe(true);

    await powerBack(l);
    await arrived(dut, "update.healthy");
    expect(dut.runtime.updater?.runningVersion).toBe("1.1.0");
    await until(() => firmware(dut) === "lockfleet-edge/1.1.0", 5000, "state reports 1.1.0");
    // The lockout is still on (a restart never shortens it).
    expect(Date.parse(dut.runtime.state().penaltyUntil ?? "")).toBeGreaterThanOrEqual(
      Date.parse(penaltyUntil ?? ""),
    );
    expect(updateRecords(dut).map((record) => record.kind)).toEqual([
      "update.offered",
      "update.downloading",
      "update.verified",
      "update.installed",
      "update.switched",
      "update.healthy",
    ]);
    // One chain across both versions, and the fleet could verify it.
    const records = [...new Map(dut.auditArrivals().map((r) => [r.seq, r])).values()].sort(
      (a, b) => a.seq - b.seq,
    );
    expect(verifyAuditChain(records as AuditRecord[])).toBeUndefined();
    // The same release again is a rollback now.
    const again = await offer(dut, release("1.1.0", v110));
    expect(again.error?.code).toBe("E_UPDATE_ROLLBACK");
  }, 30_000);

  it("the switch waits while a cycle runs and the bolt is retracted", async () => {
    const l = await lock();
    const { dut, root } = l;
    await dut.board.typeKeys("0111223344#");
    await until(() => dut.board.boltPosition() === "retracted", 5000, "bolt retracted");
    await offer(dut, release("1.1.0", v110));
    await arrived(dut, "update.installed");
    // Installed, but the container is not locked: the running slot stays current.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(currentSlot(root)).toBe("a");
    expect(l.restarts).toEqual([]);
    // Door opened and closed: the lock relocks, and only then switches.
    dut.board.setDoor(true);
    await until(() => dut.runtime.state().door === "open", 3000, "door open");
    dut.board.setDoor(false);
    await until(() => l.restarts.length > 0, 10_000, "switch after relock");
    expect(dut.runtime.state().bolt).toBe("thrown");
    expect(currentSlot(root)).toBe("b");
  }, 30_000);

  it("a corrupted download is refused by its hash and nothing is switched", async () => {
    const l = await lock();
    const corrupted = Buffer.from(v110);
    corrupted[100] = (corrupted[100] ?? 0) ^ 0xff;
    server.targets.set("/t/corrupted", corrupted);
    const answer = await offer(l.dut, release("1.1.0", v110), "/t/corrupted");
    expect(answer.status).toBe("ok");
    const refused = await arrived(l.dut, "update.refused");
    expect(refused.data.code).toBe("E_UPDATE_HASH");
    expect(currentSlot(l.root)).toBe("a");
    expect(existsSync(join(installPaths(l.root).slot("b"), ENTRY))).toBe(false);
    expect(readUpdateState(l.root).phase).toBe("idle");
    expect(l.restarts).toEqual([]);
  }, 20_000);

  it("a release signed by another key, even the fleet's command key, is refused before any byte is fetched", async () => {
    const l = await lock();
    const before = server.requests;
    const forged = await offer(l.dut, release("1.1.0", v110, {}, l.dut.fleet.key.secretKey));
    expect(forged.status).toBe("error");
    expect(forged.error?.code).toBe("E_RELEASE_BAD_SIGNATURE");
    const stranger = nodeEd25519.generateKeyPair();
    const other = await offer(
      l.dut,
      release("1.1.0", v110, { keyId: "someone" }, stranger.secretKey),
    );
    expect(other.error?.code).toBe("E_RELEASE_UNKNOWN_KEY");
    expect(server.requests).toBe(before);
    await until(
      () => updateRecords(l.dut).filter((r) => r.kind === "update.refused").length === 2,
      5000,
      "refusals on record",
    );
  }, 20_000);

  it("an older or equal release is a rollback and an expired one a freeze: both refused", async () => {
    const l = await lock();
    const older = await offer(l.dut, release("0.9.0", v110));
    expect(older.error?.code).toBe("E_UPDATE_ROLLBACK");
    const equal = await offer(l.dut, release("1.0.0", v110));
    expect(equal.error?.code).toBe("E_UPDATE_ROLLBACK");
    const expired = await offer(
      l.dut,
      release("1.1.0", v110, {
        issuedAt: new Date(Date.now() - 86_400_000).toISOString(),
        expiresAt: new Date(Date.now() - 1000).toISOString(),
      }),
    );
    expect(expired.error?.code).toBe("E_UPDATE_FROZEN");
    expect(readUpdateState(l.root).phase).toBe("idle");
  }, 20_000);

  it("a new version that fails its health check rolls back by itself and says so", async () => {
    const l = await lock();
    const { dut, root } = l;
    await offer(dut, release("1.1.0", v110));
    await until(() => l.restarts.length > 0, 10_000, "switch");
    // The new version starts with its keypad gone: its self-test fails.
    await dut.runtime.stop();
    dut.board.close();
    reconcileBoot(root);
    const start = dut.start();
    dut.board.disconnect("keypad", true);
    await start;
    await until(() => l.restarts.length > 1, 15_000, "rollback restart");
    expect(currentSlot(root)).toBe("a");
    const state = readUpdateState(root);
    expect(state.phase).toBe("rolledBack");
    expect(state.code).toBe("E_SELF_TEST_FAILED");
    await powerBack(l);
    expect(dut.runtime.updater?.runningVersion).toBe("1.0.0");
    const rolledBack = await arrived(dut, "update.rolledBack");
    expect(rolledBack.data.code).toBe("E_SELF_TEST_FAILED");
    // The build that failed here is not taken again.
    const again = await offer(dut, release("1.1.0", v110));
    expect(again.error?.code).toBe("E_UPDATE_ROLLED_BACK");
  }, 30_000);

  it("power lost after each step of the switch: the lock comes back on one whole version and ends healthy on the new one", async () => {
    const l = await lock();
    const { dut, root } = l;
    await offer(dut, release("1.1.0", v110));
    await until(() => l.restarts.length > 0, 10_000, "first switch");
    const { bootAttempts: _attempts, ...switched } = readUpdateState(root);
    const installed: UpdateState = { ...switched, phase: "installed" };
    for (let done = 0; done <= SWITCH_STEPS.length; done += 1) {
      // Back to "installed, pointer on a", then the first `done` steps, then the power goes.
      writeUpdateState(root, installed);
      pointCurrent(root, "a");
      let state = installed;
      for (const step of SWITCH_STEPS.slice(0, done)) state = step.run(root, state);
      await dut.runtime.stop();
      dut.board.close();
      const decision = reconcileBoot(root);
      const pointerMoved = done >= 2;
      expect(decision.slot).toBe(pointerMoved ? "b" : "a");
      expect(decision.state.phase).toBe(pointerMoved ? "trial" : "installed");
      l.restarts.length = 0;
      await dut.start();
      expect(dut.runtime.updater?.runningVersion).toBe(pointerMoved ? "1.1.0" : "1.0.0");
      if (pointerMoved) {
        await until(
          () => readUpdateState(root).phase === "healthy",
          10_000,
          `healthy after ${done} steps`,
        );
      } else {
        // The old version runs on and switches again at its next chance.
        await until(() => l.restarts.length > 0, 10_000, `switch again after ${done} steps`);
        expect(currentSlot(root)).toBe("b");
      }
    }
    expect(dut.runtime.state().auditHead.seq).toBeGreaterThan(0);
  }, 60_000);
});
