// Ed25519 throughput per backend: how many envelopes a second the fleet can sign and a lock can
// verify. Prints figures; it asserts nothing (timing goals live here, not in tests).

import { type Ed25519Backend, nodeEd25519, tweetnaclEd25519 } from "../src/crypto/ed25519.js";

const WARM_UP_NS = 200_000_000n; // let the JIT and the key caches settle first
const MEASURE_NS = 1_000_000_000n;

/** Calls `operation` repeatedly for about `durationNs` and returns operations per second. */
function opsPerSecond(operation: () => void, durationNs: bigint): number {
  let count = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < durationNs) {
    // Read the clock every 16 calls so timing stays out of the figure.
    for (let i = 0; i < 16; i++) operation();
    count += 16;
    elapsed = process.hrtime.bigint() - start;
  }
  return (count * 1e9) / Number(elapsed);
}

function measure(label: string, operation: () => void): void {
  opsPerSecond(operation, WARM_UP_NS);
  console.log(`${label}: ${Math.round(opsPerSecond(operation, MEASURE_NS))} ops/s`);
}

export async function run(): Promise<void> {
  // A command envelope is a few hundred bytes of canonical JSON.
  const envelope = new TextEncoder().encode(
    JSON.stringify({
      body: { action: "openWindow", durationS: 900, lockId: "vault-7" },
      deviceId: "lock-0042",
      expiresAt: "2026-11-22T10:05:00Z",
      id: "cmd-7f3a9c",
      issuedAt: "2026-11-22T10:00:00Z",
      keyId: "fleet-2026-11",
      seq: 1234,
      type: "command",
      v: 1,
    }),
  );
  const backends: Ed25519Backend[] = [nodeEd25519, tweetnaclEd25519];
  for (const backend of backends) {
    const { publicKey, secretKey } = backend.generateKeyPair();
    const signature = backend.sign(envelope, secretKey);
    measure(`ed25519 ${backend.name} sign`, () => backend.sign(envelope, secretKey));
    measure(`ed25519 ${backend.name} verify`, () => {
      if (!backend.verify(envelope, signature, publicKey)) throw new Error("verify failed");
    });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
