//! What each event tells my page about a stay.
//!
//! Events of different aggregates (a booking, its payment) arrive in any order, and a
//! redelivered one may arrive late. So an event never overwrites what it does not know, and
//! statuses only move forward: once CANCELLED, a booking or a payment stays CANCELLED whatever
//! arrives after.

use chrono::NaiveDate;
use mybnb_events::booking::{BookingCancelled, BookingConfirmed};
use mybnb_events::payment::{PaymentApproved, PaymentCancelled};
use uuid::Uuid;

/// A booking's status as my page shows it. Declared in the order statuses move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BookingStatus {
    Confirmed,
    Cancelled,
}

/// A payment's status as my page shows it. Declared in the order statuses move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PaymentStatus {
    /// Its event has not arrived yet (never stored: what a stay without one shows).
    Pending,
    Approved,
    /// Refunded.
    Cancelled,
}

/// A status of my page: named as the API and the table spell it, and merged by [`merge`].
pub trait Status: Copy + Ord + Sized + 'static {
    /// Every status, in the order they move.
    const ALL: &'static [Self];
    /// The one status nothing replaces.
    const LAST: Self;

    fn name(self) -> &'static str;

    fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|status| status.name() == name)
    }
}

impl Status for BookingStatus {
    const ALL: &'static [Self] = &[BookingStatus::Confirmed, BookingStatus::Cancelled];
    const LAST: Self = BookingStatus::Cancelled;

    fn name(self) -> &'static str {
        match self {
            BookingStatus::Confirmed => "CONFIRMED",
            BookingStatus::Cancelled => "CANCELLED",
        }
    }
}

impl Status for PaymentStatus {
    const ALL: &'static [Self] = &[
        PaymentStatus::Pending,
        PaymentStatus::Approved,
        PaymentStatus::Cancelled,
    ];
    const LAST: Self = PaymentStatus::Cancelled;

    fn name(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "PENDING",
            PaymentStatus::Approved => "APPROVED",
            PaymentStatus::Cancelled => "CANCELLED",
        }
    }
}

/// What a stay's status becomes when an event says `arriving` about it (`None`: the event
/// knows nothing of it) and it was `stored`: a status only moves forward, so the last status
/// ([`Status::LAST`], CANCELLED) is never replaced, whatever arrives after, and an event that
/// knows nothing keeps what was known. The store's upsert does the same in SQL.
pub fn merge<S: Status>(stored: Option<S>, arriving: Option<S>) -> Option<S> {
    match (stored, arriving) {
        (Some(stored), Some(arriving)) => Some(stored.max(arriving)),
        (stored, arriving) => arriving.or(stored),
    }
}

/// What one event says about one stay: `None` for what it does not know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StayUpdate {
    pub booking_id: Uuid,
    pub room_id: Option<Uuid>,
    pub room_name: Option<String>,
    pub guest_id: Option<Uuid>,
    pub host_id: Option<Uuid>,
    pub check_in: Option<NaiveDate>,
    pub check_out: Option<NaiveDate>,
    pub total_price: Option<i64>,
    pub booking_status: Option<BookingStatus>,
    pub payment_status: Option<PaymentStatus>,
}

impl From<BookingConfirmed> for StayUpdate {
    fn from(event: BookingConfirmed) -> Self {
        StayUpdate {
            booking_id: event.booking_id,
            room_id: Some(event.room_id),
            room_name: Some(event.room_name),
            guest_id: Some(event.guest_id),
            host_id: Some(event.host_id),
            check_in: Some(event.check_in),
            check_out: Some(event.check_out),
            total_price: Some(event.total_price),
            booking_status: Some(BookingStatus::Confirmed),
            payment_status: None,
        }
    }
}

impl From<BookingCancelled> for StayUpdate {
    fn from(event: BookingCancelled) -> Self {
        StayUpdate {
            booking_id: event.booking_id,
            room_id: Some(event.room_id),
            guest_id: Some(event.guest_id),
            host_id: Some(event.host_id),
            check_in: Some(event.check_in),
            check_out: Some(event.check_out),
            booking_status: Some(BookingStatus::Cancelled),
            ..StayUpdate::default()
        }
    }
}

impl From<PaymentApproved> for StayUpdate {
    fn from(event: PaymentApproved) -> Self {
        StayUpdate {
            booking_id: event.booking_id,
            guest_id: Some(event.guest_id),
            host_id: Some(event.host_id),
            payment_status: Some(PaymentStatus::Approved),
            ..StayUpdate::default()
        }
    }
}

impl From<PaymentCancelled> for StayUpdate {
    fn from(event: PaymentCancelled) -> Self {
        StayUpdate {
            booking_id: event.booking_id,
            guest_id: Some(event.guest_id),
            payment_status: Some(PaymentStatus::Cancelled),
            ..StayUpdate::default()
        }
    }
}

/// One row of my page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stay {
    pub booking_id: Uuid,
    pub room_id: Uuid,
    pub room_name: String,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    pub total_price: i64,
    pub booking_status: BookingStatus,
    pub payment_status: PaymentStatus,
}

/// A user's page: the stays they booked and the stays booked in their rooms, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyPage {
    pub as_guest: Vec<Stay>,
    pub as_host: Vec<Stay>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_only_moves_forward() {
        use PaymentStatus::{Approved, Cancelled};
        assert_eq!(merge(Some(Approved), Some(Cancelled)), Some(Cancelled));
        assert_eq!(merge(Some(Cancelled), Some(Approved)), Some(Cancelled));
        assert_eq!(
            merge(
                Some(BookingStatus::Cancelled),
                Some(BookingStatus::Confirmed)
            ),
            Some(BookingStatus::Cancelled)
        );
    }

    #[test]
    fn an_event_that_knows_nothing_keeps_what_was_known() {
        assert_eq!(
            merge(Some(PaymentStatus::Approved), None),
            Some(PaymentStatus::Approved)
        );
        assert_eq!(
            merge(None, Some(BookingStatus::Confirmed)),
            Some(BookingStatus::Confirmed)
        );
        assert_eq!(merge::<PaymentStatus>(None, None), None);
    }

    #[test]
    fn cancelled_is_the_last_status_and_names_round_trip() {
        for status in BookingStatus::ALL {
            assert_eq!(BookingStatus::parse(status.name()), Some(*status));
            assert!(*status <= BookingStatus::LAST);
        }
        for status in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(status.name()), Some(*status));
            assert!(*status <= PaymentStatus::LAST);
        }
        assert_eq!(BookingStatus::LAST.name(), PaymentStatus::LAST.name());
    }
}
