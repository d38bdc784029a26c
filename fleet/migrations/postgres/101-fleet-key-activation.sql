-- PostgreSQL version of ../101-fleet-key-activation.sql: same tables, columns and constraints; types as
-- PostgreSQL spells them (BIGINT for SQLite INTEGER, identity columns for AUTOINCREMENT).

-- Fleet signing key rotation: a new key is created first, installed on every lock (signed with
-- a key the lock already trusts), and only then activated for signing. A key without
-- activated_at is a rotation under way.
ALTER TABLE fleet_keys ADD COLUMN activated_at TEXT;
UPDATE fleet_keys SET activated_at = created_at WHERE activated_at IS NULL;
