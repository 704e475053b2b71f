CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    -- lowercase: usernames are case-insensitive
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    email         TEXT,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
