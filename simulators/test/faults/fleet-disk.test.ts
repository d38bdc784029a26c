/**
 * The fleet's own data directory full, then read-only, over real processes: a `lockfleet-fleet
 * serve` process whose data directory is on a small tmpfs (mounted by the test; it needs root
 * and skips with that reason elsewhere) and a lock that keeps opening. While the fleet cannot
 * write, /healthz says so with a coded sentence (503), the lock keeps its records (nothing is
 * acknowledged that was not stored), and once space returns — or the directory is writable
 * again — the backlog is stored: every acknowledged record once, one verifying chain. Storing
 * an alarm is itself a write, so the fleet's `fleetStorage` alarm reaches the alarm webhook (a
 * small HTTP server here) once per episode, and its clearing when writes succeed again.
 */

import { execFileSync } from "node:child_process";
import { closeSync, cpSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkLedgers,
  FleetDb,
  FleetProcess,
  freePort,
  lockLedger,
  type SeededFleet,
  seedFleet,
} from "./fleet-world.js";
import { SimLock, sleep, until, untilAsync } from "./processes.js";

const work = mkdtempSync(join(tmpdir(), "lockfleet-faults-fleet-disk-"));
const mountPoint = join(work, "tmpfs");
mkdirSync(mountPoint);

function mount(): string | undefined {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", mountPoint], {
      stdio: "pipe",
    });
    return undefined;
  } catch (error) {
    return `a tmpfs cannot be mounted here (needs root): ${String(error).split("\n")[0]}`;
  }
}
const cannotMount = mount();
const remount = (mode: "ro" | "rw") =>
  execFileSync("mount", ["-o", `remount,${mode}`, mountPoint], { stdio: "pipe" });

const filler = join(mountPoint, "filler");
function fillDisk(): void {
  const fd = openSync(filler, "a");
  try {
    for (const size of [1024 * 1024, 64 * 1024, 512]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch {
        // ENOSPC: full at this chunk size, go on with a smaller one
      }
    }
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(cannotMount !== undefined)(
  `the fleet's data directory full or read-only ${cannotMount ?? ""}`,
  () => {
    let seed: SeededFleet;
    let fleet: FleetProcess;
    let db: FleetDb;
    let lock: SimLock;
    let deviceId: string;
    const dataDir = join(mountPoint, "fleet");
    const lockDir = join(work, "lock");

    const health = async () => {
      const response = await fetch(new URL("/healthz", fleet.url));
      return {
        status: response.status,
        body: (await response.json()) as { storage: boolean; storageError?: string },
      };
    };
    const stored = () => db.audit(deviceId);
    /** What the fleet's alarm webhook received: event and alarm kind of each notice. */
    const notices: { event: string; kind: string; error?: unknown }[] = [];
    let webhook: Server;
    const storageNotices = () => notices.filter((notice) => notice.kind === "fleetStorage");

    beforeAll(async () => {
      webhook = createServer((request, response) => {
        let body = "";
        request.on("data", (chunk: Buffer) => {
          body += chunk.toString("utf8");
        });
        request.on("end", () => {
          const notice = JSON.parse(body) as {
            event: string;
            alarm: { kind: string; data: { error?: unknown } };
          };
          notices.push({
            event: notice.event,
            kind: notice.alarm.kind,
            error: notice.alarm.data.error,
          });
          response.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => webhook.listen(0, "127.0.0.1", resolve));
      const hook = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/alarms`;
      seed = await seedFleet(1);
      cpSync(seed.dataDir, dataDir, { recursive: true });
      const [httpPort, mqttPort] = [await freePort(), await freePort()];
      fleet = await FleetProcess.start({
        dataDir,
        httpPort,
        mqttPort,
        args: ["--alarm-webhook", hook],
      });
      db = new FleetDb(dataDir);
      const token = await fleet.enrolmentToken(seed, seed.containers[0] as string);
      lock = new SimLock([
        "--data",
        lockDir,
        "--fleet",
        fleet.url,
        "--token",
        token,
        "--auto-open",
        "2s",
      ]);
      await lock.waitForLine(/fleet=online/);
      deviceId = lock.deviceId as string;
    }, 120_000);

    afterAll(async () => {
      await lock?.stop("SIGKILL");
      await fleet?.kill();
      db?.close();
      seed?.remove();
      webhook?.close();
      try {
        execFileSync("umount", ["-l", mountPoint]);
      } catch {
        // never mounted
      }
      rmSync(work, { recursive: true, force: true });
    });

    /** While the fleet cannot write: health degraded, the lock keeps opening, nothing acked. */
    async function whileRefused(pattern: RegExp): Promise<number> {
      const refused = await untilAsync("/healthz degraded", async () => {
        const answer = await health();
        return answer.status === 503 ? answer : undefined;
      });
      expect(refused.body.storage).toBe(false);
      expect(refused.body.storageError).toMatch(pattern);
      const before = lock.stdout.length;
      await until(
        "an opening while the fleet cannot write",
        () =>
          lock.stdout
            .slice(before)
            .filter((line) => line.startsWith("auto-open: opened and closed")).length >= 1,
      );
      return stored().at(-1)?.seq ?? 0;
    }

    it("disk full: degraded health with E_STORAGE, the lock keeps its records, the backlog is stored once space returns", async () => {
      await until("a sealed opening at the fleet", () =>
        stored().some((record) => record.kind === "lock.relocked"),
      );
      fillDisk();
      const storedWhileFull = await whileRefused(/^E_STORAGE: .*\(ENOSPC: disk full\)/);
      await until("the fleetStorage alarm at the webhook", () => storageNotices().length >= 1);
      expect(storageNotices()[0]).toMatchObject({ event: "raised" });
      expect(String(storageNotices()[0]?.error)).toMatch(/ENOSPC: disk full/);
      rmSync(filler, { force: true });
      await untilAsync("health ok again", async () => (await health()).status === 200);
      await until("the clearing at the webhook", () => storageNotices().length >= 2);
      // once per episode, however many writes failed meanwhile
      expect(storageNotices().map((notice) => notice.event)).toEqual(["raised", "cleared"]);
      // and stored, raised and cleared, once writes succeed again (one row for the one bank)
      const episodes = () =>
        db.rows<{ kind: string; cleared_at: string | null }>(
          "SELECT kind, cleared_at FROM alarms WHERE kind = 'fleetStorage' AND org_id = ?",
          seed.bankId,
        );
      await until("the episode in the alarm table", () => episodes().length >= 1);
      expect(episodes()).toHaveLength(1);
      expect(episodes()[0]?.cleared_at).not.toBeNull();
      await until(
        "the backlog at the fleet",
        () =>
          stored().some(
            (record) => record.seq > storedWhileFull && record.kind === "lock.relocked",
          ),
        60_000,
      );
      const seqs = stored().map((record) => record.seq);
      expect(seqs).toEqual(seqs.map((_, index) => index + 1));
    }, 120_000);

    it("read-only: the fleet refuses to start with a clear error; once writable it starts and the backlog is stored", async () => {
      // A file system with the fleet's database open for writing cannot be made read-only; it
      // becomes read-only under a stopped fleet (a remount after an I/O error, a wrong mount).
      await fleet.kill("SIGKILL");
      const storedAtStop = stored().at(-1)?.seq ?? 0;
      db.close(); // a reader holds the WAL index open for writing too
      remount("ro");
      let refusal = "";
      try {
        await fleet.restart().then(
          () => {
            throw new Error("the fleet started on a read-only data directory");
          },
          (error: unknown) => {
            refusal = String(error);
          },
        );
      } finally {
        remount("rw");
      }
      expect(refusal).toMatch(
        /E_STORAGE: the data directory .* refuses writes \(EROFS: read-only\)/,
      );
      expect(refusal).not.toMatch(/\n\s+at /); // a sentence, not a stack
      fleet = await fleet.restart();
      db = new FleetDb(dataDir);
      await untilAsync("health ok", async () => (await health()).status === 200);
      await until(
        "the backlog at the fleet",
        () =>
          stored().some((record) => record.seq > storedAtStop && record.kind === "lock.relocked"),
        60_000,
      );
      await sleep(1000);
      await lock.stop("SIGTERM");
      const ledger = lockLedger(lockDir, deviceId);
      const figures = checkLedgers(ledger, stored());
      expect(figures.acknowledged).toBeGreaterThanOrEqual(ledger.records.length - 3);
    }, 120_000);
  },
);
