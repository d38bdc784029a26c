// Protocol throughput: how many envelopes a second the fleet can sign and a lock can open, per
// Ed25519 backend, and the cost of canonical JSON and one-time codes. Prints figures; asserts
// nothing (timing goals live here, not in tests). Run: npm run bench -- protocol

import { recordFigure } from "../../scripts/bench-figures.js";
import { canonicalJson } from "../src/canonical-json.js";
import { type Ed25519Backend, nodeEd25519, tweetnaclEd25519 } from "../src/crypto/ed25519.js";
import {
  type EnvelopeFields,
  encodeEnvelope,
  openEnvelope,
  signEnvelope,
} from "../src/envelope.js";
import {
  findOneTimeCode,
  OTP_COUNTER_LOOKAHEAD,
  oneTimeCode,
  otpWindowsContaining,
} from "../src/one-time-code.js";

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
  const rate = opsPerSecond(operation, MEASURE_NS);
  recordFigure(label, "ops/s", rate, "higher");
  const each = rate >= 1000 ? `${(1e6 / rate).toFixed(1)} µs` : `${(1e3 / rate).toFixed(2)} ms`;
  console.log(
    `${label.padEnd(40)} ${Math.round(rate).toString().padStart(9)} ops/s  (${each} each)`,
  );
}

const NOW = Date.parse("2026-11-23T10:00:00.000Z");

/** A grant envelope: a realistic command of a few hundred bytes. */
function grantFields(): EnvelopeFields {
  return {
    type: "grant",
    deviceId: "lock-0042",
    id: "cmd-7f3a9c",
    seq: 1234,
    issuedAt: NOW - 1000,
    expiresAt: NOW + 5 * 60_000,
    keyId: "fleet-2026-11",
    body: {
      grantId: "g-19",
      windowId: "w-7",
      locks: ["lock-0042"],
      persons: ["p-cit-0007", "p-cit-0008"],
      notBefore: "2026-11-23T08:00:00.000Z",
      notAfter: "2026-11-23T12:00:00.000Z",
      maxOpenings: 2,
      dualControlRequired: true,
      purpose: "ATM refill, route 14",
    },
  };
}

export async function run(): Promise<void> {
  const fields = grantFields();
  const sample = signEnvelope(fields, nodeEd25519.generateKeyPair().secretKey);
  const payloadBytes = new TextEncoder().encode(sample.payload);
  console.log(`envelope: ${encodeEnvelope(sample).length} bytes on the wire (grant for one lock)`);

  const backends: Ed25519Backend[] = [nodeEd25519, tweetnaclEd25519];
  for (const backend of backends) {
    const { publicKey, secretKey } = backend.generateKeyPair();
    const signature = backend.sign(payloadBytes, secretKey);
    const wire = encodeEnvelope(signEnvelope(fields, secretKey, backend));
    const keys = new Map([[fields.keyId, publicKey]]);
    measure(`ed25519 ${backend.name} sign`, () => backend.sign(payloadBytes, secretKey));
    measure(`ed25519 ${backend.name} verify`, () => {
      if (!backend.verify(payloadBytes, signature, publicKey)) throw new Error("verify failed");
    });
    measure(`signEnvelope ${backend.name}`, () => signEnvelope(fields, secretKey, backend));
    // Without a replay guard, so the same envelope can be opened again and again.
    measure(`openEnvelope ${backend.name}`, () => {
      const opened = openEnvelope(wire, { deviceId: fields.deviceId, now: NOW, keys, backend });
      if (!opened.ok) throw new Error(opened.error.message);
    });
  }

  const header = JSON.parse(sample.payload) as unknown;
  measure("canonicalJson (grant envelope)", () => canonicalJson(header));

  const secret = new Uint8Array(32).fill(42);
  const input = {
    lockId: "lock-0042",
    counter: 17,
    personId: "p-cit-0007",
    notBefore: Date.parse("2026-11-23T08:00:00.000Z"),
    notAfter: Date.parse("2026-11-23T12:00:00.000Z"),
  };
  measure("oneTimeCode", () => oneTimeCode(secret, input));
  // The lock's worst case: a wrong code tried against every window and every unused counter.
  const counters = Array.from({ length: 2 * OTP_COUNTER_LOOKAHEAD }, (_, i) => i + 1);
  const windows = otpWindowsContaining(NOW).length;
  measure(`findOneTimeCode (${windows} windows × ${counters.length} counters)`, () =>
    findOneTimeCode(secret, {
      lockId: input.lockId,
      personId: input.personId,
      code: "00000000",
      at: NOW,
      counters,
    }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
