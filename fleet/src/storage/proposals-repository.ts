/**
 * Proposals of power changes (maker–checker): what a first officer asked for, waiting for a
 * second, independent officer of the same bank. Payloads hold ids and settings only; a chosen
 * password is kept as its hash.
 */
import type { Database } from "better-sqlite3";
import { newId } from "../ids.js";
import { parseJsonColumn } from "./pagination.js";

export const PROPOSAL_KINDS = [
  "user.create",
  "user.role",
  "user.passwordReset",
  "person.enable",
  "right.grant",
] as const;
export type ProposalKind = (typeof PROPOSAL_KINDS)[number];
export const PROPOSAL_STATUSES = ["pending", "approved", "rejected"] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];

export interface Proposal {
  id: string;
  orgId: string;
  kind: ProposalKind;
  subjectPersonId: string;
  payload: Record<string, unknown>;
  summary: string;
  status: ProposalStatus;
  proposedBy: string;
  proposedByUser: string;
  proposedAt: string;
  decidedBy: string | null;
  decidedByUser: string | null;
  decidedAt: string | null;
  result: Record<string, unknown> | null;
}

interface ProposalRow {
  id: string;
  org_id: string;
  kind: ProposalKind;
  subject_person_id: string;
  payload: string;
  summary: string;
  status: ProposalStatus;
  proposed_by: string;
  proposed_by_user: string;
  proposed_at: string;
  decided_by: string | null;
  decided_by_user: string | null;
  decided_at: string | null;
  result: string | null;
}

const toProposal = (row: ProposalRow): Proposal => ({
  id: row.id,
  orgId: row.org_id,
  kind: row.kind,
  subjectPersonId: row.subject_person_id,
  payload: parseJsonColumn<Record<string, unknown>>(row.payload, {}),
  summary: row.summary,
  status: row.status,
  proposedBy: row.proposed_by,
  proposedByUser: row.proposed_by_user,
  proposedAt: row.proposed_at,
  decidedBy: row.decided_by,
  decidedByUser: row.decided_by_user,
  decidedAt: row.decided_at,
  result: row.result === null ? null : parseJsonColumn<Record<string, unknown>>(row.result, {}),
});

export class ProposalsRepository {
  constructor(private readonly db: Database) {}

  insert(input: {
    orgId: string;
    kind: ProposalKind;
    subjectPersonId: string;
    payload: Record<string, unknown>;
    summary: string;
    proposedBy: string;
    proposedByUser: string;
    proposedAt: string;
  }): Proposal {
    const id = newId("prp");
    this.db
      .prepare(
        `INSERT INTO proposals (id, org_id, kind, subject_person_id, payload, summary, status,
           proposed_by, proposed_by_user, proposed_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
      )
      .run(
        id,
        input.orgId,
        input.kind,
        input.subjectPersonId,
        JSON.stringify(input.payload),
        input.summary,
        input.proposedBy,
        input.proposedByUser,
        input.proposedAt,
      );
    return this.get(id) as Proposal;
  }

  get(id: string): Proposal | undefined {
    const row = this.db.prepare("SELECT * FROM proposals WHERE id = ?").get(id) as
      | ProposalRow
      | undefined;
    return row === undefined ? undefined : toProposal(row);
  }

  list(orgId: string, status: ProposalStatus | undefined): Proposal[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM proposals WHERE org_id = ? AND (? IS NULL OR status = ?)
           ORDER BY proposed_at DESC, rowid DESC LIMIT 500`,
        )
        .all(orgId, status ?? null, status ?? null) as ProposalRow[]
    ).map(toProposal);
  }

  /** pending → approved/rejected once; false when someone else decided first. */
  decide(
    id: string,
    status: "approved" | "rejected",
    by: { personId: string; userId: string },
    at: string,
  ): boolean {
    return (
      this.db
        .prepare(
          `UPDATE proposals SET status = ?, decided_by = ?, decided_by_user = ?, decided_at = ?
           WHERE id = ? AND status = 'pending'`,
        )
        .run(status, by.personId, by.userId, at, id).changes === 1
    );
  }

  /** Back to pending when carrying out an approved proposal failed (nothing took effect). */
  reopen(id: string): void {
    this.db
      .prepare(
        "UPDATE proposals SET status = 'pending', decided_by = NULL, decided_by_user = NULL, decided_at = NULL WHERE id = ?",
      )
      .run(id);
  }

  setResult(id: string, result: Record<string, unknown>): void {
    this.db.prepare("UPDATE proposals SET result = ? WHERE id = ?").run(JSON.stringify(result), id);
  }

  /** Pending proposals of the same kind for the same person (one at a time). */
  pendingFor(subjectPersonId: string, kind: ProposalKind): Proposal | undefined {
    const row = this.db
      .prepare(
        "SELECT * FROM proposals WHERE subject_person_id = ? AND kind = ? AND status = 'pending' LIMIT 1",
      )
      .get(subjectPersonId, kind) as ProposalRow | undefined;
    return row === undefined ? undefined : toProposal(row);
  }
}
