-- PostgreSQL version of ../250-central-releases.sql: same tables, columns and constraints; types as
-- PostgreSQL spells them (BIGINT for SQLite INTEGER, identity columns for AUTOINCREMENT).

-- Central release (SPEC §3 "Remote functions", §5): the fleet supplies the second
-- authorisation for one opening cycle of a container's lock, after a bank officer asked for it
-- with a reason and a second, distinct, independent officer approved. Owned by
-- fleet/src/devices/central-release.ts.

CREATE TABLE central_releases (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  container_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  valid_minutes BIGINT NOT NULL,            -- how long the signed release is valid once sent
  status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'confirmed', 'failed', 'rejected', 'expired')),
  requested_by TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  approved_by TEXT,
  decided_at TEXT,
  command_id TEXT,
  valid_until TEXT,                          -- expiry of the signed command (fleet clock)
  result TEXT                                -- the lock's CommandResult (JSON)
);
CREATE INDEX central_releases_container ON central_releases (container_id, requested_at);
