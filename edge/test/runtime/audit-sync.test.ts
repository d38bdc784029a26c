import type { DeviceEventMessage } from "@lockfleet/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { AuditSync } from "../../src/runtime/audit-sync.js";
import { backoffDelay } from "../../src/runtime/mqtt-link.js";
import { MemoryLockStore } from "../../src/store/memory-store.js";

const DEVICE = "lock-sync-1";

function append(store: MemoryLockStore, count: number): void {
  for (let i = 0; i < count; i += 1) {
    store.commit({ events: [{ at: Date.now(), kind: "door.opened", actor: null, data: { i } }] });
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

function seqs(messages: DeviceEventMessage[]): number[] {
  return messages.flatMap((message) =>
    message.type === "audit" ? message.records.map((r) => r.seq) : [],
  );
}

let syncs: AuditSync[] = [];
afterEach(() => {
  for (const sync of syncs) sync.stop();
  syncs = [];
});

function setup(options: { batchSize?: number; ackTimeoutMs?: number } = {}) {
  const store = new MemoryLockStore(DEVICE);
  const published: DeviceEventMessage[] = [];
  let hold: (() => void) | undefined;
  let holding = false;
  const sync = new AuditSync({
    store,
    publish: (message) => {
      published.push(message);
      if (!holding) return Promise.resolve();
      return new Promise<void>((resolve) => {
        hold = resolve;
      });
    },
    batchSize: options.batchSize ?? 10,
    ackTimeoutMs: options.ackTimeoutMs ?? 60_000,
  });
  syncs.push(sync);
  return {
    store,
    published,
    sync,
    holdPublishes(on: boolean) {
      holding = on;
    },
    release() {
      hold?.();
    },
  };
}

describe("audit sync", () => {
  it("sends nothing while offline and the whole backlog in order when the link comes up", async () => {
    const { store, published, sync } = setup({ batchSize: 7 });
    append(store, 40);
    sync.recordsAppended();
    await settle();
    expect(published).toHaveLength(0);
    sync.connected();
    await settle();
    expect(seqs(published)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(published.every((m) => m.type !== "audit" || m.records.length <= 7)).toBe(true);
  });

  it("after a reconnect starts again from the first record the fleet has not acknowledged", async () => {
    const { store, published, sync } = setup();
    append(store, 12);
    sync.connected();
    await settle();
    const head = store.auditRange(8, 8)[0];
    store.acknowledge(8, head?.hash ?? "");
    sync.acknowledged();
    sync.disconnected();
    append(store, 3);
    published.length = 0;
    sync.connected();
    await settle();
    expect(seqs(published)).toEqual([9, 10, 11, 12, 13, 14, 15]);
  });

  it("a gap request re-sends exactly the requested range", async () => {
    const { store, published, sync } = setup();
    append(store, 30);
    sync.connected();
    await settle();
    published.length = 0;
    sync.resend(5, 17);
    await settle();
    expect(seqs(published)).toEqual(Array.from({ length: 13 }, (_, i) => i + 5));
  });

  it("records not acknowledged within the timeout are sent again", async () => {
    const { store, published, sync } = setup({ ackTimeoutMs: 50 });
    append(store, 5);
    sync.connected();
    await settle();
    expect(seqs(published)).toEqual([1, 2, 3, 4, 5]);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(seqs(published).slice(5, 10)).toEqual([1, 2, 3, 4, 5]);
  });

  it("acknowledged records are not sent again after the timeout", async () => {
    const { store, published, sync } = setup({ ackTimeoutMs: 50 });
    append(store, 5);
    sync.connected();
    await settle();
    store.acknowledge(5, store.auditHead().hash);
    sync.acknowledged();
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(seqs(published)).toEqual([1, 2, 3, 4, 5]);
  });

  it("an alarm notice goes out before the audit batch that holds its record", async () => {
    const { store, published, sync } = setup();
    sync.connected();
    await settle();
    append(store, 1);
    sync.recordsAppended();
    sync.alarm({
      deviceId: DEVICE,
      alarm: "doorForcedOpen",
      priority: "critical",
      at: new Date().toISOString(),
      auditSeq: 1,
      actor: null,
      data: {},
    });
    await settle();
    expect(published.map((m) => m.type)).toEqual(["alarm", "audit"]);
  });

  it("alarm notices raised offline are sent first when the link returns", async () => {
    const { store, published, sync } = setup();
    append(store, 3);
    sync.alarm({
      deviceId: DEVICE,
      alarm: "tamper",
      priority: "high",
      at: new Date().toISOString(),
      auditSeq: 2,
      actor: null,
      data: {},
    });
    sync.connected();
    await settle();
    expect(published[0]?.type).toBe("alarm");
    expect(seqs(published)).toEqual([1, 2, 3]);
  });

  it("a batch cut off by a disconnect is sent again from the acknowledged seq on reconnect", async () => {
    const { store, published, sync, holdPublishes } = setup({ batchSize: 5 });
    append(store, 10);
    holdPublishes(true);
    sync.connected();
    await settle();
    expect(seqs(published)).toEqual([1, 2, 3, 4, 5]);
    sync.disconnected();
    holdPublishes(false);
    published.length = 0;
    sync.connected();
    await settle();
    expect(seqs(published)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });
});

describe("reconnect backoff", () => {
  it("doubles from the minimum up to the cap and never falls below half a step", () => {
    const low = () => 0;
    const high = () => 0.999999;
    expect([0, 1, 2, 3].map((attempt) => backoffDelay(attempt, 1000, 60_000, low))).toEqual([
      500, 1000, 2000, 4000,
    ]);
    expect(backoffDelay(3, 1000, 60_000, high)).toBe(8000);
    expect(backoffDelay(20, 1000, 60_000, high)).toBe(60_000);
    expect(backoffDelay(20, 1000, 60_000, low)).toBe(30_000);
  });
});
