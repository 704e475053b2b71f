-- The inbox: every event a consumer of this database has handled, recorded in the same
-- transaction as the handling's effect, so that a redelivered event changes nothing.
CREATE TABLE inbox (
    consumer   TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    handled_at TEXT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
