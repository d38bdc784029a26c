-- PostgreSQL version of ../110-device-message-seqs.sql: same tables, columns and constraints; types as
-- PostgreSQL spells them (BIGINT for SQLite INTEGER, identity columns for AUTOINCREMENT).

-- Device-signed messages: the highest device sequence accepted from each lock on each stream
-- (state, availability, event, cmd/result) and the signature of that message, so that a
-- replayed message is refused across fleet restarts while the broker's retained copy of the
-- last accepted one is recognised as the same message.
CREATE TABLE device_message_seqs (
  device_id TEXT NOT NULL REFERENCES devices (device_id),
  stream TEXT NOT NULL,
  seq BIGINT NOT NULL,
  signature TEXT NOT NULL,
  PRIMARY KEY (device_id, stream)
);
