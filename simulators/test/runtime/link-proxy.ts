/**
 * A TCP relay between the device and the broker (port 0) that the test can cut and restore,
 * to take a lock offline without touching a shared broker (Mosquitto) or the device.
 */

import type { AddressInfo } from "node:net";
import { connect, createServer, type Server, type Socket } from "node:net";

export class LinkProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
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
      upstream.pipe(client);
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

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) =>
      this.#server ? this.#server.close(() => resolve()) : resolve(),
    );
  }
}
