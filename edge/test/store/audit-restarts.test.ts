/**
 * The audit trail of a lock core on the SQLite store, on real files, across restarts: random
 * use with clean and unclean restarts, and a lock process killed in the middle of its work.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type AuditRecord,
  fromBase64url,
  GENESIS_HASH,
  verifyAuditChain,
  verifyCheckpoint,
} from "@lockfleet/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateDeviceIdentity, LockHarness, ManualClock } from "../../src/lock/harness.js";
import type { LockStore } from "../../src/store/lock-store.js";
import { SqliteLockStore } from "../../src/store/sqlite-store.js";
import { DEVICE, entry, MINUTE, START, USERS } from "../lock/fixtures.js";
import { World } from "../lock/world.js";

let dir: string;
let files = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lockfleet-audit-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
const newPath = () => join(dir, `lock-${++files}.sqlite`);

function allRecords(store: LockStore): AuditRecord[] {
  return store.auditRange(1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
}

type Step =
  | { kind: "code"; who: "anna" | "ben" | "carl"; right: boolean }
  | { kind: "advance"; ms: number }
  | { kind: "door"; open: boolean }
  | { kind: "restart"; clean: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant("code" as const),
      who: fc.constantFrom("anna" as const, "ben" as const, "carl" as const),
      right: fc.boolean(),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      ms: fc.integer({ min: 0, max: 6 * MINUTE }),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ kind: fc.constant("door" as const), open: fc.boolean() }), weight: 2 },
  {
    arbitrary: fc.record({ kind: fc.constant("restart" as const), clean: fc.boolean() }),
    weight: 2,
  },
);

describe("audit trail of a lock on SQLite files", () => {
  it("no audit record is lost or reordered across random restarts", () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        const handles: SqliteLockStore[] = [];
        const open = (path: string) => {
          const store = SqliteLockStore.open(path, DEVICE);
          handles.push(store);
          return store;
        };
        try {
          const path = newPath();
          const world = new World({
            store: open(path),
            // After a crash the old handle is simply dropped, as a power cut leaves it.
            reopen: () => open(path),
            policy: { timeDelayMin: 1, confirmationWindowMin: 1 },
          });
          const emitted: AuditRecord[] = [];
          const listen = () => world.lock.core.on("audit", (records) => emitted.push(...records));
          listen();
          let before = allRecords(world.store);
          for (const action of steps) {
            if (action.kind === "code") {
              const user = USERS[action.who];
              world.lock.press(entry(user, action.right ? user.code : "00000000"));
            } else if (action.kind === "advance") world.lock.advance(action.ms);
            else if (action.kind === "door") world.lock.door(action.open);
            else {
              world.restart(action.clean);
              listen();
            }
            const after = allRecords(world.store);
            // Everything stored before is still there, unchanged and in its place…
            expect(after.slice(0, before.length)).toEqual(before);
            // …the log is one unbroken chain from the genesis hash, seq 1, 2, 3…
            expect(verifyAuditChain(after, { seq: 0, hash: GENESIS_HASH })).toBeUndefined();
            // …and an unclean restart is on record as a power loss.
            if (action.kind === "restart") {
              const boot = after.slice(before.length).map((r) => r.kind);
              expect(boot[0]).toBe("device.started");
              expect(boot.includes("power.lost")).toBe(!action.clean);
            }
            before = after;
          }
          // Every record the core reported is stored with the same hash.
          const stored = new Map(before.map((r) => [r.seq, r.hash]));
          for (const record of emitted) expect(stored.get(record.seq)).toBe(record.hash);
          // Every accepted code names the person who acted.
          for (const record of before.filter((r) => r.kind === "code.accepted"))
            expect(record.actor).toMatch(/^p-/);
        } finally {
          for (const store of handles) {
            try {
              store.close();
            } catch {
              // Closed already by a clean restart.
            }
          }
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);

  it("a lock killed mid-write reopens with its chain intact and a power loss on record", async () => {
    const path = newPath();
    const device = "crash-lock";
    const child = spawn(
      process.execPath,
      [
        "--conditions=@lockfleet/source",
        "--import",
        "tsx",
        join(dirname(fileURLToPath(import.meta.url)), "crash-lock.ts"),
        path,
        device,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const { key, openings } = await new Promise<{ key: string; openings: number }>(
      (resolve, reject) => {
        let output = "";
        let errors = "";
        let key = "";
        let openings = 0;
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
          output += chunk;
          const lines = output.split("\n");
          output = lines.pop() ?? "";
          for (const line of lines) {
            if (line.startsWith("key ")) key = line.slice(4);
            else openings = Math.max(openings, Number(line));
          }
          if (openings >= 30 && !child.killed) child.kill("SIGKILL");
        });
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
          errors += chunk;
        });
        child.on("error", reject);
        child.on("exit", (_code, signal) => {
          if (signal === "SIGKILL") resolve({ key, openings });
          else reject(new Error(`lock process ended without being killed: ${errors}`));
        });
      },
    );
    // Verifies the chain after the crash, and the latest checkpoint's signature.
    const store = SqliteLockStore.open(path, device, { checkpointPublicKey: fromBase64url(key) });
    expect(store.previousShutdownWasClean).toBe(false);
    const checkpoint = store.latestCheckpoint();
    expect(checkpoint).toBeDefined();
    if (checkpoint !== undefined)
      expect(verifyCheckpoint(checkpoint, fromBase64url(key))).toBe(true);
    const clock = new ManualClock(START + 3_600_000);
    const lock = new LockHarness({
      store,
      identity: generateDeviceIdentity(device, "bank-crash"),
      clock,
    });
    const records = allRecords(store);
    expect(verifyAuditChain(records, { seq: 0, hash: GENESIS_HASH })).toBeUndefined();
    expect(records.filter((r) => r.kind === "cycle.confirmed").length).toBeGreaterThanOrEqual(
      openings,
    );
    expect(records.slice(-4).map((r) => r.kind)).toContain("power.lost");
    expect(lock.core.state().bolt).not.toBe("retracted");
    lock.core.shutdown();
  }, 60_000);
});
