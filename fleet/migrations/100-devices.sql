-- Devices (locks): enrolment, credentials, audit ingest, commands, fleet keys, secrets, alarms.
-- Owned by fleet/src/devices. Timestamps are UTC ISO 8601 instants; JSON columns hold objects.

CREATE TABLE enrolment_tokens (
  token_hash TEXT PRIMARY KEY,               -- SHA-256 hex of the token; the token is never stored
  org_id TEXT NOT NULL,
  container_id TEXT NOT NULL,
  device_id TEXT,                            -- pre-assigned device id, if any
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT,
  used_by_device TEXT
);

CREATE TABLE devices (
  device_id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  container_id TEXT NOT NULL,
  signing_public_key TEXT NOT NULL,
  encryption_public_key TEXT NOT NULL,
  mqtt_username TEXT NOT NULL UNIQUE,
  mqtt_password_hash TEXT NOT NULL,          -- SHA-256 hex of a 256-bit random password
  hardware_profile TEXT NOT NULL,
  firmware TEXT NOT NULL,
  enrolled_at TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
  availability TEXT NOT NULL DEFAULT 'unknown' CHECK (availability IN ('unknown', 'online', 'offline')),
  availability_at TEXT,
  state TEXT,                                -- last LockState (JSON)
  state_at TEXT,
  audit_head_seq INTEGER NOT NULL DEFAULT 0,
  audit_head_hash TEXT NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',
  command_seq INTEGER NOT NULL DEFAULT 0,    -- highest envelope seq issued to this device
  trusted_key_ids TEXT NOT NULL DEFAULT '[]', -- fleet keys this device is known to trust (JSON array)
  clock_drift_ms INTEGER
);
CREATE INDEX devices_org ON devices (org_id);
CREATE INDEX devices_container ON devices (container_id);

CREATE TABLE device_audit (
  device_id TEXT NOT NULL REFERENCES devices (device_id),
  seq INTEGER NOT NULL,
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  actor TEXT,
  hash TEXT NOT NULL,
  record TEXT NOT NULL,                      -- the AuditRecord as received (JSON)
  received_at TEXT NOT NULL,
  PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;
CREATE INDEX device_audit_actor ON device_audit (actor) WHERE actor IS NOT NULL;

CREATE TABLE device_checkpoints (
  device_id TEXT NOT NULL REFERENCES devices (device_id),
  seq INTEGER NOT NULL,
  head_hash TEXT NOT NULL,
  at TEXT NOT NULL,
  key_id TEXT NOT NULL,
  signature TEXT NOT NULL,
  received_at TEXT NOT NULL,
  -- 'matched': the stored chain ends in head_hash at seq; 'pending': records not yet stored
  status TEXT NOT NULL CHECK (status IN ('matched', 'pending', 'mismatch')),
  PRIMARY KEY (device_id, seq)
);

CREATE TABLE device_commands (
  id TEXT PRIMARY KEY,
  device_id TEXT NOT NULL REFERENCES devices (device_id),
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  body TEXT NOT NULL,                        -- JSON; holds only sealed secrets, never clear ones
  key_id TEXT NOT NULL,
  issued_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('sent', 'ok', 'error')),
  result TEXT,                               -- CommandResult (JSON)
  answered_at TEXT,
  UNIQUE (device_id, seq)
);
CREATE INDEX device_commands_device ON device_commands (device_id, issued_at);

CREATE TABLE fleet_keys (
  key_id TEXT PRIMARY KEY,
  public_key TEXT NOT NULL,
  sealed_private_key TEXT NOT NULL,          -- AES-256-GCM under the KEK (secrets.ts)
  created_at TEXT NOT NULL,
  retired_at TEXT
);

CREATE TABLE device_secrets (
  device_id TEXT PRIMARY KEY REFERENCES devices (device_id),
  sealed_otp_secret TEXT NOT NULL,           -- AES-256-GCM under the KEK (secrets.ts)
  otp_counter INTEGER NOT NULL DEFAULT 0
);

-- Alarms as they arrive from locks or are raised by the device hub, so none is lost before
-- the alarm service persists and escalates them.
CREATE TABLE device_alarms (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id TEXT NOT NULL,
  org_id TEXT NOT NULL,
  alarm TEXT NOT NULL,
  priority TEXT NOT NULL,
  at TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('device', 'fleet')),
  alarm_json TEXT NOT NULL,
  received_at TEXT NOT NULL
);
CREATE INDEX device_alarms_device ON device_alarms (device_id, id);

-- Fleet-side security events about devices: refused connections, publishes, subscriptions and
-- messages. MQTT 3.1.1 cannot tell the client why; this is the record.
CREATE TABLE device_security_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  device_id TEXT,                            -- null when the client never proved an identity
  org_id TEXT,
  kind TEXT NOT NULL,
  client_id TEXT,
  topic TEXT,
  reason TEXT NOT NULL
);
CREATE INDEX device_security_events_device ON device_security_events (device_id, id);
