//! The booking use cases: book and pay, read, list, cancel, and reconcile what a timeout or a
//! crash left undecided.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use mybnb_bus::Rejected;
use mybnb_events::room::RoomDeleted;
use mybnb_events::{CorrelationId, EventEnvelope, Incoming};
use mybnb_platform::db::now;
use mybnb_platform::inbox::Handling;
use uuid::Uuid;

use crate::domain::{
    Booking, BookingError, BookingStatus, DatesDraft, IdempotencyKey, Rejection, StayDates,
};
use crate::ports::{
    BookingRepository, Claim, PaymentFailure, PaymentGateway, PaymentOrder, PaymentState,
    RoomCatalog,
};

/// The name booking subscribes and records handled events under.
pub const CONSUMER: &str = "booking";

mybnb_events::incoming! {
    /// The events booking reacts to.
    pub enum BookingIncoming {
        RoomDeleted(RoomDeleted),
    }
}

/// What booking subscribes to.
pub const SUBSCRIBES_TO: &[&str] = BookingIncoming::EVENT_TYPES;

/// A booking as a guest asked for it.
#[derive(Debug, Clone)]
pub struct BookingDraft {
    pub room_id: Uuid,
    pub dates: DatesDraft,
    pub guests: Option<u32>,
}

/// How the service treats undecided bookings.
#[derive(Debug, Clone, Copy)]
pub struct BookingPolicy {
    /// A PENDING booking older than this is no longer being handled by its request: the
    /// reconciler decides it. Longer than the payment timeout.
    pub stale_after: Duration,
    /// A stay begins at most this many days after today.
    pub horizon_days: u32,
}

/// What one reconciliation round decided.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reconciled {
    pub confirmed: usize,
    pub rejected: usize,
    pub voided: usize,
    pub left_for_later: usize,
}

pub struct BookingService<R> {
    bookings: R,
    rooms: Arc<dyn RoomCatalog>,
    payments: Arc<dyn PaymentGateway>,
    policy: BookingPolicy,
}

/// The calendar date against which "in the past" and "already begun" are judged.
fn today() -> NaiveDate {
    Utc::now().date_naive()
}

impl<R: BookingRepository> BookingService<R> {
    pub fn new(
        bookings: R,
        rooms: Arc<dyn RoomCatalog>,
        payments: Arc<dyn PaymentGateway>,
        policy: BookingPolicy,
    ) -> Self {
        BookingService {
            bookings,
            rooms,
            payments,
            policy,
        }
    }

    /// Claims the nights, charges the guest, and confirms — or releases the nights and says
    /// why not. Never leaves a confirmed booking unpaid.
    #[tracing::instrument(skip_all, fields(room_id = %draft.room_id, booking_id))]
    pub async fn book(
        &self,
        guest_id: Uuid,
        draft: BookingDraft,
        idempotency_key: Option<&IdempotencyKey>,
        correlation: &CorrelationId,
    ) -> Result<Booking, BookingError> {
        if let Some(key) = idempotency_key {
            // A repeated request gets the first one's booking, whatever changed since.
            if let Some(first) = self.bookings.find_by_key(guest_id, key).await?
                && !matches!(first.status(), BookingStatus::Rejected { .. })
            {
                return replay(first);
            }
        }
        // One calendar date for both rules, even across midnight.
        let today = today();
        let stay = StayDates::parse(&draft.dates, today)?
            .begins_within(self.policy.horizon_days, today)?;
        if let Some(retry_after) = self.payments.refuses_charges() {
            return Err(BookingError::PaymentUnavailable { retry_after });
        }
        let room = self
            .rooms
            .snapshot(draft.room_id)
            .await
            .map_err(|error| {
                tracing::warn!(error = format!("{error:#}"), "cannot read the room");
                BookingError::RoomsUnavailable
            })?
            .ok_or(BookingError::RoomNotFound(draft.room_id))?;
        let mut booking =
            Booking::request(Uuid::now_v7(), guest_id, room, stay, draft.guests, now())?;
        tracing::Span::current().record("booking_id", tracing::field::display(booking.id()));
        if let Some(first) = self.claim(&booking, idempotency_key).await? {
            return replay(first);
        }
        let order = PaymentOrder::from(&booking);
        match self.payments.charge(order, correlation.clone()).await {
            Ok(PaymentState::Approved { payment_id }) => {
                let event = booking.confirm(payment_id, now())?;
                if self
                    .bookings
                    .confirm(&booking, &event, correlation)
                    .await?
                    .is_applied()
                {
                    tracing::info!(%payment_id, "booking confirmed");
                    Ok(booking)
                } else {
                    self.decided_elsewhere(booking.id()).await
                }
            }
            Ok(PaymentState::NotCharged | PaymentState::Returned) => {
                booking.reject(Rejection::NotCharged, now())?;
                if !self.bookings.reject(&booking).await?.is_applied() {
                    return self.decided_elsewhere(booking.id()).await;
                }
                tracing::info!("payment declined");
                Err(BookingError::PaymentDeclined)
            }
            Err(failure) => {
                let (rejection, retry_after) = match &failure {
                    // Nothing was sent: nothing can have been charged.
                    PaymentFailure::CircuitOpen { retry_after } => {
                        (Rejection::NotCharged, *retry_after)
                    }
                    PaymentFailure::Saturated => (Rejection::NotCharged, Duration::from_secs(1)),
                    _ => (Rejection::ChargeUncertain, Duration::from_secs(1)),
                };
                booking.reject(rejection, now())?;
                if !self.bookings.reject(&booking).await?.is_applied() {
                    return self.decided_elsewhere(booking.id()).await;
                }
                tracing::warn!(error = %failure, "payment unavailable; booking rejected");
                Err(BookingError::PaymentUnavailable { retry_after })
            }
        }
    }

    /// Claims the booking's nights; `Some` is the booking an earlier request with the same
    /// idempotency key made. A key freed by a rejection meanwhile is claimed again.
    async fn claim(
        &self,
        booking: &Booking,
        idempotency_key: Option<&IdempotencyKey>,
    ) -> Result<Option<Booking>, BookingError> {
        // A key is freed at most once per competing request; a few rounds settle any race.
        for _ in 0..3 {
            match self.bookings.claim(booking, idempotency_key).await? {
                Claim::Claimed => return Ok(None),
                Claim::NightsTaken => return Err(BookingError::NightsTaken),
                Claim::KeyUsed(first) => return Ok(Some(first)),
                Claim::KeyReleased => continue,
            }
        }
        Err(BookingError::RequestInProgress)
    }

    /// The booking, for its guest or its room's host; anyone else is told it does not exist.
    pub async fn get(&self, user_id: Uuid, id: Uuid) -> Result<Booking, BookingError> {
        self.bookings
            .find(id)
            .await?
            .filter(|booking| booking.is_visible_to(user_id))
            .ok_or(BookingError::NotFound(id))
    }

    /// The guest's own bookings, newest first.
    pub async fn list(&self, guest_id: Uuid) -> Result<Vec<Booking>, BookingError> {
        Ok(self.bookings.list_for_guest(guest_id).await?)
    }

    /// The guest cancels a confirmed stay that has not begun; the refund follows by event.
    #[tracing::instrument(skip_all, fields(booking_id = %id))]
    pub async fn cancel(
        &self,
        user_id: Uuid,
        id: Uuid,
        correlation: &CorrelationId,
    ) -> Result<Booking, BookingError> {
        let mut booking = self.get(user_id, id).await?;
        let event = booking.cancel(user_id, today(), now())?;
        if !self
            .bookings
            .cancel(&booking, &event, correlation)
            .await?
            .is_applied()
        {
            return Err(BookingError::NotCancellable(
                "it changed meanwhile; read it again",
            ));
        }
        tracing::info!("booking cancelled");
        Ok(booking)
    }

    /// A room was deleted (`RoomDeleted`): its upcoming confirmed bookings are cancelled, each
    /// with its `BookingCancelled`, so that payment refunds them and their guests are told.
    /// Exactly once per event, through the inbox.
    #[tracing::instrument(skip_all, fields(event_id = %envelope.id))]
    pub async fn on_room_deleted(&self, envelope: &EventEnvelope) -> anyhow::Result<()> {
        let BookingIncoming::RoomDeleted(deleted) =
            BookingIncoming::decode(envelope).map_err(Rejected::from)?;
        let (today, now) = (today(), now());
        let cancellations = self
            .bookings
            .upcoming_for_room(deleted.room_id, today)
            .await?
            .into_iter()
            .filter_map(|mut booking| {
                let event = booking.cancel_for_deleted_room(today, now)?;
                Some((booking, event))
            })
            .collect::<Vec<_>>();
        let handling = Handling {
            consumer: CONSUMER,
            event_id: envelope.id,
        };
        let cancelled = self
            .bookings
            .cancel_for_event(&cancellations, &handling, &envelope.correlation_id)
            .await?
            .applied()
            .unwrap_or(0);
        tracing::info!(room_id = %deleted.room_id, cancelled, "a deleted room's bookings cancelled");
        Ok(())
    }

    /// Decides what requests could not: PENDING bookings whose request died (crash, lost
    /// connection) are confirmed if their payment went through and rejected otherwise; rejected
    /// bookings whose charge may exist get it voided. Safe to run anywhere, any time.
    #[tracing::instrument(skip_all)]
    pub async fn reconcile(&self, correlation: &CorrelationId) -> Result<Reconciled, BookingError> {
        let stale_before = now() - self.policy.stale_after;
        let mut reconciled = Reconciled::default();
        for mut booking in self.bookings.unsettled(stale_before).await? {
            let order = PaymentOrder::from(&booking);
            let outcome = match booking.status() {
                BookingStatus::Pending => {
                    self.decide_pending(&mut booking, correlation, &mut reconciled)
                        .await
                }
                _ => match self.payments.void(order, correlation.clone()).await {
                    Ok(()) => {
                        self.bookings.mark_payment_settled(booking.id()).await?;
                        reconciled.voided += 1;
                        Ok(())
                    }
                    Err(failure) => Err(failure),
                },
            };
            if let Err(failure) = outcome {
                tracing::warn!(booking_id = %booking.id(), error = %failure, "cannot reconcile yet");
                reconciled.left_for_later += 1;
            }
        }
        if reconciled != Reconciled::default() {
            tracing::info!(?reconciled, "reconciled bookings");
        }
        Ok(reconciled)
    }

    async fn decide_pending(
        &self,
        booking: &mut Booking,
        correlation: &CorrelationId,
        reconciled: &mut Reconciled,
    ) -> Result<(), PaymentFailure> {
        match self.payments.status(booking.id()).await? {
            Some(PaymentState::Approved { payment_id }) => {
                let event = booking.confirm(payment_id, now()).map_err(unexpected)?;
                if self
                    .bookings
                    .confirm(booking, &event, correlation)
                    .await?
                    .is_applied()
                {
                    reconciled.confirmed += 1;
                }
            }
            state => {
                // Take the booking before touching its payment, so that its request can no
                // longer confirm it; a charge that may exist is then voided.
                let rejection = if state.is_none() {
                    Rejection::ChargeUncertain
                } else {
                    Rejection::NotCharged
                };
                booking.reject(rejection, now()).map_err(unexpected)?;
                if !self.bookings.reject(booking).await?.is_applied() {
                    return Ok(());
                }
                reconciled.rejected += 1;
                if rejection == Rejection::ChargeUncertain {
                    self.payments
                        .void(PaymentOrder::from(&*booking), correlation.clone())
                        .await?;
                    self.bookings.mark_payment_settled(booking.id()).await?;
                    reconciled.voided += 1;
                }
            }
        }
        Ok(())
    }

    /// The request lost a race with the reconciler: answer what was decided.
    async fn decided_elsewhere(&self, id: Uuid) -> Result<Booking, BookingError> {
        let booking = self
            .bookings
            .find(id)
            .await?
            .ok_or(BookingError::NotFound(id))?;
        match booking.status() {
            BookingStatus::Confirmed { .. } | BookingStatus::Cancelled { .. } => Ok(booking),
            BookingStatus::Rejected { .. } => Err(BookingError::PaymentUnavailable {
                retry_after: Duration::from_secs(1),
            }),
            BookingStatus::Pending => Err(BookingError::RequestInProgress),
        }
    }
}

/// A request repeated with a used Idempotency-Key gets the first request's booking. Rejected
/// bookings free their key, so they never come here.
fn replay(first: Booking) -> Result<Booking, BookingError> {
    match first.status() {
        BookingStatus::Confirmed { .. } => Ok(first),
        BookingStatus::Cancelled { .. } => Err(BookingError::KeyOfCancelledBooking(first.id())),
        BookingStatus::Pending | BookingStatus::Rejected { .. } => {
            Err(BookingError::RequestInProgress)
        }
    }
}

/// A transition the reconciler asked of a booking it read as PENDING, refused: a bug, not an
/// answer of the payment provider.
fn unexpected(error: BookingError) -> PaymentFailure {
    PaymentFailure::Unexpected(error.into())
}
