/**
 * Separation of duties (SPEC §5, maker–checker): who made whom. A person's *makers* are whoever
 * registered or identified them, opened one of their accounts, or proposed enabling them or
 * giving them a role; their *lineage* is the makers, the makers' makers and so on. Two approvals
 * of one decision count only when their lineages, each with the approver, do not meet: an
 * account that A made (directly or through a chain of puppets) never counts as A's second
 * officer, and two accounts A made never count as a pair either.
 */
import type { Database } from "better-sqlite3";
import { FleetError } from "../errors.js";
import { SYSTEM_ACTOR } from "./principal.js";

/** Proposal kinds whose approval makes the proposer a maker of the subject. */
const MAKING_KINDS = ["user.create", "user.role", "user.passwordReset", "person.enable"] as const;

export class Lineage {
  constructor(private readonly db: Database) {}

  /** The people who directly made `personId` what it is (never `system`, never itself). */
  makers(personId: string): Set<string> {
    const found = new Set<string>();
    const add = (value: unknown) => {
      if (typeof value === "string" && value !== SYSTEM_ACTOR && value !== personId) {
        found.add(value);
      }
    };
    const person = this.db
      .prepare("SELECT created_by, identified_by FROM people WHERE id = ?")
      .get(personId) as { created_by: string; identified_by: string | null } | undefined;
    add(person?.created_by);
    add(person?.identified_by);
    for (const by of this.db
      .prepare("SELECT created_by FROM users WHERE person_id = ?")
      .pluck()
      .all(personId)) {
      add(by);
    }
    for (const by of this.db
      .prepare(
        `SELECT proposed_by FROM proposals WHERE subject_person_id = ? AND status = 'approved'
         AND kind IN (SELECT value FROM json_each(?))`,
      )
      .pluck()
      .all(personId, JSON.stringify(MAKING_KINDS))) {
      add(by);
    }
    return found;
  }

  /** Everyone in `personId`'s lineage: makers, their makers, … (bounded walk, no cycles). */
  lineage(personId: string): Set<string> {
    const seen = new Set<string>();
    const queue = [...this.makers(personId)];
    while (queue.length > 0 && seen.size < 10_000) {
      const next = queue.shift() as string;
      if (seen.has(next) || next === personId) continue;
      seen.add(next);
      for (const maker of this.makers(next)) if (!seen.has(maker)) queue.push(maker);
    }
    return seen;
  }

  /**
   * Why `approver` may not add their approval next to `others` on one decision, or undefined:
   * the same person twice, or one of them made (through any chain) by the other.
   */
  refusal(approver: string, others: readonly string[]): FleetError | undefined {
    if (others.includes(approver)) {
      return new FleetError(
        "E_SAME_APPROVER",
        "this person has already approved; a second approval must come from someone else",
        409,
      );
    }
    // Dependent when either made the other, or one person made both (two puppets of one
    // maker are that maker twice): the lineages, each with its own person, must not meet.
    const mine = this.lineage(approver).add(approver);
    for (const other of others) {
      if (other === SYSTEM_ACTOR) continue;
      const theirs = this.lineage(other).add(other);
      if ([...mine].some((person) => theirs.has(person))) {
        return new FleetError(
          "E_PUPPET_APPROVER",
          `approver ${approver} and ${other} are not independent: one was registered, identified, enabled or given an account through the other, or both through the same person (directly or through a chain)`,
          403,
        );
      }
    }
    return undefined;
  }

  /** Throws the refusal, if any. */
  assertIndependent(approver: string, others: readonly string[]): void {
    const refusal = this.refusal(approver, others);
    if (refusal !== undefined) throw refusal;
  }
}
