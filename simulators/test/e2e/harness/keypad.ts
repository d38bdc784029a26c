/**
 * People at a virtual lock's keypad: rights given over the fleet's API (the initial one-time
 * code comes back once, as the PIN letter), the first-use code change at the keypad, and the
 * lock's own audit records to see what the lock made of it.
 */
import type { AuditRecord } from "@lockfleet/protocol";
import { type E2eWorld, entry, type PersonView, until, type VirtualLock } from "./world.js";

export interface LockPushView {
  deviceId: string;
  slot: number;
  status: string;
  confirmedAt: string | null;
}

export interface RightView {
  id: string;
  personId: string;
  role: string;
  removedReason: string | null;
  locks: LockPushView[];
}

export interface GrantAnswer {
  rights: RightView[];
  pinLetters: Array<{ id: string; containerId: string; deviceId: string; slot: number }>;
}

/** Someone who will stand at the keypad. */
export interface KeypadPerson {
  name: string;
  person: PersonView;
  slot: number;
  /** From the PIN letter; only good for setting one's own code. */
  initialCode: string;
  /** The code they choose at the lock; the fleet never learns it. */
  ownCode: string;
}

/** The lock's audit records of `kind` (by `actor`, when given), in seq order. */
export function lockRecords(lock: VirtualLock, kind: string, actor?: string): AuditRecord[] {
  return lock
    .audit()
    .filter((record) => record.kind === kind && (actor === undefined || record.actor === actor));
}

/** The security admin gives `person` a right on `containerId`; returns them with their PIN letter. */
export async function giveRight(
  world: E2eWorld,
  lock: VirtualLock,
  containerId: string,
  who: { name: string; person: PersonView; role: "user" | "courier"; ownCode: string },
): Promise<KeypadPerson> {
  // proposed by the security admin, given when the second officer approves
  const granted = await world.proposeAndApprove<GrantAnswer>("securityAdmin", "rights", {
    personId: who.person.id,
    containerIds: [containerId],
    role: who.role,
  });
  const waiting = granted.pinLetters.find((candidate) => candidate.deviceId === lock.deviceId);
  if (waiting === undefined) throw new Error(`no PIN letter for ${who.name} at ${lock.deviceId}`);
  // the letter is downloaded once, by the security admin, and handed to the person
  const letter = await world.ok<{ slot: number; code: string }>(
    "securityAdmin",
    "POST",
    `pin-letters/${waiting.id}/download`,
    {},
  );
  return {
    name: who.name,
    person: who.person,
    slot: letter.slot,
    initialCode: letter.code,
    ownCode: who.ownCode,
  };
}

/** The right reaches the lock: `user.add` confirmed for that lock, as the admin sees it. */
export async function confirmedOnLock(
  world: E2eWorld,
  lock: VirtualLock,
  who: KeypadPerson,
): Promise<LockPushView> {
  return until(`${who.name}'s right confirmed by the lock`, async () => {
    const { items } = await world.ok<{ items: RightView[] }>(
      "securityAdmin",
      "GET",
      `rights?personId=${who.person.id}`,
    );
    const push = items[0]?.locks.find((candidate) => candidate.deviceId === lock.deviceId);
    return push?.status === "present" && push.confirmedAt !== null ? push : undefined;
  });
}

/** At the keypad: identify with the initial code, then type the new code twice. */
export async function setOwnCode(lock: VirtualLock, who: KeypadPerson): Promise<void> {
  await lock.board.typeKeys(entry(who.slot, who.initialCode));
  await until(`${who.name}'s initial code accepted`, () => lock.board.lcdLines()[0] === "NEW CODE");
  await lock.board.typeKeys(`${who.ownCode}#`);
  await until(`${who.name} asked to repeat`, () => lock.board.lcdLines()[0] === "REPEAT NEW CODE");
  await lock.board.typeKeys(`${who.ownCode}#`);
  await until(
    `${who.name}'s code changed`,
    () => lockRecords(lock, "code.changed", who.person.id)[0],
  );
}
