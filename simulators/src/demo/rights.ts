/**
 * People onto the locks as SPEC §3 and §5 have it: the bank gives each person a right on the
 * containers through the fleet, which pushes the user to every lock with an initial one-time
 * code sealed to that lock, and shows the code once, for the PIN letter. Each person then
 * chooses their own code at each lock's keypad on first use (id + initial code, new code,
 * new code again). The fleet never learns the codes people choose.
 */
import { randomInt } from "node:crypto";
import { isTrivialCode } from "@lockfleet/edge";
import { DemoError } from "./errors.js";
import { carriedOut, type FleetClient } from "./fleet-client.js";
import type { DemoLockUser, DemoPerson, DemoWorld } from "./seed.js";
import { waitFor } from "./story.js";
import type { DemoLock } from "./virtual-locks.js";

interface PinLetter {
  containerId: string;
  deviceId: string;
  slot: number;
  code: string;
}

interface RightView {
  locks: Array<{ deviceId: string; status: string }>;
}

/** An 8-digit code the lock accepts (no trivial pattern such as 12345678). */
export function newLockCode(): string {
  for (;;) {
    const code = String(randomInt(0, 100_000_000)).padStart(8, "0");
    if (!isTrivialCode(code)) return code;
  }
}

async function lcdShows(lock: DemoLock, text: string, what: string): Promise<void> {
  await waitFor(
    `${what} at ${lock.deviceId} (display ${JSON.stringify(text)})`,
    () => lock.board.lcdLines()[0] === text,
    5_000,
  );
}

/** First use at the keypad: id + initial code, the new code twice. */
async function chooseCode(
  lock: DemoLock,
  slot: number,
  initialCode: string,
  person: string,
): Promise<string> {
  const id = String(slot).padStart(2, "0");
  const code = newLockCode();
  await lock.board.typeKeys(`${id}${initialCode}#`);
  await lcdShows(lock, "NEW CODE", `${person}'s initial code being accepted`);
  await lock.board.typeKeys(`${code}#`);
  await lcdShows(lock, "REPEAT NEW CODE", `${person}'s new code being taken`);
  await lock.board.typeKeys(`${code}#`);
  await lcdShows(lock, "CODE CHANGED", `${person}'s new code being stored`);
  return code;
}

/**
 * Gives bank staff (lock role user) and the CIT crew (courier) rights on every demo
 * container, waits for each lock's confirmation, and lets each person choose their code at
 * each lock. Fills `world.locks[].users`.
 */
export async function putPeopleOnLocks(
  admin: FleetClient,
  checker: FleetClient,
  world: DemoWorld,
  locks: readonly DemoLock[],
  say: (line: string) => void,
): Promise<void> {
  const containerIds = world.locks.map((lock) => lock.containerId);
  const people: Array<{ person: DemoPerson; role: DemoLockUser["role"] }> = [
    ...world.bankStaff.map((person) => ({ person, role: "user" as const })),
    ...world.crew.map((person) => ({ person, role: "courier" as const })),
  ];
  const letters = new Map<
    string,
    Array<{ person: DemoPerson; role: DemoLockUser["role"]; letter: PinLetter }>
  >();
  for (const { person, role } of people) {
    let granted: { pinLetters: Array<{ id: string }> };
    try {
      // the admin proposes, the second officer approves: then the locks are told
      granted = await carriedOut<{ pinLetters: Array<{ id: string }> }>(
        await admin.post("rights", { personId: person.id, containerIds, role }),
        checker,
      );
    } catch (error) {
      if (error instanceof DemoError && error.fleetCode === "E_RIGHT_EXISTS") {
        throw new DemoError(
          "E_DEMO_DATA",
          "the people's rights were given in an earlier start that was interrupted; delete the data directory or choose another --data",
        );
      }
      throw error;
    }
    // each initial code comes once, as a PIN letter the admin downloads for the person
    const downloaded: PinLetter[] = [];
    for (const waiting of granted.pinLetters) {
      downloaded.push(await admin.post<PinLetter>(`pin-letters/${waiting.id}/download`, {}));
    }
    for (const letter of downloaded) {
      const list = letters.get(letter.deviceId) ?? [];
      list.push({ person, role, letter });
      letters.set(letter.deviceId, list);
    }
  }
  say(`Rights given to ${people.length} people on ${locks.length} locks; PIN letters issued`);

  await waitFor(
    "every lock confirming its new users",
    async () => {
      for (const { person } of people) {
        const { items } = await admin.get<{ items: RightView[] }>(
          `rights?personId=${encodeURIComponent(person.id)}`,
        );
        if (
          !items.every(
            (right) =>
              right.locks.length > 0 && right.locks.every((lock) => lock.status === "present"),
          )
        ) {
          return false;
        }
      }
      return true;
    },
    30_000,
  );

  await Promise.all(
    locks.map(async (lock) => {
      const plan = world.locks.find((candidate) => candidate.deviceId === lock.deviceId);
      if (plan === undefined) return;
      const users: DemoLockUser[] = [];
      for (const { person, role, letter } of letters.get(lock.deviceId) ?? []) {
        const code = await chooseCode(lock, letter.slot, letter.code, person.name);
        users.push({ slot: letter.slot, personId: person.id, role, code });
      }
      plan.users = users;
    }),
  );
  say("Each person chose their own code at each lock's keypad (the fleet never sees them)");
}
