/**
 * The lock signs what it publishes with its device key, and its device sequence never repeats:
 * not across messages, not across restarts (a real SQLite lock store on disk).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ed25519,
  GENESIS_HASH,
  type LockState,
  openDeviceMessage,
  peekDeviceMessage,
} from "@lockfleet/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { DeviceMessageSigner, MESSAGE_SEQ_BLOCK } from "../../src/runtime/message-signer.js";
import { SqliteLockStore } from "../../src/store/sqlite-store.js";

const DEVICE = "lock-signer01";
const key = ed25519.generateKeyPair();
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function state(): LockState {
  return {
    deviceId: DEVICE,
    org: "bank-a",
    at: new Date().toISOString(),
    bolt: "thrown",
    door: "closed",
    cycle: { phase: "idle", codesRequired: 2, codesGiven: 0 },
    timeLocked: false,
    blocked: false,
    activeAlarms: [],
    trustedTime: true,
    auditHead: { seq: 0, hash: GENESIS_HASH },
  };
}

describe("device message signer", () => {
  it("every message is signed with the device key and verifies at the fleet over its bytes", () => {
    const dir = mkdtempSync(join(tmpdir(), "lockfleet-signer-"));
    dirs.push(dir);
    const store = SqliteLockStore.open(join(dir, "lock.sqlite"), DEVICE);
    const signer = new DeviceMessageSigner(
      store,
      { deviceId: DEVICE, keyId: `${DEVICE}-k1`, secretKey: key.secretKey },
      () => Date.now(),
    );
    const text = signer.sign("state", state());
    const opened = openDeviceMessage(text, {
      deviceId: DEVICE,
      topic: "state",
      publicKey: key.publicKey,
      now: Date.now(),
    });
    expect(opened.ok).toBe(true);
    const other = ed25519.generateKeyPair();
    const forged = openDeviceMessage(text, {
      deviceId: DEVICE,
      topic: "state",
      publicKey: other.publicKey,
      now: Date.now(),
    });
    expect(forged.ok ? "" : forged.error.code).toBe("E_BAD_SIGNATURE");
    store.close();
  });

  it("the device sequence strictly increases across restarts (a block is reserved durably before use)", () => {
    const dir = mkdtempSync(join(tmpdir(), "lockfleet-signer-"));
    dirs.push(dir);
    const path = join(dir, "lock.sqlite");
    const seqs: number[] = [];
    for (let run = 0; run < 3; run++) {
      const store = SqliteLockStore.open(path, DEVICE);
      const signer = new DeviceMessageSigner(
        store,
        { deviceId: DEVICE, keyId: `${DEVICE}-k1`, secretKey: key.secretKey },
        () => Date.now(),
      );
      for (let i = 0; i < 5; i++) {
        seqs.push(peekDeviceMessage(signer.sign("state", state()))?.seq ?? 0);
      }
      // No clean close on the second run: a power cut keeps the reservation all the same.
      if (run !== 1) store.close();
    }
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1] ?? 0);
    expect(seqs[5]).toBeGreaterThan(MESSAGE_SEQ_BLOCK);
  });
});
