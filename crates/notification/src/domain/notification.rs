//! A notification: one sentence telling one user what happened to a booking or its payment.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::Page;

/// What a notification is about: the name of the event that caused it, in capitals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    /// To the guest: their payment went through.
    PaymentApproved,
    /// To the host: one of their rooms was booked.
    BookingConfirmed,
    /// To the host: a booking of one of their rooms was cancelled.
    BookingCancelled,
    /// To the guest: their payment was given back.
    PaymentCancelled,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 4] = [
        NotificationKind::PaymentApproved,
        NotificationKind::BookingConfirmed,
        NotificationKind::BookingCancelled,
        NotificationKind::PaymentCancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::PaymentApproved => "PAYMENT_APPROVED",
            NotificationKind::BookingConfirmed => "BOOKING_CONFIRMED",
            NotificationKind::BookingCancelled => "BOOKING_CANCELLED",
            NotificationKind::PaymentCancelled => "PAYMENT_CANCELLED",
        }
    }

    pub fn parse(text: &str) -> Option<NotificationKind> {
        NotificationKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    /// The subject of the e-mail that carries a notification of this kind.
    pub fn subject(self) -> &'static str {
        match self {
            NotificationKind::PaymentApproved => "mybnb: your payment was approved",
            NotificationKind::BookingConfirmed => "mybnb: your room is booked",
            NotificationKind::BookingCancelled => "mybnb: a booking of your room was cancelled",
            NotificationKind::PaymentCancelled => "mybnb: your payment was given back",
        }
    }
}

/// What one user was told about one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// UUIDv7, so notifications sort by creation.
    pub id: Uuid,
    pub recipient: Uuid,
    pub kind: NotificationKind,
    pub booking_id: Uuid,
    /// A sentence in English with the details: room, dates, amounts in won, booking id.
    pub message: String,
    /// The event that caused it.
    pub event_id: Uuid,
    pub created_at: DateTime<Utc>,
}

/// One page of a user's history, newest first, and how many notifications they have in all.
#[derive(Debug, Clone)]
pub struct NotificationPage {
    pub notifications: Vec<Notification>,
    pub total: u64,
    pub page: Page,
}

/// An amount in whole won, as people write it: `360,000 won`.
pub(super) fn won(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if amount < 0 { "-" } else { "" };
    format!("{sign}{grouped} won")
}

/// The nights of a stay: `from 2026-12-24 to 2026-12-27` (the morning the guest leaves).
pub(super) fn dates(check_in: NaiveDate, check_out: NaiveDate) -> String {
    format!("from {check_in} to {check_out}")
}

pub(super) fn nights(count: u32) -> String {
    if count == 1 {
        "1 night".to_owned()
    } else {
        format!("{count} nights")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_by_thousands() {
        assert_eq!(won(0), "0 won");
        assert_eq!(won(999), "999 won");
        assert_eq!(won(1000), "1,000 won");
        assert_eq!(won(360_000), "360,000 won");
        assert_eq!(won(12_345_678), "12,345,678 won");
        assert_eq!(won(-1500), "-1,500 won");
    }

    #[test]
    fn kinds_read_back_from_their_names() {
        for kind in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(NotificationKind::parse("payment_approved"), None);
    }
}
