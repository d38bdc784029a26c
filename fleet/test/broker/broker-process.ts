/**
 * The embedded broker alone in its own process, started exactly as the fleet starts it
 * (startBroker with its connection limits), so a test can attack it over real sockets and read
 * the process's memory from outside. Device accounts: lock-1 and lock-2, password
 * `<id>-password`.
 *
 *   node --expose-gc --conditions=@lockfleet/source --import tsx broker-process.ts '<limits json>'
 *
 * Prints `{"url": …}` once listening; answers each `mem` line on stdin with the process's
 * memory (after a forced collection) and the broker's counters.
 */
import { createInterface } from "node:readline";
import { startBroker } from "../../src/broker/index.js";

const limits = JSON.parse(process.argv[2] ?? "{}") as Record<string, number>;
const broker = await startBroker({
  port: 0,
  host: "127.0.0.1",
  limits,
  authenticate(username, password) {
    const known = username === "lock-1" || username === "lock-2";
    if (known && Buffer.from(password).toString("utf8") === `${username}-password`) {
      return { identity: { kind: "device", org: "org-a", deviceId: username } };
    }
    return { reason: "E_MQTT_AUTH: unknown device" };
  },
});
process.stdout.write(`${JSON.stringify({ url: broker.url })}\n`);

const gc = (globalThis as { gc?: () => void }).gc;
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === "mem") {
    gc?.();
    const usage = process.memoryUsage();
    process.stdout.write(
      `${JSON.stringify({
        rss: usage.rss,
        heapUsed: usage.heapUsed,
        external: usage.external,
        arrayBuffers: usage.arrayBuffers,
        unauthenticated: broker.unauthenticatedConnections(),
        clients: broker.connectedClients(),
        refusals: Object.fromEntries(broker.limitRefusals()),
      })}\n`,
    );
  } else if (line.trim() === "exit") break;
}
await broker.close();
process.exit(0);
