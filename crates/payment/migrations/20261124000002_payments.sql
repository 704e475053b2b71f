CREATE TABLE payments (
    id         TEXT   PRIMARY KEY,
    -- the idempotency key: one payment per booking
    booking_id TEXT   NOT NULL UNIQUE,
    guest_id   TEXT   NOT NULL,
    host_id    TEXT   NOT NULL,
    amount     BIGINT NOT NULL CHECK (amount > 0),
    status     TEXT   NOT NULL CHECK (status IN ('APPROVED', 'DECLINED', 'VOIDED', 'CANCELLED')),
    created_at TEXT   NOT NULL,
    updated_at TEXT   NOT NULL
);
