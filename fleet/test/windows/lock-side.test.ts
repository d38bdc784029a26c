/**
 * The lock side of access windows, rights and policy changes: a simulated lock (protocol
 * primitives only, no edge) enrolled in the fleet's own DeviceHub, connected over real TCP
 * MQTT to the embedded broker. It verifies every envelope with the fleet keys it was given at
 * enrolment and answers like a lock.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  AccessGrant,
  type AuditRecord,
  chainAuditRecord,
  closeSeal,
  DEFAULT_LOCK_POLICY,
  findOneTimeCode,
  fromBase64url,
  GENESIS_HASH,
  isValid,
  openEnvelope,
  openingSeal,
  openSealedSecret,
  parseInstant,
} from "@lockfleet/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { waitFor } from "../devices/helpers.js";
import { SimulatedLock } from "../devices/simulated-lock.js";
import { createFixture, type Fixture } from "../fixtures.js";

const MONDAY = Date.parse("2026-11-23T07:00:00.000Z");
const INSIDE = { notBefore: "2026-11-24T09:00:00.000Z", notAfter: "2026-11-24T11:00:00.000Z" };
const OUTSIDE = { notBefore: "2026-11-28T09:00:00.000Z", notAfter: "2026-11-28T11:00:00.000Z" };

let f: Fixture;
let lock: SimulatedLock;
/** Every raw message the lock received, as bytes off the wire. */
let wire: Buffer[];

async function enrol(): Promise<SimulatedLock> {
  const simulated = new SimulatedLock({ clockOffsetMs: f.clock.now() - Date.now() });
  const { token } = f.app.hub.createEnrolmentToken({
    orgId: f.bank.id,
    containerId: f.container.id,
    ttlMs: 60_000,
    createdBy: f.accounts.technician.user.id,
  });
  simulated.accept(await f.app.hub.enrol(simulated.enrolmentRequest(token)));
  const client = await simulated.connect();
  client.on("message", (_topic, payload) => wire.push(Buffer.from(payload)));
  await waitFor(
    () => f.app.hub.device(simulated.deviceId)?.availability === "online",
    5_000,
    "the lock online at the hub",
  );
  return simulated;
}

beforeEach(async () => {
  wire = [];
  f = await createFixture({ startAt: MONDAY });
  lock = await enrol();
});
afterEach(async () => {
  lock.crash();
  await f.close();
});

const crew = () => f.accounts.citCrew.person.id;

async function requestWindow(times: { notBefore: string; notAfter: string }) {
  const response = await f.app.inject({
    method: "POST",
    url: "/api/v1/windows",
    headers: f.as("citDispatcher"),
    payload: { containerId: f.container.id, crew: [crew()], purpose: "ATM refill", ...times },
  });
  expect(response.statusCode).toBe(201);
  return response.json();
}

async function approvedOutsideWindow() {
  const window = await requestWindow(OUTSIDE);
  for (const who of ["securityAdmin", "branchManager"] as const) {
    const response = await f.app.inject({
      method: "POST",
      url: `/api/v1/windows/${window.id}/approve`,
      headers: f.as(who),
    });
    expect(response.statusCode).toBe(200);
  }
  return window;
}

async function getWindow(id: string) {
  return (
    await f.app.inject({
      method: "GET",
      url: `/api/v1/windows/${id}`,
      headers: f.as("securityAdmin"),
    })
  ).json();
}

/** Appends records to the lock's chain with the acting person, as the lock's log does. */
function lockAudit(kind: AuditRecord["kind"], actor: string | null, data: Record<string, unknown>) {
  const previous = lock.records[lock.records.length - 1];
  const record = chainAuditRecord(
    {
      deviceId: lock.deviceId,
      seq: (previous?.seq ?? 0) + 1,
      at: new Date(lock.now()).toISOString(),
      kind,
      actor,
      data,
    },
    previous?.hash ?? GENESIS_HASH,
  );
  lock.records.push(record);
  return record;
}

/** Bytes of every file of the fleet's database (and its WAL): where a stored code would be. */
function databaseBytes(): string {
  return readdirSync(f.dataDir)
    .filter((name) => name.startsWith("fleet.db"))
    .map((name) => readFileSync(join(f.dataDir, name)).toString("latin1"))
    .join("");
}

describe("signed grants", () => {
  it("an approved window pushes a grant whose envelope verifies with the fleet public key", async () => {
    const window = await requestWindow(INSIDE);
    await lock.until(() => lock.commandsOfType("grant").length === 1, 5_000, "grant");
    const keys = new Map(
      f.app.hub.fleetPublicKeys().map((key) => [key.keyId, fromBase64url(key.publicKey)]),
    );
    const raw = wire.find((bytes) => bytes.toString("utf8").includes('\\"type\\":\\"grant\\"'));
    expect(raw).toBeDefined();
    const opened = openEnvelope(raw as Buffer, { deviceId: lock.deviceId, now: lock.now(), keys });
    expect(opened.ok).toBe(true);
    if (!opened.ok) return;
    expect(opened.value.type).toBe("grant");
    expect(isValid(AccessGrant, opened.value.body)).toBe(true);
    expect(opened.value.body).toMatchObject({
      grantId: window.grantId,
      windowId: window.id,
      locks: [lock.deviceId],
      persons: [crew()],
      notBefore: INSIDE.notBefore,
      notAfter: INSIDE.notAfter,
      maxOpenings: 1,
      dualControlRequired: true,
    });
    // A flipped byte in the payload no longer verifies.
    const tampered = Buffer.from(
      (raw as Buffer).toString("utf8").replace("ATM refill", "ATM refilL"),
    );
    expect(openEnvelope(tampered, { deviceId: lock.deviceId, now: lock.now(), keys }).ok).toBe(
      false,
    );
    const stored = await getWindow(window.id);
    expect(stored.status).toBe("active");
    expect(stored.locks).toMatchObject([{ deviceId: lock.deviceId, grantStatus: "installed" }]);
  });

  it("a lock offline at approval gets the grant when it comes back online", async () => {
    await lock.disconnect();
    await waitFor(
      () => f.app.hub.device(lock.deviceId)?.availability === "offline",
      5_000,
      "offline",
    );
    const window = await requestWindow(INSIDE);
    expect(window.status).toBe("approved");
    expect(window.locks).toMatchObject([{ deviceId: lock.deviceId, grantStatus: "notSent" }]);
    await lock.connect();
    await lock.until(
      () => lock.commandsOfType("grant").length === 1,
      5_000,
      "grant after reconnect",
    );
    expect(lock.commandsOfType("grant")[0]?.body).toMatchObject({ grantId: window.grantId });
    await waitFor(
      () =>
        f.app.windows.get({ orgId: f.bank.id, role: "securityAdmin" }, window.id).status ===
        "active",
      5_000,
      "window active",
    );
  });

  it("a grant marked sent that never reached the lock (fleet killed in between) goes again when the lock is back", async () => {
    await lock.disconnect();
    await waitFor(
      () => f.app.hub.device(lock.deviceId)?.availability === "offline",
      5_000,
      "offline",
    );
    const window = await requestWindow(INSIDE);
    // what a fleet killed after marking the grant sent, before the lock received it, leaves behind
    f.app.store.windows.setLock(
      window.id,
      lock.deviceId,
      "sent",
      null,
      new Date(f.clock.now()).toISOString(),
    );
    f.clock.advance(60_000);
    await lock.connect();
    await lock.until(
      () => lock.commandsOfType("grant").length === 1,
      5_000,
      "grant after reconnect",
    );
    expect(lock.commandsOfType("grant")[0]?.body).toMatchObject({ grantId: window.grantId });
  });

  it("revoking sends grant.revoke to the lock and tells the CIT company", async () => {
    const window = await requestWindow(INSIDE);
    await lock.until(() => lock.commandsOfType("grant").length === 1, 5_000, "grant");
    const told: unknown[] = [];
    f.app.windows.on("notification", (notification) => told.push(notification));
    const revoked = await f.app.inject({
      method: "POST",
      url: `/api/v1/windows/${window.id}/revoke`,
      headers: f.as("branchManager"),
      payload: { reason: "alarm at the branch" },
    });
    expect(revoked.statusCode).toBe(200);
    expect(lock.commandsOfType("grant.revoke").map((command) => command.body)).toEqual([
      { grantId: window.grantId },
    ]);
    expect(revoked.json().locks).toMatchObject([
      { deviceId: lock.deviceId, grantStatus: "revoked" },
    ]);
    expect(told).toMatchObject([{ kind: "window.revoked", orgId: f.cit.id, windowId: window.id }]);
    const notes = await f.app.inject({
      method: "GET",
      url: "/api/v1/windows/notifications",
      headers: f.as("citDispatcher"),
    });
    expect(notes.json().items).toMatchObject([{ kind: "window.revoked", windowId: window.id }]);
  });

  it("a grant opening closes the window when its close seal verifies", async () => {
    const window = await requestWindow(INSIDE);
    await lock.until(() => lock.commandsOfType("grant").length === 1, 5_000, "grant");
    const secret = lock.otpSecret as Uint8Array;
    const used = lockAudit("grant.used", null, {
      grantId: window.grantId,
      openings: 1,
      maxOpenings: 1,
    });
    const relocked = lockAudit("lock.relocked", null, {
      openingNumber: 7,
      closeSeal: openingSeal(secret, lock.deviceId, 7),
    });
    await lock.publishAudit([used, relocked]);
    await waitFor(
      () =>
        f.app.windows.get({ orgId: f.bank.id, role: "securityAdmin" }, window.id).status ===
        "closed",
      5_000,
      "window closed",
    );
    const closed = await getWindow(window.id);
    expect(closed).toMatchObject({ status: "closed", openings: 1, closedByDevice: lock.deviceId });
  });
});

describe("one-time codes", () => {
  it("codes are derivable by the lock's own computation and are not stored in clear", async () => {
    const window = await approvedOutsideWindow();
    const response = await f.app.inject({
      method: "GET",
      url: `/api/v1/windows/${window.id}/codes`,
      headers: f.as("citDispatcher"),
    });
    expect(response.statusCode).toBe(200);
    const issued = response.json();
    expect(issued.codes).toHaveLength(1);
    const [entry] = issued.codes;
    expect(entry).toMatchObject({ deviceId: lock.deviceId, personId: crew() });
    expect(entry.code).toMatch(/^\d{8}$/);
    // The lock, with the secret it received sealed at enrolment, finds the code in its window.
    const match = findOneTimeCode(lock.otpSecret as Uint8Array, {
      lockId: lock.deviceId,
      personId: crew(),
      code: entry.code,
      at: parseInstant(OUTSIDE.notBefore) + 60_000,
      counters: Array.from({ length: 16 }, (_, i) => i + 1),
    });
    expect(match).toMatchObject({
      notBefore: parseInstant(OUTSIDE.notBefore),
      notAfter: parseInstant(OUTSIDE.notAfter),
    });
    // Not before the window.
    expect(
      findOneTimeCode(lock.otpSecret as Uint8Array, {
        lockId: lock.deviceId,
        personId: crew(),
        code: entry.code,
        at: parseInstant(OUTSIDE.notBefore) - 60_000,
        counters: Array.from({ length: 16 }, (_, i) => i + 1),
      }),
    ).toBeUndefined();
    expect(databaseBytes()).not.toContain(entry.code);
    const again = await f.app.inject({
      method: "GET",
      url: `/api/v1/windows/${window.id}/codes`,
      headers: f.as("citDispatcher"),
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe("E_CODES_ALREADY_SHOWN");
  });

  it("only the CIT company's dispatcher is shown the codes", async () => {
    const window = await approvedOutsideWindow();
    for (const who of ["citCrew", "securityAdmin"] as const) {
      const response = await f.app.inject({
        method: "GET",
        url: `/api/v1/windows/${window.id}/codes`,
        headers: f.as(who),
      });
      expect(response.statusCode).toBe(403);
    }
    const other = await f.app.inject({
      method: "GET",
      url: `/api/v1/windows/${window.id}/codes`,
      headers: f.as("citBDispatcher"),
    });
    expect(other.statusCode).toBe(404);
  });

  it("the close seal of a one-time-code opening, reported by the lock, closes the window", async () => {
    const window = await approvedOutsideWindow();
    const issued = (
      await f.app.inject({
        method: "GET",
        url: `/api/v1/windows/${window.id}/codes`,
        headers: f.as("citDispatcher"),
      })
    ).json();
    const secret = lock.otpSecret as Uint8Array;
    const match = findOneTimeCode(secret, {
      lockId: lock.deviceId,
      personId: crew(),
      code: issued.codes[0].code,
      at: parseInstant(OUTSIDE.notBefore) + 60_000,
      counters: Array.from({ length: 16 }, (_, i) => i + 1),
    });
    if (match === undefined) throw new Error("code not found by the lock");
    const accepted = lockAudit("otp.accepted", crew(), {
      counter: match.counter,
      notBefore: OUTSIDE.notBefore,
      notAfter: OUTSIDE.notAfter,
    });
    const relocked = lockAudit("lock.relocked", null, {
      openingNumber: 1,
      closeSeal: closeSeal(secret, match),
    });
    await lock.publishAudit([accepted, relocked]);
    await waitFor(
      () =>
        f.app.windows.get({ orgId: f.bank.id, role: "securityAdmin" }, window.id).status ===
        "closed",
      5_000,
      "window closed",
    );
    expect((await getWindow(window.id)).openings).toBe(1);
    const usage = await f.app.inject({
      method: "GET",
      url: `/api/v1/windows/${window.id}/usage`,
      headers: f.as("citDispatcher"),
    });
    expect(usage.json()).toMatchObject({
      openings: [{ deviceId: lock.deviceId, via: "otp", personId: crew(), sealStatus: "verified" }],
      codes: [{ personId: crew(), usedAt: accepted.at }],
      sealRefusals: [],
    });
  });

  it("a one-time code the lock spent on a refused cycle shows as used, the window stays open", async () => {
    const window = await approvedOutsideWindow();
    const issued = (
      await f.app.inject({
        method: "GET",
        url: `/api/v1/windows/${window.id}/codes`,
        headers: f.as("citDispatcher"),
      })
    ).json();
    const secret = lock.otpSecret as Uint8Array;
    const match = findOneTimeCode(secret, {
      lockId: lock.deviceId,
      personId: crew(),
      code: issued.codes[0].code,
      at: parseInstant(OUTSIDE.notBefore) + 60_000,
      counters: Array.from({ length: 16 }, (_, i) => i + 1),
    });
    if (match === undefined) throw new Error("code not found by the lock");
    const spent = lockAudit("otp.rejected", crew(), {
      reason: "mixedPartiesRequired",
      counter: match.counter,
      notBefore: OUTSIDE.notBefore,
      notAfter: OUTSIDE.notAfter,
      counterSpent: true,
    });
    await lock.publishAudit([spent]);
    const usedAt = () =>
      (
        f.app.db
          .prepare("SELECT used_at FROM access_window_codes WHERE device_id = ? AND counter = ?")
          .get(lock.deviceId, match.counter) as { used_at: string | null } | undefined
      )?.used_at;
    await waitFor(() => usedAt() === spent.at, 5_000, "code marked used");
    const usage = await f.app.inject({
      method: "GET",
      url: `/api/v1/windows/${window.id}/usage`,
      headers: f.as("citDispatcher"),
    });
    expect(usage.json()).toMatchObject({ openings: [], codes: [{ usedAt: spent.at }] });
    expect((await getWindow(window.id)).status).not.toBe("closed");
  });

  it("the close seal read off the display and entered by the crew closes the window", async () => {
    const window = await approvedOutsideWindow();
    const issued = (
      await f.app.inject({
        method: "POST",
        url: `/api/v1/windows/${window.id}/codes`,
        headers: f.as("citDispatcher"),
      })
    ).json();
    const secret = lock.otpSecret as Uint8Array;
    const match = findOneTimeCode(secret, {
      lockId: lock.deviceId,
      personId: crew(),
      code: issued.codes[0].code,
      at: parseInstant(OUTSIDE.notBefore) + 60_000,
      counters: Array.from({ length: 16 }, (_, i) => i + 1),
    });
    if (match === undefined) throw new Error("code not found by the lock");
    const response = await f.app.inject({
      method: "POST",
      url: `/api/v1/windows/${window.id}/close`,
      headers: f.as("citDispatcher"),
      payload: { seal: closeSeal(secret, match) },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().status).toBe("closed");
  });

  it("a forged close seal is refused with a code and audited; the window stays open", async () => {
    const window = await approvedOutsideWindow();
    const issued = (
      await f.app.inject({
        method: "GET",
        url: `/api/v1/windows/${window.id}/codes`,
        headers: f.as("citDispatcher"),
      })
    ).json();
    // The one-time code itself is not the seal, nor is any guess.
    for (const seal of [issued.codes[0].code, "12345678"]) {
      const response = await f.app.inject({
        method: "POST",
        url: `/api/v1/windows/${window.id}/close`,
        headers: f.as("citDispatcher"),
        payload: { seal },
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe("E_SEAL_INVALID");
    }
    // Reported by the lock: an opening under the window, then a seal that does not verify.
    const match = findOneTimeCode(lock.otpSecret as Uint8Array, {
      lockId: lock.deviceId,
      personId: crew(),
      code: issued.codes[0].code,
      at: parseInstant(OUTSIDE.notBefore) + 60_000,
      counters: Array.from({ length: 16 }, (_, i) => i + 1),
    });
    if (match === undefined) throw new Error("code not found by the lock");
    const accepted = lockAudit("otp.accepted", crew(), {
      counter: match.counter,
      notBefore: OUTSIDE.notBefore,
      notAfter: OUTSIDE.notAfter,
    });
    const relocked = lockAudit("lock.relocked", null, { openingNumber: 1, closeSeal: "00000000" });
    await lock.publishAudit([accepted, relocked]);
    await waitFor(
      () =>
        f.app.adminLog
          .list({ action: "window.closeSeal.refused" }, { limit: 10 })
          .items.filter((entry) => entry.target === window.id).length === 3,
      5_000,
      "three refusals",
    );
    expect((await getWindow(window.id)).status).toBe("active");
  });
});

describe("rights on locks", () => {
  async function grantRight(validUntil?: string) {
    // proposed by the security admin, given when the second officer approves
    const { answer } = await f.proposeAndApprove({
      method: "POST",
      url: "/api/v1/rights",
      payload: {
        personId: crew(),
        containerIds: [f.container.id],
        role: "courier",
        ...(validUntil === undefined ? {} : { validUntil }),
      },
    });
    return { ...answer, initialCodes: await downloadLetters(answer.pinLetters) };
  }

  /** Each PIN letter, downloaded once by the security admin: the initial codes it carries. */
  async function downloadLetters(letters: Array<{ id: string }>) {
    const codes = [];
    for (const letter of letters) {
      const response = await f.app.inject({
        method: "POST",
        url: `/api/v1/pin-letters/${letter.id}/download`,
        headers: f.as("securityAdmin"),
        payload: {},
      });
      expect(response.statusCode).toBe(200);
      const { containerId, deviceId, slot, code } = response.json();
      codes.push({ containerId, deviceId, slot, code });
    }
    return codes;
  }

  it("a right pushes user.add with an initial code sealed to that lock and never stored", async () => {
    const granted = await grantRight();
    const [initial] = granted.initialCodes;
    expect(initial).toMatchObject({ deviceId: lock.deviceId, containerId: f.container.id });
    const [add] = lock.commandsOfType("user.add");
    if (add?.type !== "user.add") throw new Error("no user.add");
    expect(add.body.user).toMatchObject({
      slot: initial.slot,
      personId: crew(),
      role: "courier",
      tenantId: f.cit.id,
      enabled: true,
    });
    const opened = new TextDecoder().decode(
      openSealedSecret(add.body.initialCode, lock.encryption.secretKey),
    );
    expect(opened).toBe(initial.code);
    expect(opened).toHaveLength(DEFAULT_LOCK_POLICY.codeLength);
    expect(databaseBytes()).not.toContain(initial.code);
    const listed = await f.app.inject({
      method: "GET",
      url: `/api/v1/rights?personId=${crew()}`,
      headers: f.as("securityAdmin"),
    });
    expect(listed.json().items[0].locks).toMatchObject([
      { deviceId: lock.deviceId, slot: initial.slot, status: "present", lastCommand: "user.add" },
    ]);
    expect(listed.json().items[0].locks[0].confirmedAt).not.toBeNull();
    // The CIT company sees its own person's rights; another bank sees none of them.
    const asCit = await f.app.inject({
      method: "GET",
      url: `/api/v1/rights?personId=${crew()}`,
      headers: f.as("citDispatcher"),
    });
    expect(asCit.json().items).toHaveLength(1);
    const asOtherBank = await f.app.inject({
      method: "GET",
      url: `/api/v1/rights?personId=${crew()}`,
      headers: f.as("bankBAdmin"),
    });
    expect(asOtherBank.json().items).toEqual([]);
  });

  it("a temporary right that runs out is deleted from the lock by the periodic check", async () => {
    const granted = await grantRight(new Date(MONDAY + 60 * 60_000).toISOString());
    const slot = granted.initialCodes[0].slot;
    await f.app.windowsSweep();
    expect(lock.commandsOfType("user.delete")).toEqual([]);
    f.clock.advance(2 * 60 * 60_000);
    lock.clockOffsetMs = f.clock.now() - Date.now();
    await f.app.windowsSweep();
    expect(lock.commandsOfType("user.delete").map((command) => command.body)).toEqual([
      { slot, personId: crew() },
    ]);
    const listed = await f.app.inject({
      method: "GET",
      url: `/api/v1/rights?personId=${crew()}&includeRemoved=true`,
      headers: f.as("securityAdmin"),
    });
    expect(listed.json().items[0]).toMatchObject({ removedReason: "expired" });
    expect(listed.json().items[0].locks[0]).toMatchObject({
      status: "deleted",
      lastCommand: "user.delete",
    });
  });

  it("disabling the person deletes them from every lock that held them", async () => {
    const granted = await grantRight();
    const disabled = await f.app.inject({
      method: "POST",
      url: `/api/v1/people/${crew()}/disable`,
      headers: f.as("securityAdmin"),
      payload: {},
    });
    expect(disabled.statusCode).toBe(200);
    await lock.until(() => lock.commandsOfType("user.delete").length === 1, 5_000, "user.delete");
    expect(lock.commandsOfType("user.delete")[0]?.body).toEqual({
      slot: granted.initialCodes[0].slot,
      personId: crew(),
    });
  });

  it("a deletion made while the lock was offline reaches it when it reconnects", async () => {
    const granted = await grantRight();
    await lock.disconnect();
    await waitFor(
      () => f.app.hub.device(lock.deviceId)?.availability === "offline",
      5_000,
      "offline",
    );
    const removed = await f.app.inject({
      method: "DELETE",
      url: `/api/v1/rights/${granted.rights[0].id}`,
      headers: f.as("securityAdmin"),
    });
    expect(removed.statusCode).toBe(200);
    expect(removed.json().locks).toMatchObject([
      { status: "deleting", lastCommand: "user.delete" },
    ]);
    expect(lock.commandsOfType("user.delete")).toEqual([]);
    await lock.connect();
    await lock.until(() => lock.commandsOfType("user.delete").length === 1, 5_000, "user.delete");
    await waitFor(
      () =>
        f.app.rights.get(
          { orgId: f.bank.id, orgKind: "bank", role: "securityAdmin", personId: "x" },
          granted.rights[0].id,
        ).locks[0]?.status === "deleted",
      5_000,
      "deletion confirmed",
    );
  });

  it("a lock fitted later gets the person on push, with its own initial code", async () => {
    const granted = await grantRight();
    const second = await enrol();
    try {
      const pushed = await f.app.inject({
        method: "POST",
        url: `/api/v1/rights/${granted.rights[0].id}/push`,
        headers: f.as("securityAdmin"),
      });
      expect(pushed.statusCode).toBe(200);
      const codes = await downloadLetters(pushed.json().pinLetters);
      expect(codes).toMatchObject([{ deviceId: second.deviceId }]);
      const [add] = second.commandsOfType("user.add");
      if (add?.type !== "user.add") throw new Error("no user.add on the second lock");
      expect(
        new TextDecoder().decode(
          openSealedSecret(add.body.initialCode, second.encryption.secretKey),
        ),
      ).toBe(codes[0]?.code);
      // The first lock is not told again, and a second push finds nothing to do.
      expect(lock.commandsOfType("user.add")).toHaveLength(1);
      const again = await f.app.inject({
        method: "POST",
        url: `/api/v1/rights/${granted.rights[0].id}/push`,
        headers: f.as("securityAdmin"),
      });
      expect(again.json().pinLetters).toEqual([]);
    } finally {
      second.crash();
    }
  });

  it("PIN letter: the initial code is shown once, as a printable letter, and its download is in the admin log", async () => {
    const { answer } = await f.proposeAndApprove({
      method: "POST",
      url: "/api/v1/rights",
      payload: { personId: crew(), containerIds: [f.container.id], role: "courier" },
    });
    expect(JSON.stringify(answer)).not.toMatch(/"code"/);
    const [waiting] = answer.pinLetters;
    expect(waiting).toMatchObject({ deviceId: lock.deviceId, pending: true, split: false });
    const print = await f.app.inject({
      method: "GET",
      url: `/api/v1/pin-letters/${waiting.id}/print`,
      headers: f.as("branchManager"),
    });
    expect(print.statusCode).toBe(200);
    const [add] = lock.commandsOfType("user.add");
    if (add?.type !== "user.add") throw new Error("no user.add");
    const code = new TextDecoder().decode(
      openSealedSecret(add.body.initialCode, lock.encryption.secretKey),
    );
    const slot = String(add.body.user.slot).padStart(2, "0");
    for (const part of [
      code,
      `Keypad slot:     ${slot}`,
      f.container.name,
      "Test citCrew",
      "CHANGE AT FIRST USE",
    ]) {
      expect(print.body).toContain(part);
    }
    const again = await f.app.inject({
      method: "POST",
      url: `/api/v1/pin-letters/${waiting.id}/download`,
      headers: f.as("securityAdmin"),
      payload: {},
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe("E_PIN_LETTER_GONE");
    const logged = f.app.adminLog.list({ action: "pinLetter.download" }, { limit: 10 }).items;
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      actor: f.accounts.branchManager.person.id,
      target: waiting.id,
    });
    expect(JSON.stringify(logged)).not.toContain(code);
    const stored = f.app.db
      .prepare("SELECT sealed_code FROM pin_letters WHERE id = ?")
      .pluck()
      .get(waiting.id);
    expect(stored).toBeNull();
  });

  it("PIN letter in two halves (a bank setting): each half once, to two different officers", async () => {
    const setting = await f.app.inject({
      method: "PUT",
      url: "/api/v1/bank-settings",
      headers: f.as("securityAdmin"),
      payload: { splitPinLetters: true },
    });
    expect(setting.json()).toEqual({ splitPinLetters: true });
    const { answer } = await f.proposeAndApprove({
      method: "POST",
      url: "/api/v1/rights",
      payload: { personId: crew(), containerIds: [f.container.id], role: "courier" },
    });
    const id = answer.pinLetters[0].id;
    const download = (who: "securityAdmin" | "secondOfficer", half?: 1 | 2) =>
      f.app.inject({
        method: "POST",
        url: `/api/v1/pin-letters/${id}/download`,
        headers: f.as(who),
        payload: half === undefined ? {} : { half },
      });
    expect((await download("securityAdmin")).json().code).toBe("E_PIN_LETTER_SPLIT");
    const first = await download("securityAdmin", 1);
    expect(first.statusCode).toBe(200);
    expect((await download("securityAdmin", 2)).json().code).toBe("E_SAME_OFFICER");
    const second = await download("secondOfficer", 2);
    expect(second.statusCode).toBe(200);
    const [add] = lock.commandsOfType("user.add");
    if (add?.type !== "user.add") throw new Error("no user.add");
    expect(`${first.json().code}${second.json().code}`).toBe(
      new TextDecoder().decode(openSealedSecret(add.body.initialCode, lock.encryption.secretKey)),
    );
    expect((await download("secondOfficer", 1)).json().code).toBe("E_PIN_LETTER_GONE");
  });

  it("another bank cannot give rights on this bank's container", async () => {
    const response = await f.app.inject({
      method: "POST",
      url: "/api/v1/rights",
      headers: f.as("bankBAdmin"),
      payload: { personId: crew(), containerIds: [f.container.id], role: "courier" },
    });
    expect(response.statusCode).toBe(404);
    expect(lock.commandsOfType("user.add")).toEqual([]);
  });
});

describe("policy changes", () => {
  async function propose(policy: typeof DEFAULT_LOCK_POLICY) {
    const response = await f.app.inject({
      method: "POST",
      url: "/api/v1/policy-changes",
      headers: f.as("securityAdmin"),
      payload: { containerId: f.container.id, kind: "policy", policy, reason: "delay review" },
    });
    expect(response.statusCode).toBe(201);
    return response.json();
  }

  it("a weakening change (shorter delay) waits for a second, distinct approver", async () => {
    const change = await propose({ ...DEFAULT_LOCK_POLICY, timeDelayMin: 1 });
    expect(change).toMatchObject({ status: "pending", weakening: true, approvalsRequired: 2 });
    expect(lock.commandsOfType("policy.change")).toEqual([]);
    const same = await f.app.inject({
      method: "POST",
      url: `/api/v1/policy-changes/${change.id}/approve`,
      headers: f.as("securityAdmin"),
    });
    expect(same.statusCode).toBe(409);
    expect(same.json().code).toBe("E_SAME_APPROVER");
    const crewMember = await f.app.inject({
      method: "POST",
      url: `/api/v1/policy-changes/${change.id}/approve`,
      headers: f.as("citCrew"),
    });
    expect(crewMember.statusCode).toBe(403);
    expect(lock.commandsOfType("policy.change")).toEqual([]);
    const second = await f.app.inject({
      method: "POST",
      url: `/api/v1/policy-changes/${change.id}/approve`,
      headers: f.as("branchManager"),
    });
    expect(second.statusCode).toBe(200);
    expect(second.json().status).toBe("applied");
    const [sent] = lock.commandsOfType("policy.change");
    expect(sent?.body).toEqual({
      policy: { ...DEFAULT_LOCK_POLICY, timeDelayMin: 1 },
      approvedBy: [f.accounts.securityAdmin.person.id, f.accounts.branchManager.person.id],
    });
    expect(f.app.repos.orgs.getContainer(f.container.id)?.policy.timeDelayMin).toBe(1);
  });

  it("a strengthening change (longer delay) goes out at once", async () => {
    const change = await propose({ ...DEFAULT_LOCK_POLICY, timeDelayMin: 10 });
    expect(change).toMatchObject({ status: "applied", weakening: false });
    expect(lock.commandsOfType("policy.change")[0]?.body).toEqual({
      policy: { ...DEFAULT_LOCK_POLICY, timeDelayMin: 10 },
      approvedBy: [f.accounts.securityAdmin.person.id],
    });
  });

  it("a weekly time lock goes out at once; removing it waits for a second approver", async () => {
    const weekend = { startDay: 6, startTime: "00:00", endDay: 7, endTime: "24:00" };
    const proposeSchedule = (weekly: (typeof weekend)[], timeZone = "Europe/Berlin") =>
      f.app.inject({
        method: "POST",
        url: "/api/v1/policy-changes",
        headers: f.as("securityAdmin"),
        payload: {
          containerId: f.container.id,
          kind: "timeLockSchedule",
          schedule: { timeZone, weekly, holidays: [] },
          reason: "weekend closure",
        },
      });
    const add = await proposeSchedule([weekend]);
    expect(add.json()).toMatchObject({ status: "applied", weakening: false });
    expect(lock.commandsOfType("timeLock.schedule")).toHaveLength(1);
    const remove = await proposeSchedule([]);
    expect(remove.json()).toMatchObject({ status: "pending", weakening: true });
    expect(lock.commandsOfType("timeLock.schedule")).toHaveLength(1);
    const wrongZone = await proposeSchedule([weekend], "America/New_York");
    expect(wrongZone.statusCode).toBe(400);
    expect(wrongZone.json().code).toBe("E_TIME_ZONE");
  });

  it("removing a holiday weakens; adding one does not", async () => {
    const holiday = { from: "2026-12-24", to: "2026-12-26", yearlyRepeat: true };
    const add = await f.app.inject({
      method: "POST",
      url: "/api/v1/policy-changes",
      headers: f.as("securityAdmin"),
      payload: {
        containerId: f.container.id,
        kind: "holidays",
        holidays: [holiday],
        reason: "Christmas closure",
      },
    });
    expect(add.json()).toMatchObject({ status: "applied", weakening: false });
    expect(lock.commandsOfType("timeLock.holidays")).toHaveLength(1);
    const remove = await f.app.inject({
      method: "POST",
      url: "/api/v1/policy-changes",
      headers: f.as("securityAdmin"),
      payload: {
        containerId: f.container.id,
        kind: "holidays",
        holidays: [],
        reason: "branch open over Christmas",
      },
    });
    expect(remove.json()).toMatchObject({ status: "pending", weakening: true });
    expect(lock.commandsOfType("timeLock.holidays")).toHaveLength(1);
  });
});
