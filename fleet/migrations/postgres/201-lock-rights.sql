-- PostgreSQL version of ../201-lock-rights.sql: same tables, columns and constraints; types as
-- PostgreSQL spells them (BIGINT for SQLite INTEGER, identity columns for AUTOINCREMENT).

-- Rights of people on locks (SPEC §5 "People lifecycle"): a person with a lock role on a
-- container, pushed as user.add / user.change / user.delete to every lock of it, with the
-- confirmation of each lock. Owned by fleet/src/rights.

CREATE TABLE lock_rights (
  id TEXT PRIMARY KEY,
  person_id TEXT NOT NULL,
  person_org_id TEXT NOT NULL,
  bank_org_id TEXT NOT NULL,                 -- the container's owner
  container_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('master', 'manager', 'user', 'courier', 'service')),
  tenant_id TEXT,                            -- CIT company, for couriers
  valid_from TEXT,
  valid_until TEXT,
  time_profile TEXT,                         -- JSON array of weekly periods, or NULL (any time)
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  changed_at TEXT,
  removed_at TEXT,
  removed_by TEXT,
  removed_reason TEXT CHECK (removed_reason IN ('deleted', 'expired', 'personDisabled', 'personDeleted', 'personExpired'))
);
CREATE INDEX lock_rights_person ON lock_rights (person_id);
CREATE INDEX lock_rights_container ON lock_rights (container_id);
CREATE INDEX lock_rights_expiry ON lock_rights (valid_until) WHERE removed_at IS NULL;
CREATE UNIQUE INDEX lock_rights_current ON lock_rights (person_id, container_id) WHERE removed_at IS NULL;

-- One row per (lock, person) that was ever pushed: the slot and what the lock confirmed.
CREATE TABLE lock_right_pushes (
  right_id TEXT NOT NULL REFERENCES lock_rights (id),
  device_id TEXT NOT NULL,
  person_id TEXT NOT NULL,
  slot BIGINT NOT NULL CHECK (slot BETWEEN 0 AND 99),
  -- adding/changing/deleting: sent, not yet confirmed; present/deleted: confirmed by the lock
  status TEXT NOT NULL CHECK (status IN ('adding', 'present', 'changing', 'deleting', 'deleted', 'error')),
  last_command TEXT NOT NULL,
  error TEXT,                                -- {code, message} of the lock's refusal (JSON)
  updated_at TEXT NOT NULL,
  confirmed_at TEXT,
  PRIMARY KEY (right_id, device_id)
);
CREATE INDEX lock_right_pushes_device ON lock_right_pushes (device_id, person_id);
-- A slot is taken on a lock until the lock confirmed the deletion.
CREATE UNIQUE INDEX lock_right_pushes_slot ON lock_right_pushes (device_id, slot) WHERE status <> 'deleted';
