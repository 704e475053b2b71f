-- A deleted room's upcoming bookings are found by room.
CREATE INDEX bookings_by_room ON bookings (room_id, check_in);
