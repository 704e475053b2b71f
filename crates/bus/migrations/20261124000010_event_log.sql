-- The embedded bus: every published integration event, in publication order.
CREATE TABLE events (
    position     INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     TEXT    NOT NULL UNIQUE,
    event_type   TEXT    NOT NULL,
    envelope     TEXT    NOT NULL,
    published_at TEXT    NOT NULL
);

CREATE INDEX events_by_type ON events (event_type, position);

-- Where each durable subscriber is: the position of the last event it acknowledged.
CREATE TABLE subscribers (
    name     TEXT   PRIMARY KEY,
    position BIGINT NOT NULL
);
