/**
 * Contracts between a bank and a CIT company (SPEC §5): the containers the CIT crews may be
 * given access to and the standing route windows inside which their requests may be approved
 * automatically. A CIT tenant sees a container only while an active contract lists it.
 */

import { IsoWeekday, LocalTime, Strict } from "@lockfleet/protocol";
import { type Static, Type } from "@sinclair/typebox";
import type { Database } from "better-sqlite3";
import { newId } from "../ids.js";
import { type Page, type PageRequest, pageOf, parseJsonColumn } from "./pagination.js";

/**
 * A standing route window: weekly, in the branch's local time, from (startDay, startTime) to
 * (endDay, endTime); applies to the listed containers, or to all of the contract's when absent.
 */
export const StandingWindow = Strict({
  startDay: IsoWeekday,
  startTime: LocalTime,
  endDay: IsoWeekday,
  endTime: LocalTime,
  containerIds: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 500 })),
});
export type StandingWindow = Static<typeof StandingWindow>;

export interface Contract {
  id: string;
  bankOrgId: string;
  citOrgId: string;
  name: string;
  containerIds: string[];
  standingWindows: StandingWindow[];
  validFrom?: string;
  validUntil?: string;
  active: boolean;
  createdAt: string;
  terminatedAt?: string;
}

interface ContractRow {
  row_id: number;
  id: string;
  bank_org_id: string;
  cit_org_id: string;
  name: string;
  container_ids: string;
  standing_windows: string;
  valid_from: string | null;
  valid_until: string | null;
  active: number;
  created_at: string;
  terminated_at: string | null;
}

const toContract = (row: ContractRow): Contract => ({
  id: row.id,
  bankOrgId: row.bank_org_id,
  citOrgId: row.cit_org_id,
  name: row.name,
  containerIds: parseJsonColumn<string[]>(row.container_ids, []),
  standingWindows: parseJsonColumn<StandingWindow[]>(row.standing_windows, []),
  ...(row.valid_from === null ? {} : { validFrom: row.valid_from }),
  ...(row.valid_until === null ? {} : { validUntil: row.valid_until }),
  active: row.active === 1,
  createdAt: row.created_at,
  ...(row.terminated_at === null ? {} : { terminatedAt: row.terminated_at }),
});

const iso = (millis: number) => new Date(millis).toISOString();

/** Active and inside its validity at `now`: what gives a CIT tenant sight of containers. */
const IN_FORCE = `active = 1 AND (valid_from IS NULL OR valid_from <= ?) AND (valid_until IS NULL OR valid_until > ?)`;

export class ContractsRepository {
  constructor(private readonly db: Database) {}

  create(input: {
    bankOrgId: string;
    citOrgId: string;
    name: string;
    containerIds: string[];
    standingWindows: StandingWindow[];
    validFrom?: string | undefined;
    validUntil?: string | undefined;
    now: number;
  }): Contract {
    const id = newId("con");
    this.db
      .prepare(
        `INSERT INTO contracts (id, bank_org_id, cit_org_id, name, container_ids, standing_windows,
           valid_from, valid_until, active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
      )
      .run(
        id,
        input.bankOrgId,
        input.citOrgId,
        input.name,
        JSON.stringify(input.containerIds),
        JSON.stringify(input.standingWindows),
        input.validFrom ?? null,
        input.validUntil ?? null,
        iso(input.now),
      );
    return this.get(id) as Contract;
  }

  get(id: string): Contract | undefined {
    const row = this.db.prepare("SELECT rowid AS row_id, * FROM contracts WHERE id = ?").get(id) as
      | ContractRow
      | undefined;
    return row === undefined ? undefined : toContract(row);
  }

  list(filter: { bankOrgId?: string; citOrgId?: string }, page: PageRequest): Page<Contract> {
    return pageOf(
      this.db.prepare(
        `SELECT rowid AS row_id, * FROM contracts WHERE (? IS NULL OR bank_org_id = ?)
         AND (? IS NULL OR cit_org_id = ?) AND rowid > ? ORDER BY rowid LIMIT ?`,
      ),
      [
        filter.bankOrgId ?? null,
        filter.bankOrgId ?? null,
        filter.citOrgId ?? null,
        filter.citOrgId ?? null,
      ],
      page,
      toContract,
    );
  }

  update(
    id: string,
    change: {
      name?: string | undefined;
      containerIds?: string[] | undefined;
      standingWindows?: StandingWindow[] | undefined;
      validFrom?: string | null | undefined;
      validUntil?: string | null | undefined;
      active?: boolean | undefined;
    },
    now: number,
  ): Contract | undefined {
    const current = this.get(id);
    if (current === undefined) return undefined;
    const active = change.active ?? current.active;
    this.db
      .prepare(
        `UPDATE contracts SET name = ?, container_ids = ?, standing_windows = ?, valid_from = ?,
           valid_until = ?, active = ?, terminated_at = ? WHERE id = ?`,
      )
      .run(
        change.name ?? current.name,
        JSON.stringify(change.containerIds ?? current.containerIds),
        JSON.stringify(change.standingWindows ?? current.standingWindows),
        change.validFrom === undefined ? (current.validFrom ?? null) : change.validFrom,
        change.validUntil === undefined ? (current.validUntil ?? null) : change.validUntil,
        active ? 1 : 0,
        active ? null : (current.terminatedAt ?? iso(now)),
        id,
      );
    return this.get(id);
  }

  /** Contracts in force between a CIT company and any bank at `now`. */
  inForceForCit(citOrgId: string, now: number): Contract[] {
    const at = iso(now);
    const rows = this.db
      .prepare(
        `SELECT rowid AS row_id, * FROM contracts WHERE cit_org_id = ? AND ${IN_FORCE} ORDER BY rowid`,
      )
      .all(citOrgId, at, at) as ContractRow[];
    return rows.map(toContract);
  }

  /** Containers a CIT company may see at `now`: the union over its contracts in force. */
  containerIdsForCit(citOrgId: string, now: number): string[] {
    const ids = new Set<string>();
    for (const contract of this.inForceForCit(citOrgId, now)) {
      for (const id of contract.containerIds) ids.add(id);
    }
    return [...ids];
  }

  /** The contract in force that lets `citOrgId` at `containerId`, if any. */
  inForceFor(citOrgId: string, containerId: string, now: number): Contract | undefined {
    return this.inForceForCit(citOrgId, now).find((contract) =>
      contract.containerIds.includes(containerId),
    );
  }
}
