-- My page: one row per booking, assembled from booking and payment events in whatever order
-- they arrive. Columns a booking event brings stay empty until it arrives; such rows are not
-- shown.
CREATE TABLE stays (
    booking_id     TEXT   PRIMARY KEY,
    room_id        TEXT,
    room_name      TEXT,
    guest_id       TEXT,
    host_id        TEXT,
    check_in       TEXT,
    check_out      TEXT,
    total_price    BIGINT,
    booking_status TEXT,
    payment_status TEXT
);

CREATE INDEX stays_by_guest ON stays (guest_id, booking_id);
CREATE INDEX stays_by_host ON stays (host_id, booking_id);
