/**
 * Login accounts, dashboard sessions and API tokens. Session and token secrets are stored only
 * as SHA-256 hashes: a copy of the database does not let anyone log in.
 */
import type { Database } from "better-sqlite3";
import type { OrgKind, Principal, Role } from "../auth/principal.js";
import { newId } from "../ids.js";
import { type Page, type PageRequest, pageOf } from "./pagination.js";

export interface User {
  id: string;
  personId: string;
  orgId: string;
  role: Exclude<Role, "system">;
  email: string;
  createdAt: string;
  /** Person id of who opened the account (`system` for init and seeding). */
  createdBy: string;
  /** The proposal through which the account came to be, if any. */
  proposalId?: string;
  /** A branch manager's scope: named branches, or a whole region. */
  branchIds?: string[];
  regionId?: string;
  mustChangePassword: boolean;
  disabledAt?: string;
}

/** Where a branch manager may act: named branches, or every branch of a region. */
export interface BranchScope {
  branchIds?: string[] | undefined;
  regionId?: string | undefined;
}

export interface ApiToken {
  id: string;
  userId: string;
  name: string;
  createdAt: string;
  expiresAt?: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

interface UserRow {
  row_id: number;
  id: string;
  person_id: string;
  org_id: string;
  role: Exclude<Role, "system">;
  email: string;
  password_hash: string;
  created_at: string;
  created_by: string;
  proposal_id: string | null;
  branch_ids: string | null;
  region_id: string | null;
  must_change_password: number;
  disabled_at: string | null;
}

interface TokenRow {
  row_id: number;
  id: string;
  user_id: string;
  name: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

interface PrincipalRow {
  user_id: string;
  person_id: string;
  org_id: string;
  org_kind: OrgKind;
  role: Role;
  branch_ids: string | null;
  region_id: string | null;
  must_change_password: number;
}

const toUser = (row: UserRow): User => ({
  id: row.id,
  personId: row.person_id,
  orgId: row.org_id,
  role: row.role,
  email: row.email,
  createdAt: row.created_at,
  createdBy: row.created_by,
  ...(row.proposal_id === null ? {} : { proposalId: row.proposal_id }),
  ...(row.branch_ids === null ? {} : { branchIds: JSON.parse(row.branch_ids) as string[] }),
  ...(row.region_id === null ? {} : { regionId: row.region_id }),
  mustChangePassword: row.must_change_password === 1,
  ...(row.disabled_at === null ? {} : { disabledAt: row.disabled_at }),
});

const toToken = (row: TokenRow): ApiToken => ({
  id: row.id,
  userId: row.user_id,
  name: row.name,
  createdAt: row.created_at,
  ...(row.expires_at === null ? {} : { expiresAt: row.expires_at }),
  ...(row.last_used_at === null ? {} : { lastUsedAt: row.last_used_at }),
  ...(row.revoked_at === null ? {} : { revokedAt: row.revoked_at }),
});

const iso = (millis: number) => new Date(millis).toISOString();

/**
 * A principal only while the account is active and the person behind it is enabled and
 * inside their validity: disabling, expiring or deleting a person ends their access at once.
 */
const PRINCIPAL_SELECT = `SELECT u.id AS user_id, u.person_id, u.org_id, o.kind AS org_kind, u.role,
    u.branch_ids, u.region_id, u.must_change_password
  FROM users u JOIN people p ON p.id = u.person_id JOIN orgs o ON o.id = u.org_id
  WHERE u.disabled_at IS NULL AND p.deleted_at IS NULL AND p.disabled_at IS NULL
    AND p.identified_at IS NOT NULL AND p.enabled_at IS NOT NULL
    AND (p.valid_from IS NULL OR p.valid_from <= ?) AND (p.valid_until IS NULL OR p.valid_until > ?)`;

export class UsersRepository {
  constructor(private readonly db: Database) {}

  create(input: {
    personId: string;
    orgId: string;
    role: Exclude<Role, "system">;
    email: string;
    passwordHash: string;
    now: number;
    createdBy?: string;
    proposalId?: string;
    scope?: BranchScope;
  }): User {
    const id = newId("usr");
    this.db
      .prepare(
        `INSERT INTO users (id, person_id, org_id, role, email, password_hash, created_at,
           created_by, proposal_id, branch_ids, region_id, password_changed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        input.personId,
        input.orgId,
        input.role,
        input.email,
        input.passwordHash,
        iso(input.now),
        input.createdBy ?? "system",
        input.proposalId ?? null,
        input.scope?.branchIds === undefined ? null : JSON.stringify(input.scope.branchIds),
        input.scope?.regionId ?? null,
        iso(input.now),
      );
    return this.get(id) as User;
  }

  /** A new role and scope (through an approved proposal). */
  setRole(
    id: string,
    input: { role: Exclude<Role, "system">; scope?: BranchScope; proposalId: string },
  ): void {
    this.db
      .prepare("UPDATE users SET role = ?, branch_ids = ?, region_id = ? WHERE id = ?")
      .run(
        input.role,
        input.scope?.branchIds === undefined ? null : JSON.stringify(input.scope.branchIds),
        input.scope?.regionId ?? null,
        id,
      );
  }

  passwordHashOf(id: string): string | undefined {
    return this.db.prepare("SELECT password_hash FROM users WHERE id = ?").pluck().get(id) as
      | string
      | undefined;
  }

  /**
   * A new password. `mustChange` marks an admin-forced reset: the account then only changes its
   * password. Every session and API token of the account ends except `keepSession`.
   */
  setPassword(
    id: string,
    input: { passwordHash: string; mustChange: boolean; now: number; keepSession?: string },
  ): void {
    this.db
      .prepare(
        "UPDATE users SET password_hash = ?, must_change_password = ?, password_changed_at = ? WHERE id = ?",
      )
      .run(input.passwordHash, input.mustChange ? 1 : 0, iso(input.now), id);
    this.db
      .prepare("DELETE FROM sessions WHERE user_id = ? AND token_hash IS NOT ?")
      .run(id, input.keepSession ?? null);
    this.db
      .prepare("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL")
      .run(iso(input.now), id);
  }

  /** Person ids of the bank's active security admins (enabled people, open accounts). */
  activeOfficers(orgId: string, now: number): string[] {
    const at = iso(now);
    return this.db
      .prepare(
        `SELECT DISTINCT person_id FROM (${PRINCIPAL_SELECT} AND u.org_id = ? AND u.role = 'securityAdmin')`,
      )
      .pluck()
      .all(at, at, orgId) as string[];
  }

  get(id: string): User | undefined {
    const row = this.db.prepare("SELECT rowid AS row_id, * FROM users WHERE id = ?").get(id) as
      | UserRow
      | undefined;
    return row === undefined ? undefined : toUser(row);
  }

  emailTaken(email: string): boolean {
    return this.db.prepare("SELECT 1 FROM users WHERE email = ?").get(email) !== undefined;
  }

  /** The account and its password hash, for login only. */
  credentialsFor(email: string): { user: User; passwordHash: string } | undefined {
    const row = this.db
      .prepare("SELECT rowid AS row_id, * FROM users WHERE email = ? AND disabled_at IS NULL")
      .get(email) as UserRow | undefined;
    return row === undefined ? undefined : { user: toUser(row), passwordHash: row.password_hash };
  }

  list(orgIds: readonly string[], page: PageRequest): Page<User> {
    return pageOf(
      this.db.prepare(
        `SELECT rowid AS row_id, * FROM users WHERE org_id IN (SELECT value FROM json_each(?))
         AND rowid > ? ORDER BY rowid LIMIT ?`,
      ),
      [JSON.stringify(orgIds)],
      page,
      toUser,
    );
  }

  /** Disables an account and ends its sessions and tokens. */
  disable(id: string, now: number): void {
    this.db
      .prepare("UPDATE users SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL")
      .run(iso(now), id);
    this.endAccessOf(id, now);
  }

  disableAllOfPerson(personId: string, now: number): void {
    const ids = this.db
      .prepare("SELECT id FROM users WHERE person_id = ?")
      .pluck()
      .all(personId) as string[];
    for (const id of ids) this.disable(id, now);
  }

  private endAccessOf(userId: string, now: number): void {
    this.db.prepare("DELETE FROM sessions WHERE user_id = ?").run(userId);
    this.db
      .prepare("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL")
      .run(iso(now), userId);
  }

  /** A branch manager's branches, resolved now (a region's new branches are in scope at once). */
  #scoped(principal: Principal, row: PrincipalRow): Principal {
    if (principal.role !== "branchManager") return principal;
    const branches = new Set<string>(
      row.branch_ids === null ? [] : (JSON.parse(row.branch_ids) as string[]),
    );
    if (row.region_id !== null) {
      for (const id of this.db
        .prepare("SELECT id FROM branches WHERE region_id = ? AND org_id = ?")
        .pluck()
        .all(row.region_id, principal.orgId) as string[]) {
        branches.add(id);
      }
    }
    return { ...principal, branches: [...branches] };
  }

  // ---- sessions

  createSession(input: {
    tokenHash: string;
    userId: string;
    now: number;
    expiresAt: number;
  }): void {
    this.db
      .prepare(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
      )
      .run(input.tokenHash, input.userId, iso(input.now), iso(input.expiresAt));
  }

  principalForSession(tokenHash: string, now: number): Principal | undefined {
    const at = iso(now);
    const row = this.db
      .prepare(
        `${PRINCIPAL_SELECT} AND u.id = (SELECT user_id FROM sessions WHERE token_hash = ? AND expires_at > ?)`,
      )
      .get(at, at, tokenHash, at) as PrincipalRow | undefined;
    return row === undefined ? undefined : this.#scoped(toPrincipal(row, "session"), row);
  }

  deleteSession(tokenHash: string): void {
    this.db.prepare("DELETE FROM sessions WHERE token_hash = ?").run(tokenHash);
  }

  deleteExpiredSessions(now: number): number {
    return this.db.prepare("DELETE FROM sessions WHERE expires_at <= ?").run(iso(now)).changes;
  }

  // ---- API tokens

  createToken(input: {
    userId: string;
    name: string;
    tokenHash: string;
    now: number;
    expiresAt?: number;
  }): ApiToken {
    const id = newId("tok");
    this.db
      .prepare(
        `INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        input.userId,
        input.name,
        input.tokenHash,
        iso(input.now),
        input.expiresAt === undefined ? null : iso(input.expiresAt),
      );
    return this.getToken(id) as ApiToken;
  }

  getToken(id: string): ApiToken | undefined {
    const row = this.db.prepare("SELECT rowid AS row_id, * FROM api_tokens WHERE id = ?").get(id) as
      | TokenRow
      | undefined;
    return row === undefined ? undefined : toToken(row);
  }

  listTokens(userId: string, page: PageRequest): Page<ApiToken> {
    return pageOf(
      this.db.prepare(
        "SELECT rowid AS row_id, * FROM api_tokens WHERE user_id = ? AND rowid > ? ORDER BY rowid LIMIT ?",
      ),
      [userId],
      page,
      toToken,
    );
  }

  revokeToken(id: string, now: number): void {
    this.db
      .prepare("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
      .run(iso(now), id);
  }

  principalForToken(tokenHash: string, now: number): Principal | undefined {
    const at = iso(now);
    const token = this.db
      .prepare(
        `SELECT id, user_id FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL
         AND (expires_at IS NULL OR expires_at > ?)`,
      )
      .get(tokenHash, at) as { id: string; user_id: string } | undefined;
    if (token === undefined) return undefined;
    const row = this.db.prepare(`${PRINCIPAL_SELECT} AND u.id = ?`).get(at, at, token.user_id) as
      | PrincipalRow
      | undefined;
    if (row === undefined) return undefined;
    this.db.prepare("UPDATE api_tokens SET last_used_at = ? WHERE id = ?").run(at, token.id);
    return this.#scoped(toPrincipal(row, "token"), row);
  }
}

function toPrincipal(row: PrincipalRow, via: Principal["via"]): Principal {
  return {
    userId: row.user_id,
    personId: row.person_id,
    orgId: row.org_id,
    orgKind: row.org_kind,
    role: row.role,
    via,
    ...(row.must_change_password === 1 ? { mustChangePassword: true } : {}),
  };
}
