-- PostgreSQL version of ../600-software-updates.sql: same tables, columns and constraints; types as
-- PostgreSQL spells them (BIGINT for SQLite INTEGER, identity columns for AUTOINCREMENT).

-- Signed software updates for the locks (SPEC §4 key roles: the release key is separate from the
-- fleet's command key). The fleet keeps releases and their signed metadata and relays them; it
-- cannot sign one. Owned by fleet/src/updates.

CREATE TABLE releases (
  release_id TEXT NOT NULL,
  org_id TEXT NOT NULL,
  version TEXT NOT NULL,
  key_id TEXT NOT NULL,                      -- the release key that signed the metadata
  payload TEXT NOT NULL,                     -- the signed metadata, canonical JSON as received
  signature TEXT NOT NULL,
  target_name TEXT NOT NULL,
  target_sha256 TEXT NOT NULL,
  target_length BIGINT NOT NULL,
  hardware_profiles TEXT NOT NULL,           -- JSON array
  expires_at TEXT NOT NULL,
  target_stored_at TEXT,                     -- set once the target's bytes matched the metadata
  added_by TEXT NOT NULL,
  added_at TEXT NOT NULL,
  PRIMARY KEY (org_id, release_id)
);

CREATE TABLE rollouts (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  release_id TEXT NOT NULL,
  branch_id TEXT,                            -- null: every branch of the bank
  percentage BIGINT NOT NULL CHECK (percentage BETWEEN 1 AND 100),
  status TEXT NOT NULL CHECK (status IN ('proposed', 'running', 'paused', 'rejected')),
  proposed_by TEXT NOT NULL,
  proposed_at TEXT NOT NULL,
  approved_by TEXT,
  approved_at TEXT,
  changed_by TEXT,
  changed_at TEXT,
  FOREIGN KEY (org_id, release_id) REFERENCES releases (org_id, release_id)
);
CREATE INDEX rollouts_org ON rollouts (org_id, proposed_at);

-- One row per lock in a running rollout's ring, once it was offered the release.
CREATE TABLE rollout_locks (
  rollout_id TEXT NOT NULL REFERENCES rollouts (id),
  device_id TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,           -- SHA-256 hex of the download token; the token is never stored
  offered_at TEXT NOT NULL,
  command_id TEXT,
  refused_code TEXT,                         -- the lock's answer to the offer, when it refused
  PRIMARY KEY (rollout_id, device_id)
);

-- Each lock's progress is read from its update records only; this keeps that read off the rest
-- of a long audit log.
CREATE INDEX device_audit_updates ON device_audit (device_id, seq) WHERE kind LIKE 'update.%';
