/**
 * The workload the lock-core benches measure: complete dual-control openings by two
 * neighbouring users in turn (slots 1–99), each with keys, release, door opened and closed,
 * and relock, every audit record committed.
 */
import type { LockHarness } from "../src/lock/harness.js";

export function dualControlOpenings(
  lock: LockHarness,
  users: ReadonlyArray<{ slot: number; code?: string | undefined }>,
  openings: number,
): void {
  const codes = new Map(users.map((user) => [user.slot, user.code]));
  const entry = (slot: number) => `${String(slot).padStart(2, "0")}${codes.get(slot)}#`;
  for (let opening = 0; opening < openings; opening++) {
    const first = 1 + (opening % 98);
    lock.press(entry(first));
    lock.press(entry(first + 1));
    lock.advance(500);
    lock.door(true);
    lock.advance(1000);
    lock.door(false);
    lock.advance(4000);
  }
  if (lock.core.state().bolt !== "thrown") throw new Error("the bench lock did not relock");
}
