/**
 * Child process for the crash test: commits units of work in a loop (a progress section and
 * EVENTS_PER_COMMIT audit records each, a checkpoint every 10) until it is killed. Prints the
 * number of each commit once it is on disk.
 *
 *   node --conditions=@lockfleet/source --import tsx crash-writer.ts FILE DEVICE_ID
 */
import { formatInstant } from "@lockfleet/protocol";
import { SqliteLockStore } from "../../src/store/sqlite-store.js";

const EVENTS_PER_COMMIT = 20;

const [path, deviceId] = process.argv.slice(2);
if (path === undefined || deviceId === undefined) {
  throw new Error("usage: crash-writer.ts FILE DEVICE_ID");
}
const store = SqliteLockStore.open(path, deviceId);
let commits = store.readSection<{ commits: number }>("progress")?.commits ?? 0;
for (;;) {
  commits += 1;
  const at = Date.parse("2026-11-23T08:00:00.000Z") + commits * 1000;
  store.commit({
    sections: { progress: { commits } },
    events: Array.from({ length: EVENTS_PER_COMMIT }, (_, index) => ({
      at,
      kind: "code.rejected" as const,
      actor: `p-${index}`,
      data: { commit: commits, index, padding: "x".repeat(200) },
    })),
  });
  if (commits % 10 === 0) {
    const head = store.auditHead();
    store.saveCheckpoint({
      deviceId,
      seq: head.seq,
      headHash: head.hash,
      at: formatInstant(at),
      keyId: `${deviceId}-k1`,
      signature: "bm90LWNoZWNrZWQtaGVyZQ",
    });
  }
  process.stdout.write(`${commits}\n`);
}
