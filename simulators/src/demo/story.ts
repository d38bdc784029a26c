/**
 * What a newcomer sees within a minute of `npm start`: the CIT dispatcher asks for an access
 * window at the Marienplatz safe (inside the contract's standing route window, so the fleet
 * approves it at once and pushes a signed grant to the lock); the two-person crew types their
 * codes on the lock's keypad; the time delay counts down; both confirm in the window; the bolt
 * retracts, the door is opened and closed, the bolt throws and the close seal goes back to the
 * fleet, which closes the window. Afterwards bank staff open the other containers now and
 * then, so the dashboard stays alive. Every step goes through the fleet's HTTP API or the
 * lock's keypad and door — nothing is written behind their backs.
 */
import type { CyclePhase } from "@lockfleet/protocol";
import { DemoError } from "./errors.js";
import { FleetClient } from "./fleet-client.js";
import type { DemoPerson, DemoWorld } from "./seed.js";
import type { DemoLock } from "./virtual-locks.js";

export interface StoryOptions {
  baseUrl: string;
  world: DemoWorld;
  lock: DemoLock;
  say: (line: string) => void;
  /** How long the door stays open. */
  doorOpenMs?: number;
  /** Pause between one person's entry and the next, as people take turns at a keypad. */
  turnMs?: number;
  signal?: AbortSignal;
}

export interface StoryResult {
  windowId: string;
  deviceId: string;
  /** How the fleet decided the request: at once inside the standing window, or by the bank. */
  approval: "standingWindow" | "bankOfficer";
  /** Whether the fleet closed the window on the lock's close seal. */
  windowClosed: boolean;
}

interface WindowView {
  id: string;
  status: string;
  purpose: string;
}

/** The purpose of the window the story asks for; it tells the story's windows from people's. */
export const STORY_PURPOSE = "Cash delivery, route M-12";

/**
 * Windows a restarted story revokes: its own, left open by an earlier, interrupted run —
 * never one a dispatcher asked for and the bank approved meanwhile.
 */
export function staleStoryWindows<W extends { purpose: string }>(windows: readonly W[]): W[] {
  return windows.filter((window) => window.purpose === STORY_PURPOSE);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(stopped());
      return;
    }
    const abort = () => {
      clearTimeout(timer);
      reject(stopped());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", abort, { once: true });
  });
}

function stopped(): DemoError {
  return new DemoError("E_DEMO_STOPPED", "the demo was stopped");
}

export function isStopped(error: unknown): boolean {
  return error instanceof DemoError && error.code === "E_DEMO_STOPPED";
}

/** Polls `check` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) {
      throw new DemoError("E_DEMO_TIMEOUT", `${what} did not happen within ${timeoutMs / 1000} s`);
    }
    await sleep(200, signal);
  }
}

function phase(lock: DemoLock): CyclePhase {
  return lock.runtime.state().cycle.phase;
}

function instant(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}

/** The keys a person types at `lock`: two-digit user id, code, enter. */
function keysFor(lock: DemoLock, person: DemoPerson): string {
  const user = lock.plan.users.find((candidate) => candidate.personId === person.id);
  if (user === undefined) {
    throw new DemoError("E_DEMO_DATA", `${person.name} is not a user of ${lock.plan.name}`);
  }
  return `${String(user.slot).padStart(2, "0")}${user.code}#`;
}

/**
 * A dual-control opening at the keypad: each person's code, the time delay, each person's
 * code again in the confirmation window, the door opened for `doorOpenMs` and closed, until
 * the bolt is thrown again.
 */
export async function openAtKeypad(
  lock: DemoLock,
  people: readonly DemoPerson[],
  options: {
    say: (line: string) => void;
    doorOpenMs: number;
    turnMs: number;
    signal?: AbortSignal;
  },
): Promise<void> {
  const { say, signal } = options;
  const where = `${lock.plan.container}, ${lock.plan.branch}`;
  const typeAll = async () => {
    for (const [index, person] of people.entries()) {
      if (index > 0) await sleep(options.turnMs, signal);
      await lock.board.typeKeys(keysFor(lock, person));
    }
  };
  await typeAll();
  await waitFor(
    `the codes of ${people.map((person) => person.name).join(" and ")} being accepted at ${where}`,
    () => phase(lock) !== "idle" && phase(lock) !== "collecting",
    10_000,
    signal,
  );
  if (phase(lock) === "delay") {
    const endsAt = lock.runtime.state().cycle.delayEndsAt;
    say(`  ${where}: codes accepted, time delay running until ${endsAt ?? "?"}`);
    await waitFor("the end of the time delay", () => phase(lock) !== "delay", 100 * 60_000, signal);
  }
  if (phase(lock) === "window") {
    // Without a time delay there is no confirmation window: the bolt is released at once.
    say(`  ${where}: confirmation window open, confirming`);
    await typeAll();
  }
  await waitFor(
    `the bolt retracting at ${where}`,
    () => lock.runtime.state().bolt === "retracted",
    10_000,
    signal,
  );
  lock.board.setDoor(true);
  say(`  ${where}: bolt retracted, door opened`);
  await sleep(options.doorOpenMs, signal);
  lock.board.setDoor(false);
  await waitFor(
    `the bolt throwing after the door closed at ${where}`,
    () => lock.runtime.state().bolt === "thrown" && phase(lock) === "idle",
    30_000,
    signal,
  );
  say(`  ${where}: door closed, bolt thrown, close seal shown and sent to the fleet`);
}

export async function runStory(options: StoryOptions): Promise<StoryResult> {
  const { world, lock, say, signal } = options;
  const where = `${lock.plan.container}, ${lock.plan.branch}`;
  const dispatcherLogin = world.logins.find((login) => login.role === "citDispatcher");
  const adminLogin = world.logins.find((login) => login.role === "securityAdmin");
  if (dispatcherLogin === undefined || adminLogin === undefined) {
    throw new DemoError(
      "E_DEMO_DATA",
      "the demo world has no CIT dispatcher or security admin login",
    );
  }

  // 0. The story's own window left open by an earlier, interrupted start is revoked by the
  //    bank first, so that the close seal of this opening can only close this story's window.
  //    Windows people asked for and approved stay as they are.
  const admin = await FleetClient.login(options.baseUrl, adminLogin.email, adminLogin.password);
  for (const status of ["approved", "active"]) {
    const { items } = await admin.get<{ items: WindowView[] }>(
      `windows?containerId=${encodeURIComponent(lock.plan.containerId)}&status=${status}`,
    );
    for (const stale of staleStoryWindows(items)) {
      await admin.post(`windows/${stale.id}/revoke`, {
        reason: "left open by an interrupted demo run",
      });
      say(`Window ${stale.id} left open by an earlier run revoked by the bank`);
    }
  }

  // 1. The dispatcher asks for a window: from now, for two hours, for the crew of route M-12.
  const dispatcher = await FleetClient.login(
    options.baseUrl,
    dispatcherLogin.email,
    dispatcherLogin.password,
  );
  const now = Date.now();
  let window = await dispatcher.post<WindowView>("windows", {
    containerId: lock.plan.containerId,
    crew: world.crew.map((member) => member.id),
    notBefore: instant(now - 60_000),
    notAfter: instant(now + 2 * 3_600_000),
    purpose: STORY_PURPOSE,
  });
  let approval: StoryResult["approval"] = "standingWindow";
  if (window.status === "requested") {
    // Outside the standing window the bank decides; the demo's security admin approves.
    approval = "bankOfficer";
    window = await admin.post<WindowView>(`windows/${window.id}/approve`);
  }
  const windowId = window.id;
  say(
    `CIT window ${windowId} for ${where}: requested by ${dispatcherLogin.name}, ${
      approval === "standingWindow"
        ? "approved at once (inside the standing route window)"
        : "approved by the bank's security admin"
    }`,
  );
  await waitFor(
    "the signed grant reaching the lock",
    async () => (await dispatcher.get<WindowView>(`windows/${windowId}`)).status === "active",
    20_000,
    signal,
  );
  say(
    `  grant delivered to ${lock.deviceId}; crew ${world.crew.map((member) => member.name).join(" and ")} at the keypad`,
  );

  // 2. The crew opens under dual control, with the container's time delay.
  await openAtKeypad(lock, world.crew, {
    say,
    doorOpenMs: options.doorOpenMs ?? 20_000,
    turnMs: options.turnMs ?? 1500,
    ...(signal === undefined ? {} : { signal }),
  });

  // 3. The close seal closes the window in the fleet.
  const windowClosed = await waitFor(
    "the close seal closing the access window",
    async () => (await dispatcher.get<WindowView>(`windows/${windowId}`)).status === "closed",
    15_000,
    signal,
  ).then(
    () => true,
    (error: unknown) => {
      if (isStopped(error)) throw error;
      return false;
    },
  );
  say(
    windowClosed
      ? `  window ${windowId} closed by the lock's close seal`
      : `  window ${windowId} is still open: the fleet has not matched the close seal`,
  );
  return { windowId, deviceId: lock.deviceId, approval, windowClosed };
}

/**
 * Bank staff open the other containers in turn, one every `everyMs`, until stopped: live
 * countdowns and openings on the dashboard for as long as the demo runs.
 */
export async function runRoutine(options: {
  world: DemoWorld;
  locks: readonly DemoLock[];
  say: (line: string) => void;
  everyMs: number;
  doorOpenMs: number;
  signal: AbortSignal;
}): Promise<void> {
  const { locks, signal } = options;
  for (let turn = 0; ; turn += 1) {
    const lock = locks[(turn + 1) % locks.length];
    if (lock === undefined) return;
    try {
      // The first turn waits only until the banner is printed.
      await sleep(turn === 0 ? 3000 : options.everyMs, signal);
      options.say(`Bank staff open ${lock.plan.container}, ${lock.plan.branch} (${lock.deviceId})`);
      await openAtKeypad(lock, options.world.bankStaff, {
        say: options.say,
        doorOpenMs: options.doorOpenMs,
        turnMs: 1500,
        signal,
      });
    } catch (error) {
      if (isStopped(error)) return;
      // One failed opening is reported and the routine goes on, as a branch's day would.
      options.say(`  ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
