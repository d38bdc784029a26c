-- Access windows (SPEC §5 "Access windows"): requests by CIT dispatchers, bank approvals,
-- delivery to the lock (signed grant or one-time codes), usage, close seals, tenant notices.
-- Owned by fleet/src/windows. Timestamps are UTC ISO 8601 instants.

CREATE TABLE access_windows (
  id TEXT PRIMARY KEY,
  bank_org_id TEXT NOT NULL,
  cit_org_id TEXT NOT NULL,
  contract_id TEXT NOT NULL,
  container_id TEXT NOT NULL,
  crew TEXT NOT NULL,                        -- JSON array of person ids
  not_before TEXT NOT NULL,
  not_after TEXT NOT NULL,
  purpose TEXT NOT NULL,
  max_openings INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'rejected', 'active', 'closed', 'revoked', 'expired')),
  auto_approved INTEGER NOT NULL DEFAULT 0 CHECK (auto_approved IN (0, 1)),
  approvals_required INTEGER NOT NULL,
  requested_by TEXT NOT NULL,                -- person id of the dispatcher
  requested_at TEXT NOT NULL,
  decided_at TEXT,
  decided_by TEXT,
  decision_reason TEXT,
  grant_id TEXT UNIQUE,
  -- the one-time-code grid window inside [not_before, not_after], once codes were issued
  otp_not_before TEXT,
  otp_not_after TEXT,
  codes_issued_at TEXT,
  codes_issued_to TEXT,
  openings INTEGER NOT NULL DEFAULT 0,
  closed_at TEXT,
  closed_by_device TEXT,
  revoked_at TEXT,
  revoked_by TEXT,
  revoke_reason TEXT,
  expired_at TEXT
);
CREATE INDEX access_windows_bank ON access_windows (bank_org_id, requested_at);
CREATE INDEX access_windows_cit ON access_windows (cit_org_id, requested_at);
CREATE INDEX access_windows_open ON access_windows (not_after) WHERE status IN ('requested', 'approved', 'active');

CREATE TABLE access_window_approvals (
  window_id TEXT NOT NULL REFERENCES access_windows (id),
  person_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL,
  at TEXT NOT NULL,
  PRIMARY KEY (window_id, person_id)          -- the same person never counts twice
);

-- Per lock of the window's container: what was delivered and what the lock answered.
CREATE TABLE access_window_locks (
  window_id TEXT NOT NULL REFERENCES access_windows (id),
  device_id TEXT NOT NULL,
  grant_status TEXT NOT NULL CHECK (grant_status IN ('pending', 'sent', 'installed', 'error', 'notSent', 'revoking', 'revoked', 'revokeFailed')),
  result TEXT,                               -- last CommandResult or audit confirmation (JSON)
  updated_at TEXT NOT NULL,
  PRIMARY KEY (window_id, device_id)
);

-- One-time codes issued: only their inputs (counter, person, window). The codes themselves are
-- derived when shown and never stored, in clear or otherwise.
CREATE TABLE access_window_codes (
  window_id TEXT NOT NULL REFERENCES access_windows (id),
  device_id TEXT NOT NULL,
  person_id TEXT NOT NULL,
  counter INTEGER NOT NULL,
  issued_at TEXT NOT NULL,
  used_at TEXT,
  PRIMARY KEY (device_id, counter)
);
CREATE INDEX access_window_codes_window ON access_window_codes (window_id);

-- Openings made under a window, from the lock's audit (grant.used, otp.accepted), until the
-- relock with its close seal.
CREATE TABLE access_window_openings (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  window_id TEXT NOT NULL REFERENCES access_windows (id),
  device_id TEXT NOT NULL,
  via TEXT NOT NULL CHECK (via IN ('grant', 'otp')),
  audit_seq INTEGER NOT NULL,
  person_id TEXT,
  counter INTEGER,
  at TEXT NOT NULL,
  opening_number INTEGER,
  seal_status TEXT NOT NULL DEFAULT 'open' CHECK (seal_status IN ('open', 'verified', 'refused')),
  sealed_at TEXT,
  UNIQUE (device_id, audit_seq)
);
CREATE INDEX access_window_openings_device ON access_window_openings (device_id, seal_status);

-- Close seals that did not verify: evidence for the bank, never silently dropped.
CREATE TABLE access_window_seal_refusals (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  window_id TEXT,
  device_id TEXT,
  source TEXT NOT NULL CHECK (source IN ('audit', 'http')),
  code TEXT NOT NULL,
  reason TEXT NOT NULL,
  at TEXT NOT NULL
);

-- What a tenant is told (revocations, decisions); each tenant lists only its own.
CREATE TABLE tenant_notifications (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  window_id TEXT,
  message TEXT NOT NULL,
  data TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  read_at TEXT
);
CREATE INDEX tenant_notifications_org ON tenant_notifications (org_id, created_at);
