/**
 * The store's side of fault reporting: a damaged SQLite file told apart from a broken chain,
 * the whole chain verified (records altered before the last checkpoint found), the
 * fail-secure mark kept beside the store, and one runtime per data directory.
 */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519, signCheckpoint } from "@lockfleet/protocol";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { lockDataDir } from "../../src/runtime/data-dir-lock.js";
import { verifyWholeChain } from "../../src/store/chain-verification.js";
import { LockStoreError } from "../../src/store/lock-store.js";
import { SqliteLockStore } from "../../src/store/sqlite-store.js";

const dir = mkdtempSync(join(tmpdir(), "lockfleet-store-faults-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newPath = () => join(dir, `lock-${++files}.sqlite`);
const DEVICE = "safe-faults";
const keys = ed25519.generateKeyPair();

/** A store with `count` records and a signed checkpoint at its head, closed cleanly. */
function filledStore(count: number): string {
  const path = newPath();
  const store = SqliteLockStore.open(path, DEVICE);
  for (let i = 0; i < count; i += 50) {
    store.commit({
      events: Array.from({ length: Math.min(50, count - i) }, (_, j) => ({
        at: Date.parse("2026-11-23T08:00:00Z") + i + j,
        kind: "code.rejected" as const,
        actor: null,
        data: { slot: (i + j) % 100, reason: "wrong code" },
      })),
    });
  }
  const head = store.auditHead();
  store.saveCheckpoint(
    signCheckpoint(
      {
        deviceId: DEVICE,
        seq: head.seq,
        headHash: head.hash,
        at: "2026-11-23T08:10:00.000Z",
        keyId: "k1",
      },
      keys.secretKey,
    ),
  );
  store.close();
  return path;
}

function errorOf(action: () => unknown): LockStoreError {
  try {
    action();
  } catch (error) {
    if (error instanceof LockStoreError) return error;
    throw error;
  }
  throw new Error("no error");
}

describe("lock store faults", () => {
  it("a damaged SQLite page is refused as a malformed store, not as records missing", () => {
    const path = filledStore(600);
    const size = statSync(path).size;
    const fd = openSync(path, "r+");
    const garbage = Buffer.alloc(4096, 0xa5);
    for (let offset = 4096; offset < size; offset += 4096) writeSync(fd, garbage, 0, 4096, offset);
    closeSync(fd);
    const error = errorOf(() =>
      SqliteLockStore.open(path, DEVICE, { checkpointPublicKey: keys.publicKey }),
    );
    expect(error.code).toBe("E_STORE_MALFORMED");
    expect(error.message).not.toMatch(/records are missing/);
    expect(error.message).toContain(path);
  });

  it("the whole-chain verification finds a record altered before the last checkpoint", async () => {
    const path = filledStore(300);
    const db = new Database(path);
    db.prepare("UPDATE audit SET data = ? WHERE seq = 17").run('{"slot":17,"reason":"right code"}');
    db.close();
    // The open checks from the checkpoint on, and passes.
    const store = SqliteLockStore.open(path, DEVICE, { checkpointPublicKey: keys.publicKey });
    try {
      const result = await verifyWholeChain(store, {
        checkpointPublicKey: keys.publicKey,
        batch: 64,
        integrityProblems: () => store.integrityProblems(),
      });
      expect(result).toMatchObject({ ok: false, code: "E_AUDIT_CHAIN_BROKEN", seq: 17 });
    } finally {
      store.close();
    }
  });

  it("the whole-chain verification of an intact log counts every record", async () => {
    const path = filledStore(250);
    const store = SqliteLockStore.open(path, DEVICE, { checkpointPublicKey: keys.publicKey });
    try {
      const result = await verifyWholeChain(store, { checkpointPublicKey: keys.publicKey });
      expect(result).toEqual({ ok: true, fromSeq: 1, toSeq: 250, records: 250 });
      const forged = ed25519.generateKeyPair();
      const wrongKey = await verifyWholeChain(store, { checkpointPublicKey: forged.publicKey });
      expect(wrongKey).toMatchObject({ ok: false, code: "E_AUDIT_CHAIN_BROKEN" });
    } finally {
      store.close();
    }
  });

  it("the fail-secure mark is kept beside the store in reserved space and cleared", () => {
    const path = newPath();
    const store = SqliteLockStore.open(path, DEVICE);
    expect(statSync(`${path}-failsecure`).size).toBe(1024);
    expect(store.failSecureMark()).toBeUndefined();
    store.markFailSecure({ at: 1_000, headSeq: 7, error: "E_STORAGE: database or disk is full" });
    expect(statSync(`${path}-failsecure`).size).toBe(1024);
    store.close();
    const reopened = SqliteLockStore.open(path, DEVICE);
    expect(reopened.failSecureMark()).toEqual({
      at: 1_000,
      headSeq: 7,
      error: "E_STORAGE: database or disk is full",
    });
    reopened.clearFailSecureMark();
    expect(reopened.failSecureMark()).toBeUndefined();
    reopened.close();
  });

  it("one runtime per data directory: a second lock on it is refused until the first lets go", () => {
    const dataDir = mkdtempSync(join(dir, "data-"));
    const first = lockDataDir(dataDir);
    let code: string | undefined;
    try {
      lockDataDir(dataDir);
    } catch (error) {
      code = (error as { code?: string }).code;
    }
    expect(code).toBe("E_DATA_DIR_IN_USE");
    first.release();
    const again = lockDataDir(dataDir);
    again.release();
  });
});
