/** The risk register's own table (`risk_entries`, migration 230). */
import { CodedError } from "@lockfleet/protocol";
import type { Database } from "better-sqlite3";
import { newId } from "../ids.js";
import { type Page, type PageRequest, pageOf, parseJsonColumn } from "../storage/pagination.js";
import type { Measurement } from "./measure.js";
import type { RiskCategory } from "./scales.js";

export interface RiskEvidence extends Measurement {
  period: { from: string; to: string };
}

export interface StoredRiskEntry {
  id: string;
  bankOrgId: string;
  contractId: string;
  citOrgId: string;
  category: RiskCategory;
  title: string;
  derivedLikelihood: number;
  override: { likelihood: number; justification: string; by: string; at: string } | null;
  impact: number;
  impactSetBy: string | null;
  owner: string | null;
  measures: string;
  reviewDate: string;
  evidence: RiskEvidence;
  computedAt: string;
  createdAt: string;
  updatedAt: string;
}

interface RiskRow {
  row_id: number;
  id: string;
  bank_org_id: string;
  contract_id: string;
  cit_org_id: string;
  category: RiskCategory;
  title: string;
  derived_likelihood: number;
  override_likelihood: number | null;
  override_justification: string | null;
  override_by: string | null;
  override_at: string | null;
  impact: number;
  impact_set_by: string | null;
  owner: string | null;
  measures: string;
  review_date: string;
  evidence: string;
  period_from: string;
  period_to: string;
  computed_at: string;
  created_at: string;
  updated_at: string;
}

const EMPTY_EVIDENCE: RiskEvidence = {
  numerator: 0,
  denominator: 0,
  rate: null,
  counts: {},
  references: [],
  referencesOmitted: 0,
  period: { from: "", to: "" },
};

function toEntry(row: RiskRow): StoredRiskEntry {
  return {
    id: row.id,
    bankOrgId: row.bank_org_id,
    contractId: row.contract_id,
    citOrgId: row.cit_org_id,
    category: row.category,
    title: row.title,
    derivedLikelihood: row.derived_likelihood,
    override:
      row.override_likelihood === null
        ? null
        : {
            likelihood: row.override_likelihood,
            justification: row.override_justification ?? "",
            by: row.override_by ?? "",
            at: row.override_at ?? "",
          },
    impact: row.impact,
    impactSetBy: row.impact_set_by,
    owner: row.owner,
    measures: row.measures,
    reviewDate: row.review_date,
    evidence: {
      ...parseJsonColumn<Omit<RiskEvidence, "period">>(row.evidence, EMPTY_EVIDENCE),
      period: { from: row.period_from, to: row.period_to },
    },
    computedAt: row.computed_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface RiskFilter {
  bankOrgId: string;
  contractId?: string | undefined;
  citOrgId?: string | undefined;
  category?: RiskCategory | undefined;
}

export interface EntryChanges {
  title?: string | undefined;
  impact?: number | undefined;
  impactSetBy?: string | null | undefined;
  owner?: string | null | undefined;
  measures?: string | undefined;
  reviewDate?: string | undefined;
}

/** A register filter in SQL: always the bank; contract, provider and category when given. */
const FILTER_WHERE = `bank_org_id = ?
  AND (? IS NULL OR contract_id = ?) AND (? IS NULL OR cit_org_id = ?)
  AND (? IS NULL OR category = ?)`;

function filterParams(filter: RiskFilter): unknown[] {
  const contractId = filter.contractId ?? null;
  const citOrgId = filter.citOrgId ?? null;
  const category = filter.category ?? null;
  return [filter.bankOrgId, contractId, contractId, citOrgId, citOrgId, category, category];
}

export class RiskRepository {
  constructor(private readonly db: Database) {}

  transaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  get(id: string): StoredRiskEntry | undefined {
    const row = this.db.prepare("SELECT * FROM risk_entries WHERE id = ?").get(id) as
      | RiskRow
      | undefined;
    return row === undefined ? undefined : toEntry(row);
  }

  byContract(contractId: string, category: RiskCategory): StoredRiskEntry | undefined {
    const row = this.db
      .prepare("SELECT * FROM risk_entries WHERE contract_id = ? AND category = ?")
      .get(contractId, category) as RiskRow | undefined;
    return row === undefined ? undefined : toEntry(row);
  }

  list(filter: RiskFilter, page: PageRequest): Page<StoredRiskEntry> {
    return pageOf<RiskRow, StoredRiskEntry>(
      this.db.prepare(
        `SELECT * FROM risk_entries WHERE ${FILTER_WHERE} AND row_id > ? ORDER BY row_id LIMIT ?`,
      ),
      filterParams(filter),
      page,
      toEntry,
    );
  }

  /** Every entry in the filter (exports), in register order. */
  all(filter: RiskFilter): StoredRiskEntry[] {
    const rows = this.db
      .prepare(`SELECT * FROM risk_entries WHERE ${FILTER_WHERE} ORDER BY row_id`)
      .all(...filterParams(filter)) as RiskRow[];
    return rows.map(toEntry);
  }

  /** Banks holding at least one contract (the periodic recompute walks them). */
  banksWithContracts(): string[] {
    return this.db
      .prepare("SELECT DISTINCT bank_org_id FROM contracts ORDER BY bank_org_id")
      .pluck()
      .all() as string[];
  }

  insert(input: {
    bankOrgId: string;
    contractId: string;
    citOrgId: string;
    category: RiskCategory;
    title: string;
    derivedLikelihood: number;
    impact: number;
    reviewDate: string;
    evidence: RiskEvidence;
    now: string;
  }): StoredRiskEntry {
    const id = newId("risk");
    const { period, ...figures } = input.evidence;
    this.db
      .prepare(
        `INSERT INTO risk_entries (id, bank_org_id, contract_id, cit_org_id, category, title,
           derived_likelihood, impact, review_date, evidence, period_from, period_to, computed_at,
           created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        input.bankOrgId,
        input.contractId,
        input.citOrgId,
        input.category,
        input.title,
        input.derivedLikelihood,
        input.impact,
        input.reviewDate,
        JSON.stringify(figures),
        period.from,
        period.to,
        input.now,
        input.now,
        input.now,
      );
    return this.mustGet(id);
  }

  setMeasurement(
    id: string,
    derivedLikelihood: number,
    evidence: RiskEvidence,
    now: string,
  ): StoredRiskEntry {
    const { period, ...figures } = evidence;
    this.db
      .prepare(
        `UPDATE risk_entries SET derived_likelihood = ?, evidence = ?, period_from = ?,
           period_to = ?, computed_at = ?, updated_at = ? WHERE id = ?`,
      )
      .run(derivedLikelihood, JSON.stringify(figures), period.from, period.to, now, now, id);
    return this.mustGet(id);
  }

  setOverride(
    id: string,
    override: { likelihood: number; justification: string; by: string } | null,
    now: string,
  ): StoredRiskEntry {
    this.db
      .prepare(
        `UPDATE risk_entries SET override_likelihood = ?, override_justification = ?,
           override_by = ?, override_at = ?, updated_at = ? WHERE id = ?`,
      )
      .run(
        override?.likelihood ?? null,
        override?.justification ?? null,
        override?.by ?? null,
        override === null ? null : now,
        now,
        id,
      );
    return this.mustGet(id);
  }

  update(id: string, changes: EntryChanges, now: string): StoredRiskEntry {
    const columns: Array<[keyof EntryChanges, string]> = [
      ["title", "title"],
      ["impact", "impact"],
      ["impactSetBy", "impact_set_by"],
      ["owner", "owner"],
      ["measures", "measures"],
      ["reviewDate", "review_date"],
    ];
    const sets: string[] = [];
    const params: unknown[] = [];
    for (const [key, column] of columns) {
      if (changes[key] === undefined) continue;
      sets.push(`${column} = ?`);
      params.push(changes[key]);
    }
    sets.push("updated_at = ?");
    params.push(now, id);
    this.db.prepare(`UPDATE risk_entries SET ${sets.join(", ")} WHERE id = ?`).run(...params);
    return this.mustGet(id);
  }

  mustGet(id: string): StoredRiskEntry {
    const entry = this.get(id);
    if (entry === undefined) throw new CodedError("E_RISK_MISSING", `risk entry ${id} vanished`);
    return entry;
  }
}
