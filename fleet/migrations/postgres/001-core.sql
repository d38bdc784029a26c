-- PostgreSQL version of ../001-core.sql: same tables, columns and constraints; types as
-- PostgreSQL spells them (BIGINT for SQLite INTEGER, identity columns for AUTOINCREMENT).

-- Core of the fleet: tenants, their structure, people, login accounts, contracts, admin log.
-- Timestamps are UTC ISO 8601 instants; JSON columns hold arrays or objects only.

CREATE TABLE orgs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('bank', 'cit')),
  name TEXT NOT NULL,
  -- the bank that registered a CIT company (it manages that company's accounts)
  sponsor_org_id TEXT REFERENCES orgs (id),
  created_at TEXT NOT NULL,
  CHECK ((kind = 'bank' AND sponsor_org_id IS NULL) OR kind = 'cit')
);

CREATE TABLE regions (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs (id),
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (org_id, name)
);

CREATE TABLE branches (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs (id),
  region_id TEXT REFERENCES regions (id),
  name TEXT NOT NULL,
  branch_type TEXT NOT NULL,
  time_zone TEXT NOT NULL,
  holidays TEXT NOT NULL DEFAULT '[]',
  address TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX branches_org ON branches (org_id);

CREATE TABLE containers (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs (id),
  branch_id TEXT NOT NULL REFERENCES branches (id),
  name TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('gaa', 'akt', 'recycler', 'deposit', 'safe', 'vaultDoor')),
  grade TEXT NOT NULL,
  lock_class TEXT NOT NULL,
  policy TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX containers_org ON containers (org_id);
CREATE INDEX containers_branch ON containers (branch_id);

CREATE TABLE people (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs (id),
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  identified_by TEXT,
  identified_at TEXT,
  document_type TEXT,
  -- keyed hash (HMAC-SHA-256) of the document number; the number itself is never stored
  document_ref_hash TEXT,
  enabled_at TEXT,
  enabled_by TEXT,
  disabled_at TEXT,
  disabled_by TEXT,
  valid_from TEXT,
  valid_until TEXT,
  expired_at TEXT,
  deleted_at TEXT,
  deleted_by TEXT
);
CREATE INDEX people_org ON people (org_id);
CREATE INDEX people_expiry ON people (valid_until) WHERE expired_at IS NULL AND deleted_at IS NULL;

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  person_id TEXT NOT NULL REFERENCES people (id),
  org_id TEXT NOT NULL REFERENCES orgs (id),
  role TEXT NOT NULL CHECK (role IN ('securityAdmin', 'branchManager', 'auditor', 'technician', 'citDispatcher', 'citCrew')),
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  disabled_at TEXT
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id),
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  expires_at TEXT,
  last_used_at TEXT,
  revoked_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE contracts (
  id TEXT PRIMARY KEY,
  bank_org_id TEXT NOT NULL REFERENCES orgs (id),
  cit_org_id TEXT NOT NULL REFERENCES orgs (id),
  name TEXT NOT NULL,
  container_ids TEXT NOT NULL DEFAULT '[]',
  standing_windows TEXT NOT NULL DEFAULT '[]',
  valid_from TEXT,
  valid_until TEXT,
  active BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  created_at TEXT NOT NULL,
  terminated_at TEXT
);
CREATE INDEX contracts_bank ON contracts (bank_org_id);
CREATE INDEX contracts_cit ON contracts (cit_org_id);

CREATE TABLE admin_log (
  seq BIGINT PRIMARY KEY,
  at TEXT NOT NULL,
  org_id TEXT,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT,
  data TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX admin_log_org ON admin_log (org_id, seq);
