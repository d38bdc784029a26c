-- PostgreSQL version of ../002-separation-of-duties.sql: same tables, columns and constraints; types as
-- PostgreSQL spells them (BIGINT for SQLite INTEGER, identity columns for AUTOINCREMENT).

-- Separation of duties: who made each account and person, power changes as proposals that a
-- second officer approves, branch scope of branch managers, signed admin-log checkpoints.

-- Person id of who opened the account (`system` for init and seeding) and the proposal, if any,
-- through which it came to be: the puppet rule follows these links back to their makers.
ALTER TABLE users ADD COLUMN created_by TEXT NOT NULL DEFAULT 'system';
ALTER TABLE users ADD COLUMN proposal_id TEXT;
-- A branch manager's scope: named branches (JSON array of ids) or a whole region.
ALTER TABLE users ADD COLUMN branch_ids TEXT;
ALTER TABLE users ADD COLUMN region_id TEXT REFERENCES regions (id);
ALTER TABLE users ADD COLUMN password_changed_at TEXT;
-- Set by an admin-forced reset: the account may only change its password until it does.
ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;

ALTER TABLE people ADD COLUMN enable_proposal_id TEXT;

CREATE TABLE proposals (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs (id),
  kind TEXT NOT NULL CHECK (kind IN ('user.create', 'user.role', 'user.passwordReset', 'person.enable', 'right.grant')),
  -- the person the power would go to (never the proposer, never the approver)
  subject_person_id TEXT NOT NULL,
  -- what takes effect on approval; a password only as its scrypt hash
  payload TEXT NOT NULL,
  summary TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
  proposed_by TEXT NOT NULL,
  proposed_by_user TEXT NOT NULL,
  proposed_at TEXT NOT NULL,
  decided_by TEXT,
  decided_by_user TEXT,
  decided_at TEXT,
  -- what the approval created (ids only, never a password or a code)
  result TEXT
);
CREATE INDEX proposals_org ON proposals (org_id, status);
CREATE INDEX proposals_subject ON proposals (subject_person_id);

CREATE TABLE admin_log_checkpoints (
  seq BIGINT PRIMARY KEY,
  head_hash TEXT NOT NULL,
  at TEXT NOT NULL,
  key_id TEXT NOT NULL,
  public_key TEXT NOT NULL,
  signature TEXT NOT NULL
);

-- Initial codes waiting for their PIN letter: sealed under the fleet's key-encryption key,
-- deleted once the letter (or each half of it) was downloaded.
CREATE TABLE pin_letters (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs (id),
  person_id TEXT NOT NULL,
  container_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  slot BIGINT NOT NULL,
  sealed_code TEXT,
  split BIGINT NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  first_half_by TEXT,
  first_half_at TEXT,
  second_half_by TEXT,
  second_half_at TEXT,
  downloaded_by TEXT,
  downloaded_at TEXT
);
CREATE INDEX pin_letters_person ON pin_letters (person_id);

CREATE TABLE bank_settings (
  org_id TEXT PRIMARY KEY REFERENCES orgs (id),
  split_pin_letters BIGINT NOT NULL DEFAULT 0
);
