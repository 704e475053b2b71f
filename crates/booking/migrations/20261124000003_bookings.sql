CREATE TABLE bookings (
    id              TEXT    PRIMARY KEY,
    room_id         TEXT    NOT NULL,
    room_name       TEXT    NOT NULL,
    host_id         TEXT    NOT NULL,
    guest_id        TEXT    NOT NULL,
    check_in        TEXT    NOT NULL,
    check_out       TEXT    NOT NULL,
    guests          BIGINT  NOT NULL CHECK (guests > 0),
    nightly_price   BIGINT  NOT NULL CHECK (nightly_price > 0),
    capacity        BIGINT  NOT NULL CHECK (capacity > 0),
    total_price     BIGINT  NOT NULL CHECK (total_price > 0),
    status          TEXT    NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED')),
    payment_id      TEXT,
    -- 0 while a charge may exist that does not match the status (see the reconciler); an
    -- integer rather than a boolean, which sqlx's Any driver cannot read from SQLite
    payment_settled BIGINT  NOT NULL CHECK (payment_settled IN (0, 1)),
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);

CREATE INDEX bookings_by_guest ON bookings (guest_id, id);
CREATE INDEX bookings_unsettled ON bookings (created_at) WHERE payment_settled = 0;

-- The nights a booking holds. The primary key is what makes double booking impossible: a
-- second claim of a room-night fails in the database, whatever the application does.
CREATE TABLE booking_nights (
    room_id    TEXT NOT NULL,
    night      TEXT NOT NULL,
    booking_id TEXT NOT NULL REFERENCES bookings (id),
    PRIMARY KEY (room_id, night)
);

CREATE INDEX booking_nights_by_booking ON booking_nights (booking_id);

-- A guest's Idempotency-Key and the booking its first request made.
CREATE TABLE idempotency_keys (
    guest_id        TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    booking_id      TEXT NOT NULL REFERENCES bookings (id),
    PRIMARY KEY (guest_id, idempotency_key)
);
