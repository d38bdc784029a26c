import { GENESIS_HASH, verifyAuditChain } from "@lockfleet/protocol";
import { describe, expect, it } from "vitest";
import { alarmsOf, entry, SECOND, type Setup, setup, USERS } from "./fixtures.js";

const bolt = (t: Setup) => t.lock.core.state().bolt;
const partError = (part: string) => new Error(`E_HARDWARE_PART: ${part} failed: i2c write failed`);

describe("hardware events are on record (SPEC §3: every event is appended, failures reported)", () => {
  it("mains failing on the power-fail input is recorded as power.failed, not as an unclean restart, and raises a powerLoss alarm; mains back is power.restored and clears it", () => {
    const t = setup();
    const before = t.head();
    const alarms: string[] = [];
    t.lock.core.on("alarm", (alarm) => alarms.push(alarm.kind));
    t.lock.core.recordHardwareEvent({ kind: "powerFail", failing: true });
    expect(t.since(before).map((r) => [r.kind, r.data.alarm, r.data.source])).toEqual([
      ["power.failed", undefined, "powerFailInput"],
      ["alarm.raised", "powerLoss", "powerFailInput"],
    ]);
    expect(alarms).toEqual(["powerLoss"]);
    expect(t.lock.core.activeAlarms).toContain("powerLoss");
    const failed = t.head();
    t.lock.core.recordHardwareEvent({ kind: "powerFail", failing: false });
    expect(t.since(failed).map((r) => [r.kind, r.data.alarm, r.data.source])).toEqual([
      ["power.restored", undefined, "powerFailInput"],
      ["alarm.cleared", "powerLoss", "powerFailInput"],
    ]);
    expect(t.lock.core.activeAlarms).not.toContain("powerLoss");
    expect(t.since(before).map((r) => r.kind)).not.toContain("power.lost");
    expect(verifyAuditChain(t.records(), { seq: 0, hash: GENESIS_HASH })).toBeUndefined();
  });

  it("mains back after a restart clears the powerLoss alarm still open at the fleet", () => {
    const t = setup();
    t.lock.core.recordHardwareEvent({ kind: "powerFail", failing: true });
    t.restart(true);
    expect(t.lock.core.activeAlarms).not.toContain("powerLoss");
    const before = t.head();
    t.lock.core.recordHardwareEvent({ kind: "powerFail", failing: false });
    expect(t.since(before).map((r) => [r.kind, r.data.alarm])).toEqual([
      ["power.restored", undefined],
      ["alarm.cleared", "powerLoss"],
    ]);
  });

  it("a display fault is recorded once as a part fault, not as a lock fault: the lock still opens", () => {
    const t = setup();
    const before = t.head();
    t.lock.core.recordHardwareEvent({
      kind: "partFault",
      part: "display",
      error: partError("display"),
    });
    t.lock.core.recordHardwareEvent({
      kind: "partFault",
      part: "display",
      error: partError("display"),
    });
    const faults = t.since(before).filter((r) => r.kind === "hardware.partFault");
    expect(faults).toHaveLength(1);
    expect(faults[0]?.data).toMatchObject({ part: "display", code: "E_HARDWARE_PART" });
    expect(t.since(before).map((r) => r.kind)).not.toContain("lock.fault");
    expect(alarmsOf(t.since(before))).toEqual([]);
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben));
    t.lock.advance(500);
    expect(bolt(t)).toBe("retracted");
  });

  it("a self-test that finds a failed part working again records it restored, once; a later failure is recorded again", () => {
    const t = setup();
    const report = (result: "ok" | "fault") => ({
      deviceId: "safe-1",
      hardwareProfile: "virtual",
      at: new Date(t.lock.core.lockTime()).toISOString(),
      parts: [
        { part: "buzzer", result: "ok" as const },
        { part: "display", result, ...(result === "fault" ? { detail: "no answer" } : {}) },
      ],
    });
    t.lock.core.recordHardwareEvent({
      kind: "partFault",
      part: "display",
      error: partError("display"),
    });
    const faulted = t.head();
    t.lock.core.recordHardwareEvent({ kind: "selfTest", report: report("fault") });
    expect(t.since(faulted).map((r) => r.kind)).not.toContain("hardware.partRestored");
    const stillFaulty = t.head();
    t.lock.core.recordHardwareEvent({ kind: "selfTest", report: report("ok") });
    const restored = t.since(stillFaulty).filter((r) => r.kind === "hardware.partRestored");
    expect(restored.map((r) => r.data)).toEqual([{ part: "display" }]);
    const okAgain = t.head();
    t.lock.core.recordHardwareEvent({ kind: "selfTest", report: report("ok") });
    expect(t.since(okAgain).map((r) => r.kind)).toEqual(["selfTest.completed"]);
    t.lock.core.recordHardwareEvent({
      kind: "partFault",
      part: "display",
      error: partError("display"),
    });
    expect(t.since(okAgain).map((r) => r.kind)).toEqual([
      "selfTest.completed",
      "hardware.partFault",
    ]);
  });

  for (const part of ["boltActuator", "boltSensor", "board"]) {
    it(`a ${part} fault is a lock fault: bolt thrown, FAULT LOCKED, lockJammed alarm, no opening`, () => {
      const t = setup();
      const faults: string[] = [];
      t.lock.core.on("fault", (error) => faults.push(error.message));
      const alarms: string[] = [];
      t.lock.core.on("alarm", (alarm) => alarms.push(`${alarm.kind}:${alarm.priority}`));
      const before = t.head();
      t.lock.core.recordHardwareEvent({ kind: "partFault", part, error: partError(part) });
      expect(alarms).toEqual(["lockJammed:high"]);
      expect(faults).toHaveLength(1);
      expect(faults[0]).toMatch(/^E_HARDWARE_PART: /);
      expect(t.since(before).map((r) => r.kind)).toEqual(["alarm.raised", "lock.fault"]);
      expect(t.outputs.boltDriven).toBe("thrown");
      expect(t.display()).toBe("FAULT | LOCKED");
      t.lock.advance(SECOND);
      t.lock.press(entry(USERS.anna));
      t.lock.press(entry(USERS.ben));
      t.lock.advance(5 * SECOND);
      expect(bolt(t)).toBe("thrown");
      expect(t.kinds()).not.toContain("bolt.retracted");
    });
  }

  it("a silent-alarm fault during a duress opening is alarmed at once, the opening looks normal, and the lock faults after the relock", () => {
    const t = setup({ policy: { duressMode: "lastDigitPlusOne" } });
    const alarms: string[] = [];
    t.lock.core.on("alarm", (alarm) => alarms.push(alarm.kind));
    t.lock.press(entry(USERS.anna, "11223345"));
    t.lock.press(entry(USERS.ben));
    t.lock.core.recordHardwareEvent({
      kind: "partFault",
      part: "silentAlarmRelay",
      error: partError("silentAlarmRelay"),
    });
    expect(alarms).toEqual(["forcedUser", "selfTestFault"]);
    t.lock.advance(500);
    expect(bolt(t)).toBe("retracted");
    expect(t.display()).not.toContain("FAULT");
    t.lock.door(true);
    t.lock.door(false);
    t.lock.advance(10 * SECOND);
    const kinds = t.kinds();
    expect(kinds.indexOf("lock.fault")).toBeGreaterThan(kinds.indexOf("lock.relocked"));
    expect(kinds.indexOf("lock.relocked")).toBeGreaterThan(0);
    expect(t.display()).toBe("FAULT | LOCKED");
    expect(bolt(t)).toBe("thrown");
  });

  it("the actuator's own jam report raises lockJammed and cancels the opening cycle", () => {
    const t = setup();
    t.lock.press(entry(USERS.anna));
    t.lock.press(entry(USERS.ben));
    expect(t.outputs.boltDriven).toBe("retracted");
    const before = t.head();
    t.lock.core.recordHardwareEvent({ kind: "boltJam", expected: "retracted" });
    const records = t.since(before);
    expect(records.find((r) => r.kind === "alarm.raised")?.data).toMatchObject({
      alarm: "lockJammed",
      driving: "retracted",
      detectedBy: "actuator",
    });
    expect(records.find((r) => r.kind === "cycle.cancelled")?.data).toMatchObject({
      reason: "boltJammed",
    });
    expect(t.lock.core.state().bolt).toBe("jammed");
    // The core's own sensor timeout does not raise the same jam a second time.
    const after = t.head();
    t.lock.core.recordHardwareEvent({ kind: "boltJam", expected: "retracted" });
    expect(t.head()).toBe(after);
  });

  it("a self-test report goes into the core's hash chain; a faulty part raises selfTestFault, a clean test clears it", () => {
    const t = setup();
    const report = (result: "ok" | "fault") => ({
      deviceId: "safe-1",
      hardwareProfile: "virtual",
      at: new Date(t.lock.core.lockTime()).toISOString(),
      parts: [
        { part: "boltActuator", result: "ok" as const },
        { part: "display", result, ...(result === "fault" ? { detail: "no answer" } : {}) },
      ],
    });
    t.lock.core.recordHardwareEvent({ kind: "selfTest", report: report("fault") });
    expect(t.kinds().slice(-2)).toEqual(["selfTest.completed", "alarm.raised"]);
    expect(t.lock.core.activeAlarms).toContain("selfTestFault");
    t.lock.core.recordHardwareEvent({ kind: "selfTest", report: report("ok") });
    expect(t.kinds().slice(-2)).toEqual(["selfTest.completed", "alarm.cleared"]);
    expect(t.lock.core.activeAlarms).not.toContain("selfTestFault");
    expect(verifyAuditChain(t.records(), { seq: 0, hash: GENESIS_HASH })).toBeUndefined();
  });
});

describe("audit acknowledgements (SPEC §3: every command received is logged; no ping-pong)", () => {
  it("an acknowledgement creates no record of its own; it goes on record with the next record", () => {
    const t = setup();
    for (let round = 0; round < 10; round += 1) {
      const head = t.store.auditHead();
      const result = t.lock.command(
        t.sign("audit.ack", { upToSeq: head.seq, headHash: head.hash }),
      );
      expect(result.status).toBe("ok");
      expect(t.store.auditHead().seq).toBe(head.seq);
      expect(t.store.acknowledgedSeq()).toBe(head.seq);
    }
    expect(t.lock.command(t.sign("audit.gapRequest", { fromSeq: 1, toSeq: 2 })).status).toBe("ok");
    const before = t.head();
    t.lock.press(entry(USERS.anna, "99999999"));
    const [acknowledged, next] = t.since(before);
    expect(acknowledged).toMatchObject({
      kind: "audit.acknowledged",
      actor: "fleet",
      data: {
        commands: 11,
        acks: 10,
        gapRequests: 1,
        upToSeq: before,
        ranges: [{ fromSeq: 1, toSeq: 2 }],
      },
    });
    expect(next?.kind).toBe("code.rejected");
    expect(verifyAuditChain(t.records(), { seq: 0, hash: GENESIS_HASH })).toBeUndefined();
  });

  it("acknowledgements received before a power cut are on record after the restart", () => {
    const t = setup();
    const head = t.store.auditHead();
    t.lock.command(t.sign("audit.ack", { upToSeq: head.seq, headHash: head.hash }));
    t.restart(false);
    const after = t.since(head.seq).map((r) => r.kind);
    expect(after.slice(0, 2)).toEqual(["audit.acknowledged", "device.started"]);
  });

  it("a refused acknowledgement is recorded at once as a rejected command", () => {
    const t = setup();
    const head = t.store.auditHead();
    const wrong = t.lock.command(
      t.sign("audit.ack", { upToSeq: head.seq, headHash: "0".repeat(64) }),
    );
    expect(wrong.status).toBe("error");
    expect(t.since(head.seq).map((r) => r.kind)).toEqual(["command.rejected"]);
  });
});
