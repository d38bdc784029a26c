-- Alarms as the fleet keeps them: raised from lock events and the fleet's own checks,
-- deduplicated, acknowledged with a comment, escalated while unacknowledged, forwarded.
-- Owned by fleet/src/alarms. Timestamps are UTC ISO 8601 instants; JSON columns hold objects.

CREATE TABLE alarms (
  row_id INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  org_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  container_id TEXT,
  kind TEXT NOT NULL,
  priority TEXT NOT NULL CHECK (priority IN ('critical', 'high', 'medium', 'low')),
  -- 0 sorts first: duress (forcedUser) above every other critical alarm
  rank INTEGER NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('device', 'fleet')),
  status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged')),
  raised_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  occurrences INTEGER NOT NULL DEFAULT 1,
  audit_seq INTEGER,
  actor TEXT,
  data TEXT NOT NULL DEFAULT '{}',
  cleared_at TEXT,
  acknowledged_at TEXT,
  acknowledged_by TEXT,
  ack_comment TEXT,
  escalation_level INTEGER NOT NULL DEFAULT 0,
  escalated_at TEXT,
  next_escalation_at TEXT
);
CREATE INDEX alarms_org ON alarms (org_id, row_id);
-- at most one unacknowledged alarm of a kind per lock: repeats count on it
CREATE UNIQUE INDEX alarms_open_once ON alarms (device_id, kind) WHERE status = 'open';
CREATE INDEX alarms_escalation ON alarms (next_escalation_at) WHERE status = 'open';

-- Exact repeats of one lock report (same lock, kind and audit record) are dropped.
CREATE TABLE alarm_reports_seen (
  device_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  audit_seq INTEGER NOT NULL,
  alarm_id TEXT NOT NULL,
  PRIMARY KEY (device_id, kind, audit_seq)
) WITHOUT ROWID;

-- What happened to each alarm: raised, repeated, escalated, acknowledged, forwarded, cleared.
CREATE TABLE alarm_history (
  row_id INTEGER PRIMARY KEY AUTOINCREMENT,
  alarm_id TEXT NOT NULL REFERENCES alarms (id),
  at TEXT NOT NULL,
  event TEXT NOT NULL,
  actor TEXT,
  data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX alarm_history_alarm ON alarm_history (alarm_id, row_id);

-- Position in the device hub's alarm inbox (device_alarms) already taken over.
CREATE TABLE alarm_inbox_position (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_device_alarm_id INTEGER NOT NULL
);
