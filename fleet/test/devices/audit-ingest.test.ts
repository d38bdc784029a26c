import { type AuditRecord, chainAuditRecord, ed25519 } from "@lockfleet/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createWorld, defined, enrolLock, nextEvent, type TestWorld, waitFor } from "./helpers.js";
import type { SimulatedLock } from "./simulated-lock.js";

let world: TestWorld;
let lock: SimulatedLock;

beforeEach(async () => {
  world = await createWorld();
  lock = await enrolLock(world);
});
afterEach(async () => world.close());

function storedSeqs(): number[] {
  return world.hub.auditRecords(lock.deviceId, 0, 1000).map((record) => record.seq);
}

function appendMany(count: number): AuditRecord[] {
  return Array.from({ length: count }, (_, i) => lock.appendAudit("code.rejected", { attempt: i }));
}

describe("audit ingest", () => {
  it("verified records are stored, emitted, then acknowledged with the stored head", async () => {
    const records = appendMany(3);
    const emitted = nextEvent(world.hub, "audit", (deviceId) => deviceId === lock.deviceId);
    await lock.publishAudit(records);
    const [, batch] = await emitted;
    expect(batch.map((record) => record.seq)).toEqual([1, 2, 3]);
    await lock.until(() => lock.ackedUpTo === 3, 3_000, "ack");
    const ack = lock.commandsOfType("audit.ack")[0];
    expect(ack?.body).toEqual({ upToSeq: 3, headHash: records[2]?.hash });
    expect(storedSeqs()).toEqual([1, 2, 3]);
  });

  it("the lock's record of an acknowledgement is stored but not acked again (no ping-pong)", async () => {
    await lock.publishAudit(appendMany(2));
    await lock.until(() => lock.ackedUpTo === 2, 3_000, "ack");
    // The lock logged "audit.acknowledged" as seq 3 and published it.
    await waitFor(() => storedSeqs().length === 3, 3_000, "ack record stored");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(lock.commandsOfType("audit.ack")).toHaveLength(1);
  });

  it("a resent batch is deduplicated, not stored twice", async () => {
    const records = appendMany(2);
    await lock.publishAudit(records);
    await lock.until(() => lock.ackedUpTo === 2, 3_000, "first ack");
    await lock.publishAudit(records);
    await waitFor(() => lock.commandsOfType("audit.ack").length === 2, 3_000, "second ack");
    expect(storedSeqs().filter((seq) => seq <= 2)).toEqual([1, 2]);
    expect(world.hub.securityEvents(lock.deviceId)).toEqual([]);
  });

  it("a record rewritten after it was stored is refused and raises a tamper alarm", async () => {
    const records = appendMany(2);
    await lock.publishAudit(records);
    await lock.until(() => lock.ackedUpTo === 2, 3_000, "ack");
    const original = records[1] as AuditRecord;
    const rewritten = chainAuditRecord(
      {
        deviceId: original.deviceId,
        seq: 2,
        at: original.at,
        kind: "code.accepted",
        actor: null,
        data: {},
      },
      original.prevHash,
    );
    const alarm = nextEvent(
      world.hub,
      "alarm",
      (deviceId, raised) => deviceId === lock.deviceId && raised.alarm === "tamper",
    );
    await lock.publishAudit([rewritten]);
    const [, raised] = await alarm;
    expect(raised.data).toMatchObject({ reason: "E_AUDIT_CONFLICT" });
    expect(world.hub.auditRecords(lock.deviceId, 1, 1)[0]?.kind).toBe("code.rejected");
  });

  it("a broken hash chain is detected: the break is not stored, audited and requested again", async () => {
    const records = appendMany(4);
    const forged = { ...(records[2] as AuditRecord), data: { attempt: 99 } }; // hash no longer matches
    const alarm = nextEvent(
      world.hub,
      "alarm",
      (deviceId, raised) => deviceId === lock.deviceId && raised.alarm === "tamper",
    );
    await lock.publishAudit([
      defined(records[0]),
      defined(records[1]),
      forged,
      defined(records[3]),
    ]);
    const [, raised] = await alarm;
    expect(raised.data).toMatchObject({ reason: "E_CHAIN_HASH", seq: 3 });
    expect(storedSeqs()).toEqual([1, 2]);
    expect(world.hub.securityEvents(lock.deviceId).map((event) => event.kind)).toContain(
      "audit.chainBreak",
    );
    // The fleet asks for 3..4 again; the lock resends its genuine records and the gap closes.
    await waitFor(() => storedSeqs().length >= 4, 3_000, "genuine records");
    expect(lock.commandsOfType("audit.gapRequest")[0]?.body).toEqual({ fromSeq: 3, toSeq: 4 });
    expect(storedSeqs().slice(0, 4)).toEqual([1, 2, 3, 4]);
  });

  it("a record whose link to its predecessor is wrong is refused (E_CHAIN_LINK)", async () => {
    const records = appendMany(2);
    const relinked = chainAuditRecord(
      {
        deviceId: lock.deviceId,
        seq: 2,
        at: defined(records[1]).at,
        kind: "code.rejected",
        actor: null,
        data: {},
      },
      "f".repeat(64),
    );
    const rejected = nextEvent(
      world.hub,
      "rejected",
      (deviceId, reason) => deviceId === lock.deviceId && reason.startsWith("E_CHAIN_LINK"),
    );
    await lock.publishAudit([defined(records[0]), relinked]);
    await rejected;
    expect(storedSeqs()[0]).toBe(1);
    expect(world.hub.auditRecords(lock.deviceId, 1, 1)[0]?.hash).not.toBe(relinked.hash);
  });

  it("a gap raises an auditGap alarm, is requested from the lock and filled", async () => {
    const records = appendMany(6);
    const alarm = nextEvent(
      world.hub,
      "alarm",
      (deviceId, raised) => deviceId === lock.deviceId && raised.alarm === "auditGap",
    );
    // Records 1, 2 and 5, 6 arrive; 3 and 4 were lost on the way.
    await lock.publishAudit(records.slice(0, 2));
    await lock.publishAudit(records.slice(4));
    const [, raised] = await alarm;
    expect(raised.data).toMatchObject({ fromSeq: 3, toSeq: 6 });
    await waitFor(() => storedSeqs().includes(6), 3_000, "gap filled");
    expect(lock.commandsOfType("audit.gapRequest")[0]?.body).toEqual({ fromSeq: 3, toSeq: 6 });
    const seqs = storedSeqs();
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  });

  it("a checkpoint signed by the lock is matched against the stored chain; a forged one is refused", async () => {
    await lock.publishAudit(appendMany(2));
    await lock.until(() => lock.ackedUpTo === 2, 3_000, "ack");
    await waitFor(() => storedSeqs().length === 3, 3_000, "ack record");
    await lock.publishCheckpoint();
    await waitFor(
      () =>
        world.db
          .prepare("SELECT status FROM device_checkpoints WHERE device_id = ?")
          .pluck()
          .all(lock.deviceId)
          .includes("matched"),
      3_000,
      "matched checkpoint",
    );
    const rejected = nextEvent(
      world.hub,
      "rejected",
      (deviceId, reason) => deviceId === lock.deviceId && reason.startsWith("E_BAD_SIGNATURE"),
    );
    await lock.publishCheckpoint(ed25519.generateKeyPair().secretKey);
    await rejected;
  });

  it("records naming another lock are refused as a whole", async () => {
    const other = await enrolLock(world);
    const mine = appendMany(1);
    const foreign = { ...defined(mine[0]), deviceId: other.deviceId };
    const rejected = nextEvent(
      world.hub,
      "rejected",
      (deviceId, reason) => deviceId === lock.deviceId && reason.startsWith("E_WRONG_DEVICE"),
    );
    await lock.publishAudit([foreign]);
    await rejected;
    expect(world.hub.auditRecords(other.deviceId, 0, 10)).toEqual([]);
  });

  it("records a lock's state claims but the fleet lacks are requested, without an alarm", async () => {
    await world.close();
    world = await createWorld({ auditHeadCheckMs: 200 });
    lock = await enrolLock(world);
    const alarms: string[] = [];
    world.hub.on("alarm", (_, raised) => alarms.push(raised.alarm));
    appendMany(3); // written on the lock, never published (lost while the fleet was away)
    await lock.publishState();
    await waitFor(() => storedSeqs().length >= 3, 3_000, "requested records");
    expect(lock.commandsOfType("audit.gapRequest")[0]?.body).toEqual({ fromSeq: 1, toSeq: 3 });
    expect(alarms).not.toContain("auditGap");
  });
});
