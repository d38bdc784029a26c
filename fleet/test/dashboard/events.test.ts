import type { AddressInfo } from "node:net";
import type { LockState } from "@lockfleet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { liveEventVisibleTo } from "../../src/routes/events.js";
import { insertDevice } from "../alarms/fixtures.js";
import { SimulatedLock } from "../devices/simulated-lock.js";
import { createFixture, type Fixture } from "../fixtures.js";
import { openSse, type SseStream } from "./sse.js";

let f: Fixture;
let base: string;
const LOCK_A = "lock-aaaaaaaaaa01";
const VAULT_A = "lock-aaaaaaaaaa02";
const LOCK_B = "lock-bbbbbbbbbb01";
const streams: SseStream[] = [];

function state(deviceId: string, orgId: string, phase: LockState["cycle"]["phase"]): LockState {
  return {
    deviceId,
    org: orgId,
    at: new Date(f.clock.now()).toISOString(),
    bolt: "thrown",
    door: "closed",
    cycle: {
      phase,
      codesRequired: 2,
      codesGiven: 2,
      ...(phase === "delay"
        ? { delayEndsAt: new Date(f.clock.now() + 600_000).toISOString() }
        : {}),
    },
    timeLocked: false,
    blocked: false,
    activeAlarms: [],
    trustedTime: true,
    auditHead: { seq: 1, hash: "0".repeat(64) },
  };
}

async function stream(headers: Record<string, string>): Promise<SseStream> {
  const opened = await openSse(`${base}/api/v1/events`, headers);
  streams.push(opened);
  await opened.next((e) => e.event === "hello");
  return opened;
}

beforeAll(async () => {
  f = await createFixture();
  insertDevice(f.app.db, { deviceId: LOCK_A, orgId: f.bank.id, containerId: f.container.id });
  insertDevice(f.app.db, {
    deviceId: VAULT_A,
    orgId: f.bank.id,
    containerId: f.uncontractedContainer.id,
  });
  insertDevice(f.app.db, { deviceId: LOCK_B, orgId: f.bankB.id, containerId: f.containerB.id });
  await f.app.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(f.app.server.address() as AddressInfo).port}`;
});
const locks: SimulatedLock[] = [];
afterAll(async () => {
  for (const lock of locks) await lock.disconnect().catch(() => undefined);
  for (const s of streams) s.close();
  await f?.close();
});

describe("GET /api/v1/events (Server-Sent Events)", () => {
  it("streams as text/event-stream and refuses anonymous callers", async () => {
    const admin = await stream(f.asSession("securityAdmin"));
    expect(admin.response.headers["content-type"]).toMatch(/^text\/event-stream/);
    const anonymous = await openSse(`${base}/api/v1/events`, {});
    streams.push(anonymous);
    expect(anonymous.response.statusCode).toBe(401);
  });

  it("sends a lock's new state to its bank and to the CIT company under contract, not to another bank", async () => {
    const admin = await stream(f.asSession("securityAdmin"));
    const dispatcher = await stream(f.as("citDispatcher"));
    const otherBank = await stream(f.as("bankBAdmin"));
    f.app.hub.emit("state", LOCK_A, state(LOCK_A, f.bank.id, "delay"));
    f.app.hub.emit("state", LOCK_B, state(LOCK_B, f.bankB.id, "window"));
    const seen = await admin.next((e) => e.event === "state");
    expect(seen.data).toMatchObject({
      deviceId: LOCK_A,
      containerId: f.container.id,
      state: { cycle: { phase: "delay" } },
    });
    expect((await dispatcher.next((e) => e.event === "state")).data).toMatchObject({
      deviceId: LOCK_A,
    });
    expect((await otherBank.next((e) => e.event === "state")).data).toMatchObject({
      deviceId: LOCK_B,
    });
    expect(
      admin.events
        .filter((e) => e.event === "state")
        .map((e) => (e.data as { deviceId: string }).deviceId),
    ).toEqual([LOCK_A]);
    expect(
      otherBank.events.some((e) => (e.data as { deviceId?: string }).deviceId === LOCK_A),
    ).toBe(false);
  });

  it("the CIT company hears nothing of locks outside its contract", async () => {
    const dispatcher = await stream(f.as("citDispatcher"));
    const admin = await stream(f.as("securityAdmin"));
    f.app.hub.emit("availability", VAULT_A, "offline");
    await admin.next((e) => e.event === "availability");
    f.app.hub.emit("availability", LOCK_A, "offline");
    await dispatcher.next((e) => e.event === "availability");
    expect(
      dispatcher.events
        .filter((e) => e.event === "availability")
        .map((e) => (e.data as { deviceId: string }).deviceId),
    ).toEqual([LOCK_A]);
  });

  it("a duress alarm reaches the bank live and never the CIT company", async () => {
    const admin = await stream(f.asSession("securityAdmin"));
    const dispatcher = await stream(f.as("citDispatcher"));
    const at = new Date(f.clock.now()).toISOString();
    f.app.alarms.raise({ deviceId: LOCK_A, kind: "forcedUser", source: "device", at, auditSeq: 9 });
    f.app.alarms.raise({ deviceId: LOCK_A, kind: "doorAjar", source: "device", at, auditSeq: 10 });
    await admin.next(
      (e) =>
        e.event === "alarm" && (e.data as { alarm: { kind: string } }).alarm.kind === "forcedUser",
    );
    await dispatcher.next(
      (e) =>
        e.event === "alarm" && (e.data as { alarm: { kind: string } }).alarm.kind === "doorAjar",
    );
    expect(dispatcher.events.some((e) => JSON.stringify(e.data).includes("forcedUser"))).toBe(
      false,
    );
  });

  it("a state a lock publishes over MQTT reaches the bank's stream with its container", async () => {
    const admin = await stream(f.asSession("securityAdmin"));
    const lock = new SimulatedLock();
    locks.push(lock);
    const { token } = f.app.hub.createEnrolmentToken({
      orgId: f.bank.id,
      containerId: f.uncontractedContainer.id,
      ttlMs: 60_000,
      createdBy: f.accounts.securityAdmin.person.id,
    });
    lock.accept(await f.app.hub.enrol(lock.enrolmentRequest(token)));
    await lock.connect();
    const delayEndsAt = new Date(Date.now() + 300_000).toISOString();
    await lock.publishState({
      cycle: { phase: "delay", codesRequired: 2, codesGiven: 2, delayEndsAt },
    });
    const event = await admin.next((e) => {
      const data = e.data as { deviceId: string; state: LockState };
      return (
        e.event === "state" && data.deviceId === lock.deviceId && data.state.cycle.phase === "delay"
      );
    }, 5000);
    expect(event.data).toMatchObject({
      containerId: f.uncontractedContainer.id,
      state: { cycle: { phase: "delay", delayEndsAt } },
    });
  });
  it("what becomes of a central release at the lock reaches its bank live: the answer, then the end of its validity; never another bank", async () => {
    const admin = await stream(f.asSession("securityAdmin"));
    // the lock enrolled over MQTT above; the test answers for it, the fleet keeps the command
    const lock = locks[0] as SimulatedLock;
    lock.answer = false;
    const otherBank = await stream(f.as("bankBAdmin"));
    const { commandId } = await f.app.hub.issueCommand(
      lock.deviceId,
      "remote.centralRelease",
      {
        approvedBy: [f.accounts.securityAdmin.person.id, f.accounts.secondOfficer.person.id],
        reason: "test",
      },
      { ttlMs: 300, waitMs: 0 },
    );
    f.app.hub.emit("result", lock.deviceId, {
      id: commandId,
      deviceId: lock.deviceId,
      at: new Date(f.clock.now()).toISOString(),
      status: "ok",
      data: {},
    });
    const answered = await admin.next((e) => e.event === "centralRelease");
    expect(answered.data).toEqual({
      deviceId: lock.deviceId,
      containerId: f.uncontractedContainer.id,
      commandId,
      status: "confirmed",
    });
    const expired = await admin.next(
      (e) => e.event === "centralRelease" && (e.data as { status: string }).status === "expired",
    );
    expect((expired.data as { commandId: string }).commandId).toBe(commandId);
    expect(otherBank.events.filter((e) => e.event === "centralRelease")).toEqual([]);
    // a CIT company under contract for the container still never hears of the bank's releases
    const event = {
      type: "centralRelease",
      orgId: f.bank.id,
      containerId: f.container.id,
      data: {
        deviceId: lock.deviceId,
        containerId: f.container.id,
        commandId,
        status: "confirmed",
      },
    } as const;
    expect(
      liveEventVisibleTo(event, { kind: "cit", orgId: f.cit.id, containerIds: [f.container.id] }),
    ).toBe(false);
    expect(liveEventVisibleTo(event, { kind: "bank", orgId: f.bank.id })).toBe(true);
  });
});
