/**
 * An attacker on the wire between a lock and the broker: a TCP relay that frames the MQTT
 * packets flowing both ways, records every PUBLISH it sees (topic and payload, as an
 * eavesdropper would), and can slip PUBLISH packets of its own into the stream towards the
 * lock between two real packets. The lock cannot tell an injected packet from one the broker sent: only the
 * envelope's signature, device id, expiry and sequence number protect it.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

export interface TappedPublish {
  topic: string;
  payload: Buffer;
}

const PUBLISH = 3;

/** MQTT's variable-length "remaining length" (1–4 bytes). */
function encodeLength(length: number): Buffer {
  const bytes: number[] = [];
  let rest = length;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0);
  return Buffer.from(bytes);
}

/** A QoS 0 PUBLISH packet (MQTT 3.1.1 §3.3). */
export function publishPacket(topic: string, payload: Buffer | string): Buffer {
  const topicBytes = Buffer.from(topic, "utf8");
  const body = Buffer.from(payload);
  const topicLength = Buffer.alloc(2);
  topicLength.writeUInt16BE(topicBytes.length);
  const remaining = 2 + topicBytes.length + body.length;
  return Buffer.concat([
    Buffer.from([PUBLISH << 4]),
    encodeLength(remaining),
    topicLength,
    topicBytes,
    body,
  ]);
}

/** Splits a byte stream into whole MQTT packets; keeps the unfinished tail. */
class PacketFramer {
  #pending = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.#pending = Buffer.concat([this.#pending, chunk]);
    const packets: Buffer[] = [];
    for (;;) {
      const header = this.#header();
      if (header === undefined || this.#pending.length < header.total) break;
      packets.push(this.#pending.subarray(0, header.total));
      this.#pending = this.#pending.subarray(header.total);
    }
    return packets;
  }

  #header(): { total: number } | undefined {
    let remaining = 0;
    let multiplier = 1;
    for (let index = 1; index <= 4; index++) {
      const byte = this.#pending[index];
      if (byte === undefined) return undefined;
      remaining += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      if ((byte & 0x80) === 0) return { total: 1 + index + remaining };
    }
    throw new Error("E_TAP_FRAMING: malformed remaining length in the broker's stream");
  }
}

function readPublish(packet: Buffer): TappedPublish | undefined {
  const first = packet[0] ?? 0;
  if (first >> 4 !== PUBLISH) return undefined;
  const qos = (first >> 1) & 0x03;
  let offset = 1;
  while (((packet[offset] ?? 0) & 0x80) !== 0) offset += 1;
  offset += 1;
  const topicLength = packet.readUInt16BE(offset);
  offset += 2;
  const topic = packet.subarray(offset, offset + topicLength).toString("utf8");
  offset += topicLength + (qos > 0 ? 2 : 0);
  return { topic, payload: Buffer.from(packet.subarray(offset)) };
}

interface Relay {
  toLock: Socket;
  toBroker: Socket;
}

export class MqttTap {
  /** Every PUBLISH the broker sent towards the lock, in order. */
  readonly seen: TappedPublish[] = [];
  /** Every PUBLISH the lock sent towards the broker, in order. */
  readonly sent: TappedPublish[] = [];
  readonly #brokerHost: string;
  readonly #brokerPort: number;
  readonly #relays = new Set<Relay>();
  #server: Server | undefined;
  #port = 0;
  #cut = false;

  constructor(brokerUrl: string) {
    const url = new URL(brokerUrl);
    this.#brokerHost = url.hostname;
    this.#brokerPort = Number(url.port);
  }

  /** Where the lock should connect instead of the broker. */
  get url(): string {
    return `mqtt://127.0.0.1:${this.#port}`;
  }

  async listen(): Promise<this> {
    const server = createServer((toLock) => this.#relay(toLock));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    this.#port = typeof address === "object" && address !== null ? address.port : 0;
    this.#server = server;
    return this;
  }

  #relay(toLock: Socket): void {
    if (this.#cut) {
      toLock.destroy();
      return;
    }
    const toBroker = tcpConnect({ host: this.#brokerHost, port: this.#brokerPort });
    const relay: Relay = { toLock, toBroker };
    this.#relays.add(relay);
    const framer = new PacketFramer();
    const upstream = new PacketFramer();
    toLock.on("data", (chunk) => {
      for (const packet of upstream.push(chunk)) {
        const publish = readPublish(packet);
        if (publish !== undefined) this.sent.push(publish);
        toBroker.write(packet);
      }
    });
    toBroker.on("data", (chunk) => {
      for (const packet of framer.push(chunk)) {
        const publish = readPublish(packet);
        if (publish !== undefined) this.seen.push(publish);
        toLock.write(packet);
      }
    });
    const end = () => {
      this.#relays.delete(relay);
      toLock.destroy();
      toBroker.destroy();
    };
    toLock.on("close", end);
    toBroker.on("close", end);
    toLock.on("error", end);
    toBroker.on("error", end);
  }

  /** The payloads seen on `topic`, oldest first. */
  payloadsOn(topic: string): Buffer[] {
    return this.seen.filter((publish) => publish.topic === topic).map((publish) => publish.payload);
  }

  /** Slips a PUBLISH into every live connection towards the lock; returns how many got it. */
  inject(topic: string, payload: Buffer | string): number {
    const packet = publishPacket(topic, payload);
    let delivered = 0;
    for (const relay of this.#relays) {
      if (relay.toLock.destroyed) continue;
      relay.toLock.write(packet);
      delivered += 1;
    }
    return delivered;
  }

  /** Cuts the link like a pulled cable: live connections drop, new ones fail until `restore`. */
  cut(): void {
    this.#cut = true;
    for (const relay of this.#relays) {
      relay.toLock.destroy();
      relay.toBroker.destroy();
    }
  }

  restore(): void {
    this.#cut = false;
  }

  async close(): Promise<void> {
    for (const relay of this.#relays) {
      relay.toLock.destroy();
      relay.toBroker.destroy();
    }
    this.#relays.clear();
    const server = this.#server;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
