/**
 * A TCP relay between the device and the broker (port 0) that the test can cut and restore,
 * to take a lock offline without touching a shared broker (Mosquitto) or the device, or hold
 * back what the broker sends to the device and deliver it later (a network that delays).
 */

import type { AddressInfo } from "node:net";
import { connect, createServer, type Server, type Socket } from "node:net";

export class LinkProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  /** Broker → device legs, as (upstream, client). */
  readonly #downstream = new Map<Socket, Socket>();
  #holding = false;
  #server: Server | undefined;
  #up = true;
  url = "";

  constructor(targetUrl: string) {
    const parsed = new URL(targetUrl);
    this.#target = { host: parsed.hostname, port: Number(parsed.port || 1883) };
  }

  async listen(): Promise<string> {
    const server = createServer((client) => {
      if (!this.#up) {
        client.destroy();
        return;
      }
      const upstream = connect(this.#target);
      this.#sockets.add(client);
      this.#sockets.add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
      };
      client.on("error", drop);
      upstream.on("error", drop);
      client.on("close", drop);
      upstream.on("close", drop);
      client.pipe(upstream);
      this.#downstream.set(upstream, client);
      upstream.on("close", () => this.#downstream.delete(upstream));
      if (!this.#holding) upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.#server = server;
    this.url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** Cuts every connection (no MQTT DISCONNECT: the broker sends the last will) and refuses new ones. */
  cut(): void {
    this.#up = false;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  restore(): void {
    this.#up = true;
  }

  /** Holds back everything the broker sends to the device from now on (kept, in order). */
  hold(): void {
    this.#holding = true;
    for (const upstream of this.#downstream.keys()) {
      upstream.unpipe();
      upstream.pause();
    }
  }

  /** Delivers what was held back, and lets traffic through again. */
  release(): void {
    this.#holding = false;
    for (const [upstream, client] of this.#downstream) upstream.pipe(client);
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) =>
      this.#server ? this.#server.close(() => resolve()) : resolve(),
    );
  }
}
