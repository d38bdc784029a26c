/**
 * Attacks end to end over real sockets (issue 5): another tenant reading and writing over
 * HTTP, a CIT crew member approving a window, an eavesdropper on a lock's link replaying and
 * forging signed commands, and a device publishing under another device's prefix. Each is
 * refused; where the product keeps a record of the refusal (admin log, the lock's audit, the
 * fleet's security events), the record is checked too.
 */
import {
  type AuditRecord,
  auditRecordHash,
  type CommandResult,
  canonicalJson,
  ed25519,
  signDeviceMessage,
  signEnvelope,
  topics,
  verifyAuditChain,
} from "@lockfleet/protocol";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  E2eWorld,
  type PersonView,
  until,
  type VirtualLock,
  type WindowView,
  wait,
} from "./harness/world.js";

interface ErrorBody {
  code: string;
  message: string;
}
interface DeviceView {
  deviceId: string;
  state: { bolt: string; blocked: boolean } | null;
}
interface SignedEnvelope {
  payload: string;
  signature: string;
}
interface EnvelopeFields {
  type: string;
  deviceId: string;
  id: string;
  seq: number;
  issuedAt: string;
  expiresAt: string;
  keyId: string;
  body: unknown;
}

let world: E2eWorld;
/** Bank A's lock on the container under contract with CIT A. */
let lock: VirtualLock;
/** Bank A's lock on the vault: the device that turns against its neighbour. */
let vaultLock: VirtualLock;
let jan: PersonView;
let lena: PersonView;
/** CIT A's window on bank A's container (inside the standing window). */
let windowA: WindowView;
/** A remote.unblock envelope the fleet sent to `lock`, as captured on the wire. */
let capturedUnblock: Buffer;

beforeAll(async () => {
  world = await E2eWorld.start();
  const { bank, cit, container, uncontractedContainer } = world.fleet;
  lock = await world.enrolLock(container.id);
  vaultLock = await world.enrolLock(uncontractedContainer.id);
  jan = await world.enabledPerson("securityAdmin", "Jan Kurier", cit.id, "C02Y11U58");
  lena = await world.enabledPerson("securityAdmin", "Lena Fahrer", cit.id, "D03Z22V69");
  await world.enabledPerson("securityAdmin", "Erika Muster", bank.id, "L01X00T47");
  windowA = await world.ok<WindowView>("citDispatcher", "POST", "windows", {
    containerId: container.id,
    crew: [jan.id, lena.id],
    notBefore: world.iso(-60_000),
    notAfter: world.iso(3_600_000),
    purpose: "Cash delivery, route North",
  });
}, 90_000);

afterAll(async () => {
  await world?.close();
});

function lockRecords(kind: string): AuditRecord[] {
  return lock.audit().filter((record) => record.kind === kind);
}

/** The results the lock published on its cmd/result topic (seen on its own wire). */
function resultsOnWire(): CommandResult[] {
  const topic = topics.cmdResult(lock.org, lock.deviceId);
  return lock.tap.sent
    .filter((publish) => publish.topic === topic)
    .map((publish) => world.openedFrom(lock, publish.topic, publish.payload) as CommandResult);
}

/** Envelopes the broker delivered to the lock on its cmd topic, as an eavesdropper captured them. */
function capturedCommands(): Array<{ raw: Buffer; fields: EnvelopeFields }> {
  return lock.tap.payloadsOn(topics.cmd(lock.org, lock.deviceId)).map((raw) => {
    const envelope = JSON.parse(raw.toString("utf8")) as SignedEnvelope;
    return { raw, fields: JSON.parse(envelope.payload) as EnvelopeFields };
  });
}

async function remote(type: "remote.block" | "remote.unblock"): Promise<string> {
  const answer = await world.ok<{ commandId: string; status: string }>(
    "securityAdmin",
    "POST",
    `devices/${lock.deviceId}/commands`,
    type === "remote.block"
      ? { type, reason: "branch closed", waitMs: 5000 }
      : { type, waitMs: 5000 },
    [200, 202],
  );
  expect(answer.status).toBe("ok");
  return answer.commandId;
}

describe("cross-tenant access over HTTP", { timeout: 60_000 }, () => {
  it("bank B reading bank A's lock, its audit, its windows or its reports is answered 404, as if they did not exist", async () => {
    const reads = [
      `devices/${lock.deviceId}`,
      `devices/${lock.deviceId}/audit`,
      `windows/${windowA.id}`,
      `reports/openings?containerId=${world.fleet.container.id}`,
      `people/${jan.id}`,
    ];
    for (const path of reads) {
      // The owner reads it: the path is right and the data is there.
      expect((await world.call("securityAdmin", "GET", path)).status, path).toBe(200);
      const answer = await world.call<ErrorBody>("bankBAdmin", "GET", path);
      expect(answer.status, path).toBe(404);
      expect(answer.body.code, path).toBe("E_NOT_FOUND");
      expect(answer.text, path).not.toContain(world.fleet.bank.id);
    }
    const devices = await world.ok<{ items: DeviceView[] }>("bankBAdmin", "GET", "devices");
    expect(devices.items.map((device) => device.deviceId)).not.toContain(lock.deviceId);
    const windows = await world.ok<{ items: WindowView[] }>("bankBAdmin", "GET", "windows");
    expect(windows.items.map((window) => window.id)).not.toContain(windowA.id);
  });

  it("bank B commanding bank A's lock, disabling its people or revoking its windows is refused and changes nothing", async () => {
    const block = await world.call<ErrorBody>(
      "bankBAdmin",
      "POST",
      `devices/${lock.deviceId}/commands`,
      {
        type: "remote.block",
        reason: "hostile",
        waitMs: 1000,
      },
    );
    expect(block.status).toBe(404);
    const disable = await world.call<ErrorBody>("bankBAdmin", "POST", `people/${jan.id}/disable`);
    expect(disable.status).toBe(404);
    const revoke = await world.call<ErrorBody>(
      "bankBAdmin",
      "POST",
      `windows/${windowA.id}/revoke`,
      {
        reason: "hostile",
      },
    );
    expect(revoke.status).toBe(404);
    const approve = await world.call<ErrorBody>(
      "bankBAdmin",
      "POST",
      `windows/${windowA.id}/approve`,
    );
    expect(approve.status).toBe(404);

    await wait(300);
    expect(lockRecords("remote.blocked")).toEqual([]);
    expect(lock.runtime.state().blocked).toBe(false);
    expect((await world.ok<PersonView>("securityAdmin", "GET", `people/${jan.id}`)).status).toBe(
      "enabled",
    );
    const window = await world.ok<WindowView>("securityAdmin", "GET", `windows/${windowA.id}`);
    expect(window.status).not.toBe("revoked");
    // Nothing bank B's admin tried became an action, in either bank's admin log.
    const bankBActor = world.fleet.accounts.bankBAdmin.person.id;
    for (const action of ["person.disable", "window.revoke", "window.approve", "window.approved"]) {
      for (const reader of ["securityAdmin", "bankBAdmin"] as const) {
        const entries = await world.adminLog(reader, action);
        expect(entries.filter((entry) => entry.actor === bankBActor)).toEqual([]);
      }
    }
  });

  it("CIT company B requesting a window on bank A's container is answered 404 and no window is created", async () => {
    const { citB, container } = world.fleet;
    const outsider = await world.enabledPerson("bankBAdmin", "Otto Fremd", citB.id, "X09Q88R77");
    const answer = await world.call<ErrorBody>("citBDispatcher", "POST", "windows", {
      containerId: container.id,
      crew: [outsider.id],
      notBefore: world.iso(-60_000),
      notAfter: world.iso(3_600_000),
      purpose: "not ours",
    });
    expect(answer.status).toBe(404);
    expect(answer.body.code).toBe("E_NOT_FOUND");
    // Nor with bank A's own CIT crew in it.
    const borrowed = await world.call<ErrorBody>("citBDispatcher", "POST", "windows", {
      containerId: container.id,
      crew: [jan.id],
      notBefore: world.iso(-60_000),
      notAfter: world.iso(3_600_000),
      purpose: "not ours",
    });
    expect(borrowed.status).toBe(404);
    const windows = await world.ok<{ items: WindowView[] }>("securityAdmin", "GET", "windows");
    expect(windows.items.filter((window) => window.citOrgId === citB.id)).toEqual([]);
  });
});

describe("deciding access windows", { timeout: 60_000 }, () => {
  it("a CIT crew member approving a window is refused with 403 and the refusal is in the admin log", async () => {
    // Saturday: outside the standing route window (Mon–Fri), so the bank decides.
    const requested = await world.ok<WindowView>("citDispatcher", "POST", "windows", {
      containerId: world.fleet.container.id,
      crew: [jan.id, lena.id],
      notBefore: "2026-11-28T09:00:00Z",
      notAfter: "2026-11-28T11:00:00Z",
      purpose: "Saturday replenishment",
    });
    expect(requested.status).toBe("requested");
    expect(requested.autoApproved).toBe(false);
    expect(requested.approvalsRequired).toBe(2);

    const byCrew = await world.call<ErrorBody>(
      "citCrew",
      "POST",
      `windows/${requested.id}/approve`,
    );
    expect(byCrew.status).toBe(403);
    expect(byCrew.body.code).toBe("E_FORBIDDEN");
    const byDispatcher = await world.call<ErrorBody>(
      "citDispatcher",
      "POST",
      `windows/${requested.id}/approve`,
    );
    expect(byDispatcher.status).toBe(403);
    const still = await world.ok<WindowView>("securityAdmin", "GET", `windows/${requested.id}`);
    expect(still.status).toBe("requested");
    expect(still.approvedBy).toEqual([]);

    const refused = (await world.adminLog("securityAdmin", "window.approve.refused")).filter(
      (entry) => entry.target === requested.id,
    );
    expect(refused.map((entry) => entry.actor)).toEqual([
      world.fleet.accounts.citCrew.person.id,
      world.fleet.accounts.citDispatcher.person.id,
    ]);
    expect(refused[0]?.data.role).toBe("citCrew");

    // Two distinct bank officers decide it; the same one twice counts once.
    await world.ok("securityAdmin", "POST", `windows/${requested.id}/approve`);
    const twice = await world.call<ErrorBody>(
      "securityAdmin",
      "POST",
      `windows/${requested.id}/approve`,
    );
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe("E_SAME_APPROVER");
    const approved = await world.ok<WindowView>(
      "branchManager",
      "POST",
      `windows/${requested.id}/approve`,
    );
    expect(approved.status === "approved" || approved.status === "active").toBe(true);
    const delivered = await until("the Saturday grant installed", async () => {
      const window = await world.ok<WindowView>("securityAdmin", "GET", `windows/${requested.id}`);
      return window.locks.find(
        (entry) => entry.deviceId === lock.deviceId && entry.grantStatus === "installed",
      );
    });
    expect(delivered).toBeDefined();
  });
  it("the bank revokes a window at any time: the lock drops the grant and the CIT company is told", async () => {
    const grantId = (await world.ok<WindowView>("securityAdmin", "GET", `windows/${windowA.id}`))
      .grantId;
    expect(grantId).not.toBeNull();
    await until("the grant installed on the lock", () =>
      lockRecords("grant.installed").find((record) => record.data.grantId === grantId),
    );
    const revoked = await world.ok<WindowView>(
      "securityAdmin",
      "POST",
      `windows/${windowA.id}/revoke`,
      {
        reason: "route cancelled",
      },
    );
    expect(revoked.status).toBe("revoked");
    await until("the grant revoked at the lock", () =>
      lockRecords("grant.revoked").find((record) => record.data.grantId === grantId),
    );
    const told = await world.ok<{ items: Array<{ kind: string; windowId: string | null }> }>(
      "citDispatcher",
      "GET",
      "windows/notifications",
    );
    expect(told.items).toContainEqual(
      expect.objectContaining({ kind: "window.revoked", windowId: windowA.id }),
    );
    // Bank B is told nothing about it.
    const elsewhere = await world.ok<{ items: Array<{ windowId: string | null }> }>(
      "citBDispatcher",
      "GET",
      "windows/notifications",
    );
    expect(elsewhere.items.map((item) => item.windowId)).not.toContain(windowA.id);
  });
});

describe("an attacker on a lock's link", { timeout: 60_000 }, () => {
  let unblockEnvelope: { raw: Buffer; fields: EnvelopeFields };

  beforeAll(async () => {
    // The bank blocks, unblocks and blocks the lock again; the attacker records it all.
    await remote("remote.block");
    const unblockId = await remote("remote.unblock");
    await remote("remote.block");
    expect(lock.runtime.state().blocked).toBe(true);
    const captured = capturedCommands().find((command) => command.fields.id === unblockId);
    if (captured === undefined) throw new Error("the unblock command was not seen on the wire");
    unblockEnvelope = captured;
    capturedUnblock = captured.raw;
  });

  it("a replayed command envelope is refused by the lock with E_REPLAY, answered and audited, and the fleet records the replay", async () => {
    const before = lockRecords("command.rejected").length;
    expect(lock.tap.inject(topics.cmd(lock.org, lock.deviceId), unblockEnvelope.raw)).toBe(1);

    const rejected = await until("the replay in the lock's audit", () =>
      lockRecords("command.rejected")
        .slice(before)
        .find((record) => record.data.id === unblockEnvelope.fields.id),
    );
    expect(rejected.data.code).toBe("E_REPLAY");
    const answer = await until("the lock's answer to the replay", () =>
      resultsOnWire().find(
        (result) => result.id === unblockEnvelope.fields.id && result.status === "error",
      ),
    );
    expect(answer.error?.code).toBe("E_REPLAY");
    // The lock stays blocked.
    expect(lock.runtime.state().blocked).toBe(true);
    expect(lockRecords("remote.unblocked")).toHaveLength(1);
    // The fleet holds the lock's record, and records the second answer to an answered command.
    await until("the replay record at the fleet", () =>
      world.fleet.app.hub
        .auditRecords(lock.deviceId, 0, 100_000)
        .find((record) => record.hash === rejected.hash),
    );
    const events = world.fleet.app.hub.securityEvents(lock.deviceId);
    expect(JSON.stringify(events)).toContain("E_RESULT_REPLAY");
  });

  it("a forged command envelope (bad signature) is refused by the lock with E_BAD_SIGNATURE, answered and audited", async () => {
    const before = lockRecords("command.rejected").length;
    const fields = unblockEnvelope.fields;
    const original = JSON.parse(unblockEnvelope.raw.toString("utf8")) as SignedEnvelope;
    // A fresh id and a sequence number far ahead, under the fleet's real signature.
    const altered: SignedEnvelope = {
      payload: canonicalJson({ v: 1, ...fields, id: "forged-unblock-1", seq: fields.seq + 1000 }),
      signature: original.signature,
    };
    // Signed by the attacker's own key, claiming the fleet's key id.
    const attackerKey = ed25519.generateKeyPair();
    const selfSigned = signEnvelope(
      {
        ...fields,
        id: "forged-unblock-2",
        seq: fields.seq + 2000,
        issuedAt: world.now(),
        expiresAt: world.now() + 60_000,
      },
      attackerKey.secretKey,
    );
    const cmd = topics.cmd(lock.org, lock.deviceId);
    lock.tap.inject(cmd, JSON.stringify(altered));
    lock.tap.inject(cmd, JSON.stringify(selfSigned));

    const rejected = await until("both forgeries in the lock's audit", () => {
      const records = lockRecords("command.rejected")
        .slice(before)
        .filter((record) => String(record.data.id).startsWith("forged-unblock-"));
      return records.length >= 2 ? records : undefined;
    });
    expect(rejected.map((record) => [record.data.id, record.data.code])).toEqual([
      ["forged-unblock-1", "E_BAD_SIGNATURE"],
      ["forged-unblock-2", "E_BAD_SIGNATURE"],
    ]);
    for (const id of ["forged-unblock-1", "forged-unblock-2"]) {
      const answer = await until(`the lock's answer to ${id}`, () =>
        resultsOnWire().find((result) => result.id === id),
      );
      expect(answer.status).toBe("error");
      expect(answer.error?.code).toBe("E_BAD_SIGNATURE");
    }
    expect(lock.runtime.state().blocked).toBe(true);
    // A forged seq far ahead must not have moved the lock's replay window.
    await remote("remote.unblock");
    expect(lockRecords("remote.unblocked")).toHaveLength(2);
    expect(lock.runtime.state().blocked).toBe(false);
    // The fleet has the lock's records and its own record of answers to commands it never sent.
    const last = rejected[1] as AuditRecord;
    await until("the forgery records at the fleet", () =>
      world.fleet.app.hub
        .auditRecords(lock.deviceId, 0, 100_000)
        .find((record) => record.hash === last.hash),
    );
    const events = JSON.stringify(world.fleet.app.hub.securityEvents(lock.deviceId));
    expect(events).toContain("forged-unblock-1");
    expect(events).toContain("forged-unblock-2");
  });
});

describe("a device publishing under another device's prefix", { timeout: 60_000 }, () => {
  /** Connects with the vault lock's own credentials, as someone who took the device would. */
  async function asVaultLock(credentials: { username: string; password: string }) {
    return mqtt.connectAsync(world.fleet.app.hub.brokerUrl, {
      protocolVersion: 4,
      clientId: vaultLock.deviceId,
      username: credentials.username,
      password: credentials.password,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
  }

  /** Publishes once; the broker answers a refused PUBLISH by closing the connection. */
  async function publishOnce(
    credentials: { username: string; password: string },
    topic: string,
    payload: string | Buffer,
    retain: boolean,
  ): Promise<boolean> {
    const client = await asVaultLock(credentials);
    const closed = new Promise<boolean>((resolve) => client.once("close", () => resolve(true)));
    client.publish(topic, payload, { qos: 1, retain });
    const wasClosed = await Promise.race([closed, wait(5000).then(() => false)]);
    client.end(true);
    return wasClosed;
  }

  function refusals(code: string, topic: string) {
    return world.fleet.app.hub.securityEvents(vaultLock.deviceId).filter((event) => {
      const text = JSON.stringify(event);
      return text.includes(code) && text.includes(topic);
    });
  }

  it("is refused by the broker ACL and recorded; the other lock's state at the fleet is unchanged", async () => {
    // The fleet's view settled on what the lock itself says (unblocked, idle, bolt thrown).
    const stateBefore = await until("the lock's current state at the fleet", () => {
      const state = world.fleet.app.hub.lockState(lock.deviceId);
      return state?.blocked === lock.runtime.state().blocked ? state : undefined;
    });
    expect(stateBefore.blocked).toBe(false);
    // The vault lock is taken off the wall and its credentials used by the attacker.
    const credentials = world.credentialsOf(vaultLock);
    await vaultLock.stop();

    // 1. A retained state for the neighbour: bolt retracted, door open.
    const stateTopic = topics.state(lock.org, lock.deviceId);
    const forgedState = { ...stateBefore, bolt: "retracted", door: "open" };
    expect(await publishOnce(credentials, stateTopic, JSON.stringify(forgedState), true)).toBe(
      true,
    );
    await until(
      "the state refusal among the fleet's security events",
      () => refusals("E_MQTT_PUBLISH_DENIED", stateTopic)[0],
    );

    // 2. A captured, validly signed command published straight onto the neighbour's cmd topic.
    const cmdTopic = topics.cmd(lock.org, lock.deviceId);
    const deliveredBefore = lock.tap.payloadsOn(cmdTopic).length;
    expect(await publishOnce(credentials, cmdTopic, capturedUnblock, false)).toBe(true);
    await until(
      "the command refusal among the fleet's security events",
      () => refusals("E_MQTT_PUBLISH_DENIED", cmdTopic)[0],
    );

    // 3. A subscription to the neighbour's commands.
    const spy = await asVaultLock(credentials);
    // The broker answers the SUBSCRIBE with 0x80 (failure), which mqtt.js raises as an error.
    const subscribed = await spy.subscribeAsync(cmdTopic, { qos: 1 }).then(
      (granted) => granted,
      (error: unknown) => error,
    );
    expect(subscribed).toBeInstanceOf(Error);
    await spy.endAsync(true);
    await until(
      "the subscription refusal recorded",
      () => refusals("E_MQTT_SUBSCRIBE_DENIED", cmdTopic)[0],
    );

    await wait(300);
    // Nothing reached the neighbour lock, and the fleet's view of it did not move.
    expect(lock.tap.payloadsOn(cmdTopic).length).toBe(deliveredBefore);
    const after = world.fleet.app.hub.lockState(lock.deviceId);
    expect(after?.bolt).toBe("thrown");
    expect(after?.door).toBe("closed");
    expect(after?.blocked).toBe(false);
    expect(after?.cycle).toEqual(stateBefore.cycle);
    const device = await world.ok<DeviceView>("securityAdmin", "GET", `devices/${lock.deviceId}`);
    expect(device.state?.bolt).toBe("thrown");
    expect(lock.runtime.state().bolt).toBe("thrown");
    expect(
      verifyAuditChain(world.fleet.app.hub.auditRecords(lock.deviceId, 0, 100_000)),
    ).toBeUndefined();
    // The legitimate lock is still online.
    expect(lock.runtime.online).toBe(true);
    expect(world.fleet.app.hub.device(lock.deviceId)?.availability).toBe("online");
  });
  it("history forged or rewritten with a lock's credentials is refused unsigned; with its key too, by the fleet's chain check; recorded and alarmed", async () => {
    const credentials = world.credentialsOf(vaultLock);
    const hub = world.fleet.app.hub;
    const storedBefore = hub.auditRecords(vaultLock.deviceId, 0, 100_000);
    const first = storedBefore[0];
    const head = storedBefore.at(-1);
    if (first === undefined || head === undefined)
      throw new Error("the vault lock has no audit at the fleet");
    // Seq 1 rewritten, its own hash recomputed: consistent in itself, but not what was stored.
    const { hash: _firstHash, ...firstUnhashed } = first;
    const rewrittenUnhashed = { ...firstUnhashed, data: { ...first.data, rewritten: true } };
    const rewritten: AuditRecord = {
      ...rewrittenUnhashed,
      hash: auditRecordHash(rewrittenUnhashed),
    };
    // A new record after the head whose hash does not match its content.
    const appended: AuditRecord = {
      deviceId: vaultLock.deviceId,
      seq: head.seq + 1,
      at: world.iso(),
      kind: "door.closed",
      actor: null,
      data: {},
      prevHash: head.hash,
      hash: "0".repeat(64),
    };
    const client = await asVaultLock(credentials);
    const eventTopic = topics.event(vaultLock.org, vaultLock.deviceId);
    // With the broker credentials alone: not signed by the lock, refused before it is read.
    await client.publishAsync(eventTopic, JSON.stringify({ type: "audit", records: [rewritten] }), {
      qos: 1,
    });
    await until("the unsigned batch refused and recorded", () =>
      hub
        .securityEvents(vaultLock.deviceId)
        .find((event) => event.kind === "message.forged" && event.reason.startsWith("E_UNSIGNED")),
    );
    // With the device's own key read from its storage: signed, but the chain check holds.
    const key = world.signingKeyOf(vaultLock);
    let seq = Date.now() * 1000;
    const signed = (records: AuditRecord[]) =>
      signDeviceMessage(
        "audit",
        { records },
        { deviceId: vaultLock.deviceId, keyId: key.keyId, secretKey: key.secretKey },
        ++seq,
        world.now(),
      );
    await client.publishAsync(eventTopic, signed([rewritten]), { qos: 1 });
    await client.publishAsync(eventTopic, signed([appended]), { qos: 1 });
    await client.endAsync();

    await until("the rewrite recorded", () =>
      hub
        .securityEvents(vaultLock.deviceId)
        .find((event) => JSON.stringify(event).includes("E_AUDIT_CONFLICT")),
    );
    await until("the broken chain recorded", () =>
      hub
        .securityEvents(vaultLock.deviceId)
        .find((event) => JSON.stringify(event).includes("E_CHAIN_HASH")),
    );
    const storedAfter = hub.auditRecords(vaultLock.deviceId, 0, 100_000);
    expect(storedAfter.map((record) => record.hash)).toEqual(
      storedBefore.map((record) => record.hash),
    );
    expect(verifyAuditChain(storedAfter)).toBeUndefined();
    const tamper = await until("a tamper alarm for the vault lock", async () => {
      const answer = await world.ok<{
        items: Array<{
          deviceId: string;
          kind: string;
          occurrences: number;
          data: Record<string, unknown>;
        }>;
      }>("securityAdmin", "GET", "alarms");
      return answer.items.find(
        (alarm) =>
          alarm.deviceId === vaultLock.deviceId &&
          alarm.kind === "tamper" &&
          alarm.occurrences >= 2,
      );
    });
    // One occurrence per forgery; the latest says which check caught it.
    expect(["E_AUDIT_CONFLICT", "E_CHAIN_HASH"]).toContain(tamper.data.reason);
  });
});
