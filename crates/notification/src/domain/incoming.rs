//! The events this context reads, and what each of them means here: someone to remember, a
//! stay to remember, and whom to tell what.
//!
//! Events of different aggregates may arrive in any order: a payment may be approved before
//! its booking's confirmation arrives, a user may register after being notified. Nothing here
//! waits for anything: a notification says what is known when it is made (a payment approved
//! before its booking is known names no room), and a user unknown when notified gets no e-mail
//! for it.

use chrono::{DateTime, NaiveDate, Utc};
use mybnb_events::booking::{BookingCancelled, BookingConfirmed};
use mybnb_events::identity::UserRegistered;
use mybnb_events::payment::{CancellationReason, PaymentApproved, PaymentCancelled};
use uuid::Uuid;

use super::notification::{dates, nights, won};
use super::{Notification, NotificationKind};

mybnb_events::incoming! {
    /// An event this context subscribes to, read.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Incoming {
        UserRegistered(UserRegistered),
        BookingConfirmed(BookingConfirmed),
        BookingCancelled(BookingCancelled),
        PaymentApproved(PaymentApproved),
        PaymentCancelled(PaymentCancelled),
    }
}

/// How to greet a user and where to write to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub user_id: Uuid,
    pub display_name: String,
    /// None when the user gave no address: they are notified, never mailed.
    pub email: Option<String>,
}

/// What a confirmed booking is about, kept so that later notifications can name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stay {
    pub booking_id: Uuid,
    pub room_id: Uuid,
    pub room_name: String,
    pub check_in: NaiveDate,
    /// Exclusive: the morning the guest leaves.
    pub check_out: NaiveDate,
    pub nights: u32,
    /// In whole won.
    pub total_price: i64,
}

impl Stay {
    /// `"Hanok with a garden" from 2026-12-24 to 2026-12-27`.
    fn describe(&self) -> String {
        format!(
            "\"{}\" {}",
            self.room_name,
            dates(self.check_in, self.check_out)
        )
    }
}

impl Incoming {
    /// The user the event introduces, to remember.
    pub fn contact(&self) -> Option<Contact> {
        match self {
            Incoming::UserRegistered(user) => Some(Contact {
                user_id: user.user_id,
                display_name: user.display_name.clone(),
                email: user.email.clone().filter(|email| !email.trim().is_empty()),
            }),
            _ => None,
        }
    }

    /// The stay the event confirms, to remember.
    pub fn stay(&self) -> Option<Stay> {
        match self {
            Incoming::BookingConfirmed(booking) => Some(Stay {
                booking_id: booking.booking_id,
                room_id: booking.room_id,
                room_name: booking.room_name.clone(),
                check_in: booking.check_in,
                check_out: booking.check_out,
                nights: booking.nights,
                total_price: booking.total_price,
            }),
            _ => None,
        }
    }

    /// The booking the event is about, whose remembered stay may word its notification.
    pub fn booking_id(&self) -> Option<Uuid> {
        match self {
            Incoming::UserRegistered(_) => None,
            Incoming::BookingConfirmed(event) => Some(event.booking_id),
            Incoming::BookingCancelled(event) => Some(event.booking_id),
            Incoming::PaymentApproved(event) => Some(event.booking_id),
            Incoming::PaymentCancelled(event) => Some(event.booking_id),
        }
    }

    /// The notification the event causes, if any, worded with what is known of its stay.
    pub fn notification(
        &self,
        known_stay: Option<&Stay>,
        id: Uuid,
        event_id: Uuid,
        at: DateTime<Utc>,
    ) -> Option<Notification> {
        let (recipient, kind, booking_id, message) = match self {
            Incoming::UserRegistered(_) => return None,
            Incoming::BookingConfirmed(event) => (
                event.host_id,
                NotificationKind::BookingConfirmed,
                event.booking_id,
                format!(
                    "Your room \"{}\" is booked {} ({}, {}). Booking {}.",
                    event.room_name,
                    dates(event.check_in, event.check_out),
                    nights(event.nights),
                    won(event.total_price),
                    event.booking_id
                ),
            ),
            Incoming::BookingCancelled(event) => (
                event.host_id,
                NotificationKind::BookingCancelled,
                event.booking_id,
                format!(
                    "The booking of your room {} was cancelled; those nights are free again. \
                     Booking {}.",
                    known_stay
                        .map_or_else(|| dates(event.check_in, event.check_out), Stay::describe),
                    event.booking_id
                ),
            ),
            Incoming::PaymentApproved(event) => (
                event.guest_id,
                NotificationKind::PaymentApproved,
                event.booking_id,
                format!(
                    "Your payment of {}{} was approved. Booking {}, payment {}.",
                    won(event.amount),
                    for_stay(known_stay),
                    event.booking_id,
                    event.payment_id
                ),
            ),
            Incoming::PaymentCancelled(event) => {
                let outcome = match event.reason {
                    CancellationReason::Refund => "was refunded",
                    CancellationReason::Void => "was voided: the booking did not go through",
                };
                (
                    event.guest_id,
                    NotificationKind::PaymentCancelled,
                    event.booking_id,
                    format!(
                        "Your payment of {}{} {outcome}. Booking {}, payment {}.",
                        won(event.amount),
                        for_stay(known_stay),
                        event.booking_id,
                        event.payment_id
                    ),
                )
            }
        };
        Some(Notification {
            id,
            recipient,
            kind,
            booking_id,
            message,
            event_id,
            created_at: at,
        })
    }
}

/// ` for "Hanok with a garden" from … to …`, or nothing when the stay is not known yet.
fn for_stay(known_stay: Option<&Stay>) -> String {
    known_stay.map_or_else(String::new, |stay| format!(" for {}", stay.describe()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
    }

    fn confirmed() -> BookingConfirmed {
        BookingConfirmed {
            booking_id: Uuid::now_v7(),
            room_id: Uuid::now_v7(),
            room_name: "Hanok with a garden".into(),
            guest_id: Uuid::now_v7(),
            host_id: Uuid::now_v7(),
            check_in: date("2026-12-24"),
            check_out: date("2026-12-27"),
            nights: 3,
            total_price: 360_000,
            payment_id: Uuid::now_v7(),
        }
    }

    fn notify(incoming: &Incoming, stay: Option<&Stay>) -> Notification {
        incoming
            .notification(stay, Uuid::now_v7(), Uuid::now_v7(), Utc::now())
            .expect("a notification")
    }

    #[test]
    fn the_host_is_told_of_a_confirmed_booking_with_room_dates_and_price() {
        let event = confirmed();
        let notification = notify(&Incoming::BookingConfirmed(event.clone()), None);
        assert_eq!(notification.recipient, event.host_id);
        assert_eq!(notification.kind, NotificationKind::BookingConfirmed);
        assert_eq!(
            notification.message,
            format!(
                "Your room \"Hanok with a garden\" is booked from 2026-12-24 to 2026-12-27 \
                 (3 nights, 360,000 won). Booking {}.",
                event.booking_id
            )
        );
    }

    #[test]
    fn a_payment_names_the_stay_once_it_is_known() {
        let booking = confirmed();
        let stay = Incoming::BookingConfirmed(booking.clone())
            .stay()
            .expect("a stay");
        let approved = Incoming::PaymentApproved(PaymentApproved {
            payment_id: booking.payment_id,
            booking_id: booking.booking_id,
            guest_id: booking.guest_id,
            host_id: booking.host_id,
            amount: 360_000,
        });
        let before = notify(&approved, None);
        assert_eq!(before.recipient, booking.guest_id);
        assert_eq!(
            before.message,
            format!(
                "Your payment of 360,000 won was approved. Booking {}, payment {}.",
                booking.booking_id, booking.payment_id
            )
        );
        let after = notify(&approved, Some(&stay));
        assert!(
            after
                .message
                .contains("for \"Hanok with a garden\" from 2026-12-24 to 2026-12-27"),
            "{}",
            after.message
        );
    }

    #[test]
    fn a_void_is_not_called_a_refund() {
        let cancelled = |reason| {
            Incoming::PaymentCancelled(PaymentCancelled {
                payment_id: Uuid::now_v7(),
                booking_id: Uuid::now_v7(),
                guest_id: Uuid::now_v7(),
                amount: 1_000,
                reason,
            })
        };
        let refund = notify(&cancelled(CancellationReason::Refund), None);
        assert!(refund.message.contains("1,000 won was refunded"));
        let void = notify(&cancelled(CancellationReason::Void), None);
        assert!(void.message.contains("was voided"));
        assert_eq!(void.kind, NotificationKind::PaymentCancelled);
    }

    #[test]
    fn a_cancellation_tells_the_host_its_dates_even_without_the_room() {
        let booking = confirmed();
        let cancelled = Incoming::BookingCancelled(BookingCancelled {
            booking_id: booking.booking_id,
            room_id: booking.room_id,
            guest_id: booking.guest_id,
            host_id: booking.host_id,
            check_in: booking.check_in,
            check_out: booking.check_out,
            payment_id: booking.payment_id,
        });
        let notification = notify(&cancelled, None);
        assert_eq!(notification.recipient, booking.host_id);
        assert!(
            notification
                .message
                .contains("your room from 2026-12-24 to 2026-12-27 was cancelled")
        );
    }

    #[test]
    fn a_registration_is_remembered_not_notified() {
        let registered = Incoming::UserRegistered(UserRegistered {
            user_id: Uuid::now_v7(),
            username: "lee.guest".into(),
            display_name: "Lee".into(),
            email: Some("  ".into()),
        });
        assert!(
            registered
                .notification(None, Uuid::now_v7(), Uuid::now_v7(), Utc::now())
                .is_none()
        );
        let contact = registered.contact().expect("a contact");
        assert_eq!(contact.email, None, "a blank address is no address");
    }
}
