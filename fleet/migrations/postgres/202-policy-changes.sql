-- PostgreSQL version of ../202-policy-changes.sql: same tables, columns and constraints; types as
-- PostgreSQL spells them (BIGINT for SQLite INTEGER, identity columns for AUTOINCREMENT).

-- Policy changes (SPEC §3, §5): delay, dual control, time locks, holidays as signed commands.
-- Weakening changes wait for two distinct approvers. Owned by fleet/src/policy.

CREATE TABLE policy_changes (
  id TEXT PRIMARY KEY,
  bank_org_id TEXT NOT NULL,
  container_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('policy', 'timeLockSchedule', 'holidays')),
  proposed TEXT NOT NULL,                    -- JSON: LockPolicy, TimeLockSchedule or Holiday[]
  weakening BIGINT NOT NULL CHECK (weakening IN (0, 1)),
  weakened TEXT NOT NULL DEFAULT '[]',       -- JSON array: what makes it weaker
  approvals_required BIGINT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'applied', 'failed', 'rejected')),
  reason TEXT,
  requested_by TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  decided_at TEXT,
  sent_at TEXT
);
CREATE INDEX policy_changes_container ON policy_changes (container_id, requested_at);

CREATE TABLE policy_change_approvals (
  change_id TEXT NOT NULL REFERENCES policy_changes (id),
  person_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  at TEXT NOT NULL,
  PRIMARY KEY (change_id, person_id)
);

CREATE TABLE policy_change_locks (
  change_id TEXT NOT NULL REFERENCES policy_changes (id),
  device_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('sent', 'ok', 'error')),
  result TEXT,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (change_id, device_id)
);

-- Time-lock schedule and holidays last applied per container (the policy itself lives on the
-- container).
CREATE TABLE container_time_locks (
  container_id TEXT PRIMARY KEY,
  schedule TEXT,                             -- TimeLockSchedule (JSON) or NULL
  holidays TEXT NOT NULL DEFAULT '[]',
  updated_at TEXT NOT NULL
);
