/**
 * Automatic openings for a simulated lock running on its own (`lockfleet-sim lock
 * --auto-open 15s`), for fault tests and soak runs: every interval, when the lock is idle,
 * locked and closed, the two simulator users enter their codes on the virtual keypad (dual
 * control), wait out the time delay, confirm in the window, open the door once the bolt has
 * retracted and close it again. Everything goes through the virtual board, so the lock sees
 * exactly what a person's hands would do.
 */
import type { DeviceRuntime } from "@lockfleet/edge";
import type { VirtualBoard } from "../virtual-board/virtual-board.js";
import { BENCH_USERS } from "./bench-top.js";

export interface AutoOpenOptions {
  intervalMs: number;
  /** How long the door stands open. Default 2 s. */
  doorOpenMs?: number;
  /** Told about each attempt (the console prints it). */
  note?: (text: string) => void;
}

const POLL_MS = 100;

/** The simulator users' entries (slot + code + '#'). */
function entries(): string[] {
  return BENCH_USERS.slice(0, 2).map(
    (user) => `${String(user.slot).padStart(2, "0")}${user.code}#`,
  );
}

/** Starts the openings; returns the function that stops them. */
export function startAutoOpen(
  runtime: DeviceRuntime,
  board: VirtualBoard,
  options: AutoOpenOptions,
): () => void {
  let stopped = false;
  let running = false;
  const note = options.note ?? (() => {});
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  const waitFor = async (test: () => boolean, timeoutMs: number): Promise<boolean> => {
    const until = Date.now() + timeoutMs;
    while (!stopped && Date.now() < until) {
      if (test()) return true;
      await sleep(POLL_MS);
    }
    return !stopped && test();
  };
  const state = () => runtime.core.state(runtime.org);
  const type = async (text: string) => {
    for (const key of text) {
      if (stopped) return;
      await board.pressKey(key);
    }
  };

  const openOnce = async (): Promise<void> => {
    const before = state();
    if (before.cycle.phase !== "idle" || before.bolt !== "thrown" || before.door !== "closed") {
      note(
        `auto-open: skipped (cycle ${before.cycle.phase}, bolt ${before.bolt}, door ${before.door})`,
      );
      return;
    }
    note("auto-open: entering codes");
    for (const entry of entries()) await type(entry);
    const policy = runtime.core.policy;
    const delayMs = (policy.timeDelayMin + policy.confirmationWindowMin) * 60_000 + 30_000;
    const confirmedOrWindow = await waitFor(() => {
      const now = state();
      return now.bolt === "retracted" || now.cycle.phase === "window" || now.cycle.phase === "idle";
    }, delayMs);
    if (!confirmedOrWindow || state().cycle.phase === "idle") {
      note("auto-open: the lock did not open (codes refused or cycle ended)");
      return;
    }
    if (state().cycle.phase === "window") {
      note("auto-open: confirming in the window");
      for (const entry of entries()) await type(entry);
    }
    if (!(await waitFor(() => state().bolt === "retracted", 10_000))) {
      note("auto-open: the bolt did not retract");
      return;
    }
    board.setDoor(true);
    await sleep(options.doorOpenMs ?? 2000);
    board.setDoor(false);
    note("auto-open: opened and closed the door");
  };

  const timer = setInterval(() => {
    if (running || stopped) return;
    running = true;
    openOnce()
      .catch((error: unknown) =>
        note(`auto-open: ${error instanceof Error ? error.message : String(error)}`),
      )
      .finally(() => {
        running = false;
      });
  }, options.intervalMs);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
