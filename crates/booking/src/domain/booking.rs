//! The booking aggregate: a booking's state carries what that state has (a confirmed booking
//! its payment), its fields are read through methods, and each transition checks the state it
//! starts from. The store's compare-and-set on the stored status enforces the same across
//! processes.

use chrono::{DateTime, NaiveDate, Utc};
use mybnb_events::booking::{BookingCancelled, BookingConfirmed};
use uuid::Uuid;

use super::{BookingError, Money, StayDates};

/// The room as it was when booked: its price and host are the server's, never the client's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSnapshot {
    pub id: Uuid,
    pub name: String,
    pub host_id: Uuid,
    /// Per night.
    pub price: Money,
    pub capacity: u32,
}

/// Where a booking stands, with what each state has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingStatus {
    /// Nights claimed, payment under way.
    Pending,
    Confirmed {
        payment_id: Uuid,
    },
    /// Payment declined or unavailable; the nights were released. `payment_settled` is false
    /// while a charge may exist that must still be voided.
    Rejected {
        payment_settled: bool,
    },
    /// Cancelled by its guest or with its room; its payment is refunded by event.
    Cancelled {
        payment_id: Uuid,
    },
}

impl BookingStatus {
    pub const PENDING: &'static str = "PENDING";
    pub const CONFIRMED: &'static str = "CONFIRMED";
    pub const REJECTED: &'static str = "REJECTED";
    pub const CANCELLED: &'static str = "CANCELLED";

    /// The status's name, as the API and the store spell it.
    pub fn name(self) -> &'static str {
        match self {
            BookingStatus::Pending => Self::PENDING,
            BookingStatus::Confirmed { .. } => Self::CONFIRMED,
            BookingStatus::Rejected { .. } => Self::REJECTED,
            BookingStatus::Cancelled { .. } => Self::CANCELLED,
        }
    }

    /// The payment of a confirmed (or since cancelled) booking.
    pub fn payment_id(self) -> Option<Uuid> {
        match self {
            BookingStatus::Confirmed { payment_id } | BookingStatus::Cancelled { payment_id } => {
                Some(payment_id)
            }
            BookingStatus::Pending | BookingStatus::Rejected { .. } => None,
        }
    }

    /// False while a charge may exist that does not match the booking's status: a pending
    /// booking's, or a rejected one's until it is voided.
    pub fn payment_settled(self) -> bool {
        match self {
            BookingStatus::Pending => false,
            BookingStatus::Rejected { payment_settled } => payment_settled,
            BookingStatus::Confirmed { .. } | BookingStatus::Cancelled { .. } => true,
        }
    }

    /// The status as stored: its name, its payment and whether that is settled.
    pub fn restore(
        name: &str,
        payment_id: Option<Uuid>,
        payment_settled: bool,
    ) -> Result<BookingStatus, BookingError> {
        let status = match (name, payment_id) {
            (Self::PENDING, None) => BookingStatus::Pending,
            (Self::CONFIRMED, Some(payment_id)) => BookingStatus::Confirmed { payment_id },
            (Self::REJECTED, None) => BookingStatus::Rejected { payment_settled },
            (Self::CANCELLED, Some(payment_id)) => BookingStatus::Cancelled { payment_id },
            (name, payment_id) => {
                return Err(BookingError::Unexpected(anyhow::anyhow!(
                    "a stored booking status {name} with payment {payment_id:?}"
                )));
            }
        };
        Ok(status)
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
    id: Uuid,
    room: RoomSnapshot,
    guest_id: Uuid,
    stay: StayDates,
    guests: u32,
    total_price: Money,
    status: BookingStatus,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A booking as the store keeps it, to be [restored](Booking::restore).
#[derive(Debug, Clone)]
pub struct StoredBooking {
    pub id: Uuid,
    pub room: RoomSnapshot,
    pub guest_id: Uuid,
    pub stay: StayDates,
    pub guests: u32,
    pub total_price: Money,
    pub status: BookingStatus,
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
            .times(stay.nights())
            .ok_or_else(|| BookingError::invalid("checkOut", "the total price is too large"))?;
        Ok(Booking {
            id,
            room,
            guest_id,
            stay,
            guests,
            total_price,
            status: BookingStatus::Pending,
            created_at: now,
            updated_at: now,
        })
    }

    /// A booking as it was stored.
    pub fn restore(stored: StoredBooking) -> Booking {
        Booking {
            id: stored.id,
            room: stored.room,
            guest_id: stored.guest_id,
            stay: stored.stay,
            guests: stored.guests,
            total_price: stored.total_price,
            status: stored.status,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
        }
    }

    pub fn id(&self) -> Uuid {
        self.id
    }

    pub fn room(&self) -> &RoomSnapshot {
        &self.room
    }

    pub fn guest_id(&self) -> Uuid {
        self.guest_id
    }

    pub fn stay(&self) -> &StayDates {
        &self.stay
    }

    pub fn guests(&self) -> u32 {
        self.guests
    }

    pub fn total_price(&self) -> Money {
        self.total_price
    }

    pub fn status(&self) -> BookingStatus {
        self.status
    }

    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }

    /// A pending booking's payment went through.
    pub fn confirm(
        &mut self,
        payment_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<BookingConfirmed, BookingError> {
        self.expect_pending("confirmed")?;
        self.status = BookingStatus::Confirmed { payment_id };
        self.updated_at = now;
        Ok(BookingConfirmed {
            booking_id: self.id,
            room_id: self.room.id,
            room_name: self.room.name.clone(),
            guest_id: self.guest_id,
            host_id: self.room.host_id,
            check_in: self.stay.check_in(),
            check_out: self.stay.check_out(),
            nights: self.stay.nights(),
            total_price: self.total_price.as_won(),
            payment_id,
        })
    }

    /// A pending booking's payment did not go through; the nights are to be released.
    pub fn reject(&mut self, rejection: Rejection, now: DateTime<Utc>) -> Result<(), BookingError> {
        self.expect_pending("rejected")?;
        self.status = BookingStatus::Rejected {
            payment_settled: rejection == Rejection::NotCharged,
        };
        self.updated_at = now;
        Ok(())
    }

    fn expect_pending(&self, becoming: &str) -> Result<(), BookingError> {
        match self.status {
            BookingStatus::Pending => Ok(()),
            other => Err(BookingError::Unexpected(anyhow::anyhow!(
                "booking {} is {}, not PENDING: it cannot be {becoming}",
                self.id,
                other.name()
            ))),
        }
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
        let BookingStatus::Confirmed { payment_id } = self.status else {
            return Err(BookingError::NotCancellable(
                "only confirmed bookings can be",
            ));
        };
        if self.stay.check_in() <= today {
            return Err(BookingError::NotCancellable("the stay has already begun"));
        }
        self.status = BookingStatus::Cancelled { payment_id };
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
            price: Money::won(100_000).expect("an amount"),
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
            (booking.total_price().as_won(), booking.status()),
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
        let event = booking.confirm(payment, Utc::now()).expect("pending");
        assert_eq!(
            (event.payment_id, event.nights, event.total_price),
            (payment, 3, 300_000)
        );
        assert_eq!(
            booking.status(),
            BookingStatus::Confirmed {
                payment_id: payment
            }
        );
    }

    #[test]
    fn only_a_pending_booking_is_confirmed_or_rejected() {
        let mut booking = pending(Uuid::now_v7());
        booking
            .confirm(Uuid::now_v7(), Utc::now())
            .expect("pending");
        let confirmed = booking.clone();
        assert!(booking.confirm(Uuid::now_v7(), Utc::now()).is_err());
        assert!(booking.reject(Rejection::NotCharged, Utc::now()).is_err());
        assert_eq!(booking, confirmed, "a refused transition changes nothing");
    }

    #[test]
    fn a_stored_status_must_carry_what_its_state_has() {
        let payment = Some(Uuid::now_v7());
        assert!(BookingStatus::restore("CONFIRMED", None, true).is_err());
        assert!(BookingStatus::restore("PENDING", payment, false).is_err());
        assert!(BookingStatus::restore("LOST", None, false).is_err());
        for status in [
            BookingStatus::Pending,
            BookingStatus::Confirmed {
                payment_id: Uuid::now_v7(),
            },
            BookingStatus::Rejected {
                payment_settled: false,
            },
            BookingStatus::Cancelled {
                payment_id: Uuid::now_v7(),
            },
        ] {
            let restored = BookingStatus::restore(
                status.name(),
                status.payment_id(),
                status.payment_settled(),
            );
            assert_eq!(restored.ok(), Some(status));
        }
    }

    #[test]
    fn a_rejection_without_an_answer_leaves_the_payment_to_settle() {
        let mut booking = pending(Uuid::now_v7());
        booking
            .reject(Rejection::ChargeUncertain, Utc::now())
            .expect("pending");
        assert!(!booking.status().payment_settled());
        let mut declined = pending(Uuid::now_v7());
        declined
            .reject(Rejection::NotCharged, Utc::now())
            .expect("pending");
        assert!(declined.status().payment_settled());
    }

    #[test]
    fn only_the_guest_cancels_and_only_before_the_stay() {
        let guest = Uuid::now_v7();
        let mut booking = pending(guest);
        assert!(matches!(
            booking.cancel(guest, today(), Utc::now()),
            Err(BookingError::NotCancellable(_))
        ));
        let payment = Uuid::now_v7();
        booking.confirm(payment, Utc::now()).expect("pending");
        assert!(matches!(
            booking.cancel(Uuid::now_v7(), today(), Utc::now()),
            Err(BookingError::NotFound(_))
        ));
        let first_night = booking.stay().check_in();
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
        assert_eq!(
            booking.status(),
            BookingStatus::Cancelled {
                payment_id: payment
            }
        );
    }
}
