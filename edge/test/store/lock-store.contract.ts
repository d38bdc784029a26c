/**
 * What every LockStore promises the lock core (SPEC §3 "Audit log"): one suite, run against
 * the in-memory store and the SQLite store, so the lock core's unit tests on the one mean
 * the same as production on the other.
 */
import {
  type AuditRecord,
  formatInstant,
  GENESIS_HASH,
  verifyAuditChain,
} from "@lockfleet/protocol";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import type { AuditAppend, LockStore, LockStoreOptions } from "../../src/store/lock-store.js";

export const CONTRACT_DEVICE = "safe-contract-1";
const AT = Date.parse("2026-11-23T08:00:00.000Z");

export interface StoreUnderTest {
  /** A new, empty store for CONTRACT_DEVICE. */
  create(options?: LockStoreOptions): LockStore;
  /** The same store after close() and a new start. */
  reopenClean(store: LockStore): LockStore;
  /** The same store after the process ended without close() (power cut, crash). */
  reopenAfterCrash(store: LockStore): LockStore;
  /** Releases whatever create() made (files, handles). */
  cleanup?(): void;
}

export function events(count: number, from = 0): AuditAppend[] {
  return Array.from({ length: count }, (_, index) => ({
    at: AT + (from + index) * 1000,
    kind: "code.rejected" as const,
    actor: index % 2 === 0 ? `p-${from + index}` : null,
    data: { attempt: from + index, note: "wrong code", nested: { list: [1, "two", null] } },
  }));
}

/** The whole kept log, ascending. */
export function everything(store: LockStore): AuditRecord[] {
  return store.auditRange(0, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
}

/** The kept log links to the store's base and ends at its head. */
export function expectIntactChain(store: LockStore): void {
  const records = everything(store);
  expect(verifyAuditChain(records, store.auditBase())).toBeUndefined();
  const head = store.auditHead();
  const last = records.at(-1);
  expect(last === undefined ? store.auditBase() : { seq: last.seq, hash: last.hash }).toEqual(head);
  expect(store.auditCount()).toBe(records.length);
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).message;
  }
  return undefined;
}

export function describeLockStoreContract(name: string, makeStores: () => StoreUnderTest): void {
  describe(`${name}: the LockStore contract`, () => {
    let stores: StoreUnderTest | undefined;
    const open = (options?: LockStoreOptions) => {
      stores ??= makeStores();
      return stores.create(options);
    };
    const reopen = (store: LockStore, how: "clean" | "crash") => {
      if (stores === undefined) throw new Error("open a store first");
      return how === "clean" ? stores.reopenClean(store) : stores.reopenAfterCrash(store);
    };

    afterEach(() => {
      stores?.cleanup?.();
      stores = undefined;
    });

    it("a new store is empty and counts as cleanly shut down", () => {
      const store = open();
      expect(store.deviceId).toBe(CONTRACT_DEVICE);
      expect(store.previousShutdownWasClean).toBe(true);
      expect(store.auditHead()).toEqual({ seq: 0, hash: GENESIS_HASH });
      expect(store.auditBase()).toEqual({ seq: 0, hash: GENESIS_HASH });
      expect(store.auditCount()).toBe(0);
      expect(store.acknowledgedSeq()).toBe(0);
      expect(store.latestCheckpoint()).toBeUndefined();
      expect(store.readSection("policy")).toBeUndefined();
    });

    it("a commit stores its sections and returns its records chained from the genesis hash", () => {
      const store = open();
      const records = store.commit({ sections: { policy: { delayMin: 5 } }, events: events(3) });
      expect(records.map((record) => record.seq)).toEqual([1, 2, 3]);
      expect(records[0]?.prevHash).toBe(GENESIS_HASH);
      expect(records[1]?.prevHash).toBe(records[0]?.hash);
      expect(records[0]).toMatchObject({
        deviceId: CONTRACT_DEVICE,
        at: formatInstant(AT),
        kind: "code.rejected",
        actor: "p-0",
        data: { attempt: 0, note: "wrong code", nested: { list: [1, "two", null] } },
      });
      expect(records[1]?.actor).toBeNull();
      expect(verifyAuditChain(records)).toBeUndefined();
      expect(everything(store)).toEqual(records);
      expect(store.readSection("policy")).toEqual({ delayMin: 5 });
      expect(store.auditHead()).toEqual({ seq: 3, hash: records[2]?.hash });
    });

    it("a section set to null is deleted, other sections stay", () => {
      const store = open();
      store.commit({ sections: { cycle: { phase: "delay" }, penalty: { lockouts: 1 } } });
      store.commit({ sections: { cycle: null } });
      expect(store.readSection("cycle")).toBeUndefined();
      expect(store.readSection("penalty")).toEqual({ lockouts: 1 });
    });

    it("stored sections and records are copies, not the caller's objects", () => {
      const store = open();
      const users = { "1": { personId: "p-anna", enabled: true } };
      const appended = events(1);
      const [record] = store.commit({ sections: { users }, events: appended });
      users["1"].enabled = false;
      (appended[0]?.data as { attempt: number }).attempt = 99;
      if (record !== undefined) record.data.attempt = 42;
      expect(store.readSection("users")).toEqual({ "1": { personId: "p-anna", enabled: true } });
      expect(everything(store)[0]?.data.attempt).toBe(0);
      expectIntactChain(store);
    });

    it("a failing commit leaves nothing behind: no section, no record, no gap", () => {
      const store = open();
      store.commit({ sections: { policy: { version: 1 } }, events: events(2) });
      const head = store.auditHead();
      const unserialisable = { ...events(1, 2)[0], data: { amount: 10n } } as AuditAppend;
      expect(() =>
        store.commit({
          sections: { policy: { version: 2 }, extra: { added: true } },
          events: [...events(2, 2), unserialisable],
        }),
      ).toThrow();
      expect(() =>
        store.commit({
          sections: { policy: { version: 3 } },
          events: [...events(1), { ...events(1)[0], at: Number.NaN } as AuditAppend],
        }),
      ).toThrow();
      expect(store.readSection("policy")).toEqual({ version: 1 });
      expect(store.readSection("extra")).toBeUndefined();
      expect(store.auditHead()).toEqual(head);
      expect(store.auditCount()).toBe(2);
      const [next] = store.commit({ events: events(1, 9) });
      expect(next).toMatchObject({ seq: 3, prevHash: head.hash });
      expectIntactChain(store);
    });

    it("the chain links across commits and across a clean restart", () => {
      let store = open();
      store.commit({ events: events(2) });
      store.commit({ sections: { openings: { counter: 1 } }, events: events(3, 2) });
      store = reopen(store, "clean");
      expect(store.previousShutdownWasClean).toBe(true);
      const [first] = store.commit({ events: events(1, 5) });
      expect(first?.seq).toBe(6);
      expect(store.readSection("openings")).toEqual({ counter: 1 });
      expect(everything(store).map((record) => record.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expectIntactChain(store);
    });

    it("a start after a crash reports the unclean shutdown and keeps everything committed", () => {
      let store = open();
      store.commit({ sections: { penalty: { lockouts: 2 } }, events: events(4) });
      const before = everything(store);
      store = reopen(store, "crash");
      expect(store.previousShutdownWasClean).toBe(false);
      expect(everything(store)).toEqual(before);
      expect(store.readSection("penalty")).toEqual({ lockouts: 2 });
      store.commit({ events: events(1, 4) });
      expectIntactChain(store);
      store = reopen(store, "clean");
      expect(store.previousShutdownWasClean).toBe(true);
      expect(store.auditHead().seq).toBe(5);
    });

    it("an acknowledgement with the wrong hash, or of a record that does not exist, is refused", () => {
      let store = open();
      const records = store.commit({ events: events(5) });
      expect(codeOf(() => store.acknowledge(3, "f".repeat(64)))).toBe("E_ACK_MISMATCH");
      expect(codeOf(() => store.acknowledge(3, records[3]?.hash ?? ""))).toBe("E_ACK_MISMATCH");
      expect(codeOf(() => store.acknowledge(6, records[4]?.hash ?? ""))).toBe("E_ACK_MISMATCH");
      expect(store.acknowledgedSeq()).toBe(0);
      store.acknowledge(4, records[3]?.hash ?? "");
      expect(store.acknowledgedSeq()).toBe(4);
      store.acknowledge(2, records[1]?.hash ?? "");
      expect(store.acknowledgedSeq()).toBe(4); // never moves backwards
      store = reopen(store, "crash");
      expect(store.acknowledgedSeq()).toBe(4);
    });

    it("pruning never removes unacknowledged records", () => {
      const store = open({ retention: 5 });
      const records = store.commit({ events: events(20) });
      expect(store.auditCount()).toBe(20); // over retention, but nothing acknowledged
      store.acknowledge(8, records[7]?.hash ?? "");
      expect(store.auditCount()).toBe(12);
      expect(store.auditBase()).toEqual({ seq: 8, hash: records[7]?.hash });
      store.commit({ events: events(10, 20) });
      const kept = everything(store).map((record) => record.seq);
      expect(kept).toEqual(Array.from({ length: 22 }, (_, index) => 9 + index));
      expect(everything(store).slice(0, 12)).toEqual(records.slice(8));
      expectIntactChain(store);
    });

    it("acknowledged records are pruned only beyond the retention capacity, oldest first", () => {
      const store = open({ retention: 5 });
      const records = store.commit({ events: events(20) });
      store.acknowledge(20, records[19]?.hash ?? "");
      expect(everything(store).map((record) => record.seq)).toEqual([16, 17, 18, 19, 20]);
      store.commit({ events: events(3, 20) });
      // 21..23 are not acknowledged; 16..18 make room for them.
      expect(everything(store).map((record) => record.seq)).toEqual([19, 20, 21, 22, 23]);
      expect(store.auditBase()).toEqual({ seq: 18, hash: records[17]?.hash });
      expect(store.auditRange(1, 18)).toEqual([]);
      expectIntactChain(store);
    });

    it("the default retention keeps every record even when all are acknowledged", () => {
      const store = open();
      const records = store.commit({ events: events(50) });
      store.acknowledge(50, records[49]?.hash ?? "");
      expect(store.auditCount()).toBe(50);
    });

    it("what is left after pruning still verifies after a crash and the chain continues", () => {
      let store = open({ retention: 4 });
      const records = store.commit({ events: events(12) });
      store.acknowledge(10, records[9]?.hash ?? "");
      store = reopen(store, "crash");
      expect(store.auditBase()).toEqual({ seq: 8, hash: records[7]?.hash });
      const [next] = store.commit({ events: events(1, 12) });
      expect(next).toMatchObject({ seq: 13, prevHash: records[11]?.hash });
      expectIntactChain(store);
    });

    it("a log pruned down to nothing keeps its head and continues the chain from it", () => {
      let store = open({ retention: 0 });
      const records = store.commit({ events: events(6) });
      store.acknowledge(6, records[5]?.hash ?? "");
      expect(store.auditCount()).toBe(0);
      expect(store.auditHead()).toEqual({ seq: 6, hash: records[5]?.hash });
      store = reopen(store, "crash");
      expect(store.auditHead()).toEqual({ seq: 6, hash: records[5]?.hash });
      const [next] = store.commit({ events: events(1, 6) });
      expect(next).toMatchObject({ seq: 7, prevHash: records[5]?.hash });
    });

    it("a repeated acknowledgement of records already pruned changes nothing", () => {
      const store = open({ retention: 2 });
      const records = store.commit({ events: events(8) });
      store.acknowledge(6, records[5]?.hash ?? "");
      expect(store.auditBase().seq).toBe(6);
      expect(() => store.acknowledge(3, records[2]?.hash ?? "")).not.toThrow();
      expect(() => store.acknowledge(6, records[5]?.hash ?? "")).not.toThrow();
      expect(codeOf(() => store.acknowledge(6, records[4]?.hash ?? ""))).toBe("E_ACK_MISMATCH");
      expect(store.acknowledgedSeq()).toBe(6);
      expect(store.auditCount()).toBe(2);
    });

    it("auditRange is inclusive, ascending and bounded by its limit", () => {
      const store = open();
      store.commit({ events: events(30) });
      expect(store.auditRange(5, 9).map((record) => record.seq)).toEqual([5, 6, 7, 8, 9]);
      expect(store.auditRange(25, 100).map((record) => record.seq)).toEqual([
        25, 26, 27, 28, 29, 30,
      ]);
      expect(store.auditRange(1, 30, 3).map((record) => record.seq)).toEqual([1, 2, 3]);
      expect(store.auditRange(1, 30)).toHaveLength(30);
      expect(store.auditRange(10, 9)).toEqual([]);
      expect(store.auditRange(1, 30, 0)).toEqual([]);
    });

    it("the latest checkpoint is kept across a restart", () => {
      let store = open();
      const records = store.commit({ events: events(3) });
      const checkpoint = (seq: number, hash: string) => ({
        deviceId: CONTRACT_DEVICE,
        seq,
        headHash: hash,
        at: formatInstant(AT),
        keyId: `${CONTRACT_DEVICE}-k1`,
        signature: "c2lnbmF0dXJl",
      });
      store.saveCheckpoint(checkpoint(2, records[1]?.hash ?? ""));
      store.saveCheckpoint(checkpoint(3, records[2]?.hash ?? ""));
      expect(store.latestCheckpoint()?.seq).toBe(3);
      store = reopen(store, "crash");
      expect(store.latestCheckpoint()).toEqual(checkpoint(3, records[2]?.hash ?? ""));
    });

    it("a closed store refuses further changes", () => {
      const store = open();
      store.commit({ events: events(1) });
      store.close();
      expect(codeOf(() => store.commit({ events: events(1, 1) }))).toBe("E_STORE_CLOSED");
      expect(codeOf(() => store.acknowledge(0, GENESIS_HASH))).toBe("E_STORE_CLOSED");
    });

    it("no audit record is lost, changed or reordered across random commits, acknowledgements and restarts", () => {
      type Step =
        | { kind: "commit"; count: number; fail: boolean }
        | { kind: "ack"; back: number }
        | { kind: "restart"; clean: boolean };
      const step = fc.oneof(
        fc.record({
          kind: fc.constant("commit" as const),
          count: fc.integer({ min: 0, max: 6 }),
          fail: fc.boolean(),
        }),
        fc.record({ kind: fc.constant("ack" as const), back: fc.integer({ min: 0, max: 8 }) }),
        fc.record({ kind: fc.constant("restart" as const), clean: fc.boolean() }),
      );
      fc.assert(
        fc.property(
          fc.array(step, { maxLength: 25 }),
          fc.integer({ min: 0, max: 6 }),
          (steps: Step[], retention) => {
            let store = open({ retention });
            const written: AuditRecord[] = [];
            let acknowledged = 0;
            for (const next of steps) {
              if (next.kind === "commit") {
                const appended = events(next.count, written.length);
                if (next.fail) {
                  const bad = { ...events(1)[0], data: { bad: 1n } } as AuditAppend;
                  expect(() => store.commit({ events: [...appended, bad] })).toThrow();
                } else {
                  written.push(...store.commit({ events: appended }));
                }
              } else if (next.kind === "ack") {
                const target = written[written.length - 1 - next.back];
                if (target === undefined) continue;
                store.acknowledge(target.seq, target.hash);
                acknowledged = Math.max(acknowledged, target.seq);
              } else {
                store = reopen(store, next.clean ? "clean" : "crash");
                expect(store.previousShutdownWasClean).toBe(next.clean);
              }
              const kept = everything(store);
              // Every kept record is exactly what was written, in order, and nothing
              // unacknowledged is missing.
              expect(kept).toEqual(written.slice(written.length - kept.length));
              expect(written.length - kept.length).toBeLessThanOrEqual(acknowledged);
              if (written.length - kept.length > 0) {
                expect(kept.length).toBeGreaterThanOrEqual(Math.min(retention, written.length));
              }
              expectIntactChain(store);
            }
            stores?.cleanup?.();
            stores = undefined;
          },
        ),
        { numRuns: 40 },
      );
    });
  });
}
