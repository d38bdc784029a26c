-- PostgreSQL version of ../245-clock-corrections.sql: same tables, columns and constraints; types as
-- PostgreSQL spells them (BIGINT for SQLite INTEGER, identity columns for AUTOINCREMENT).

-- Clock corrections (SPEC §3 "Time"): a lock's clock moved back further than its daily bound
-- allows a time sync, by a signed time.set that two distinct bank officers confirmed.
-- Owned by fleet/src/devices/clock-corrections.ts.

CREATE TABLE clock_corrections (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  drift_ms BIGINT NOT NULL,                 -- lock time minus fleet time when proposed
  confirm_jump_sec BIGINT NOT NULL,         -- the jump the officers confirm (minus the drift)
  reason TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'applied', 'failed', 'rejected')),
  requested_by TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  approved_by TEXT,
  decided_at TEXT,
  command_id TEXT,
  result TEXT                                -- the lock's CommandResult (JSON)
);
CREATE INDEX clock_corrections_device ON clock_corrections (device_id, requested_at);
