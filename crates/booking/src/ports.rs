//! What the booking service needs from the outside world: rooms to snapshot, a payment
//! provider to charge, and a store for bookings and the nights they hold.
//!
//! The links to other contexts ([`RoomCatalog`], [`PaymentGateway`]) are chosen at run time —
//! an in-process call when both contexts share a process, HTTP otherwise — so they are
//! object-safe traits returning boxed futures. The repository is chosen at compile time; it is
//! a trait because booking's race-prone use cases — the claim's retries around a freed
//! idempotency key, the reconciler's decisions, a request that loses to the reconciler — are
//! tested fast on an in-memory fake of it (`tests/service`), while the API suites run the SQL
//! store on both databases.

use std::future::Future;

use chrono::{DateTime, NaiveDate, Utc};
use mybnb_events::CorrelationId;
use mybnb_events::booking::{BookingCancelled, BookingConfirmed};
use mybnb_events::payment::PaymentStatus;
pub use mybnb_platform::BoxFuture;
use mybnb_platform::db::Written;
use mybnb_platform::inbox::Handling;
use uuid::Uuid;

use crate::domain::{Booking, IdempotencyKey, Money, RoomSnapshot};

/// The room context, asked synchronously for a room as it is now.
pub trait RoomCatalog: Send + Sync + 'static {
    /// The room, or `None` if it does not exist or was deleted.
    fn snapshot(&self, room_id: Uuid) -> BoxFuture<'_, anyhow::Result<Option<RoomSnapshot>>>;
}

/// What the payment provider is asked to charge or void.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentOrder {
    pub booking_id: Uuid,
    pub guest_id: Uuid,
    pub host_id: Uuid,
    pub amount: Money,
}

impl From<&Booking> for PaymentOrder {
    fn from(booking: &Booking) -> Self {
        PaymentOrder {
            booking_id: booking.id(),
            guest_id: booking.guest_id(),
            host_id: booking.room().host_id,
            amount: booking.total_price(),
        }
    }
}

/// The provider's answer about a booking's payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentState {
    Approved {
        payment_id: Uuid,
    },
    /// Declined, or voided in advance: no money moved.
    NotCharged,
    /// The charge was given back (voided or refunded).
    Returned,
}

impl PaymentState {
    /// What a payment's status, as payment reports it, means for its booking.
    pub fn from_status(payment_id: Uuid, status: PaymentStatus) -> PaymentState {
        match status {
            PaymentStatus::Approved => PaymentState::Approved { payment_id },
            PaymentStatus::Declined | PaymentStatus::Voided => PaymentState::NotCharged,
            PaymentStatus::Cancelled => PaymentState::Returned,
        }
    }
}

/// Why a call to the payment provider did not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum PaymentFailure {
    #[error("the payment provider did not answer within {0:?}")]
    TimedOut(std::time::Duration),
    /// Recent calls failed or were slow: calls are refused for a while.
    #[error("the payment circuit is open")]
    CircuitOpen { retry_after: std::time::Duration },
    #[error("too many payment calls are in flight")]
    Saturated,
    /// The provider could not be reached.
    #[error("the payment provider is unreachable: {0}")]
    Unreachable(String),
    /// The provider answered that it is unavailable (an outage).
    #[error("the payment provider is unavailable")]
    Unavailable,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// The payment provider. Every call is idempotent per booking id.
pub trait PaymentGateway: Send + Sync + 'static {
    /// Charges the order once; repeating it returns the first answer. The correlation id
    /// travels with the payment's events.
    fn charge(
        &self,
        order: PaymentOrder,
        correlation: CorrelationId,
    ) -> BoxFuture<'_, Result<PaymentState, PaymentFailure>>;

    /// The booking's payment, `None` if there is none.
    fn status(
        &self,
        booking_id: Uuid,
    ) -> BoxFuture<'_, Result<Option<PaymentState>, PaymentFailure>>;

    /// Makes sure the booking is not charged: voids a charge, or refuses one still on its way.
    fn void(
        &self,
        order: PaymentOrder,
        correlation: CorrelationId,
    ) -> BoxFuture<'_, Result<(), PaymentFailure>>;

    /// When charges are being refused outright (a circuit breaker is open), for how long yet:
    /// a booking is then turned away before it claims anything. `None`: go ahead and charge.
    fn refuses_charges(&self) -> Option<std::time::Duration> {
        None
    }
}

/// The outcome of claiming a booking's nights.
#[derive(Debug)]
pub enum Claim {
    Claimed,
    NightsTaken,
    /// The guest already used this idempotency key: the booking it made.
    KeyUsed(Booking),
    /// The key was in use, but its booking was rejected meanwhile, which frees it: try again.
    KeyReleased,
}

/// Where bookings and the nights they hold are kept. The database refuses a second claim of a
/// room-night. State changes are compare-and-set on the status the caller saw, so that the
/// request path and the reconciler cannot both move a booking; the loser gets
/// [`Written::LostRace`].
pub trait BookingRepository: Send + Sync + 'static {
    /// Stores a PENDING booking and claims its nights, in one transaction.
    fn claim(
        &self,
        booking: &Booking,
        idempotency_key: Option<&IdempotencyKey>,
    ) -> impl Future<Output = anyhow::Result<Claim>> + Send;

    /// PENDING → CONFIRMED, with its event.
    fn confirm(
        &self,
        booking: &Booking,
        event: &BookingConfirmed,
        correlation: &CorrelationId,
    ) -> impl Future<Output = anyhow::Result<Written<()>>> + Send;

    /// PENDING → REJECTED, releasing the nights and the idempotency key.
    fn reject(&self, booking: &Booking)
    -> impl Future<Output = anyhow::Result<Written<()>>> + Send;

    /// CONFIRMED → CANCELLED, releasing the nights, with its event.
    fn cancel(
        &self,
        booking: &Booking,
        event: &BookingCancelled,
        correlation: &CorrelationId,
    ) -> impl Future<Output = anyhow::Result<Written<()>>> + Send;

    /// Records that a rejected booking's payment has been made sure of.
    fn mark_payment_settled(
        &self,
        booking_id: Uuid,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    fn find(&self, id: Uuid) -> impl Future<Output = anyhow::Result<Option<Booking>>> + Send;

    /// The booking the guest's earlier request with this idempotency key made.
    fn find_by_key(
        &self,
        guest_id: Uuid,
        key: &IdempotencyKey,
    ) -> impl Future<Output = anyhow::Result<Option<Booking>>> + Send;

    fn list_for_guest(
        &self,
        guest_id: Uuid,
    ) -> impl Future<Output = anyhow::Result<Vec<Booking>>> + Send;

    /// Bookings to reconcile: PENDING since before `stale_before`, and REJECTED ones whose
    /// payment is not settled.
    fn unsettled(
        &self,
        stale_before: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<Vec<Booking>>> + Send;

    /// The room's CONFIRMED bookings whose stay begins after `today`.
    fn upcoming_for_room(
        &self,
        room_id: Uuid,
        today: NaiveDate,
    ) -> impl Future<Output = anyhow::Result<Vec<Booking>>> + Send;

    /// Cancels the bookings as [`BookingRepository::cancel`] does, all in one transaction that
    /// also records `handling` in the inbox; a booking that is no longer CONFIRMED is left as it
    /// is. How many were cancelled, or [`Written::AlreadyHandled`].
    fn cancel_for_event(
        &self,
        cancellations: &[(Booking, BookingCancelled)],
        handling: &Handling,
        correlation: &CorrelationId,
    ) -> impl Future<Output = anyhow::Result<Written<usize>>> + Send;
}
