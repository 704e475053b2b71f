-- The transactional outbox: a context's integration events, written in the same transaction as
-- the state change that caused them, and published by the relay in `position` order.
CREATE TABLE outbox (
    position       INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id       TEXT    NOT NULL UNIQUE,
    event_type     TEXT    NOT NULL,
    event_version  INTEGER NOT NULL,
    aggregate_id   TEXT    NOT NULL,
    correlation_id TEXT    NOT NULL,
    occurred_at    TEXT    NOT NULL,
    payload        TEXT    NOT NULL,
    published_at   TEXT
);

CREATE INDEX outbox_unpublished ON outbox (position) WHERE published_at IS NULL;
