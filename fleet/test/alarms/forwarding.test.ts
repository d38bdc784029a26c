import { createHmac } from "node:crypto";
import { createSocket } from "node:dgram";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer as createTcpServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { FleetAlarm } from "../../src/alarms/alarm.js";
import { AlarmService } from "../../src/alarms/alarm-service.js";
import type { AlarmNotice } from "../../src/alarms/forwarding/forwarder.js";
import {
  escapeParamValue,
  formatSyslog,
  SyslogForwarder,
} from "../../src/alarms/forwarding/syslog.js";
import { backoffDelay, WebhookForwarder } from "../../src/alarms/forwarding/webhook.js";
import { FleetStore } from "../../src/storage/fleet-store.js";
import { insertDevice, manualClock, openFixtureDatabase } from "./fixtures.js";

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function sampleAlarm(overrides: Partial<FleetAlarm> = {}): FleetAlarm {
  return {
    id: "alm_0123456789abcdef",
    orgId: "org_bank",
    deviceId: "lock-aaaaaaaaaaaa",
    containerId: "ctr_atm",
    kind: "doorForcedOpen",
    priority: "critical",
    source: "device",
    status: "open",
    raisedAt: "2026-11-23T10:00:00.000Z",
    lastSeenAt: "2026-11-23T10:00:00.000Z",
    occurrences: 1,
    auditSeq: 5,
    actor: null,
    data: {},
    clearedAt: null,
    acknowledgedAt: null,
    acknowledgedBy: null,
    ackComment: null,
    escalationLevel: 0,
    escalatedAt: null,
    nextEscalationAt: null,
    ...overrides,
  };
}

const notice = (alarm = sampleAlarm(), event: AlarmNotice["event"] = "raised"): AlarmNotice => ({
  event,
  alarm,
  sentAt: "2026-11-23T10:00:01.000Z",
});

interface Received {
  at: number;
  body: string;
  headers: IncomingMessage["headers"];
}

/** A real HTTP receiver on port 0 answering each request with the next status of `statuses`. */
async function webhookReceiver(statuses: number[]) {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({
        at: Date.now(),
        body: Buffer.concat(chunks).toString("utf8"),
        headers: request.headers,
      });
      response.statusCode = statuses[received.length - 1] ?? 200;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/alarms`, received };
}

describe("webhook forwarding", () => {
  it("backoff doubles from the base delay and stops at the cap", () => {
    expect([1, 2, 3, 4, 5].map((retry) => backoffDelay(retry, 100, 1000))).toEqual([
      100, 200, 400, 800, 1000,
    ]);
  });

  it("retries a failing receiver with growing delays until it takes the notice", async () => {
    const receiver = await webhookReceiver([503, 500, 200]);
    const retries: number[] = [];
    const webhook = new WebhookForwarder({
      url: receiver.url,
      attempts: 4,
      baseDelayMs: 40,
      onRetry: (_attempt, delay) => retries.push(delay),
    });
    await webhook.forward(notice());
    expect(receiver.received).toHaveLength(3);
    expect(retries).toEqual([40, 80]);
    const [first, second, third] = receiver.received.map((r) => r.at);
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(35);
    expect((third ?? 0) - (second ?? 0)).toBeGreaterThanOrEqual(75);
    const body = JSON.parse(receiver.received[2]?.body ?? "{}") as AlarmNotice;
    expect(body).toMatchObject({
      event: "raised",
      alarm: { id: "alm_0123456789abcdef", kind: "doorForcedOpen" },
    });
    expect(receiver.received[0]?.headers["content-type"]).toBe("application/json");
  });

  it("gives up after the last attempt with an error naming the target", async () => {
    const receiver = await webhookReceiver([503, 503, 503]);
    const webhook = new WebhookForwarder({ url: receiver.url, attempts: 3, baseDelayMs: 5 });
    await expect(webhook.forward(notice())).rejects.toThrow(
      /E_FORWARD_FAILED: webhook .* 3 attempts \(last: HTTP 503\)/,
    );
    expect(receiver.received).toHaveLength(3);
  });

  it("a receiver that refuses the notice (4xx) is not retried", async () => {
    const receiver = await webhookReceiver([400]);
    const webhook = new WebhookForwarder({ url: receiver.url, attempts: 5, baseDelayMs: 5 });
    await expect(webhook.forward(notice())).rejects.toThrow(/E_FORWARD_REFUSED/);
    expect(receiver.received).toHaveLength(1);
  });

  it("signs the body so the receiver can tell the notice came from this fleet", async () => {
    const receiver = await webhookReceiver([200]);
    await new WebhookForwarder({ url: receiver.url, secret: "shared-secret" }).forward(notice());
    const [request] = receiver.received;
    const expected = createHmac("sha256", "shared-secret")
      .update(request?.body ?? "")
      .digest("hex");
    expect(request?.headers["x-lockfleet-signature"]).toBe(`sha256=${expected}`);
  });

  it("the alarm's history records the delivery and the failure", async () => {
    const good = await webhookReceiver([200]);
    const bad = await webhookReceiver([404]);
    const fixture = openFixtureDatabase();
    cleanup.push(() => fixture.close());
    insertDevice(fixture.db, {
      deviceId: "lock-aaaaaaaaaaaa",
      orgId: "org_bank",
      containerId: "ctr_atm",
    });
    const alarms = new AlarmService({
      store: new FleetStore(fixture.db),
      clock: manualClock().now,
      forwarders: [
        new WebhookForwarder({ url: good.url, baseDelayMs: 5 }),
        new WebhookForwarder({ url: bad.url, baseDelayMs: 5 }),
      ],
    });
    cleanup.push(() => alarms.close());
    const { alarm } = alarms.raise({
      deviceId: "lock-aaaaaaaaaaaa",
      kind: "forcedUser",
      source: "device",
      at: "2026-11-23T10:00:00.000Z",
    });
    await alarms.flushForwards();
    const history = alarms.history(alarm.id, { kind: "bank", orgId: "org_bank" });
    expect(history.filter((h) => h.event === "forwarded").map((h) => h.data.target)).toEqual([
      `webhook ${good.url}`,
    ]);
    expect(history.filter((h) => h.event === "forwardFailed").map((h) => h.data.target)).toEqual([
      `webhook ${bad.url}`,
    ]);
    expect(JSON.parse(good.received[0]?.body ?? "{}")).toMatchObject({
      alarm: { kind: "forcedUser", priority: "critical" },
    });
  });
});

/** RFC 5424 parser for the tests: header fields, structured data elements, message. */
function parseSyslog(line: string) {
  const header = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(line);
  if (header === null) throw new Error(`not RFC 5424: ${line}`);
  let rest = line.slice(header[0].length);
  const elements: Record<string, Record<string, string>> = {};
  if (rest.startsWith("-")) rest = rest.slice(1);
  while (rest.startsWith("[")) {
    const idMatch = /^\[([^ \]=]+)/.exec(rest);
    if (idMatch?.[1] === undefined) throw new Error("bad SD-ID");
    rest = rest.slice(idMatch[0].length);
    const params: Record<string, string> = {};
    for (;;) {
      const param = /^ ([^ =\]"]+)="((?:[^"\\\]]|\\["\\\]])*)"/.exec(rest);
      if (param === null) break;
      params[param[1] ?? ""] = (param[2] ?? "").replace(/\\(["\\\]])/g, "$1");
      rest = rest.slice(param[0].length);
    }
    if (!rest.startsWith("]")) throw new Error(`unterminated SD element at ${rest}`);
    rest = rest.slice(1);
    elements[idMatch[1]] = params;
  }
  if (rest !== "" && !rest.startsWith(" ")) throw new Error("no space before MSG");
  const pri = Number(header[1]);
  return {
    facility: Math.floor(pri / 8),
    severity: pri % 8,
    timestamp: header[2],
    hostname: header[3],
    appName: header[4],
    procId: header[5],
    msgId: header[6],
    sd: elements,
    msg: rest.slice(1),
  };
}

describe("syslog RFC 5424", () => {
  it("a forced door on facility local4 is PRI 162 (20·8 + critical) with the alarm in structured data", () => {
    const line = formatSyslog(notice(), {
      facility: 20,
      hostname: "fleet-1",
      appName: "lockfleet",
      procId: "42",
    });
    expect(
      line.startsWith(
        "<162>1 2026-11-23T10:00:01.000Z fleet-1 lockfleet 42 alarm [lockfleet@32473 ",
      ),
    ).toBe(true);
    const parsed = parseSyslog(line);
    expect(parsed).toMatchObject({ facility: 20, severity: 2, msgId: "alarm" });
    expect(parsed.sd["lockfleet@32473"]).toMatchObject({
      event: "raised",
      alarmId: "alm_0123456789abcdef",
      kind: "doorForcedOpen",
      deviceId: "lock-aaaaaaaaaaaa",
      level: "0",
    });
    expect(parsed.msg).toBe("\uFEFFalarm doorForcedOpen (critical) on lock-aaaaaaaaaaaa");
  });

  it("duress is severity alert; an acknowledgement is a notice", () => {
    const duress = parseSyslog(
      formatSyslog(notice(sampleAlarm({ kind: "forcedUser" })), { facility: 16 }),
    );
    expect(duress.severity).toBe(1);
    expect(duress.facility).toBe(16);
    const ack = parseSyslog(
      formatSyslog(
        notice(sampleAlarm({ acknowledgedBy: "usr_o", ackComment: "ok" }), "acknowledged"),
        { facility: 16 },
      ),
    );
    expect(ack.severity).toBe(5);
  });

  it('escapes ", \\ and ] in parameter values so the line parses back to the same values', () => {
    expect(escapeParamValue('a"b\\c]d')).toBe('a\\"b\\\\c\\]d');
    const comment = 'said "open" [sic] \\ then]';
    const line = formatSyslog(
      notice(sampleAlarm({ acknowledgedBy: comment, ackComment: "line\nbreak" }), "acknowledged"),
      { facility: 16 },
    );
    const parsed = parseSyslog(line);
    expect(parsed.sd["lockfleet@32473"]?.acknowledgedBy).toBe(comment);
    expect(parsed.msg).not.toContain("\n");
  });

  it("refuses a facility outside 0–23", () => {
    expect(() => formatSyslog(notice(), { facility: 24 })).toThrow(/E_SYSLOG_FACILITY/);
  });

  it("sends one message per UDP datagram to a real socket", async () => {
    const server = createSocket("udp4");
    const datagrams: string[] = [];
    const arrived = new Promise<void>((resolve) =>
      server.on("message", (message) => {
        datagrams.push(message.toString("utf8"));
        resolve();
      }),
    );
    await new Promise<void>((resolve) => server.bind(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const forwarder = new SyslogForwarder({
      transport: "udp",
      host: "127.0.0.1",
      port: server.address().port,
      facility: "local3",
      hostname: "fleet-1",
    });
    await forwarder.forward(notice(sampleAlarm({ kind: "tamper", priority: "high" })));
    await arrived;
    const parsed = parseSyslog(datagrams[0] ?? "");
    expect(parsed).toMatchObject({ facility: 19, severity: 3, hostname: "fleet-1" });
    expect(parsed.sd["lockfleet@32473"]?.kind).toBe("tamper");
  });

  it("frames TCP messages with octet counting, byte lengths included for UTF-8", async () => {
    const chunks: Buffer[] = [];
    let gotAll: () => void = () => {};
    const complete = new Promise<void>((resolve) => {
      gotAll = resolve;
    });
    const server = createTcpServer((socket) => {
      socket.on("data", (chunk) => {
        chunks.push(chunk);
        if (frames(Buffer.concat(chunks)).length === 2) gotAll();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const forwarder = new SyslogForwarder({
      transport: "tcp",
      host: "127.0.0.1",
      port: (server.address() as AddressInfo).port,
      facility: "local0",
    });
    cleanup.push(() => forwarder.close());
    await forwarder.forward(notice());
    await forwarder.forward(
      notice(
        sampleAlarm({ acknowledgedBy: "usr_ö", ackComment: "Tür geschlossen" }),
        "acknowledged",
      ),
    );
    await complete;
    const [first, second] = frames(Buffer.concat(chunks)).map(parseSyslog);
    expect(first?.sd["lockfleet@32473"]?.event).toBe("raised");
    expect(first?.facility).toBe(16);
    expect(second?.msg).toBe(
      "\uFEFFalarm doorForcedOpen on lock-aaaaaaaaaaaa acknowledged: Tür geschlossen",
    );
    expect(second?.sd["lockfleet@32473"]?.acknowledgedBy).toBe("usr_ö");
  });

  it("a collector that is not listening fails the forward with a clear error", async () => {
    const server = createTcpServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const forwarder = new SyslogForwarder({ transport: "tcp", host: "127.0.0.1", port });
    await expect(forwarder.forward(notice())).rejects.toThrow(
      /E_FORWARD_FAILED: syslog tcp 127.0.0.1/,
    );
  });
});

/** Splits an RFC 6587 octet-counted stream into messages; checks each length is exact. */
function frames(stream: Buffer): string[] {
  const messages: string[] = [];
  let offset = 0;
  while (offset < stream.length) {
    const space = stream.indexOf(0x20, offset);
    if (space < 0) break;
    const length = Number(stream.subarray(offset, space).toString("ascii"));
    if (!Number.isInteger(length) || space + 1 + length > stream.length) break;
    messages.push(stream.subarray(space + 1, space + 1 + length).toString("utf8"));
    offset = space + 1 + length;
  }
  return messages;
}

describe("shutting down", () => {
  it("cuts a webhook's waiting retries short instead of hanging", async () => {
    const receiver = await webhookReceiver([503, 503, 503, 503]);
    const webhook = new WebhookForwarder({ url: receiver.url, attempts: 4, baseDelayMs: 10_000 });
    const sending = webhook.forward(notice());
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await webhook.close();
    await expect(sending).rejects.toThrow(/E_FORWARD_ABORTED/);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(receiver.received).toHaveLength(1);
  });
});
