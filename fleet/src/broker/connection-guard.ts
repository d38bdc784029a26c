/**
 * Limits the embedded broker enforces on every connection before aedes sees its bytes: a
 * client that has not logged in costs the fleet a few kilobytes and a few seconds at most.
 *
 * aedes buffers a packet until its declared length has arrived, so a CONNECT declaring 64 MiB
 * streamed slowly grows the fleet by 64 MiB per connection. The guard reads each packet's fixed
 * header (type byte + remaining length) on the raw stream as it arrives and closes the
 * connection as soon as a declared length exceeds the limit, before anything is buffered.
 */
import type { Duplex } from "node:stream";

export interface BrokerLimits {
  /** Largest packet (fixed header included) an authenticated client may send. */
  maxPacketBytes: number;
  /** Largest CONNECT packet: client id, will, username and password fit easily in this. */
  maxConnectBytes: number;
  /** A connection that has not authenticated after this long is closed (TLS handshake included). */
  connectTimeoutMs: number;
  /** Connections not yet authenticated, all clients together; beyond it new ones are closed at once. */
  maxUnauthenticated: number;
  /** Successful logins per client id within a minute; beyond it the client id is refused. */
  maxLoginsPerClientIdPerMinute: number;
}

/**
 * Defaults: an audit batch of 500 records is the largest message a lock sends (well under
 * 256 KiB), a command envelope is at most 64 KiB; a lock on a slow branch line connects in far
 * less than 10 s; a lock reconnecting with its backoff (1 s doubling) logs in a handful of times
 * a minute at most. After an outage every lock reconnects at once: the cap on connections
 * waiting to log in matches the listen backlog (4096), and bounds what a flood of idle
 * connections costs (each holds at most one CONNECT of 8 KiB, for 10 s).
 */
export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  maxPacketBytes: 256 * 1024,
  maxConnectBytes: 8 * 1024,
  connectTimeoutMs: 10_000,
  maxUnauthenticated: 4096,
  maxLoginsPerClientIdPerMinute: 12,
};

const LOGIN_WINDOW_MS = 60_000;
/** The MQTT CONNECT packet type (upper nibble of the first byte). */
const CONNECT_TYPE = 1;
/** The remaining length is a variable byte integer of at most four bytes (MQTT 3.1.1 §2.2.3). */
const MAX_LENGTH_BYTES = 4;

/**
 * Follows the packet boundaries of one MQTT byte stream, reading only fixed headers. `feed`
 * returns a refusal reason as soon as the stream breaks a limit, else undefined.
 */
export class PacketSizeScanner {
  readonly #limits: Pick<BrokerLimits, "maxPacketBytes" | "maxConnectBytes">;
  #packets = 0;
  #bodyLeft = 0;
  #inLength = false;
  #length = 0;
  #lengthBytes = 0;

  constructor(limits: Pick<BrokerLimits, "maxPacketBytes" | "maxConnectBytes">) {
    this.#limits = limits;
  }

  feed(chunk: Uint8Array): GuardProblem | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.#bodyLeft > 0) {
        const take = Math.min(this.#bodyLeft, chunk.length - i);
        this.#bodyLeft -= take;
        i += take;
        continue;
      }
      const byte = chunk[i] as number;
      i += 1;
      if (!this.#inLength) {
        if (this.#packets === 0 && byte >> 4 !== CONNECT_TYPE) {
          return problem("E_MQTT_PROTOCOL", "the first packet is not a CONNECT");
        }
        this.#inLength = true;
        this.#length = 0;
        this.#lengthBytes = 0;
        continue;
      }
      this.#length += (byte & 0x7f) * 2 ** (7 * this.#lengthBytes);
      this.#lengthBytes += 1;
      if (byte & 0x80) {
        if (this.#lengthBytes >= MAX_LENGTH_BYTES) {
          return problem("E_MQTT_PROTOCOL", "malformed remaining length");
        }
        continue;
      }
      this.#inLength = false;
      const connect = this.#packets === 0;
      const limit = connect ? this.#limits.maxConnectBytes : this.#limits.maxPacketBytes;
      const size = 1 + this.#lengthBytes + this.#length;
      if (size > limit) {
        return problem(
          "E_MQTT_PACKET_TOO_LARGE",
          `${connect ? "CONNECT" : "packet"} declares ${size} bytes, the limit is ${limit}`,
        );
      }
      this.#packets += 1;
      this.#bodyLeft = this.#length;
    }
    return undefined;
  }
}

interface ConnectionState {
  authenticated: boolean;
  timer: NodeJS.Timeout | undefined;
  streams: Duplex[];
  closed: boolean;
}

export type GuardCode =
  | "E_MQTT_PROTOCOL"
  | "E_MQTT_PACKET_TOO_LARGE"
  | "E_MQTT_CONNECT_TIMEOUT"
  | "E_MQTT_TOO_MANY_UNAUTHENTICATED"
  | "E_MQTT_CLIENT_ID_BUSY";

export interface GuardProblem {
  code: GuardCode;
  /** "E_CODE: sentence". */
  reason: string;
}

function problem(code: GuardCode, sentence: string): GuardProblem {
  return { code, reason: `${code}: ${sentence}` };
}

export interface GuardRefusal extends GuardProblem {
  clientId?: string;
  remoteAddress?: string;
}

/**
 * Admission and accounting of the broker's connections. `admit` is called with the accepted
 * TCP socket; `watch` with the stream aedes reads (the same socket, or the TLS socket over it).
 */
export class ConnectionGuard {
  readonly limits: BrokerLimits;
  readonly #onRefused: (refusal: GuardRefusal) => void;
  readonly #states = new WeakMap<Duplex, ConnectionState>();
  /** Recent login times by client id (only ids that passed authentication). */
  readonly #logins = new Map<string, number[]>();
  #loginsSweptAt = 0;
  #unauthenticated = 0;
  /** Refusals by reason code since start (for metrics and tests). */
  readonly refusals = new Map<GuardCode, number>();

  constructor(limits: BrokerLimits, onRefused: (refusal: GuardRefusal) => void) {
    this.limits = limits;
    this.#onRefused = onRefused;
  }

  /** Connections accepted that have not authenticated yet. */
  get unauthenticated(): number {
    return this.#unauthenticated;
  }

  /** Accepts or closes a new connection; false when it was closed. */
  admit(socket: Duplex & { remoteAddress?: string }): boolean {
    if (this.#unauthenticated >= this.limits.maxUnauthenticated) {
      this.#refuse(socket, {
        ...problem(
          "E_MQTT_TOO_MANY_UNAUTHENTICATED",
          `${this.#unauthenticated} connections are waiting to log in (limit ${this.limits.maxUnauthenticated})`,
        ),
        ...remote(socket),
      });
      return false;
    }
    const state: ConnectionState = {
      authenticated: false,
      timer: undefined,
      streams: [socket],
      closed: false,
    };
    this.#unauthenticated += 1;
    this.#states.set(socket, state);
    state.timer = setTimeout(() => {
      if (state.authenticated || state.closed) return;
      this.#refuseState(state, {
        ...problem(
          "E_MQTT_CONNECT_TIMEOUT",
          `not logged in within ${this.limits.connectTimeoutMs} ms`,
        ),
        ...remote(socket),
      });
    }, this.limits.connectTimeoutMs);
    state.timer.unref();
    socket.once("close", () => this.#release(state));
    return true;
  }

  /**
   * Puts the packet-size scanner on the stream aedes will read: `socket` itself, or the TLS
   * socket wrapping it (its decrypted bytes). Must be called before aedes reads from it.
   */
  watch(socket: Duplex, stream: Duplex): void {
    const state = this.#states.get(socket);
    if (state === undefined) return;
    if (stream !== socket) {
      state.streams.push(stream);
      this.#states.set(stream, state);
      stream.once("close", () => this.#release(state));
    }
    const scanner = new PacketSizeScanner(this.limits);
    const push = stream.push;
    // Every chunk read from the network passes through push() into the readable buffer: the
    // scanner sees it first and refuses before a byte of an oversized packet is kept.
    stream.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
      if (chunk instanceof Uint8Array && !state.closed) {
        const found = scanner.feed(chunk);
        if (found !== undefined) {
          this.#refuseState(state, {
            ...found,
            ...remote(socket),
          });
          return false;
        }
      }
      return push.call(stream, chunk, encoding);
    };
  }

  /**
   * Called when a client's credentials were accepted, before it takes over an older connection
   * with the same client id: a client id that logs in more often than the limit within a minute
   * is refused (two holders of one lock's credentials would otherwise push each other off the
   * broker forever). Refused logins by wrong credentials do not count, so nobody without them
   * can keep a lock off the broker this way.
   */
  login(clientId: string, now = Date.now()): GuardProblem | undefined {
    const limit = this.limits.maxLoginsPerClientIdPerMinute;
    const since = now - LOGIN_WINDOW_MS;
    if (now - this.#loginsSweptAt > LOGIN_WINDOW_MS) {
      this.#loginsSweptAt = now;
      for (const [id, times] of this.#logins) {
        if ((times.at(-1) ?? 0) <= since) this.#logins.delete(id);
      }
    }
    const times = (this.#logins.get(clientId) ?? []).filter((at) => at > since);
    if (times.length >= limit) {
      this.#logins.set(clientId, times);
      const found = problem(
        "E_MQTT_CLIENT_ID_BUSY",
        `client id "${clientId.slice(0, 64)}" logged in ${times.length} times within a minute (limit ${limit})`,
      );
      this.#count(found.code);
      return found;
    }
    times.push(now);
    this.#logins.set(clientId, times);
    return undefined;
  }

  /** The connection logged in: the connect timeout and the unauthenticated cap no longer apply. */
  authenticated(stream: Duplex): void {
    const state = this.#states.get(stream);
    if (state === undefined || state.authenticated || state.closed) return;
    state.authenticated = true;
    this.#unauthenticated -= 1;
    if (state.timer !== undefined) clearTimeout(state.timer);
  }

  #release(state: ConnectionState): void {
    if (state.closed) return;
    state.closed = true;
    if (state.timer !== undefined) clearTimeout(state.timer);
    if (!state.authenticated) this.#unauthenticated -= 1;
    for (const stream of state.streams) if (!stream.destroyed) stream.destroy();
  }

  #refuseState(state: ConnectionState, refusal: GuardRefusal): void {
    this.#count(refusal.code);
    this.#onRefused(refusal);
    this.#release(state);
  }

  #refuse(socket: Duplex, refusal: GuardRefusal): void {
    this.#count(refusal.code);
    this.#onRefused(refusal);
    socket.destroy();
  }

  #count(code: GuardCode): void {
    this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1);
  }
}

function remote(socket: Duplex & { remoteAddress?: string }): { remoteAddress?: string } {
  return socket.remoteAddress === undefined ? {} : { remoteAddress: socket.remoteAddress };
}
