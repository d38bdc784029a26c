-- Outsourcing risk register (SPEC §5, MaRisk AT 9): per CIT contract and risk category one
-- entry on the five-level scales of likelihood and impact. The likelihood derived from measured
-- behaviour and a security admin's override (with its justification) are both kept.
-- Owned by fleet/src/risk. Timestamps are UTC ISO 8601 instants; evidence is a JSON object.

CREATE TABLE risk_entries (
  row_id INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  bank_org_id TEXT NOT NULL REFERENCES orgs (id),
  contract_id TEXT NOT NULL REFERENCES contracts (id),
  cit_org_id TEXT NOT NULL REFERENCES orgs (id),
  category TEXT NOT NULL CHECK (category IN ('windowOverrun', 'closeSeal', 'openingOutsideWindow',
    'alarmDuringWindow', 'revokedWindow', 'refusedCredentials')),
  title TEXT NOT NULL,
  derived_likelihood INTEGER NOT NULL CHECK (derived_likelihood BETWEEN 1 AND 5),
  override_likelihood INTEGER CHECK (override_likelihood BETWEEN 1 AND 5),
  override_justification TEXT,
  override_by TEXT,
  override_at TEXT,
  impact INTEGER NOT NULL CHECK (impact BETWEEN 1 AND 5),
  -- person id of whoever set the impact; NULL while the category's default applies
  impact_set_by TEXT,
  owner TEXT,
  measures TEXT NOT NULL DEFAULT '',
  review_date TEXT NOT NULL,                  -- YYYY-MM-DD
  evidence TEXT NOT NULL DEFAULT '{}',
  period_from TEXT NOT NULL,
  period_to TEXT NOT NULL,
  computed_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (contract_id, category),
  -- an override never stands without its justification, its author and its time
  CHECK ((override_likelihood IS NULL AND override_justification IS NULL AND override_by IS NULL AND override_at IS NULL)
      OR (override_likelihood IS NOT NULL AND length(trim(override_justification)) > 0 AND override_by IS NOT NULL AND override_at IS NOT NULL))
);
CREATE INDEX risk_entries_bank ON risk_entries (bank_org_id, row_id);
