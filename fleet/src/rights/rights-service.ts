/**
 * People on locks (SPEC §5 "People lifecycle"): giving an enabled person a lock role on a
 * container pushes `user.add` to every lock of it, with an initial one-time code sealed to that
 * lock (a PIN letter: shown once to the officer who hands it over, never stored by the fleet);
 * changes push `user.change`; removal, the person's deletion, disabling or the end of a
 * temporary right push `user.delete` to every lock that held them. Each lock's confirmation is
 * recorded, from its command result or, later, from its audit.
 */
import { randomInt } from "node:crypto";
import {
  type AuditRecord,
  type CommandResult,
  type CommandType,
  formatInstant,
  type LockUser,
  type UserRole,
  type WeeklyPeriod,
} from "@lockfleet/protocol";
import { inBranchScope, type Principal } from "../auth/principal.js";
import { FleetError, notFound } from "../errors.js";
import type { ContractsRepository } from "../storage/contracts-repository.js";
import type { OrgsRepository } from "../storage/orgs-repository.js";
import type { PeopleRepository, PersonStatus } from "../storage/people-repository.js";
import { type AdminLogPort, COMMAND_WAIT_MS, type LockHub } from "../windows/ports.js";
import type { LockLocator } from "../windows/window-service.js";
import type {
  LockPush,
  LockRight,
  RemovalReason,
  RightChange,
  RightsRepository,
} from "./rights-repository.js";

/** Unconfirmed deletions are sent again after this long (a lock that was offline). */
export const DELETE_RETRY_MS = 5 * 60_000;

export interface RightsServiceOptions {
  rights: RightsRepository;
  orgs: OrgsRepository;
  contracts: ContractsRepository;
  people: PeopleRepository;
  hub: LockHub;
  locks: LockLocator;
  adminLog: AdminLogPort;
  clock: () => number;
  commandWaitMs?: number;
}

export interface GrantRightsInput {
  personId: string;
  containerIds: string[];
  role: UserRole;
  validFrom?: string | undefined;
  validUntil?: string | undefined;
  timeProfile?: WeeklyPeriod[] | undefined;
}

export interface InitialCode {
  containerId: string;
  deviceId: string;
  slot: number;
  /** The initial one-time code: shown in this answer only; the person sets their own at the lock. */
  code: string;
}

export interface RightView extends LockRight {
  locks: LockPush[];
}

/** Lock roles a right may be lowered to without a proposal. */
const LOWER_ROLES = new Set<string>(["user", "courier"]);

type Actor = Pick<Principal, "personId" | "orgId" | "orgKind" | "role" | "branches">;

const SYSTEM = "system";
const RIGHT_MANAGER_ROLES = ["securityAdmin", "branchManager"];

/** A code of `length` digits from the operating system's CSPRNG. */
export function randomCode(length: number): string {
  let code = "";
  for (let i = 0; i < length; i++) code += String(randomInt(10));
  return code;
}

const PERSON_REMOVAL: Partial<Record<PersonStatus, RemovalReason>> = {
  deleted: "personDeleted",
  disabled: "personDisabled",
  expired: "personExpired",
};

export class RightsService {
  readonly #o: RightsServiceOptions;
  readonly #waitMs: number;

  constructor(options: RightsServiceOptions) {
    this.#o = options;
    this.#waitMs = options.commandWaitMs ?? COMMAND_WAIT_MS;
  }

  #iso(): string {
    return formatInstant(this.#o.clock());
  }

  #view(right: LockRight): RightView {
    return { ...right, locks: this.#o.rights.pushesOf(right.id) };
  }

  #mustManage(principal: Actor, right: LockRight): void {
    if (principal.orgKind !== "bank" || principal.orgId !== right.bankOrgId) {
      throw notFound("right", right.id);
    }
    const container = this.#o.orgs.getContainer(right.containerId);
    if (container === undefined || !inBranchScope(principal, container.branchId)) {
      throw notFound("right", right.id);
    }
    if (principal.personId === right.personId) {
      throw new FleetError("E_SELF_SERVICE", "nobody changes their own rights on locks", 403);
    }
    if (!RIGHT_MANAGER_ROLES.includes(principal.role)) {
      throw new FleetError(
        "E_FORBIDDEN",
        `role ${principal.role} may not change rights on locks`,
        403,
      );
    }
  }

  /** Rights of a person the principal may see: the bank's on its containers, a CIT company's on its people. */
  list(principal: Actor, personId: string, includeRemoved: boolean): RightView[] {
    return this.#o.rights
      .ofPerson(personId, includeRemoved)
      .filter((right) =>
        principal.orgKind === "bank"
          ? right.bankOrgId === principal.orgId
          : right.personOrgId === principal.orgId,
      )
      .map((right) => this.#view(right));
  }

  get(principal: Actor, id: string): RightView {
    const right = this.#o.rights.get(id);
    if (
      right === undefined ||
      (principal.orgKind === "bank" ? right.bankOrgId : right.personOrgId) !== principal.orgId
    ) {
      throw notFound("right", id);
    }
    return this.#view(right);
  }

  /** Refuses what `grant` would refuse, without giving anything (a proposal is checked up front). */
  checkGrant(principal: Actor, input: GrantRightsInput): void {
    this.#validateGrant(principal, input, this.#o.clock());
  }

  #validateGrant(principal: Actor, input: GrantRightsInput, now: number) {
    if (principal.personId === input.personId) {
      throw new FleetError(
        "E_SELF_SERVICE",
        "nobody gives themselves rights on locks; another officer must propose it",
        403,
      );
    }
    if (principal.orgKind !== "bank" || !RIGHT_MANAGER_ROLES.includes(principal.role)) {
      throw new FleetError(
        "E_FORBIDDEN",
        `role ${principal.role} may not give rights on locks`,
        403,
      );
    }
    if (input.role === "master" && principal.role !== "securityAdmin") {
      throw new FleetError(
        "E_FORBIDDEN",
        "only a security admin makes someone master of a lock",
        403,
      );
    }
    const person = this.#o.people.get(input.personId, now);
    if (person === undefined) throw notFound("person", input.personId);
    const containers = [...new Set(input.containerIds)].map((id) => {
      const container = this.#o.orgs.getContainer(id);
      if (
        container === undefined ||
        container.orgId !== principal.orgId ||
        !inBranchScope(principal, container.branchId)
      )
        throw notFound("container", id);
      return container;
    });
    const personOrg = this.#o.orgs.getOrg(person.orgId);
    const isCit = personOrg?.kind === "cit";
    if (!isCit && person.orgId !== principal.orgId) throw notFound("person", input.personId);
    if (isCit) {
      for (const container of containers) {
        if (this.#o.contracts.inForceFor(person.orgId, container.id, now) === undefined) {
          throw new FleetError(
            "E_NO_CONTRACT",
            `no contract in force lets ${person.orgId} at container ${container.id}`,
            403,
          );
        }
      }
      if (input.role !== "courier") {
        throw new FleetError("E_ROLE", "people of a CIT company hold the courier role on locks");
      }
    } else if (input.role === "courier") {
      throw new FleetError("E_ROLE", "the courier role belongs to people of a CIT company");
    }
    if (person.status !== "enabled" && person.status !== "notYetValid") {
      throw new FleetError(
        "E_PERSON_NOT_ENABLED",
        `person ${person.id} is ${person.status}; identify and enable them first`,
        409,
      );
    }
    for (const container of containers) {
      if (this.#o.rights.current(person.id, container.id) !== undefined) {
        throw new FleetError(
          "E_RIGHT_EXISTS",
          `person ${person.id} already holds a right on container ${container.id}; change it instead`,
          409,
        );
      }
    }
    const validUntil = input.validUntil ?? person.validUntil ?? null;
    const validFrom = input.validFrom ?? person.validFrom ?? null;
    if (validUntil !== null && Date.parse(validUntil) <= now) {
      throw new FleetError("E_VALIDITY", `validUntil ${validUntil} is in the past`);
    }
    if (
      validFrom !== null &&
      validUntil !== null &&
      Date.parse(validFrom) >= Date.parse(validUntil)
    ) {
      throw new FleetError("E_VALIDITY", "validUntil must be later than validFrom");
    }
    return { person, containers, isCit, validFrom, validUntil };
  }

  async grant(
    principal: Actor,
    input: GrantRightsInput,
  ): Promise<{ rights: RightView[]; initialCodes: InitialCode[] }> {
    const now = this.#o.clock();
    const { person, containers, isCit, validFrom, validUntil } = this.#validateGrant(
      principal,
      input,
      now,
    );
    const rights = containers.map((container) =>
      this.#o.rights.insert({
        personId: person.id,
        personOrgId: person.orgId,
        bankOrgId: principal.orgId,
        containerId: container.id,
        role: input.role,
        tenantId: isCit ? person.orgId : null,
        validFrom: validFrom === null ? null : formatInstant(Date.parse(validFrom)),
        validUntil: validUntil === null ? null : formatInstant(Date.parse(validUntil)),
        timeProfile: input.timeProfile ?? null,
        createdBy: principal.personId,
        createdAt: formatInstant(now),
      }),
    );
    const initialCodes: InitialCode[] = [];
    for (const [index, right] of rights.entries()) {
      const container = containers[index];
      if (container === undefined) continue;
      initialCodes.push(...(await this.#addToLocks(right, container, principal.personId)));
      this.#log(principal.personId, "rights.grant", right, {
        role: right.role,
        validFrom: right.validFrom,
        validUntil: right.validUntil,
        devices: this.#o.rights.pushesOf(right.id).map((push) => push.deviceId),
      });
    }
    return {
      rights: rights.map((right) => this.#view(this.#o.rights.get(right.id) ?? right)),
      initialCodes,
    };
  }

  /**
   * Pushes `user.add` to every lock of the container that does not hold the person yet (a lock
   * enrolled later, or one that refused), each with its own fresh initial code.
   */
  async #addToLocks(
    right: LockRight,
    container: { id: string; orgId: string; policy: { codeLength?: number } },
    actor: string,
  ): Promise<InitialCode[]> {
    const codeLength = container.policy.codeLength ?? 8;
    const pushed = new Map(this.#o.rights.pushesOf(right.id).map((push) => [push.deviceId, push]));
    const initialCodes: InitialCode[] = [];
    const pushes = this.#o.locks.locksOf(container).map(async (lock) => {
      const previous = pushed.get(lock.deviceId);
      // Not yet confirmed (the lock was offline) or refused: sent again with a fresh code.
      if (previous !== undefined && previous.status !== "error" && previous.status !== "adding")
        return;
      const slot = previous?.slot ?? this.#o.rights.freeSlot(lock.deviceId);
      if (slot === undefined) {
        this.#log(actor, "rights.push.failed", right, {
          deviceId: lock.deviceId,
          code: "E_LOCK_FULL",
        });
        return;
      }
      if (previous === undefined) {
        this.#o.rights.insertPush({
          rightId: right.id,
          deviceId: lock.deviceId,
          personId: right.personId,
          slot,
          status: "adding",
          lastCommand: "user.add",
          updatedAt: this.#iso(),
        });
      }
      const clear = new TextEncoder().encode(randomCode(codeLength));
      const initialCode = this.#o.hub.sealForDevice(lock.deviceId, clear);
      initialCodes.push({
        containerId: container.id,
        deviceId: lock.deviceId,
        slot,
        code: new TextDecoder().decode(clear),
      });
      clear.fill(0);
      await this.#send(right, lock.deviceId, "user.add", {
        user: this.#lockUser(right, slot),
        initialCode,
      });
    });
    await Promise.all(pushes);
    return initialCodes;
  }

  /** Adds a current right to the container's locks that do not hold it yet; codes shown once. */
  async push(
    principal: Actor,
    id: string,
  ): Promise<{ right: RightView; initialCodes: InitialCode[] }> {
    const right = this.#o.rights.get(id);
    if (right === undefined) throw notFound("right", id);
    this.#mustManage(principal, right);
    if (right.removedAt !== null)
      throw new FleetError("E_RIGHT_REMOVED", `right ${id} was removed`, 409);
    const person = this.#o.people.get(right.personId, this.#o.clock());
    if (person === undefined || (person.status !== "enabled" && person.status !== "notYetValid")) {
      throw new FleetError("E_PERSON_NOT_ENABLED", `person ${right.personId} is not enabled`, 409);
    }
    const container = this.#o.orgs.getContainer(right.containerId);
    if (container === undefined) throw notFound("container", right.containerId);
    const initialCodes = await this.#addToLocks(right, container, principal.personId);
    this.#log(principal.personId, "rights.push", right, {
      devices: initialCodes.map((code) => code.deviceId),
    });
    return { right: this.#view(this.#o.rights.get(id) ?? right), initialCodes };
  }

  #lockUser(right: LockRight, slot: number): LockUser {
    return {
      slot,
      personId: right.personId,
      role: right.role,
      ...(right.tenantId === null ? {} : { tenantId: right.tenantId }),
      ...(right.validFrom === null ? {} : { validFrom: right.validFrom }),
      ...(right.validUntil === null ? {} : { validUntil: right.validUntil }),
      ...(right.timeProfile === null ? {} : { timeProfile: right.timeProfile }),
      enabled: true,
    };
  }

  #log(actor: string, action: string, right: LockRight, data: Record<string, unknown> = {}): void {
    this.#o.adminLog.append({
      actor,
      action,
      target: right.id,
      orgId: right.bankOrgId,
      data: { personId: right.personId, containerId: right.containerId, ...data },
    });
  }

  /** Sends one user command and records the lock's answer on the push. */
  async #send(
    right: LockRight,
    deviceId: string,
    type: Extract<CommandType, "user.add" | "user.change" | "user.delete">,
    body: Parameters<LockHub["sendCommand"]>[2],
  ): Promise<void> {
    const pending =
      type === "user.add" ? "adding" : type === "user.change" ? "changing" : "deleting";
    this.#o.rights.setPush(right.id, deviceId, {
      status: pending,
      lastCommand: type,
      at: this.#iso(),
    });
    let result: CommandResult | undefined;
    try {
      result = await this.#o.hub.sendCommand(deviceId, type, body as never, {
        waitMs: this.#o.locks.online(deviceId) ? this.#waitMs : 0,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#o.rights.setPush(right.id, deviceId, {
        status: pending,
        error: { code: "E_SEND", message },
        at: this.#iso(),
      });
      this.#log(SYSTEM, "rights.push.failed", right, { deviceId, type, error: message });
      return;
    }
    this.#recordResult(right, deviceId, type, result);
  }

  #recordResult(
    right: LockRight,
    deviceId: string,
    type: "user.add" | "user.change" | "user.delete",
    result: CommandResult | undefined,
  ): void {
    if (result === undefined) return; // sent; the lock's audit confirms later
    if (result.status === "ok") {
      this.#o.rights.setPush(right.id, deviceId, {
        status: type === "user.delete" ? "deleted" : "present",
        error: null,
        confirmed: true,
        at: this.#iso(),
      });
    } else if (type === "user.delete" && result.error?.code === "E_NO_SUCH_USER") {
      // The lock no longer holds the person: the deletion is as good as confirmed.
      this.#o.rights.setPush(right.id, deviceId, {
        status: "deleted",
        error: result.error,
        confirmed: true,
        at: this.#iso(),
      });
    } else {
      this.#o.rights.setPush(right.id, deviceId, {
        status: type === "user.delete" ? "deleting" : "error",
        error: result.error ?? { code: "E_LOCK_REFUSED", message: "the lock refused the command" },
        at: this.#iso(),
      });
    }
    this.#log(SYSTEM, "rights.push.result", right, {
      deviceId,
      type,
      status: result.status,
      ...(result.error === undefined ? {} : { error: result.error.code }),
    });
  }

  async change(principal: Actor, id: string, change: RightChange): Promise<RightView> {
    const right = this.#o.rights.get(id);
    if (right === undefined) throw notFound("right", id);
    this.#mustManage(principal, right);
    if (right.removedAt !== null)
      throw new FleetError("E_RIGHT_REMOVED", `right ${id} was removed`, 409);
    // A change that widens power (a higher lock role, a longer or earlier validity) is a new
    // right: removed and proposed again, so that a second officer approves it.
    const widens =
      (change.role !== undefined && change.role !== right.role && !LOWER_ROLES.has(change.role)) ||
      (change.validUntil !== undefined &&
        (right.validUntil === null ||
          Date.parse(change.validUntil) > Date.parse(right.validUntil))) ||
      (change.validFrom !== undefined &&
        right.validFrom !== null &&
        Date.parse(change.validFrom) < Date.parse(right.validFrom));
    if (widens) {
      throw new FleetError(
        "E_PROPOSAL_REQUIRED",
        "a higher role or a wider validity is a new right: remove this one and propose the new one",
        409,
      );
    }
    if (change.role !== undefined && (change.role === "courier") !== (right.tenantId !== null)) {
      throw new FleetError(
        "E_ROLE",
        "the courier role belongs to people of a CIT company, and only to them",
      );
    }
    const normalised = {
      ...(change.role === undefined ? {} : { role: change.role }),
      ...(change.validFrom === undefined
        ? {}
        : { validFrom: formatInstant(Date.parse(change.validFrom)) }),
      ...(change.validUntil === undefined
        ? {}
        : { validUntil: formatInstant(Date.parse(change.validUntil)) }),
      ...(change.timeProfile === undefined ? {} : { timeProfile: change.timeProfile }),
    };
    this.#o.rights.change(id, normalised, this.#iso());
    const changed = this.#o.rights.get(id) ?? right;
    const live = this.#o.rights
      .pushesOf(id)
      .filter(
        (push) =>
          push.status === "present" || push.status === "adding" || push.status === "changing",
      );
    await Promise.all(
      live.map((push) =>
        this.#send(changed, push.deviceId, "user.change", {
          slot: push.slot,
          personId: push.personId,
          changes: normalised,
        }),
      ),
    );
    this.#log(principal.personId, "rights.change", changed, { changes: Object.keys(normalised) });
    return this.#view(this.#o.rights.get(id) ?? changed);
  }

  async remove(principal: Actor, id: string): Promise<RightView> {
    const right = this.#o.rights.get(id);
    if (right === undefined) throw notFound("right", id);
    this.#mustManage(principal, right);
    await this.#removeRight(right, principal.personId, "deleted");
    return this.#view(this.#o.rights.get(id) ?? right);
  }

  async #removeRight(right: LockRight, by: string, reason: RemovalReason): Promise<void> {
    if (!this.#o.rights.remove(right.id, { at: this.#iso(), by, reason })) return;
    this.#log(by, "rights.remove", right, { reason });
    const held = this.#o.rights.pushesOf(right.id).filter((push) => push.status !== "deleted");
    await Promise.all(
      held.map((push) =>
        this.#send(right, push.deviceId, "user.delete", {
          slot: push.slot,
          personId: push.personId,
        }),
      ),
    );
  }

  /**
   * The periodic check: temporary rights that ran out, people who were deleted, disabled or
   * expired meanwhile, and deletions a lock has not confirmed yet (sent again).
   */
  async sweep(): Promise<{ removed: number; resent: number }> {
    const now = this.#o.clock();
    let removed = 0;
    for (const right of this.#o.rights.dueForExpiry(formatInstant(now))) {
      await this.#removeRight(right, SYSTEM, "expired");
      removed += 1;
    }
    for (const personId of this.#o.rights.peopleWithCurrentRights()) {
      removed += await this.personChanged(personId);
    }
    let resent = 0;
    for (const push of this.#o.rights.unconfirmedDeletions(formatInstant(now - DELETE_RETRY_MS))) {
      const right = this.#o.rights.get(push.rightId);
      if (right === undefined) continue;
      await this.#send(right, push.deviceId, "user.delete", {
        slot: push.slot,
        personId: push.personId,
      });
      resent += 1;
    }
    return { removed, resent };
  }

  /** A lock back online is sent the deletions it has not confirmed, at once. */
  async onLockOnline(deviceId: string): Promise<number> {
    const pending = this.#o.rights
      .unconfirmedDeletions(formatInstant(this.#o.clock()))
      .filter((push) => push.deviceId === deviceId);
    for (const push of pending) {
      const right = this.#o.rights.get(push.rightId);
      if (right === undefined) continue;
      await this.#send(right, deviceId, "user.delete", {
        slot: push.slot,
        personId: push.personId,
      });
    }
    return pending.length;
  }

  /** Takes a person's rights off every lock when they are no longer enabled. Returns rights removed. */
  async personChanged(personId: string): Promise<number> {
    const person = this.#o.people.get(personId, this.#o.clock());
    const reason = person === undefined ? "personDeleted" : PERSON_REMOVAL[person.status];
    if (reason === undefined) return 0;
    const current = this.#o.rights.ofPerson(personId, false);
    for (const right of current) await this.#removeRight(right, SYSTEM, reason);
    return current.length;
  }

  /** The lock's own record of user changes confirms pushes whose answer was not awaited. */
  onAudit(deviceId: string, records: readonly AuditRecord[]): void {
    for (const record of records) {
      if (
        record.kind !== "user.added" &&
        record.kind !== "user.deleted" &&
        record.kind !== "user.changed"
      )
        continue;
      const { slot, personId } = record.data;
      if (typeof slot !== "number" || typeof personId !== "string") continue;
      const push = this.#o.rights.livePush(deviceId, personId, slot);
      if (push === undefined) continue;
      const expected = {
        "user.added": "adding",
        "user.changed": "changing",
        "user.deleted": "deleting",
      }[record.kind];
      if (push.status !== expected) continue;
      this.#o.rights.setPush(push.rightId, deviceId, {
        status: record.kind === "user.deleted" ? "deleted" : "present",
        error: null,
        confirmed: true,
        at: this.#iso(),
      });
    }
  }
}
