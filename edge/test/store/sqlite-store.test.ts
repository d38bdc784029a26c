/**
 * The SQLite lock store on real files: the shared contract, plus what only a file can show —
 * crash recovery, tampering on disk, another device's file, an unreadable file.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  auditRecordHash,
  ed25519,
  formatInstant,
  GENESIS_HASH,
  signCheckpoint,
  verifyAuditChain,
} from "@lockfleet/protocol";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LockStore } from "../../src/store/lock-store.js";
import { SCHEMA_VERSION } from "../../src/store/migrations.js";
import { SqliteLockStore } from "../../src/store/sqlite-store.js";
import {
  CONTRACT_DEVICE,
  describeLockStoreContract,
  events,
  everything,
  expectIntactChain,
} from "./lock-store.contract.js";

let dir: string;
let files = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lockfleet-store-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const newPath = () => join(dir, `lock-${++files}.sqlite`);

describeLockStoreContract("SqliteLockStore", () => {
  const retention = new Map<string, number | undefined>();
  const handles: SqliteLockStore[] = [];
  const track = (store: SqliteLockStore) => {
    handles.push(store);
    return store;
  };
  const reopen = (store: LockStore) => {
    const { path } = store as SqliteLockStore;
    const kept = retention.get(path);
    return track(
      SqliteLockStore.open(path, store.deviceId, kept === undefined ? {} : { retention: kept }),
    );
  };
  return {
    create: (options) => {
      const path = newPath();
      retention.set(path, options?.retention);
      return track(SqliteLockStore.open(path, CONTRACT_DEVICE, options));
    },
    reopenClean: (store) => {
      store.close();
      return reopen(store);
    },
    // The old handle is dropped without close(), as a power cut would leave it.
    reopenAfterCrash: (store) => reopen(store),
    cleanup: () => {
      for (const store of handles.splice(0)) store.close();
    },
  };
});

/** A second, independent handle on the file, as someone with access to the disk would have. */
function onDisk<T>(path: string, action: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return action(db);
  } finally {
    db.close();
  }
}

function errorOf(action: () => unknown): { code?: string; message: string } {
  try {
    action();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("expected an error");
}

describe("SqliteLockStore on disk", () => {
  it(`keeps its log in WAL mode at schema version ${SCHEMA_VERSION}`, () => {
    const path = newPath();
    SqliteLockStore.open(path, CONTRACT_DEVICE).close();
    onDisk(path, (db) => {
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    });
  });

  it("a handle dropped without close() makes the next open report an unclean shutdown", () => {
    const path = newPath();
    const first = SqliteLockStore.open(path, CONTRACT_DEVICE);
    first.commit({ sections: { penalty: { lockouts: 1 } }, events: events(3) });
    // `first` is dropped here: no close(), as after a power cut.
    const second = SqliteLockStore.open(path, CONTRACT_DEVICE);
    expect(second.previousShutdownWasClean).toBe(false);
    expect(second.readSection("penalty")).toEqual({ lockouts: 1 });
    expect(second.auditHead().seq).toBe(3);
    second.close();
    const third = SqliteLockStore.open(path, CONTRACT_DEVICE);
    expect(third.previousShutdownWasClean).toBe(true);
    third.close();
  });

  it("a store written for another device is refused", () => {
    const path = newPath();
    SqliteLockStore.open(path, "safe-1").close();
    const error = errorOf(() => SqliteLockStore.open(path, "safe-2"));
    expect(error.code).toBe("E_STORE_DEVICE_MISMATCH");
    expect(error.message).toContain("safe-1");
  });

  it("a file that is not a lock store is refused as a malformed store naming the path", () => {
    const path = newPath();
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    const error = errorOf(() => SqliteLockStore.open(path, CONTRACT_DEVICE));
    expect(error.code).toBe("E_STORE_MALFORMED");
    expect(error.message).toContain(path);
  });

  it("a store in a folder that does not exist is refused with E_STORAGE naming the path", () => {
    const path = join(dir, "no-such-folder", "lock.sqlite");
    const error = errorOf(() => SqliteLockStore.open(path, CONTRACT_DEVICE));
    expect(error.code).toBe("E_STORAGE");
    expect(error.message).toContain(path);
  });

  it("a store written by newer firmware is refused rather than misread", () => {
    const path = newPath();
    SqliteLockStore.open(path, CONTRACT_DEVICE).close();
    onDisk(path, (db) => db.pragma(`user_version = ${SCHEMA_VERSION + 1}`));
    expect(errorOf(() => SqliteLockStore.open(path, CONTRACT_DEVICE)).code).toBe("E_STORE_VERSION");
  });

  it("a section damaged on disk is reported as a storage failure, not read as empty", () => {
    const path = newPath();
    const store = SqliteLockStore.open(path, CONTRACT_DEVICE);
    store.commit({ sections: { policy: { timeDelayMin: 5 } } });
    onDisk(path, (db) => db.prepare("UPDATE sections SET json = '{\"timeDelay' ").run());
    const error = errorOf(() => store.readSection("policy"));
    expect(error.code).toBe("E_STORAGE");
    expect(error.message).toContain("policy");
    store.close();
  });
});

describe("SqliteLockStore: tampering on disk is detected at the next unclean open", () => {
  /** A log of 10 records whose writer died without close(). */
  function crashedLog(): string {
    const path = newPath();
    const store = SqliteLockStore.open(path, CONTRACT_DEVICE);
    store.commit({ events: events(10) });
    return path; // dropped without close()
  }

  it("a record whose data was changed is detected, and the store stays refused", () => {
    const path = crashedLog();
    onDisk(path, (db) =>
      db.prepare("UPDATE audit SET data = ? WHERE seq = 4").run('{"attempt":3,"note":"ok"}'),
    );
    const error = errorOf(() => SqliteLockStore.open(path, CONTRACT_DEVICE));
    expect(error.code).toBe("E_AUDIT_CHAIN_BROKEN");
    expect(error.message).toContain("seq 4");
    expect(errorOf(() => SqliteLockStore.open(path, CONTRACT_DEVICE)).code).toBe(
      "E_AUDIT_CHAIN_BROKEN",
    );
  });

  it("a record rewritten together with a recomputed hash no longer links to its successor", () => {
    const path = crashedLog();
    onDisk(path, (db) => {
      const row = db.prepare("SELECT * FROM audit WHERE seq = 4").get() as {
        at: string;
        kind: string;
        actor: string | null;
        prev_hash: string;
      };
      const data = { attempt: 3, note: "nothing happened" };
      const hash = auditRecordHash({
        deviceId: CONTRACT_DEVICE,
        seq: 4,
        at: row.at,
        kind: row.kind as "code.rejected",
        actor: row.actor,
        data,
        prevHash: row.prev_hash,
      });
      db.prepare("UPDATE audit SET data = ?, hash = ? WHERE seq = 4").run(
        JSON.stringify(data),
        hash,
      );
    });
    const error = errorOf(() => SqliteLockStore.open(path, CONTRACT_DEVICE));
    expect(error.code).toBe("E_AUDIT_CHAIN_BROKEN");
    expect(error.message).toContain("seq 5");
  });

  it("a record deleted from the middle of the log is detected as a gap", () => {
    const path = crashedLog();
    onDisk(path, (db) => db.prepare("DELETE FROM audit WHERE seq = 6").run());
    const error = errorOf(() => SqliteLockStore.open(path, CONTRACT_DEVICE));
    expect(error.code).toBe("E_AUDIT_CHAIN_BROKEN");
    expect(error.message).toContain("seq 7");
  });

  it("records deleted below the latest checkpoint are detected", () => {
    const path = newPath();
    const store = SqliteLockStore.open(path, CONTRACT_DEVICE);
    const records = store.commit({ events: events(10) });
    store.saveCheckpoint({
      deviceId: CONTRACT_DEVICE,
      seq: 10,
      headHash: records[9]?.hash ?? "",
      at: formatInstant(Date.now()),
      keyId: `${CONTRACT_DEVICE}-k1`,
      signature: "c2lnbmF0dXJl",
    });
    onDisk(path, (db) => db.prepare("DELETE FROM audit WHERE seq >= 8").run());
    expect(errorOf(() => SqliteLockStore.open(path, CONTRACT_DEVICE)).code).toBe(
      "E_AUDIT_CHAIN_BROKEN",
    );
  });

  it("the checkpointed record itself is checked against the hash the device signed", () => {
    const path = newPath();
    const store = SqliteLockStore.open(path, CONTRACT_DEVICE);
    const records = store.commit({ events: events(10) });
    store.saveCheckpoint({
      deviceId: CONTRACT_DEVICE,
      seq: 7,
      headHash: records[6]?.hash ?? "",
      at: formatInstant(Date.now()),
      keyId: `${CONTRACT_DEVICE}-k1`,
      signature: "c2lnbmF0dXJl",
    });
    onDisk(path, (db) =>
      db.prepare("UPDATE audit SET actor = 'p-someone-else' WHERE seq = 7").run(),
    );
    const error = errorOf(() => SqliteLockStore.open(path, CONTRACT_DEVICE));
    expect(error.code).toBe("E_AUDIT_CHAIN_BROKEN");
    expect(error.message).toContain("seq 7");
  });

  it("with the device key given, a checkpoint the device did not sign is detected", () => {
    const device = ed25519.generateKeyPair();
    const path = newPath();
    const store = SqliteLockStore.open(path, CONTRACT_DEVICE);
    const records = store.commit({ events: events(10) });
    const fields = {
      deviceId: CONTRACT_DEVICE,
      seq: 10,
      headHash: records[9]?.hash ?? "",
      at: formatInstant(Date.now()),
      keyId: `${CONTRACT_DEVICE}-k1`,
    };
    // Whoever rewrote the log on disk could recompute hashes, but not sign.
    store.saveCheckpoint(signCheckpoint(fields, ed25519.generateKeyPair().secretKey));
    const options = { checkpointPublicKey: device.publicKey };
    const error = errorOf(() => SqliteLockStore.open(path, CONTRACT_DEVICE, options));
    expect(error.code).toBe("E_AUDIT_CHAIN_BROKEN");
    expect(error.message).toContain("signature");
    onDisk(path, (db) =>
      db
        .prepare("UPDATE checkpoints SET json = ?")
        .run(JSON.stringify(signCheckpoint(fields, device.secretKey))),
    );
    const reopened = SqliteLockStore.open(path, CONTRACT_DEVICE, options);
    expect(reopened.previousShutdownWasClean).toBe(false);
    reopened.close();
  });

  it("with the device key given, a log rewritten at rest after a clean shutdown is still caught", () => {
    const device = ed25519.generateKeyPair();
    const path = newPath();
    const options = { checkpointPublicKey: device.publicKey };
    const store = SqliteLockStore.open(path, CONTRACT_DEVICE, options);
    const records = store.commit({ events: events(10) });
    store.saveCheckpoint(
      signCheckpoint(
        {
          deviceId: CONTRACT_DEVICE,
          seq: 6,
          headHash: records[5]?.hash ?? "",
          at: formatInstant(Date.now()),
          keyId: `${CONTRACT_DEVICE}-k1`,
        },
        device.secretKey,
      ),
    );
    store.close(); // clean shutdown: the flag on disk says nothing happened
    onDisk(path, (db) =>
      db.prepare("UPDATE audit SET actor = 'p-someone-else' WHERE seq = 8").run(),
    );
    const error = errorOf(() => SqliteLockStore.open(path, CONTRACT_DEVICE, options));
    expect(error.code).toBe("E_AUDIT_CHAIN_BROKEN");
    expect(error.message).toContain("seq 8");
    // Without the key (the bench's cold open of a huge log) a clean file is trusted as before.
    SqliteLockStore.open(path, CONTRACT_DEVICE).close();
  });

  it("an untouched log opens after a crash, verified from its checkpoint to its head", () => {
    const path = newPath();
    const store = SqliteLockStore.open(path, CONTRACT_DEVICE);
    const records = store.commit({ events: events(10) });
    store.saveCheckpoint({
      deviceId: CONTRACT_DEVICE,
      seq: 5,
      headHash: records[4]?.hash ?? "",
      at: formatInstant(Date.now()),
      keyId: `${CONTRACT_DEVICE}-k1`,
      signature: "c2lnbmF0dXJl",
    });
    store.commit({ events: events(2, 10) });
    const reopened = SqliteLockStore.open(path, CONTRACT_DEVICE);
    expect(reopened.previousShutdownWasClean).toBe(false);
    expectIntactChain(reopened);
    reopened.close();
  });
});

describe("SqliteLockStore: a process killed in the middle of its commits", () => {
  const EVENTS_PER_COMMIT = 20; // as in crash-writer.ts
  const writer = join(dirname(fileURLToPath(import.meta.url)), "crash-writer.ts");

  /** Starts the writer and kills it with SIGKILL once it has committed at least `commits`. */
  function writeUntilKilled(path: string, commits: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ["--conditions=@lockfleet/source", "--import", "tsx", writer, path, CONTRACT_DEVICE],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let seen = 0;
      let output = "";
      let errors = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        output += chunk;
        const lines = output.split("\n");
        output = lines.pop() ?? "";
        for (const line of lines) seen = Math.max(seen, Number(line));
        if (seen >= commits && child.exitCode === null && !child.killed) child.kill("SIGKILL");
      });
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        errors += chunk;
      });
      child.on("error", reject);
      child.on("exit", (_code, signal) => {
        if (signal === "SIGKILL") resolve(seen);
        else reject(new Error(`crash writer ended without being killed: ${errors}`));
      });
    });
  }

  it("leaves a verifiable chain in which no unit of work is half-written", async () => {
    const path = newPath();
    let confirmed = 0;
    for (const round of [1, 2]) {
      confirmed = await writeUntilKilled(path, confirmed + 40 * round);
      const store = SqliteLockStore.open(path, CONTRACT_DEVICE); // verifies the chain
      expect(store.previousShutdownWasClean).toBe(false);
      const commits = store.readSection<{ commits: number }>("progress")?.commits ?? 0;
      // Everything the writer saw committed is there; at most the one in flight is added.
      expect(commits).toBeGreaterThanOrEqual(confirmed);
      expect(commits).toBeLessThanOrEqual(confirmed + 1);
      const records = everything(store);
      expect(records).toHaveLength(commits * EVENTS_PER_COMMIT);
      expect(verifyAuditChain(records, { seq: 0, hash: GENESIS_HASH })).toBeUndefined();
      records.forEach((record, position) => {
        expect(record.data).toMatchObject({
          commit: Math.floor(position / EVENTS_PER_COMMIT) + 1,
          index: position % EVENTS_PER_COMMIT,
        });
      });
      store.close();
      // The next round starts from a clean close, then dies again.
      confirmed = commits;
    }
  }, 60_000);
});
