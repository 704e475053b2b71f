-- Events a subscriber could not handle, set aside with why; they are no longer delivered.
CREATE TABLE dead_letters (
    subscriber TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    envelope   TEXT NOT NULL,
    reason     TEXT NOT NULL,
    failed_at  TEXT NOT NULL,
    PRIMARY KEY (subscriber, event_id)
);
