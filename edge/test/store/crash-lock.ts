/**
 * Child process for the lock crash test: a lock core on a SQLite store, opening and closing
 * in a loop (every step committed, a signed checkpoint every 10 records) until it is killed.
 * Prints its checkpoint public key first, then the number of each finished opening.
 *
 *   node --conditions=@lockfleet/source --import tsx crash-lock.ts FILE DEVICE_ID
 */
import { toBase64url } from "@lockfleet/protocol";
import { generateDeviceIdentity, LockHarness, ManualClock } from "../../src/lock/harness.js";
import { SqliteLockStore } from "../../src/store/sqlite-store.js";

const [path, deviceId] = process.argv.slice(2);
if (path === undefined || deviceId === undefined) {
  throw new Error("usage: crash-lock.ts FILE DEVICE_ID");
}
const identity = generateDeviceIdentity(deviceId, "bank-crash");
process.stdout.write(`key ${toBase64url(identity.signing.publicKey)}\n`);
const clock = new ManualClock(Date.parse("2026-11-23T08:00:00.000Z"));
const lock = new LockHarness({
  store: SqliteLockStore.open(path, deviceId),
  identity,
  clock,
  factory: {
    timeZone: "Europe/Berlin",
    policy: { dualControl: "single", timeDelayMin: 0 },
    users: [{ slot: 1, personId: "p-anna", role: "user", enabled: true, code: "11223344" }],
  },
  core: { checkpointEvery: 10 },
});
for (let opening = 1; ; opening++) {
  lock.press("0111223344#");
  lock.advance(500);
  lock.door(true);
  lock.advance(1000);
  lock.door(false);
  lock.advance(4000);
  process.stdout.write(`${opening}\n`);
}
