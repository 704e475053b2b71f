-- The room context's own view of which stays are booked, built from the booking context's
-- events (BookingConfirmed, BookingCancelled), so that search by dates asks no other service.
-- A cancellation that arrives before its confirmation leaves the row cancelled.
CREATE TABLE booked_stays (
    booking_id TEXT   PRIMARY KEY,
    room_id    TEXT   NOT NULL,
    check_in   TEXT   NOT NULL,
    check_out  TEXT   NOT NULL,
    cancelled  BIGINT NOT NULL
);

CREATE INDEX booked_stays_by_room ON booked_stays (room_id, check_in) WHERE cancelled = 0;
