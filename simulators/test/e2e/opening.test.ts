/**
 * End to end over real sockets (issue 5): a security admin enrols a virtual lock, identifies
 * and enables a bank employee and two CIT crew members and gives them rights on the container;
 * a CIT dispatcher asks for an access window, the fleet approves it inside the contract's
 * standing window and pushes a signed grant; the crew set their own codes at the keypad, open
 * under dual control after the time delay, open and close the door; the lock relocks and shows
 * a close seal; the fleet verifies the audit chain, closes the window and reports the opening.
 *
 * Each step is one test and builds on the one before (vitest runs them in order).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { relayRetractLevel } from "@lockfleet/hardware-profiles";
import { type AuditRecord, verifyAuditChain } from "@lockfleet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  confirmedOnLock,
  giveRight as giveRightOn,
  type KeypadPerson,
  lockRecords,
  type RightView,
  setOwnCode as setOwnCodeAt,
} from "./harness/keypad.js";
import {
  E2eWorld,
  entry,
  type PersonView,
  until,
  type VirtualLock,
  type WindowView,
  wait,
} from "./harness/world.js";

interface Table {
  columns: Array<{ key: string; label: string }>;
  rows: Array<Record<string, string | number | boolean | null>>;
}
interface ReportView {
  kind: string;
  table: Table;
  summaries: Table[];
  notes: string[];
}

const FIVE_MINUTES = 5 * 60_000;

let world: E2eWorld;
let lock: VirtualLock;
let employee: KeypadPerson;
let crew: [KeypadPerson, KeypadPerson];
let windowId: string;
let closeSeal: string;

function records(kind: string, actor?: string): AuditRecord[] {
  return lockRecords(lock, kind, actor);
}

/** Every file below `dir` (SQLite databases with their WAL, keys, configuration). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((item) =>
    item.isDirectory() ? filesUnder(join(dir, item.name)) : [join(dir, item.name)],
  );
}

function phase(): string {
  return lock.runtime.state().cycle.phase;
}

function enabledPerson(name: string, orgId: string, document: string): Promise<PersonView> {
  return world.enabledPerson("securityAdmin", name, orgId, document);
}

function giveRight(
  name: string,
  person: PersonView,
  role: "user" | "courier",
  ownCode: string,
): Promise<KeypadPerson> {
  return giveRightOn(world, lock, world.fleet.container.id, { name, person, role, ownCode });
}

function setOwnCode(who: KeypadPerson): Promise<void> {
  return setOwnCodeAt(lock, who);
}

beforeAll(async () => {
  world = await E2eWorld.start();
}, 60_000);

afterAll(async () => {
  await world?.close();
});

describe("a CIT opening end to end, through the real fleet and a virtual lock", {
  timeout: 60_000,
}, () => {
  it("a lock enrolled with the security admin's one-time token comes online over MQTT with its own credentials", async () => {
    lock = await world.enrolLock(world.fleet.container.id);
    const device = await world.ok<{ deviceId: string; containerId: string; availability: string }>(
      "securityAdmin",
      "GET",
      `devices/${lock.deviceId}`,
    );
    expect(device.containerId).toBe(world.fleet.container.id);
    expect(device.availability).toBe("online");
    // The state the lock publishes is what the fleet shows.
    const state = await until("the lock's state at the fleet", () =>
      world.fleet.app.hub.lockState(lock.deviceId),
    );
    expect(state.bolt).toBe("thrown");
    const listed = world.fleet.app.hub.devices(world.fleet.bank.id);
    expect(listed.map((summary) => summary.deviceId)).toEqual([lock.deviceId]);
  });

  it("people identified and enabled by the security admin reach the lock as signed user.add commands, confirmed per lock", async () => {
    const { bank, cit } = world.fleet;
    const erika = await enabledPerson("Erika Muster (bank)", bank.id, "L01X00T47");
    const jan = await enabledPerson("Jan Kurier (CIT)", cit.id, "C02Y11U58");
    const lena = await enabledPerson("Lena Fahrer (CIT)", cit.id, "D03Z22V69");
    for (const person of [erika, jan, lena]) {
      expect(person.status).toBe("enabled");
      expect(person.identifiedBy).toBe(world.fleet.accounts.securityAdmin.person.id);
    }
    employee = await giveRight("Erika", erika, "user", "24681357");
    crew = [
      await giveRight("Jan", jan, "courier", "13572468"),
      await giveRight("Lena", lena, "courier", "97531864"),
    ];
    // Confirmation per lock, as the security admin sees it.
    for (const who of [employee, ...crew]) {
      const confirmed = await confirmedOnLock(world, lock, who);
      expect(confirmed.slot).toBe(who.slot);
      // The lock holds the person in that slot, added by a signed command it accepted.
      const added = records("user.added").find((record) => record.data.personId === who.person.id);
      expect(added?.data.slot).toBe(who.slot);
    }
    const accepted = records("command.accepted", "fleet").filter(
      (record) => record.data.type === "user.add",
    );
    expect(accepted).toHaveLength(3);
  });

  it("a window the CIT dispatcher asks for inside the standing route window is approved at once and its signed grant installed on the lock", async () => {
    const requested = await world.ok<WindowView>("citDispatcher", "POST", "windows", {
      containerId: world.fleet.container.id,
      crew: crew.map((member) => member.person.id),
      notBefore: world.iso(-60_000),
      notAfter: world.iso(2 * 3_600_000),
      purpose: "Cash delivery, route North",
    });
    expect(requested.autoApproved).toBe(true);
    windowId = requested.id;
    const active = await until("the window active", async () => {
      const window = await world.ok<WindowView>("citDispatcher", "GET", `windows/${windowId}`);
      return window.status === "active" ? window : undefined;
    });
    expect(active.locks).toEqual([
      expect.objectContaining({ deviceId: lock.deviceId, grantStatus: "installed" }),
    ]);
    const grant = records("command.accepted", "fleet").find(
      (record) => record.data.type === "grant",
    );
    expect(grant).toBeDefined();
  });

  it("each crew member sets their own code at the keypad from the initial one-time code on first use", async () => {
    // The initial code alone opens nothing: it only leads to the code change.
    for (const member of crew) await setOwnCode(member);
    await setOwnCode(employee);
    expect(phase()).toBe("idle");
    expect(records("cycle.started")).toEqual([]);
    for (const who of [employee, ...crew]) {
      expect(records("code.changed", who.person.id)[0]?.data.wasInitialCode).toBe(true);
    }
  });

  it("neither the fleet nor the lock keeps an initial or a chosen code in clear", async () => {
    const files = [...filesUnder(world.fleet.dataDir), ...filesUnder(lock.dataDir)];
    expect(files.length).toBeGreaterThan(2);
    const stored = files.map((file) => readFileSync(file).toString("latin1")).join("\n");
    expect(stored.length).toBeGreaterThan(10_000);
    for (const who of [employee, ...crew]) {
      expect(stored.includes(who.initialCode), `${who.name}'s initial code`).toBe(false);
      expect(stored.includes(who.ownCode), `${who.name}'s own code`).toBe(false);
    }
  });

  it("two crew members open under dual control: codes, the time delay, confirmation in the window, bolt relay retracts", async () => {
    const [jan, lena] = crew;
    const actuator = lock.runtime.profile.parts.boltActuator;
    if (actuator?.kind !== "relay") throw new Error("the virtual profile drives its bolt by relay");
    const retract = relayRetractLevel(actuator);
    expect(lock.board.pin(actuator.pin)).not.toBe(retract);

    await lock.board.typeKeys(entry(jan.slot, jan.ownCode));
    await until("Jan's code counted", () => lock.board.lcdLines()[0] === "CODE 2 OF 2");
    await lock.board.typeKeys(entry(lena.slot, lena.ownCode));
    await until("the time delay running", () => phase() === "delay");
    expect(lock.board.lcdLines()[0]).toBe("TIME DELAY");
    expect(lock.board.lcdLines()[1]).toMatch(/^0[45]:[0-5]\d$/);
    // The fleet shows the delay running (the dashboard's countdown).
    await until("the delay at the fleet", () =>
      world.fleet.app.hub.lockState(lock.deviceId)?.cycle.phase === "delay" ? true : undefined,
    );
    // Real time alone does not end it: only the lock's own clock does.
    await wait(1200);
    expect(phase()).toBe("delay");
    // The bolt stays thrown for the whole delay.
    expect(lock.board.pin(actuator.pin)).not.toBe(retract);
    expect(lock.runtime.state().bolt).toBe("thrown");

    lock.clock.skip(FIVE_MINUTES);
    await until("the confirmation window", () => phase() === "window", 5_000);
    expect(lock.board.lcdLines()[0]).toBe("CONFIRM 1 OF 2");

    await lock.board.typeKeys(entry(lena.slot, lena.ownCode));
    await lock.board.typeKeys(entry(jan.slot, jan.ownCode));
    await until("the bolt retracted", () => lock.runtime.state().bolt === "retracted");
    expect(lock.board.pin(actuator.pin)).toBe(retract);
    expect(lock.board.boltPosition()).toBe("retracted");
    expect(lock.board.lcdLines()[0]).toBe("OPEN DOOR");
    const confirmed = records("cycle.confirmed")[0];
    expect(confirmed?.data.persons).toEqual([jan.person.id, lena.person.id]);
    const viaGrant = records("code.accepted").filter(
      (record) => record.data.via === "grant" && record.data.round === 1,
    );
    expect(viaGrant.map((record) => record.actor)).toEqual([jan.person.id, lena.person.id]);
  });

  it("the door opens and closes, the lock relocks and shows a close seal", async () => {
    lock.board.setDoor(true);
    await until("door open", () => phase() === "open");
    expect(lock.board.lcdLines()[0]).toBe("DOOR OPEN");
    lock.board.setDoor(false);
    const relocked = await until("relocked", () => records("lock.relocked")[0], 10_000);
    closeSeal = String(relocked.data.closeSeal);
    expect(closeSeal).toMatch(/^\d+$/);
    await until("bolt thrown", () => lock.runtime.state().bolt === "thrown");
    expect(lock.board.boltPosition()).toBe("thrown");
    const actuator = lock.runtime.profile.parts.boltActuator;
    if (actuator?.kind !== "relay") throw new Error("relay expected");
    expect(lock.board.pin(actuator.pin)).not.toBe(relayRetractLevel(actuator));
    expect(lock.board.lcdLines()).toEqual(["LOCKED", `SEAL ${closeSeal}`]);
  });

  it("the audit reaches the fleet with its chain intact, and the close seal closes the window", async () => {
    const head = lock.runtime.store.auditHead();
    await until(
      "the whole audit at the fleet",
      () => world.fleet.app.hub.auditRecords(lock.deviceId, 0, 1_000_000).length >= head.seq,
      15_000,
    );
    const page = { items: [] as AuditRecord[] };
    for (let afterSeq: number | null = 0; afterSeq !== null; ) {
      const next: { items: AuditRecord[]; nextAfterSeq: number | null } = await world.ok(
        "auditor",
        "GET",
        `devices/${lock.deviceId}/audit?limit=500&afterSeq=${afterSeq}`,
      );
      page.items.push(...next.items);
      afterSeq = next.nextAfterSeq;
    }
    expect(page.items.length).toBeGreaterThanOrEqual(head.seq);
    expect(verifyAuditChain(page.items)).toBeUndefined();
    // What the fleet holds is what the lock wrote, record for record.
    const atLock = lock.audit().slice(0, page.items.length);
    expect(page.items.slice(0, atLock.length).map((record) => record.hash)).toEqual(
      atLock.map((record) => record.hash),
    );
    expect(page.items.some((record) => record.kind === "lock.relocked")).toBe(true);

    const closed = await until("the window closed", async () => {
      const window = await world.ok<WindowView>("securityAdmin", "GET", `windows/${windowId}`);
      return window.status === "closed" ? window : undefined;
    });
    expect(closed.closedByDevice).toBe(lock.deviceId);
    expect(closed.openings).toBe(1);
    // The lock acknowledged up to where the fleet verified.
    await until(
      "the fleet's acknowledgement at the lock",
      () => lock.runtime.store.acknowledgedSeq() >= (records("lock.relocked")[0]?.seq ?? Infinity),
    );
    const alarms = await world.ok<{ items: Array<{ kind?: string; alarm?: string }> }>(
      "securityAdmin",
      "GET",
      "alarms",
    );
    expect(JSON.stringify(alarms.items)).not.toContain("auditGap");
  });

  it("the openings report shows the opening per container and person, as JSON and as CSV", async () => {
    const [jan, lena] = crew;
    const containerName = world.fleet.container.name;
    const json = await until("the opening in the report", async () => {
      const report = await world.ok<ReportView>(
        "securityAdmin",
        "GET",
        "reports/openings?format=json",
      );
      return report.table.rows.some((row) => row.lock === lock.deviceId) ? report : undefined;
    });
    const rows = json.table.rows.filter((row) => row.lock === lock.deviceId);
    // One row per person taking part in the one opening, none for the employee who did not.
    expect(rows.map((row) => row.personId).sort()).toEqual([jan.person.id, lena.person.id].sort());
    for (const row of rows) {
      expect(String(row.container)).toContain(containerName);
      expect(row.openingNumber).toBe(1);
    }
    const perContainer = json.summaries.find((table) =>
      /container/i.test(JSON.stringify(table.columns)),
    );
    expect(JSON.stringify(perContainer?.rows)).toContain(containerName);

    // Inside the approved window: nothing in the report of openings outside windows.
    const outside = await world.ok<ReportView>(
      "auditor",
      "GET",
      "reports/openings-outside-windows?format=json",
    );
    expect(outside.table.rows.filter((row) => row.lock === lock.deviceId)).toEqual([]);

    const csv = await world.call("auditor", "GET", "reports/openings?format=csv");
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const lines = csv.text.trim().split(/\r?\n/);
    const mine = lines.filter((line) => line.includes(lock.deviceId));
    expect(mine).toHaveLength(2);
    expect(mine.some((line) => line.includes(jan.person.id) && line.includes(containerName))).toBe(
      true,
    );
    expect(mine.some((line) => line.includes(lena.person.id) && line.includes(containerName))).toBe(
      true,
    );
  });
  it("deleting a person pushes user.delete to the lock, confirmed per lock, and their code stops working there", async () => {
    const deleted = await world.ok<PersonView>(
      "securityAdmin",
      "DELETE",
      `people/${employee.person.id}`,
    );
    expect(deleted.status).toBe("deleted");
    const push = await until("the deletion confirmed by the lock", async () => {
      const { items } = await world.ok<{
        items: Array<RightView>;
      }>("securityAdmin", "GET", `rights?personId=${employee.person.id}&includeRemoved=true`);
      const right = items[0];
      const lockPush = right?.locks.find((candidate) => candidate.deviceId === lock.deviceId);
      return lockPush?.status === "deleted" && lockPush.confirmedAt !== null
        ? { right, lockPush }
        : undefined;
    });
    expect(push.right?.removedReason).toBe("personDeleted");
    expect(records("user.deleted").map((record) => record.data.personId)).toEqual([
      employee.person.id,
    ]);
    // At the keypad her code is now just a wrong code.
    const wrongBefore = records("code.rejected").length;
    await lock.board.typeKeys(entry(employee.slot, employee.ownCode));
    const rejected = await until("her code refused", () => records("code.rejected")[wrongBefore]);
    expect(rejected.data.reason).toBe("wrongCode");
    expect(phase()).toBe("idle");
  });
});
