//! The booking aggregate.

use chrono::{DateTime, NaiveDate, Utc};
use mybnb_events::booking::{BookingCancelled, BookingConfirmed};
use uuid::Uuid;

use super::{BookingError, StayDates};

/// The room as it was when booked: its price and host are the server's, never the client's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSnapshot {
    pub id: Uuid,
    pub name: String,
    pub host_id: Uuid,
    /// Whole won per night.
    pub price: i64,
    pub capacity: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingStatus {
    /// Nights claimed, payment under way.
    Pending,
    Confirmed,
    /// Payment declined or unavailable; the nights were released.
    Rejected,
    Cancelled,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Pending => "PENDING",
            BookingStatus::Confirmed => "CONFIRMED",
            BookingStatus::Rejected => "REJECTED",
            BookingStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(text: &str) -> Option<BookingStatus> {
        [
            BookingStatus::Pending,
            BookingStatus::Confirmed,
            BookingStatus::Rejected,
            BookingStatus::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// Why a booking was rejected, which says whether a charge may still exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Nothing was charged: the provider declined, or was never asked.
    NotCharged,
    /// The provider did not answer in time or at all: a charge may exist and must be voided.
    ChargeUncertain,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub id: Uuid,
    pub room: RoomSnapshot,
    pub guest_id: Uuid,
    pub stay: StayDates,
    pub guests: u32,
    pub total_price: i64,
    pub status: BookingStatus,
    pub payment_id: Option<Uuid>,
    /// False while a charge may exist that does not match the booking's status.
    pub payment_settled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Booking {
    /// A guest asks for a stay in a room: a PENDING booking priced from the room's snapshot.
    pub fn request(
        id: Uuid,
        guest_id: Uuid,
        room: RoomSnapshot,
        stay: StayDates,
        guests: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<Booking, BookingError> {
        if room.host_id == guest_id {
            return Err(BookingError::OwnRoom);
        }
        let guests = guests.unwrap_or(1);
        if guests == 0 || guests > room.capacity {
            return Err(BookingError::invalid(
                "guests",
                format!(
                    "must be between 1 and the room's capacity, {}",
                    room.capacity
                ),
            ));
        }
        let total_price = room
            .price
            .checked_mul(i64::from(stay.nights()))
            .ok_or_else(|| BookingError::invalid("checkOut", "the total price is too large"))?;
        Ok(Booking {
            id,
            room,
            guest_id,
            stay,
            guests,
            total_price,
            status: BookingStatus::Pending,
            payment_id: None,
            payment_settled: false,
            created_at: now,
            updated_at: now,
        })
    }

    /// The payment went through.
    pub fn confirm(&mut self, payment_id: Uuid, now: DateTime<Utc>) -> BookingConfirmed {
        self.status = BookingStatus::Confirmed;
        self.payment_id = Some(payment_id);
        self.payment_settled = true;
        self.updated_at = now;
        BookingConfirmed {
            booking_id: self.id,
            room_id: self.room.id,
            room_name: self.room.name.clone(),
            guest_id: self.guest_id,
            host_id: self.room.host_id,
            check_in: self.stay.check_in(),
            check_out: self.stay.check_out(),
            nights: self.stay.nights(),
            total_price: self.total_price,
            payment_id,
        }
    }

    /// The payment did not go through; the nights are to be released.
    pub fn reject(&mut self, rejection: Rejection, now: DateTime<Utc>) {
        self.status = BookingStatus::Rejected;
        self.payment_settled = rejection == Rejection::NotCharged;
        self.updated_at = now;
    }

    /// The booking's guest cancels a confirmed stay that has not begun.
    pub fn cancel(
        &mut self,
        requested_by: Uuid,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<BookingCancelled, BookingError> {
        if requested_by != self.guest_id {
            return Err(BookingError::NotFound(self.id));
        }
        self.cancel_stay(today, now)
    }

    /// Its room was deleted: a confirmed stay that has not begun is cancelled (and refunded);
    /// `None` for any other booking, which the deletion leaves as it is.
    pub fn cancel_for_deleted_room(
        &mut self,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Option<BookingCancelled> {
        self.cancel_stay(today, now).ok()
    }

    fn cancel_stay(
        &mut self,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<BookingCancelled, BookingError> {
        if self.status != BookingStatus::Confirmed {
            return Err(BookingError::NotCancellable(
                "only confirmed bookings can be",
            ));
        }
        if self.stay.check_in() <= today {
            return Err(BookingError::NotCancellable("the stay has already begun"));
        }
        let Some(payment_id) = self.payment_id else {
            return Err(BookingError::Unexpected(anyhow::anyhow!(
                "confirmed booking {} has no payment",
                self.id
            )));
        };
        self.status = BookingStatus::Cancelled;
        self.updated_at = now;
        Ok(BookingCancelled {
            booking_id: self.id,
            room_id: self.room.id,
            guest_id: self.guest_id,
            host_id: self.room.host_id,
            check_in: self.stay.check_in(),
            check_out: self.stay.check_out(),
            payment_id,
        })
    }

    /// Whether this user may see the booking: its guest or its room's host.
    pub fn is_visible_to(&self, user_id: Uuid) -> bool {
        user_id == self.guest_id || user_id == self.room.host_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(host_id: Uuid) -> RoomSnapshot {
        RoomSnapshot {
            id: Uuid::now_v7(),
            name: "Hanok".into(),
            host_id,
            price: 100_000,
            capacity: 2,
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).expect("a date")
    }

    fn stay(from: u32, to: u32) -> StayDates {
        let date = |day| NaiveDate::from_ymd_opt(2026, 12, day).expect("a date");
        StayDates::new(date(from), date(to), today()).expect("valid stay")
    }

    fn pending(guest: Uuid) -> Booking {
        Booking::request(
            Uuid::now_v7(),
            guest,
            room(Uuid::now_v7()),
            stay(1, 4),
            None,
            Utc::now(),
        )
        .expect("a valid request")
    }

    #[test]
    fn the_price_comes_from_the_room_and_the_nights() {
        let booking = pending(Uuid::now_v7());
        assert_eq!(
            (booking.total_price, booking.status),
            (300_000, BookingStatus::Pending)
        );
    }

    #[test]
    fn hosts_cannot_book_their_own_room_nor_bring_too_many_guests() {
        let host = Uuid::now_v7();
        let own = Booking::request(
            Uuid::now_v7(),
            host,
            room(host),
            stay(1, 2),
            None,
            Utc::now(),
        );
        assert!(matches!(own, Err(BookingError::OwnRoom)));
        let crowd = Booking::request(
            Uuid::now_v7(),
            Uuid::now_v7(),
            room(host),
            stay(1, 2),
            Some(3),
            Utc::now(),
        );
        assert!(matches!(
            crowd,
            Err(BookingError::Invalid {
                field: "guests",
                ..
            })
        ));
    }

    #[test]
    fn confirming_announces_the_booking() {
        let mut booking = pending(Uuid::now_v7());
        let payment = Uuid::now_v7();
        let event = booking.confirm(payment, Utc::now());
        assert_eq!(
            (event.payment_id, event.nights, event.total_price),
            (payment, 3, 300_000)
        );
        assert_eq!(booking.status, BookingStatus::Confirmed);
    }

    #[test]
    fn a_rejection_without_an_answer_leaves_the_payment_to_settle() {
        let mut booking = pending(Uuid::now_v7());
        booking.reject(Rejection::ChargeUncertain, Utc::now());
        assert!(!booking.payment_settled);
        let mut declined = pending(Uuid::now_v7());
        declined.reject(Rejection::NotCharged, Utc::now());
        assert!(declined.payment_settled);
    }

    #[test]
    fn only_the_guest_cancels_and_only_before_the_stay() {
        let guest = Uuid::now_v7();
        let mut booking = pending(guest);
        assert!(matches!(
            booking.cancel(guest, today(), Utc::now()),
            Err(BookingError::NotCancellable(_))
        ));
        booking.confirm(Uuid::now_v7(), Utc::now());
        assert!(matches!(
            booking.cancel(Uuid::now_v7(), today(), Utc::now()),
            Err(BookingError::NotFound(_))
        ));
        let first_night = booking.stay.check_in();
        assert!(
            booking
                .clone()
                .cancel(guest, first_night, Utc::now())
                .is_err()
        );
        let event = booking
            .cancel(guest, today(), Utc::now())
            .expect("cancellable");
        assert_eq!(event.guest_id, guest);
        assert_eq!(booking.status, BookingStatus::Cancelled);
    }
}
