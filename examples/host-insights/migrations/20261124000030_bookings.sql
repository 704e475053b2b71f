-- Every booking host-insights has heard of, assembled from BookingConfirmed and
-- BookingCancelled in whatever order they arrive; a cancellation is never undone.
CREATE TABLE bookings (
    booking_id  TEXT   PRIMARY KEY,
    room_id     TEXT   NOT NULL,
    host_id     TEXT   NOT NULL,
    total_price BIGINT,
    cancelled   BIGINT NOT NULL
);

CREATE INDEX bookings_by_host ON bookings (host_id, room_id);
