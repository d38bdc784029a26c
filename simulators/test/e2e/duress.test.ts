/**
 * The silent alarm end to end (SPEC §3 "Duress", §5 "Alarms"): a bank employee opening under
 * threat types her code with the last digit one higher. At the lock the opening looks exactly
 * like a normal one; the silent-alarm relay pulses, and the duress alarm reaches the bank's
 * security staff at the fleet at the highest priority — and never the CIT company under
 * contract for that container, which does see the lock's other alarms.
 */
import { duressEntryFor } from "@lockfleet/edge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  confirmedOnLock,
  giveRight,
  type KeypadPerson,
  lockRecords,
  setOwnCode,
} from "./harness/keypad.js";
import { E2eWorld, entry, until, type VirtualLock } from "./harness/world.js";

interface AlarmView {
  deviceId: string;
  kind: string;
  priority: string;
  actor: string | null;
}

let world: E2eWorld;
let lock: VirtualLock;
let erika: KeypadPerson;
let max: KeypadPerson;

const phase = () => lock.runtime.state().cycle.phase;
const top = () => lock.board.lcdLines()[0];

/**
 * One dual-control opening by Erika (typing `firstCode`) and Max; returns what the display shows
 * at each step, as the people in front of the lock see it.
 */
async function openingAsSeen(firstCode: string): Promise<string[]> {
  const seen: string[] = [];
  const openingsBefore = lockRecords(lock, "lock.relocked").length;
  await lock.board.typeKeys(entry(erika.slot, firstCode));
  await until("the first code counted", () => phase() === "collecting");
  seen.push(top());
  await lock.board.typeKeys(entry(max.slot, max.ownCode));
  await until("the delay", () => phase() === "delay");
  seen.push(top(), lock.board.lcdLines()[1].slice(0, 2));
  lock.clock.skip(99 * 60_000);
  await until("the confirmation window", () => phase() === "window", 5_000);
  seen.push(top());
  await lock.board.typeKeys(entry(erika.slot, firstCode));
  await lock.board.typeKeys(entry(max.slot, max.ownCode));
  await until("the bolt retracted", () => lock.runtime.state().bolt === "retracted");
  seen.push(top());
  lock.board.setDoor(true);
  await until("door open", () => phase() === "open");
  seen.push(top());
  lock.board.setDoor(false);
  await until("relocked", () => lockRecords(lock, "lock.relocked").length > openingsBefore, 10_000);
  seen.push(top());
  return seen;
}

beforeAll(async () => {
  world = await E2eWorld.start();
  const { bank, container } = world.fleet;
  lock = await world.enrolLock(container.id);
  const erikaPerson = await world.enabledPerson(
    "securityAdmin",
    "Erika Muster",
    bank.id,
    "L01X00T47",
  );
  const maxPerson = await world.enabledPerson(
    "securityAdmin",
    "Max Beispiel",
    bank.id,
    "M02Y11U58",
  );
  erika = await giveRight(world, lock, container.id, {
    name: "Erika",
    person: erikaPerson,
    role: "user",
    ownCode: "24681354",
  });
  max = await giveRight(world, lock, container.id, {
    name: "Max",
    person: maxPerson,
    role: "user",
    ownCode: "86421357",
  });
  for (const who of [erika, max]) {
    await confirmedOnLock(world, lock, who);
    await setOwnCode(lock, who);
  }
}, 90_000);

afterAll(async () => {
  await world?.close();
});

describe("an opening under duress", { timeout: 60_000 }, () => {
  it("looks exactly like a normal opening at the lock, while the silent-alarm relay pulses", async () => {
    const duressRecords = () =>
      lockRecords(lock, "alarm.raised").filter((record) => record.data.alarm === "forcedUser");
    const normal = await openingAsSeen(erika.ownCode);
    expect(lock.board.silentAlarmPulses()).toBe(0);
    expect(duressRecords()).toEqual([]);
    const underDuress = await openingAsSeen(duressEntryFor(erika.ownCode));
    expect(underDuress).toEqual(normal);
    expect(normal).toContain("TIME DELAY");
    await until("the silent alarm pulsed", () => lock.board.silentAlarmPulses() >= 1);
    expect(duressRecords().length).toBeGreaterThanOrEqual(1);
    expect(duressRecords().every((record) => record.actor === erika.person.id)).toBe(true);
  });

  it("reaches the bank's security staff at the fleet at the highest priority, naming who acted", async () => {
    const alarm = await until("the duress alarm at the fleet", async () => {
      const answer = await world.ok<{ items: AlarmView[] }>("securityAdmin", "GET", "alarms");
      return answer.items.find(
        (item) => item.deviceId === lock.deviceId && item.kind === "forcedUser",
      );
    });
    expect(alarm.priority).toBe("critical");
    expect(alarm.actor).toBe(erika.person.id);
  });

  it("never reaches the CIT company under contract for the container, which sees the lock's other alarms", async () => {
    // Someone opens the housing: a tamper alarm the CIT dispatcher may see.
    lock.board.setTamper(true);
    await until("the tamper alarm at the fleet for the CIT company", async () => {
      const answer = await world.ok<{ items: AlarmView[] }>("citDispatcher", "GET", "alarms");
      return answer.items.find((item) => item.deviceId === lock.deviceId && item.kind === "tamper");
    });
    lock.board.setTamper(false);
    const seenByCit = await world.ok<{ items: AlarmView[] }>("citDispatcher", "GET", "alarms");
    expect(seenByCit.items.filter((item) => item.kind === "forcedUser")).toEqual([]);
    const seenByBank = await world.ok<{ items: AlarmView[] }>("securityAdmin", "GET", "alarms");
    expect(seenByBank.items.filter((item) => item.kind === "forcedUser")).toHaveLength(1);
  });
});
