-- Integers are BIGINT everywhere, so that one query text reads them on both backends.
ALTER TABLE outbox ALTER COLUMN event_version TYPE BIGINT;
