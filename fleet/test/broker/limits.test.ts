/**
 * The embedded broker's connection limits under attack, over real sockets, with the broker in
 * its own process (broker-process.ts) so its memory is measured from outside the attack: a
 * CONNECT declaring 64 MiB streamed slowly, logins that never finish, a flood of idle
 * connections, a burst of connections presenting one client id. Each test shows the broker
 * closes the attackers and its memory stays flat (a generous bound over the baseline).
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import { connectAsync } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";

const SCRIPT = fileURLToPath(new URL("./broker-process.ts", import.meta.url));
const MiB = 1024 * 1024;
/** Growth of the broker process's RSS the tests tolerate; the unguarded attack grew it by >200 MiB. */
const RSS_BOUND = 40 * MiB;

interface Memory {
  rss: number;
  heapUsed: number;
  unauthenticated: number;
  clients: number;
  refusals: Record<string, number>;
}

interface BrokerProcess {
  url: string;
  port: number;
  memory(): Promise<Memory>;
  close(): Promise<void>;
}

const running: BrokerProcess[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const broker of running.splice(0)) await broker.close();
});

async function startBrokerProcess(limits: Record<string, number>): Promise<BrokerProcess> {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [
      "--expose-gc",
      "--conditions=@lockfleet/source",
      "--import",
      import.meta.resolve("tsx"),
      SCRIPT,
      JSON.stringify(limits),
    ],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const lines: Interface = createInterface({ input: child.stdout });
  const waiting: Array<(line: string) => void> = [];
  lines.on("line", (line) => waiting.shift()?.(line));
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      waiting.push(resolve);
      child.once("exit", (code) => reject(new Error(`broker process exited ${code}: ${stderr}`)));
    });
  const { url } = JSON.parse(await nextLine()) as { url: string };
  const broker: BrokerProcess = {
    url,
    port: Number(new URL(url).port),
    async memory() {
      const line = nextLine();
      child.stdin.write("mem\n");
      return JSON.parse(await line) as Memory;
    },
    async close() {
      child.stdin.write("exit\n");
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) resolve();
        else child.once("exit", () => resolve());
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      });
    },
  };
  running.push(broker);
  return broker;
}

function remainingLength(length: number): Buffer {
  const bytes: number[] = [];
  let left = length;
  do {
    let byte = left % 128;
    left = Math.floor(left / 128);
    if (left > 0) byte |= 0x80;
    bytes.push(byte);
  } while (left > 0);
  return Buffer.from(bytes);
}

function mqttString(text: string): Buffer {
  const bytes = Buffer.from(text, "utf8");
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** An MQTT 3.1.1 CONNECT with username and password, clean session, keepalive 60 s. */
function connectPacket(clientId: string, username: string, password: string): Buffer {
  const variable = Buffer.concat([mqttString("MQTT"), Buffer.from([4, 0xc2, 0, 60])]);
  const payload = Buffer.concat([mqttString(clientId), mqttString(username), mqttString(password)]);
  const body = Buffer.concat([variable, payload]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    sockets.push(socket);
    socket.on("error", () => {});
    socket.once("connect", () => resolve(socket));
    socket.once("close", () => reject(new Error("closed before connecting")));
  });
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed || socket.readyState === "closed") resolve();
    else socket.once("close", () => resolve());
  });
}

/** Streams `total` bytes in `chunk`-sized writes every `everyMs` until the broker closes the socket. */
function streamSlowly(socket: Socket, total: number, chunk: number, everyMs: number): void {
  let sent = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || sent >= total) {
      clearInterval(timer);
      return;
    }
    const size = Math.min(chunk, total - sent);
    socket.write(Buffer.alloc(size, 0x41));
    sent += size;
  }, everyMs);
  socket.once("close", () => clearInterval(timer));
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("embedded broker limits (broker in its own process, attacked over TCP)", () => {
  it("maximum packet size: a CONNECT declaring 64 MiB streamed slowly is closed before it is buffered, memory stays flat", async () => {
    const broker = await startBrokerProcess({ connectTimeoutMs: 30_000 });
    const baseline = await broker.memory();
    const attackers = await Promise.all([1, 2, 3, 4].map(() => openSocket(broker.port)));
    for (const socket of attackers) {
      socket.write(Buffer.concat([Buffer.from([0x10]), remainingLength(64 * MiB)]));
      streamSlowly(socket, 64 * MiB, 256 * 1024, 20);
    }
    await Promise.all(attackers.map(closed));
    const after = await broker.memory();
    expect(after.refusals.E_MQTT_PACKET_TOO_LARGE).toBe(4);
    expect(after.unauthenticated).toBe(0);
    expect(after.rss - baseline.rss).toBeLessThan(RSS_BOUND);
  });

  it("maximum packet size: a logged-in lock declaring a PUBLISH over the limit is disconnected", async () => {
    const broker = await startBrokerProcess({ maxPacketBytes: 64 * 1024 });
    const baseline = await broker.memory();
    const socket = await openSocket(broker.port);
    const connack = new Promise<Buffer>((resolve) => socket.once("data", resolve));
    socket.write(connectPacket("lock-1", "lock-1", "lock-1-password"));
    expect([...(await connack)]).toEqual([0x20, 2, 0, 0]); // CONNACK accepted
    const topic = mqttString("lockfleet/v1/org-a/lock-1/event");
    socket.write(Buffer.concat([Buffer.from([0x30]), remainingLength(32 * MiB), topic]));
    streamSlowly(socket, 32 * MiB, 256 * 1024, 20);
    await closed(socket);
    const after = await broker.memory();
    expect(after.refusals.E_MQTT_PACKET_TOO_LARGE).toBe(1);
    expect(after.rss - baseline.rss).toBeLessThan(RSS_BOUND);
  });

  it("connect timeout: connections that never finish logging in are closed, memory stays flat", async () => {
    const broker = await startBrokerProcess({ connectTimeoutMs: 1_500 });
    const baseline = await broker.memory();
    const slowLogins = await Promise.all(Array.from({ length: 40 }, () => openSocket(broker.port)));
    for (const socket of slowLogins) {
      // a CONNECT within the size limit that arrives one byte at a time, never completed
      socket.write(Buffer.concat([Buffer.from([0x10]), remainingLength(4_000)]));
      streamSlowly(socket, 4_000, 1, 200);
    }
    const silent = await Promise.all(Array.from({ length: 40 }, () => openSocket(broker.port)));
    await Promise.all([...slowLogins, ...silent].map(closed));
    const after = await broker.memory();
    expect(after.refusals.E_MQTT_CONNECT_TIMEOUT).toBe(80);
    expect(after.unauthenticated).toBe(0);
    expect(after.rss - baseline.rss).toBeLessThan(RSS_BOUND);
  });

  it("cap on unauthenticated connections: beyond it new connections are closed at once, memory stays flat, a lock gets in once they are gone", async () => {
    const broker = await startBrokerProcess({ maxUnauthenticated: 50, connectTimeoutMs: 60_000 });
    const baseline = await broker.memory();
    const flood: Socket[] = [];
    for (let i = 0; i < 300; i += 1) {
      const socket = connect({ port: broker.port, host: "127.0.0.1" });
      socket.on("error", () => {});
      sockets.push(socket);
      flood.push(socket);
    }
    await until(() => flood.filter((s) => s.destroyed).length >= 250, 15_000, "250 refusals");
    const during = await broker.memory();
    expect(during.unauthenticated).toBe(50);
    expect(during.refusals.E_MQTT_TOO_MANY_UNAUTHENTICATED).toBe(250);
    expect(during.rss - baseline.rss).toBeLessThan(RSS_BOUND);
    // the 50 that got in are still open: only the connect timeout (60 s here) ends them
    expect(flood.filter((s) => !s.destroyed)).toHaveLength(50);

    for (const socket of flood) socket.destroy();
    await until(async () => (await broker.memory()).unauthenticated === 0, 5_000, "slots freed");
    const lock = await connectAsync(broker.url, {
      clientId: "lock-1",
      username: "lock-1",
      password: "lock-1-password",
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    expect(lock.connected).toBe(true);
    await lock.endAsync();
  });

  it("cap on logins per client id: a clone of a lock's credentials logging in again and again is refused beyond the cap, other locks are not affected", async () => {
    const broker = await startBrokerProcess({ maxLoginsPerClientIdPerMinute: 5 });
    const baseline = await broker.memory();
    const returnCodes: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      const socket = await openSocket(broker.port);
      const connack = new Promise<Buffer>((resolve) => socket.once("data", resolve));
      socket.write(connectPacket("lock-1", "lock-1", "lock-1-password"));
      returnCodes.push((await connack)[3] as number);
    }
    // five logins take each other's place; the rest are refused (not authorized)
    expect(returnCodes.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(new Set(returnCodes.slice(5))).toEqual(new Set([5]));
    const after = await broker.memory();
    expect(after.refusals.E_MQTT_CLIENT_ID_BUSY).toBe(25);
    expect(after.rss - baseline.rss).toBeLessThan(RSS_BOUND);
    // wrong passwords never count, and another lock logs in as usual
    const other = await connectAsync(broker.url, {
      clientId: "lock-2",
      username: "lock-2",
      password: "lock-2-password",
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    expect(other.connected).toBe(true);
    await other.endAsync();
  });
});
