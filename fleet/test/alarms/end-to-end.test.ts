/**
 * End to end over real sockets: a lock publishes a duress alarm over MQTT to the fleet's
 * broker; the fleet stores it once, shows it to the bank and not to the CIT company, forwards
 * it to a webhook and to a syslog collector (TCP, octet counting), and escalates it while
 * nobody acknowledges it.
 */
import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
import { ALARM_PRIORITY, type Alarm, topics } from "@lockfleet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SyslogForwarder } from "../../src/alarms/forwarding/syslog.js";
import { WebhookForwarder } from "../../src/alarms/forwarding/webhook.js";
import { SimulatedLock } from "../devices/simulated-lock.js";
import { createFixture, type Fixture } from "../fixtures.js";

const MINUTE = 60_000;
let f: Fixture;
let lock: SimulatedLock;
const webhookBodies: string[] = [];
let syslogStream = "";
let webhookServer: Server;
const syslogServer = createTcpServer((socket) => {
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    syslogStream += chunk;
  });
});

/** The registered alarm service plugin (fastify-plugin names it). */
async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  webhookServer = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8");
    });
    request.on("end", () => {
      webhookBodies.push(body);
      response.end();
    });
  });
  await new Promise<void>((resolve) => webhookServer.listen(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => syslogServer.listen(0, "127.0.0.1", resolve));
  const settings = {
    escalation: {
      afterMs: { critical: 2 * MINUTE, high: 5 * MINUTE, medium: 10 * MINUTE, low: 60 * MINUTE },
      repeatMs: 5 * MINUTE,
      maxLevel: 2,
    },
    forwarders: [
      new WebhookForwarder({
        url: `http://127.0.0.1:${(webhookServer.address() as AddressInfo).port}/soc`,
        baseDelayMs: 20,
      }),
      new SyslogForwarder({
        transport: "tcp",
        host: "127.0.0.1",
        port: (syslogServer.address() as AddressInfo).port,
        facility: "local4",
      }),
    ],
    checks: {},
  };
  f = await createFixture({ startAt: Date.now(), app: { alarmSettings: settings } });
  lock = new SimulatedLock();
  const { token } = f.app.hub.createEnrolmentToken({
    orgId: f.bank.id,
    containerId: f.container.id,
    ttlMs: 60_000,
    createdBy: f.accounts.securityAdmin.person.id,
  });
  lock.accept(await f.app.hub.enrol(lock.enrolmentRequest(token)));
  await lock.connect();
});

afterAll(async () => {
  await lock?.disconnect().catch(() => undefined);
  await f?.close();
  await new Promise<void>((resolve) => webhookServer.close(() => resolve()));
  await new Promise<void>((resolve) => syslogServer.close(() => resolve()));
});

describe("a duress alarm from a lock over MQTT", () => {
  it("is stored once, shown to the bank only, forwarded, and escalated while unacknowledged", async () => {
    const alarm: Alarm = {
      deviceId: lock.deviceId,
      alarm: "forcedUser",
      priority: ALARM_PRIORITY.forcedUser,
      at: new Date().toISOString(),
      auditSeq: 1,
      actor: "per_teller",
      data: { slot: 3 },
    };
    // sent twice, as QoS 1 may deliver it: still one alarm, one occurrence
    await lock.publish(topics.event(lock.org, lock.deviceId), { type: "alarm", alarm });
    await lock.publish(topics.event(lock.org, lock.deviceId), { type: "alarm", alarm });
    await until(
      () => f.app.alarms.list({ kind: "bank", orgId: f.bank.id }).items.length > 0,
      "the alarm",
    );
    await new Promise((resolve) => setTimeout(resolve, 200));

    const bank = await f.app.inject({
      method: "GET",
      url: "/api/v1/alarms",
      headers: f.as("securityAdmin"),
    });
    const [stored, ...others] = bank.json().items;
    expect(others).toEqual([]);
    expect(stored).toMatchObject({
      kind: "forcedUser",
      priority: "critical",
      occurrences: 1,
      actor: "per_teller",
      containerId: f.container.id,
    });
    const cit = await f.app.inject({
      method: "GET",
      url: "/api/v1/alarms",
      headers: f.as("citDispatcher"),
    });
    expect(cit.json().items).toEqual([]);

    await until(() => webhookBodies.length >= 1 && syslogStream.length > 0, "forwarding");
    expect(JSON.parse(webhookBodies[0] ?? "{}")).toMatchObject({
      event: "raised",
      alarm: { id: stored.id, kind: "forcedUser" },
    });
    // local4 (20) · 8 + alert (1) = 161
    expect(syslogStream).toMatch(
      new RegExp(
        `^\\d+ <161>1 \\S+ \\S+ lockfleet \\S+ alarm \\[lockfleet@32473 event="raised" alarmId="${stored.id}"`,
      ),
    );

    f.clock.advance(2 * MINUTE);
    // the service's own timer may get there first; either way the alarm climbs one level
    f.app.alarms.escalateDue();
    const bankScope = { kind: "bank" as const, orgId: f.bank.id };
    expect(f.app.alarms.get(stored.id, bankScope).escalationLevel).toBe(1);
    await until(() => webhookBodies.length >= 2, "the escalation notice");
    expect(JSON.parse(webhookBodies[1] ?? "{}")).toMatchObject({
      event: "escalated",
      alarm: { escalationLevel: 1 },
    });

    const ack = await f.app.inject({
      method: "POST",
      url: `/api/v1/alarms/${stored.id}/ack`,
      headers: f.as("securityAdmin"),
      payload: { comment: "police on site, staff safe" },
    });
    expect(ack.statusCode).toBe(200);
    f.clock.advance(60 * MINUTE);
    expect(f.app.alarms.escalateDue()).toEqual([]);
    await until(() => webhookBodies.length >= 3, "the acknowledgement notice");
    expect(JSON.parse(webhookBodies[2] ?? "{}")).toMatchObject({
      event: "acknowledged",
      alarm: { ackComment: "police on site, staff safe" },
    });
  });
});
