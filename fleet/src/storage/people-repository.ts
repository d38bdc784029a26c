/**
 * People (SPEC §1, §5): identified once by a responsible role (against a document type), then
 * enabled, possibly only for a time (substitutes, service teams), deleted when no longer
 * needed. A person's record stays after deletion: audit records carry their id for years.
 */
import type { Database } from "better-sqlite3";
import { newId } from "../ids.js";
import { type Page, type PageRequest, pageOf } from "./pagination.js";

export const DOCUMENT_TYPES = [
  "idCard",
  "passport",
  "residencePermit",
  "driversLicence",
  "serviceCard",
  "other",
] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

export const PERSON_STATUSES = [
  "registered",
  "identified",
  "enabled",
  "notYetValid",
  "expired",
  "disabled",
  "deleted",
] as const;
export type PersonStatus = (typeof PERSON_STATUSES)[number];

export interface Person {
  id: string;
  orgId: string;
  name: string;
  status: PersonStatus;
  createdAt: string;
  createdBy: string;
  identifiedBy?: string;
  identifiedAt?: string;
  documentType?: DocumentType;
  /** True when a keyed hash of the document number is on file (never the number itself). */
  documentReferenceKept: boolean;
  enabledBy?: string;
  enabledAt?: string;
  disabledBy?: string;
  disabledAt?: string;
  validFrom?: string;
  validUntil?: string;
  expiredAt?: string;
  deletedBy?: string;
  deletedAt?: string;
}

interface PersonRow {
  row_id: number;
  id: string;
  org_id: string;
  name: string;
  created_at: string;
  created_by: string;
  identified_by: string | null;
  identified_at: string | null;
  document_type: DocumentType | null;
  document_ref_hash: string | null;
  enabled_at: string | null;
  enabled_by: string | null;
  disabled_at: string | null;
  disabled_by: string | null;
  valid_from: string | null;
  valid_until: string | null;
  expired_at: string | null;
  deleted_at: string | null;
  deleted_by: string | null;
}

/** A person's standing at `now` (ms): what decides whether they may act or hold rights. */
export function personStatus(row: PersonRow, now: number): PersonStatus {
  if (row.deleted_at !== null) return "deleted";
  if (row.identified_at === null) return "registered";
  if (row.enabled_at === null) return "identified";
  if (row.disabled_at !== null) return "disabled";
  if (row.valid_until !== null && Date.parse(row.valid_until) <= now) return "expired";
  if (row.valid_from !== null && Date.parse(row.valid_from) > now) return "notYetValid";
  return "enabled";
}

function optional<K extends string, V>(key: K, value: V | null): { [P in K]?: V } {
  return (value === null ? {} : { [key]: value }) as { [P in K]?: V };
}

function toPerson(row: PersonRow, now: number): Person {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    status: personStatus(row, now),
    createdAt: row.created_at,
    createdBy: row.created_by,
    ...optional("identifiedBy", row.identified_by),
    ...optional("identifiedAt", row.identified_at),
    ...optional("documentType", row.document_type),
    documentReferenceKept: row.document_ref_hash !== null,
    ...optional("enabledBy", row.enabled_by),
    ...optional("enabledAt", row.enabled_at),
    ...optional("disabledBy", row.disabled_by),
    ...optional("disabledAt", row.disabled_at),
    ...optional("validFrom", row.valid_from),
    ...optional("validUntil", row.valid_until),
    ...optional("expiredAt", row.expired_at),
    ...optional("deletedBy", row.deleted_by),
    ...optional("deletedAt", row.deleted_at),
  };
}

const iso = (millis: number) => new Date(millis).toISOString();

export class PeopleRepository {
  constructor(private readonly db: Database) {}

  create(input: { orgId: string; name: string; createdBy: string; now: number }): Person {
    const id = newId("per");
    this.db
      .prepare(
        "INSERT INTO people (id, org_id, name, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
      )
      .run(id, input.orgId, input.name, iso(input.now), input.createdBy);
    return this.get(id, input.now) as Person;
  }

  get(id: string, now: number): Person | undefined {
    const row = this.row(id);
    return row === undefined ? undefined : toPerson(row, now);
  }

  /** Whether another person was already identified with the same keyed document hash. */
  findByDocumentHash(orgId: string, documentRefHash: string): string | undefined {
    return this.db
      .prepare(
        "SELECT id FROM people WHERE org_id = ? AND document_ref_hash = ? AND deleted_at IS NULL",
      )
      .pluck()
      .get(orgId, documentRefHash) as string | undefined;
  }

  list(
    filter: { orgIds: readonly string[]; now: number; includeDeleted?: boolean },
    page: PageRequest,
  ): Page<Person> {
    return pageOf(
      this.db.prepare(
        `SELECT rowid AS row_id, * FROM people WHERE org_id IN (SELECT value FROM json_each(?))
         AND (? = 1 OR deleted_at IS NULL) AND rowid > ? ORDER BY rowid LIMIT ?`,
      ),
      [JSON.stringify(filter.orgIds), filter.includeDeleted ? 1 : 0],
      page,
      (row: PersonRow) => toPerson(row, filter.now),
    );
  }

  identify(
    id: string,
    input: { by: string; documentType: DocumentType; documentRefHash?: string; now: number },
  ): void {
    this.db
      .prepare(
        `UPDATE people SET identified_by = ?, identified_at = ?, document_type = ?, document_ref_hash = ?
         WHERE id = ? AND identified_at IS NULL`,
      )
      .run(input.by, iso(input.now), input.documentType, input.documentRefHash ?? null, id);
  }

  enable(
    id: string,
    input: { by: string; now: number; validFrom?: string | null; validUntil?: string | null },
  ): void {
    this.db
      .prepare(
        `UPDATE people SET enabled_by = ?, enabled_at = ?, disabled_at = NULL, disabled_by = NULL,
           expired_at = NULL, valid_from = ?, valid_until = ?
         WHERE id = ? AND deleted_at IS NULL`,
      )
      .run(input.by, iso(input.now), input.validFrom ?? null, input.validUntil ?? null, id);
  }

  /** The proposal through which the person was enabled (the puppet rule follows it). */
  setEnableProposal(id: string, proposalId: string): void {
    this.db.prepare("UPDATE people SET enable_proposal_id = ? WHERE id = ?").run(proposalId, id);
  }

  disable(id: string, input: { by: string; now: number }): void {
    this.db
      .prepare(
        "UPDATE people SET disabled_by = ?, disabled_at = ? WHERE id = ? AND deleted_at IS NULL",
      )
      .run(input.by, iso(input.now), id);
  }

  setValidity(id: string, validity: { validFrom: string | null; validUntil: string | null }): void {
    this.db
      .prepare(
        "UPDATE people SET valid_from = ?, valid_until = ?, expired_at = NULL WHERE id = ? AND deleted_at IS NULL",
      )
      .run(validity.validFrom, validity.validUntil, id);
  }

  delete(id: string, input: { by: string; now: number }): void {
    this.db
      .prepare(
        "UPDATE people SET deleted_by = ?, deleted_at = ?, document_ref_hash = NULL WHERE id = ? AND deleted_at IS NULL",
      )
      .run(input.by, iso(input.now), id);
  }

  /** People whose temporary rights ran out and who were not yet marked expired. */
  dueForExpiry(now: number): Person[] {
    const rows = this.db
      .prepare(
        `SELECT rowid AS row_id, * FROM people WHERE expired_at IS NULL AND deleted_at IS NULL
         AND valid_until IS NOT NULL AND valid_until <= ? ORDER BY rowid`,
      )
      .all(iso(now)) as PersonRow[];
    return rows.map((row) => toPerson(row, now));
  }

  markExpired(id: string, now: number): void {
    this.db.prepare("UPDATE people SET expired_at = ? WHERE id = ?").run(iso(now), id);
  }

  private row(id: string): PersonRow | undefined {
    return this.db.prepare("SELECT rowid AS row_id, * FROM people WHERE id = ?").get(id) as
      | PersonRow
      | undefined;
  }
}
