CREATE TABLE rooms (
    id          TEXT    PRIMARY KEY,
    host_id     TEXT    NOT NULL,
    host_name   TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    address     TEXT    NOT NULL,
    city        TEXT,
    city_key    TEXT,
    description TEXT,
    price       BIGINT  NOT NULL CHECK (price > 0),
    capacity    BIGINT  NOT NULL CHECK (capacity > 0),
    -- every searchable field, lowercased by the application (Unicode-aware)
    search_text TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    deleted_at  TEXT
);

CREATE INDEX rooms_listed_by_city ON rooms (city_key, id) WHERE deleted_at IS NULL;
CREATE INDEX rooms_by_host ON rooms (host_id);
