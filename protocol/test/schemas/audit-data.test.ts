import { describe, expect, it } from "vitest";
import { AUDIT_DATA, AUDIT_EVENT_KINDS, auditDataOf } from "../../src/index.js";

const relocked = {
  seq: 12,
  kind: "lock.relocked",
  data: { openingNumber: 7, closeSeal: "4f1c09a2" },
};

describe("typed audit data", () => {
  it("every audit record kind has a data schema", () => {
    expect(Object.keys(AUDIT_DATA).sort()).toEqual([...AUDIT_EVENT_KINDS].sort());
  });

  it("a record of the kind asked for reads as its typed data", () => {
    const read = auditDataOf(relocked, "lock.relocked");
    expect(read).toEqual({ ok: true, value: { openingNumber: 7, closeSeal: "4f1c09a2" } });
  });

  it("a record of another kind is E_AUDIT_KIND", () => {
    const read = auditDataOf(relocked, "cycle.confirmed");
    expect(read.ok ? undefined : read.error.code).toBe("E_AUDIT_KIND");
  });

  it("data of another shape is E_AUDIT_DATA: a field missing or of another type", () => {
    for (const data of [{ openingNumber: 7 }, { openingNumber: "7", closeSeal: "4f1c09a2" }]) {
      const read = auditDataOf({ ...relocked, data }, "lock.relocked");
      expect(read.ok ? undefined : read.error.code).toBe("E_AUDIT_DATA");
    }
  });

  it("a field the schema does not name still reads: records of a newer firmware stay readable", () => {
    const read = auditDataOf(
      { ...relocked, data: { ...relocked.data, newerField: true } },
      "lock.relocked",
    );
    expect(read.ok).toBe(true);
  });
});
