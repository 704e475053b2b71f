CREATE TABLE notes (
    name TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
