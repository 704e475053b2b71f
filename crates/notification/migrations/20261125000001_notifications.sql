-- What each user was told, one row per handled event; `GET /notifications` pages through it.
CREATE TABLE notifications (
    -- UUIDv7: sorts by creation
    id           TEXT NOT NULL PRIMARY KEY,
    recipient_id TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('PAYMENT_APPROVED', 'BOOKING_CONFIRMED',
                                               'BOOKING_CANCELLED', 'PAYMENT_CANCELLED')),
    booking_id   TEXT NOT NULL,
    message      TEXT NOT NULL,
    -- the event the notification tells of: one notification per event, even if the inbox
    -- were bypassed
    event_id     TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL
);

CREATE INDEX notifications_by_recipient ON notifications (recipient_id, id);

-- Who users are, from identity's UserRegistered: how to greet them and where to write.
CREATE TABLE contacts (
    user_id      TEXT NOT NULL PRIMARY KEY,
    display_name TEXT NOT NULL,
    email        TEXT
);

-- What confirmed bookings are about, from BookingConfirmed, so that later notifications about
-- the same booking can name the room and the dates.
CREATE TABLE stays (
    booking_id  TEXT   NOT NULL PRIMARY KEY,
    room_id     TEXT   NOT NULL,
    room_name   TEXT   NOT NULL,
    check_in    TEXT   NOT NULL,
    check_out   TEXT   NOT NULL,
    nights      BIGINT NOT NULL,
    total_price BIGINT NOT NULL
);
