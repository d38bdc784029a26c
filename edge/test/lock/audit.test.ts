import {
  GENESIS_HASH,
  MAX_ENVELOPE_BYTES,
  verifyAuditChain,
  verifyCheckpoint,
} from "@lockfleet/protocol";
import { describe, expect, it } from "vitest";
import { generateDeviceIdentity, LockHarness, ManualClock } from "../../src/lock/harness.js";
import { MemoryLockStore } from "../../src/store/memory-store.js";
import { DEVICE, entry, ORG, SECOND, START, setup, USERS } from "./fixtures.js";

describe("audit log", () => {
  it("every event is appended to one hash chain, with the acting person's id", () => {
    const t = setup();
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben));
    t.lock.advance(500);
    t.lock.door(true);
    t.lock.door(false);
    t.lock.advance(5 * SECOND);
    const records = t.records();
    expect(verifyAuditChain(records, { seq: 0, hash: GENESIS_HASH })).toBeUndefined();
    for (const record of records) expect(record).toHaveProperty("actor");
    expect(records.filter((r) => r.kind === "code.accepted").map((r) => r.actor)).toEqual([
      "p-anna",
      "p-ben",
    ]);
    expect(records.find((r) => r.kind === "command.accepted")?.actor).toBe("fleet");
    const kinds = records.map((r) => r.kind);
    for (const kind of [
      "cycle.started",
      "cycle.confirmed",
      "bolt.retracted",
      "door.opened",
      "door.closed",
      "bolt.thrown",
      "lock.relocked",
      "time.changed",
    ]) {
      expect(kinds).toContain(kind);
    }
  });

  it("a device-signed checkpoint over the chain head is made periodically", () => {
    const identity = generateDeviceIdentity(DEVICE, ORG);
    const store = new MemoryLockStore(DEVICE);
    const lock = new LockHarness({
      store,
      identity,
      clock: new ManualClock(START),
      core: { checkpointEvery: 10 },
      factory: {
        timeZone: "Europe/Berlin",
        policy: { dualControl: "single", timeDelayMin: 0 },
        users: [{ ...USERS.anna }],
      },
    });
    for (let i = 0; i < 5; i++) {
      lock.press(entry(USERS.anna));
      lock.advance(15 * SECOND);
    }
    const checkpoint = store.latestCheckpoint();
    expect(checkpoint).toBeDefined();
    if (checkpoint === undefined) return;
    expect(verifyCheckpoint(checkpoint, identity.signing.publicKey)).toBe(true);
    expect(
      verifyCheckpoint(checkpoint, generateDeviceIdentity(DEVICE, ORG).signing.publicKey),
    ).toBe(false);
    const record = store.auditRange(checkpoint.seq, checkpoint.seq)[0];
    expect(record?.hash).toBe(checkpoint.headHash);
    expect(store.auditHead().seq - checkpoint.seq).toBeLessThan(10 + 8);
  });

  it("an acknowledgement from the fleet is recorded; a wrong head hash is refused", () => {
    const t = setup();
    const head = t.store.auditHead();
    const wrong = t.lock.command(
      t.sign("audit.ack", { upToSeq: head.seq, headHash: "0".repeat(64) }),
    );
    expect(wrong).toMatchObject({ status: "error", error: { code: "E_ACK_MISMATCH" } });
    expect(t.store.acknowledgedSeq()).toBe(0);
    const right = t.lock.command(t.sign("audit.ack", { upToSeq: head.seq, headHash: head.hash }));
    expect(right.status).toBe("ok");
    expect(t.store.acknowledgedSeq()).toBe(head.seq);
    // Within the retention capacity nothing is deleted, acknowledged or not.
    expect(t.store.auditBase().seq).toBe(0);
  });

  it("a gap request from the fleet asks the runtime to send those records again", () => {
    const t = setup();
    const asked: Array<[number, number]> = [];
    t.lock.core.on("auditResend", (from, to) => asked.push([from, to]));
    const result = t.lock.command(t.sign("audit.gapRequest", { fromSeq: 2, toSeq: 5 }));
    expect(result.status).toBe("ok");
    expect(asked).toEqual([[2, 5]]);
  });

  it("a command over the size bound is rejected unread, with a result and an audit record", () => {
    const t = setup();
    const result = t.lock.command(" ".repeat(MAX_ENVELOPE_BYTES + 1));
    expect(result).toMatchObject({ status: "error", error: { code: "E_TOO_LARGE" } });
    expect(t.records().at(-1)).toMatchObject({
      kind: "command.rejected",
      data: { code: "E_TOO_LARGE" },
    });
  });

  it("a malformed command is rejected with a reason and recorded", () => {
    const t = setup();
    const result = t.lock.command("{not json");
    expect(result.status).toBe("error");
    expect(t.records().at(-1)?.kind).toBe("command.rejected");
  });
});
