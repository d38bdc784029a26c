/**
 * Tenants and their structure (SPEC §5): organisations (banks, CIT companies) → regions →
 * branches → containers. Rules about who may see what live in `auth/scope.ts`; this file
 * only stores and reads.
 */
import type { Holiday, LockPolicy } from "@lockfleet/protocol";
import type { Database } from "better-sqlite3";
import type { OrgKind } from "../auth/principal.js";
import { newId } from "../ids.js";
import { type Page, type PageRequest, pageOf, parseJsonColumn } from "./pagination.js";

export interface Org {
  id: string;
  kind: OrgKind;
  name: string;
  sponsorOrgId?: string;
  createdAt: string;
}

export interface Region {
  id: string;
  orgId: string;
  name: string;
  createdAt: string;
}

export const BRANCH_TYPES = [
  "branch",
  "selfService",
  "headOffice",
  "cashCentre",
  "offsite",
] as const;
export type BranchType = (typeof BRANCH_TYPES)[number];

export interface Branch {
  id: string;
  orgId: string;
  regionId?: string;
  name: string;
  branchType: BranchType;
  timeZone: string;
  holidays: Holiday[];
  address?: string;
  createdAt: string;
}

export const CONTAINER_TYPES = ["gaa", "akt", "recycler", "deposit", "safe", "vaultDoor"] as const;
export type ContainerType = (typeof CONTAINER_TYPES)[number];
/** EN 1143-1 resistance grades. */
export const EN1143_GRADES = [
  "0",
  "I",
  "II",
  "III",
  "IV",
  "V",
  "VI",
  "VII",
  "VIII",
  "IX",
  "X",
  "XI",
  "XII",
  "XIII",
] as const;
export type Grade = (typeof EN1143_GRADES)[number];
/** EN 1300 high-security lock classes. */
export const LOCK_CLASSES = ["A", "B", "C", "D"] as const;
export type LockClass = (typeof LOCK_CLASSES)[number];

export interface Container {
  id: string;
  orgId: string;
  branchId: string;
  name: string;
  type: ContainerType;
  grade: Grade;
  lockClass: LockClass;
  policy: LockPolicy;
  createdAt: string;
}

interface OrgRow {
  row_id: number;
  id: string;
  kind: OrgKind;
  name: string;
  sponsor_org_id: string | null;
  created_at: string;
}
interface RegionRow {
  row_id: number;
  id: string;
  org_id: string;
  name: string;
  created_at: string;
}
interface BranchRow {
  row_id: number;
  id: string;
  org_id: string;
  region_id: string | null;
  name: string;
  branch_type: BranchType;
  time_zone: string;
  holidays: string;
  address: string | null;
  created_at: string;
}
interface ContainerRow {
  row_id: number;
  id: string;
  org_id: string;
  branch_id: string;
  name: string;
  type: ContainerType;
  grade: Grade;
  lock_class: LockClass;
  policy: string;
  created_at: string;
}

const toOrg = (row: OrgRow): Org => ({
  id: row.id,
  kind: row.kind,
  name: row.name,
  ...(row.sponsor_org_id === null ? {} : { sponsorOrgId: row.sponsor_org_id }),
  createdAt: row.created_at,
});
const toRegion = (row: RegionRow): Region => ({
  id: row.id,
  orgId: row.org_id,
  name: row.name,
  createdAt: row.created_at,
});
const toBranch = (row: BranchRow): Branch => ({
  id: row.id,
  orgId: row.org_id,
  ...(row.region_id === null ? {} : { regionId: row.region_id }),
  name: row.name,
  branchType: row.branch_type,
  timeZone: row.time_zone,
  holidays: parseJsonColumn<Holiday[]>(row.holidays, []),
  ...(row.address === null ? {} : { address: row.address }),
  createdAt: row.created_at,
});
const toContainer = (row: ContainerRow): Container => ({
  id: row.id,
  orgId: row.org_id,
  branchId: row.branch_id,
  name: row.name,
  type: row.type,
  grade: row.grade,
  lockClass: row.lock_class,
  policy: parseJsonColumn<LockPolicy>(row.policy, {} as LockPolicy),
  createdAt: row.created_at,
});

export class OrgsRepository {
  constructor(private readonly db: Database) {}

  // ---- organisations

  createOrg(input: { kind: OrgKind; name: string; sponsorOrgId?: string }): Org {
    const org: Org = {
      id: newId("org"),
      kind: input.kind,
      name: input.name,
      ...(input.sponsorOrgId === undefined ? {} : { sponsorOrgId: input.sponsorOrgId }),
      createdAt: new Date().toISOString(),
    };
    this.db
      .prepare(
        "INSERT INTO orgs (id, kind, name, sponsor_org_id, created_at) VALUES (?, ?, ?, ?, ?)",
      )
      .run(org.id, org.kind, org.name, input.sponsorOrgId ?? null, org.createdAt);
    return org;
  }

  /** Every bank of this fleet (for operator commands on the machine). */
  listBanks(): Org[] {
    return (
      this.db
        .prepare("SELECT rowid AS row_id, * FROM orgs WHERE kind = 'bank' ORDER BY rowid")
        .all() as OrgRow[]
    ).map(toOrg);
  }

  getOrg(id: string): Org | undefined {
    const row = this.db.prepare("SELECT rowid AS row_id, * FROM orgs WHERE id = ?").get(id) as
      | OrgRow
      | undefined;
    return row === undefined ? undefined : toOrg(row);
  }

  /**
   * Organisations a tenant may see: itself; for a bank, the CIT companies it registered or
   * contracts with; for a CIT company, the banks it has an active contract with.
   */
  listVisibleOrgs(viewer: { orgId: string; orgKind: OrgKind }, page: PageRequest): Page<Org> {
    const sql =
      viewer.orgKind === "bank"
        ? `SELECT rowid AS row_id, * FROM orgs WHERE (id = ? OR sponsor_org_id = ?
             OR id IN (SELECT cit_org_id FROM contracts WHERE bank_org_id = ?))
           AND rowid > ? ORDER BY rowid LIMIT ?`
        : `SELECT rowid AS row_id, * FROM orgs WHERE (id = ?
             OR id IN (SELECT bank_org_id FROM contracts WHERE cit_org_id = ? AND active = 1))
           AND rowid > ? ORDER BY rowid LIMIT ?`;
    const id = viewer.orgId;
    const params = viewer.orgKind === "bank" ? [id, id, id] : [id, id];
    return pageOf(this.db.prepare(sql), params, page, toOrg);
  }

  renameOrg(id: string, name: string): void {
    this.db.prepare("UPDATE orgs SET name = ? WHERE id = ?").run(name, id);
  }

  countOrgs(): number {
    return Number(this.db.prepare("SELECT count(*) FROM orgs").pluck().get());
  }

  // ---- regions

  createRegion(input: { orgId: string; name: string }): Region {
    const region: Region = {
      id: newId("reg"),
      orgId: input.orgId,
      name: input.name,
      createdAt: new Date().toISOString(),
    };
    this.db
      .prepare("INSERT INTO regions (id, org_id, name, created_at) VALUES (?, ?, ?, ?)")
      .run(region.id, region.orgId, region.name, region.createdAt);
    return region;
  }

  getRegion(id: string): Region | undefined {
    const row = this.db.prepare("SELECT rowid AS row_id, * FROM regions WHERE id = ?").get(id) as
      | RegionRow
      | undefined;
    return row === undefined ? undefined : toRegion(row);
  }

  findRegionByName(orgId: string, name: string): Region | undefined {
    const row = this.db
      .prepare("SELECT rowid AS row_id, * FROM regions WHERE org_id = ? AND name = ?")
      .get(orgId, name) as RegionRow | undefined;
    return row === undefined ? undefined : toRegion(row);
  }

  listRegions(orgId: string, page: PageRequest): Page<Region> {
    return pageOf(
      this.db.prepare(
        "SELECT rowid AS row_id, * FROM regions WHERE org_id = ? AND rowid > ? ORDER BY rowid LIMIT ?",
      ),
      [orgId],
      page,
      toRegion,
    );
  }

  renameRegion(id: string, name: string): void {
    this.db.prepare("UPDATE regions SET name = ? WHERE id = ?").run(name, id);
  }

  // ---- branches

  createBranch(input: Omit<Branch, "id" | "createdAt">): Branch {
    const branch: Branch = { ...input, id: newId("br"), createdAt: new Date().toISOString() };
    this.db
      .prepare(
        `INSERT INTO branches (id, org_id, region_id, name, branch_type, time_zone, holidays, address, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        branch.id,
        branch.orgId,
        branch.regionId ?? null,
        branch.name,
        branch.branchType,
        branch.timeZone,
        JSON.stringify(branch.holidays),
        branch.address ?? null,
        branch.createdAt,
      );
    return branch;
  }

  getBranch(id: string): Branch | undefined {
    const row = this.db.prepare("SELECT rowid AS row_id, * FROM branches WHERE id = ?").get(id) as
      | BranchRow
      | undefined;
    return row === undefined ? undefined : toBranch(row);
  }

  listBranches(
    filter: { orgId: string; regionId?: string | undefined },
    page: PageRequest,
  ): Page<Branch> {
    return pageOf(
      this.db.prepare(
        `SELECT rowid AS row_id, * FROM branches WHERE org_id = ? AND (? IS NULL OR region_id = ?)
         AND rowid > ? ORDER BY rowid LIMIT ?`,
      ),
      [filter.orgId, filter.regionId ?? null, filter.regionId ?? null],
      page,
      toBranch,
    );
  }

  /** Branches that hold at least one of the given containers (what a CIT tenant may see). */
  listBranchesHoldingContainers(containerIds: readonly string[], page: PageRequest): Page<Branch> {
    return pageOf(
      this.db.prepare(
        `SELECT rowid AS row_id, * FROM branches
         WHERE id IN (SELECT branch_id FROM containers WHERE id IN (SELECT value FROM json_each(?)))
         AND rowid > ? ORDER BY rowid LIMIT ?`,
      ),
      [JSON.stringify(containerIds)],
      page,
      toBranch,
    );
  }

  updateBranch(
    id: string,
    change: Partial<Pick<Branch, "name" | "branchType" | "timeZone" | "holidays" | "address">> & {
      regionId?: string | null;
    },
  ): Branch | undefined {
    const current = this.getBranch(id);
    if (current === undefined) return undefined;
    const regionId = change.regionId === undefined ? (current.regionId ?? null) : change.regionId;
    this.db
      .prepare(
        `UPDATE branches SET name = ?, branch_type = ?, time_zone = ?, holidays = ?, address = ?, region_id = ?
         WHERE id = ?`,
      )
      .run(
        change.name ?? current.name,
        change.branchType ?? current.branchType,
        change.timeZone ?? current.timeZone,
        JSON.stringify(change.holidays ?? current.holidays),
        change.address ?? current.address ?? null,
        regionId,
        id,
      );
    return this.getBranch(id);
  }

  // ---- containers

  createContainer(input: Omit<Container, "id" | "createdAt">): Container {
    const container: Container = {
      ...input,
      id: newId("ctr"),
      createdAt: new Date().toISOString(),
    };
    this.db
      .prepare(
        `INSERT INTO containers (id, org_id, branch_id, name, type, grade, lock_class, policy, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        container.id,
        container.orgId,
        container.branchId,
        container.name,
        container.type,
        container.grade,
        container.lockClass,
        JSON.stringify(container.policy),
        container.createdAt,
      );
    return container;
  }

  getContainer(id: string): Container | undefined {
    const row = this.db.prepare("SELECT rowid AS row_id, * FROM containers WHERE id = ?").get(id) as
      | ContainerRow
      | undefined;
    return row === undefined ? undefined : toContainer(row);
  }

  listContainers(
    filter: { orgId: string; branchId?: string | undefined },
    page: PageRequest,
  ): Page<Container> {
    return pageOf(
      this.db.prepare(
        `SELECT rowid AS row_id, * FROM containers WHERE org_id = ? AND (? IS NULL OR branch_id = ?)
         AND rowid > ? ORDER BY rowid LIMIT ?`,
      ),
      [filter.orgId, filter.branchId ?? null, filter.branchId ?? null],
      page,
      toContainer,
    );
  }

  listContainersByIds(
    ids: readonly string[],
    filter: { branchId?: string | undefined },
    page: PageRequest,
  ): Page<Container> {
    return pageOf(
      this.db.prepare(
        `SELECT rowid AS row_id, * FROM containers WHERE id IN (SELECT value FROM json_each(?))
         AND (? IS NULL OR branch_id = ?) AND rowid > ? ORDER BY rowid LIMIT ?`,
      ),
      [JSON.stringify(ids), filter.branchId ?? null, filter.branchId ?? null],
      page,
      toContainer,
    );
  }

  updateContainer(
    id: string,
    change: Partial<Pick<Container, "name" | "grade" | "lockClass" | "type">>,
  ): Container | undefined {
    const current = this.getContainer(id);
    if (current === undefined) return undefined;
    this.db
      .prepare("UPDATE containers SET name = ?, grade = ?, lock_class = ?, type = ? WHERE id = ?")
      .run(
        change.name ?? current.name,
        change.grade ?? current.grade,
        change.lockClass ?? current.lockClass,
        change.type ?? current.type,
        id,
      );
    return this.getContainer(id);
  }

  /** For the policy-change flow (signed commands, two approvers): stores the applied policy. */
  setContainerPolicy(id: string, policy: LockPolicy): void {
    this.db
      .prepare("UPDATE containers SET policy = ? WHERE id = ?")
      .run(JSON.stringify(policy), id);
  }
}
