import { type AuditRecord, chainAuditRecord, GENESIS_HASH } from "@lockfleet/protocol";
import { describe, expect, it } from "vitest";
import { planAuditIngest } from "../../src/devices/audit-ingest.js";

function chain(count: number): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (let seq = 1; seq <= count; seq++) {
    records.push(
      chainAuditRecord(
        {
          deviceId: "lock-1",
          seq,
          at: "2026-11-23T10:00:00.000Z",
          kind: "code.rejected",
          actor: null,
          data: { seq },
        },
        records[seq - 2]?.hash ?? GENESIS_HASH,
      ),
    );
  }
  return records;
}

const genesis = { seq: 0, hash: GENESIS_HASH };
const none = () => undefined;

describe("audit ingest plan", () => {
  it("records arriving out of order in one batch are sorted and stored", () => {
    const records = chain(3);
    const plan = planAuditIngest(
      genesis,
      [records[2], records[0], records[1]] as AuditRecord[],
      none,
    );
    expect(plan.store.map((record) => record.seq)).toEqual([1, 2, 3]);
    expect(plan.missing).toBeUndefined();
  });

  it("a batch that does not start right after the stored head asks for everything from the head", () => {
    const records = chain(6);
    const plan = planAuditIngest({ seq: 2, hash: records[1]?.hash ?? "" }, records.slice(4), none);
    expect(plan.store).toEqual([]);
    expect(plan.missing).toEqual({ fromSeq: 3, toSeq: 6 });
  });

  it("a hole inside a batch stores what links and asks for the rest", () => {
    const records = chain(5);
    const plan = planAuditIngest(
      genesis,
      [records[0], records[1], records[3], records[4]] as AuditRecord[],
      none,
    );
    expect(plan.store.map((record) => record.seq)).toEqual([1, 2]);
    expect(plan.missing).toEqual({ fromSeq: 3, toSeq: 5 });
    expect(plan.chainBreak).toBeUndefined(); // a gap is not tampering
  });

  it("stored records sent again count as duplicates, altered ones as conflicts", () => {
    const records = chain(2);
    const stored = new Map(records.map((record) => [record.seq, record.hash]));
    const altered = { ...(records[1] as AuditRecord), hash: "a".repeat(64) };
    const plan = planAuditIngest(
      { seq: 2, hash: records[1]?.hash ?? "" },
      [records[0] as AuditRecord, altered],
      (seq) => stored.get(seq),
    );
    expect(plan.duplicates).toBe(1);
    expect(plan.conflicts.map((conflict) => conflict.seq)).toEqual([2]);
    expect(plan.store).toEqual([]);
  });

  it("a record whose content no longer matches its hash breaks the chain there", () => {
    const records = chain(3);
    const forged = { ...(records[1] as AuditRecord), kind: "code.accepted" as const };
    const plan = planAuditIngest(genesis, [records[0], forged, records[2]] as AuditRecord[], none);
    expect(plan.store.map((record) => record.seq)).toEqual([1]);
    expect(plan.chainBreak?.code).toBe("E_CHAIN_HASH");
    expect(plan.missing).toEqual({ fromSeq: 2, toSeq: 3 });
  });
});
