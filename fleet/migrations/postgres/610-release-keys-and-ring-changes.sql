-- PostgreSQL version of ../610-release-keys-and-ring-changes.sql: same tables, columns and constraints; types as
-- PostgreSQL spells them (BIGINT for SQLite INTEGER, identity columns for AUTOINCREMENT).

-- Release-key rotation kept by the fleet (signed key sets, TUF root style: the fleet relays
-- them in every offer and checks them itself, it holds no private release key), where the
-- locks reach the fleet for a rollout's downloads (so offers can be renewed without an officer's
-- request), and widening a running rollout's ring, proposed by one officer and approved by a
-- second. Owned by fleet/src/updates.

CREATE TABLE release_key_sets (
  org_id TEXT NOT NULL,
  version BIGINT NOT NULL,
  payload TEXT NOT NULL,                     -- canonical JSON as signed
  signatures TEXT NOT NULL,                  -- JSON [{keyId, signature}]
  key_ids TEXT NOT NULL,                     -- JSON, the keys the set trusts
  revoked TEXT NOT NULL,                     -- JSON, key ids it left out
  expires_at TEXT NOT NULL,
  added_by TEXT NOT NULL,
  added_at TEXT NOT NULL,
  PRIMARY KEY (org_id, version)
);

ALTER TABLE rollouts ADD COLUMN download_base TEXT;
-- Further branches a widening added (branch_id null already means every branch).
CREATE TABLE rollout_branches (
  rollout_id TEXT NOT NULL REFERENCES rollouts (id),
  branch_id TEXT NOT NULL,
  PRIMARY KEY (rollout_id, branch_id)
);
-- A widening waiting for its second officer: JSON {percentage, branchIds|null, allBranches}.
ALTER TABLE rollouts ADD COLUMN widening TEXT;
ALTER TABLE rollouts ADD COLUMN widening_by TEXT;
ALTER TABLE rollouts ADD COLUMN widening_at TEXT;
