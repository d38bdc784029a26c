/**
 * The offline path end to end (SPEC §3 "One-time codes", §5 "Access windows"): the lock's
 * link is cut; the window the CIT dispatcher asks for cannot be pushed as a grant, so the
 * dispatcher is shown one-time codes, once. The crew open with their own code plus the
 * one-time code, under dual control and the time delay; the close seal read off the display
 * closes the window over HTTP. Back online, the lock's audit catches up gap-free.
 *
 * The codes and the close seal are derived by the fleet and by the lock independently, from
 * the secret shared at enrolment: this is where the two implementations must agree.
 */
import { type AuditRecord, verifyAuditChain } from "@lockfleet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  confirmedOnLock,
  giveRight,
  type KeypadPerson,
  lockRecords,
  setOwnCode,
} from "./harness/keypad.js";
import { E2eWorld, entry, until, type VirtualLock, type WindowView } from "./harness/world.js";

interface CodesView {
  windowId: string;
  notBefore: string;
  notAfter: string;
  codes: Array<{ deviceId: string; personId: string; code: string }>;
}
interface ErrorBody {
  code: string;
  message: string;
}

let world: E2eWorld;
let lock: VirtualLock;
let crew: [KeypadPerson, KeypadPerson];
let window: WindowView;
let codes: CodesView;
let closeSeal: string;

const phase = () => lock.runtime.state().cycle.phase;

beforeAll(async () => {
  world = await E2eWorld.start();
  const { cit, container } = world.fleet;
  lock = await world.enrolLock(container.id);
  const jan = await world.enabledPerson("securityAdmin", "Jan Kurier", cit.id, "C02Y11U58");
  const lena = await world.enabledPerson("securityAdmin", "Lena Fahrer", cit.id, "D03Z22V69");
  crew = [
    await giveRight(world, lock, container.id, {
      name: "Jan",
      person: jan,
      role: "courier",
      ownCode: "13572468",
    }),
    await giveRight(world, lock, container.id, {
      name: "Lena",
      person: lena,
      role: "courier",
      ownCode: "97531864",
    }),
  ];
  for (const member of crew) {
    await confirmedOnLock(world, lock, member);
    await setOwnCode(lock, member);
  }
}, 90_000);

afterAll(async () => {
  await world?.close();
});

describe("an access window for a lock the network does not reach", { timeout: 60_000 }, () => {
  it("with the lock offline, the approved window's grant is not sent and the dispatcher is shown one-time codes once", async () => {
    lock.tap.cut();
    await until(
      "the lock offline at the fleet",
      () => world.fleet.app.hub.device(lock.deviceId)?.availability === "offline",
    );
    window = await world.ok<WindowView>("citDispatcher", "POST", "windows", {
      containerId: world.fleet.container.id,
      crew: crew.map((member) => member.person.id),
      notBefore: "2026-11-23T09:00:00Z",
      notAfter: "2026-11-23T11:00:00Z",
      purpose: "Cash delivery, no network at the branch",
    });
    expect(window.autoApproved).toBe(true);
    expect(window.locks).toEqual([
      expect.objectContaining({ deviceId: lock.deviceId, grantStatus: "notSent" }),
    ]);

    // Only the CIT company's dispatcher sees the codes.
    const byCrew = await world.call<ErrorBody>("citCrew", "GET", `windows/${window.id}/codes`);
    expect(byCrew.status).toBe(403);
    codes = await world.ok<CodesView>("citDispatcher", "GET", `windows/${window.id}/codes`);
    expect(codes.codes.map((code) => code.personId).sort()).toEqual(
      crew.map((member) => member.person.id).sort(),
    );
    for (const code of codes.codes) expect(code.code).toMatch(/^\d{8}$/);
    const again = await world.call<ErrorBody>("citDispatcher", "GET", `windows/${window.id}/codes`);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("E_CODES_ALREADY_SHOWN");
  });

  it("a courier's own code alone asks for the one-time code; a wrong one is refused", async () => {
    const [jan] = crew;
    await lock.board.typeKeys(entry(jan.slot, jan.ownCode));
    await until("the one-time-code prompt", () => lock.board.lcdLines()[0] === "ONE-TIME CODE");
    const real = codes.codes.find((code) => code.personId === jan.person.id)?.code ?? "";
    const wrong = real.endsWith("0") ? `${real.slice(0, 7)}1` : `${real.slice(0, 7)}0`;
    await lock.board.typeKeys(`${wrong}#`);
    const refused = await until(
      "the wrong one-time code refused",
      () => lockRecords(lock, "otp.rejected", jan.person.id)[0],
    );
    expect(refused.data.reason).toBe("noMatch");
    expect(phase()).toBe("idle");
  });

  it("the crew open with their codes and one-time codes under dual control and the time delay; the bolt retracts and relocks with a close seal", async () => {
    const [jan, lena] = crew;
    const oneTime = (member: KeypadPerson) =>
      codes.codes.find((code) => code.personId === member.person.id)?.code ?? "";
    for (const member of [jan, lena]) {
      await lock.board.typeKeys(entry(member.slot, member.ownCode));
      await until(
        `${member.name} asked for the one-time code`,
        () => lock.board.lcdLines()[0] === "ONE-TIME CODE",
      );
      await lock.board.typeKeys(`${oneTime(member)}#`);
      await until(
        `${member.name}'s one-time code accepted`,
        () => lockRecords(lock, "otp.accepted", member.person.id)[0],
      );
    }
    await until("the time delay", () => phase() === "delay");
    lock.clock.skip(5 * 60_000);
    await until("the confirmation window", () => phase() === "window", 5_000);
    // In the window their own codes confirm; the one-time codes are not asked for again.
    await lock.board.typeKeys(entry(lena.slot, lena.ownCode));
    await lock.board.typeKeys(entry(jan.slot, jan.ownCode));
    await until("the bolt retracted", () => lock.runtime.state().bolt === "retracted");
    lock.board.setDoor(true);
    await until("door open", () => phase() === "open");
    lock.board.setDoor(false);
    const relocked = await until("relocked", () => lockRecords(lock, "lock.relocked")[0], 10_000);
    closeSeal = String(relocked.data.closeSeal);
    expect(lock.board.lcdLines()).toEqual(["LOCKED", `SEAL ${closeSeal}`]);
    // Each one-time code works once.
    await lock.board.typeKeys(entry(jan.slot, jan.ownCode));
    await until("the prompt again", () => lock.board.lcdLines()[0] === "ONE-TIME CODE");
    const before = lockRecords(lock, "otp.rejected", jan.person.id).length;
    await lock.board.typeKeys(`${oneTime(jan)}#`);
    await until(
      "the used one-time code refused",
      () => lockRecords(lock, "otp.rejected", jan.person.id)[before],
    );
    expect(lockRecords(lock, "otp.accepted")).toHaveLength(2);
  });

  it("a wrong close seal is refused and recorded; the seal read off the display closes the window", async () => {
    const wrongSeal = closeSeal.endsWith("0")
      ? `${closeSeal.slice(0, -1)}1`
      : `${closeSeal.slice(0, -1)}0`;
    const refused = await world.call<ErrorBody>(
      "citDispatcher",
      "POST",
      `windows/${window.id}/close`,
      {
        seal: wrongSeal,
      },
    );
    expect(refused.status).toBeGreaterThanOrEqual(400);
    const refusals = (await world.adminLog("securityAdmin", "window.closeSeal.refused")).filter(
      (entry) => entry.target === window.id,
    );
    expect(refusals).toHaveLength(1);

    const closed = await world.ok<WindowView>(
      "citDispatcher",
      "POST",
      `windows/${window.id}/close`,
      {
        seal: closeSeal,
      },
    );
    expect(closed.status).toBe("closed");
    expect(closed.closedByDevice).toBe(lock.deviceId);
  });

  it("back online, the lock's audit of the offline opening reaches the fleet gap-free", async () => {
    lock.tap.restore();
    await lock.runtime.waitOnline(10_000);
    const head = lock.runtime.store.auditHead();
    const atFleet = await until(
      "the offline records at the fleet",
      () => {
        const records = world.fleet.app.hub.auditRecords(lock.deviceId, 0, 100_000);
        return records.length >= head.seq ? records : undefined;
      },
      15_000,
    );
    expect(verifyAuditChain(atFleet)).toBeUndefined();
    const kinds = new Set<string>(atFleet.map((record: AuditRecord) => record.kind));
    for (const kind of ["otp.accepted", "otp.rejected", "cycle.confirmed", "lock.relocked"]) {
      expect(kinds.has(kind), kind).toBe(true);
    }
    // The window stays closed: the seal in the audit matches the one already used.
    const still = await world.ok<WindowView>("securityAdmin", "GET", `windows/${window.id}`);
    expect(still.status).toBe("closed");
  });
});
