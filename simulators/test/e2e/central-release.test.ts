/**
 * Central release end to end (SPEC §3 "Remote functions"): on a dual-control container one
 * bank employee's code alone opens nothing — not while a central release is only asked for —
 * but once a second, independent officer approved it at the fleet, the signed
 * remote.centralRelease counts as the second authorisation for exactly one cycle, still
 * through the lock's own time delay and confirmation window. Real fleet, real lock runtime
 * on the virtual board, MQTT over TCP.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  confirmedOnLock,
  giveRight,
  type KeypadPerson,
  lockRecords,
  setOwnCode,
} from "./harness/keypad.js";
import { E2eWorld, entry, until, type VirtualLock } from "./harness/world.js";

interface ReleaseView {
  id: string;
  status: string;
  commandId: string | null;
  deviceId: string;
}

let world: E2eWorld;
let lock: VirtualLock;
let erika: KeypadPerson;

const phase = () => lock.runtime.state().cycle.phase;
const top = () => lock.board.lcdLines()[0];

/** Erika alone types her code; the lock waits for a second code, which never comes. */
async function aloneIsNotEnough(): Promise<void> {
  const started = lockRecords(lock, "cycle.started").length;
  await lock.board.typeKeys(entry(erika.slot, erika.ownCode));
  await until("Erika's code counted", () => lockRecords(lock, "cycle.started").length > started);
  expect(top()).toBe("CODE 2 OF 2");
  expect(phase()).toBe("collecting");
  // no second code comes; Erika cancels at the keypad, the bolt stays thrown
  await lock.board.typeKeys("*");
  await until("the cycle cancelled", () => phase() === "idle", 5_000);
  expect(lock.runtime.state().bolt).toBe("thrown");
}

beforeAll(async () => {
  world = await E2eWorld.start();
  const { bank, container } = world.fleet;
  lock = await world.enrolLock(container.id);
  const person = await world.enabledPerson("securityAdmin", "Erika Muster", bank.id, "L01X00T47");
  erika = await giveRight(world, lock, container.id, {
    name: "Erika",
    person,
    role: "user",
    ownCode: "24681354",
  });
  await confirmedOnLock(world, lock, erika);
  await setOwnCode(lock, erika);
}, 90_000);

afterAll(async () => {
  await world?.close();
});

describe("central release on a dual-control container", { timeout: 60_000 }, () => {
  it("one code opens nothing, also while a release is only asked for; after the second officer's approval one code + the release opens once", async () => {
    await aloneIsNotEnough();
    const asked = await world.ok<ReleaseView>("securityAdmin", "POST", "central-releases", {
      containerId: world.fleet.container.id,
      reason: "second key holder ill",
      validMinutes: 10,
    });
    expect(asked.status).toBe("pending");
    await aloneIsNotEnough();
    expect(lockRecords(lock, "remote.centralRelease")).toEqual([]);

    const approved = await world.ok<ReleaseView>(
      "secondOfficer",
      "POST",
      `central-releases/${asked.id}/approve`,
    );
    expect(approved.status).toBe("confirmed");
    const [received] = lockRecords(lock, "remote.centralRelease");
    expect(received?.data.approvedBy).toEqual([
      world.fleet.accounts.securityAdmin.person.id,
      world.fleet.accounts.secondOfficer.person.id,
    ]);

    // one code, then the lock's own time delay and confirmation window, as always
    await lock.board.typeKeys(entry(erika.slot, erika.ownCode));
    await until("the time delay", () => phase() === "delay");
    expect(top()).toBe("TIME DELAY");
    lock.clock.skip(99 * 60_000);
    await until("the confirmation window", () => phase() === "window", 5_000);
    await lock.board.typeKeys(entry(erika.slot, erika.ownCode));
    await until("the bolt retracted", () => lock.runtime.state().bolt === "retracted");
    const confirmed = lockRecords(lock, "cycle.confirmed").at(-1);
    expect(confirmed?.data.persons).toEqual([erika.person.id, `fleet:${approved.commandId}`]);
    lock.board.setDoor(true);
    await until("door open", () => phase() === "open");
    lock.board.setDoor(false);
    await until("relocked", () => lockRecords(lock, "lock.relocked").length === 1, 10_000);

    // used up by that cycle: the same code alone opens nothing again
    await aloneIsNotEnough();
    expect(lockRecords(lock, "lock.relocked")).toHaveLength(1);
  });
});
