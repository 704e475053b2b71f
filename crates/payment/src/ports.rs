//! What the payment service needs from the outside world.

use std::future::Future;

use mybnb_events::CorrelationId;
use mybnb_events::payment::{PaymentApproved, PaymentCancelled};
use mybnb_platform::db::Written;
use mybnb_platform::inbox::Handling;
use uuid::Uuid;

use crate::domain::{Authorization, Payment, PaymentOrder};

/// The outcome of recording a new payment.
#[derive(Debug)]
pub enum Recorded {
    Created,
    /// The booking already had a payment (a concurrent or repeated request): this one.
    Existing(Payment),
}

/// Where payments are kept; changes and their events commit together. Errors are failures of
/// the store itself.
pub trait PaymentRepository: Send + Sync + 'static {
    fn find_by_booking(
        &self,
        booking_id: Uuid,
    ) -> impl Future<Output = anyhow::Result<Option<Payment>>> + Send;

    fn insert(
        &self,
        payment: &Payment,
        event: Option<&PaymentApproved>,
        correlation: &CorrelationId,
    ) -> impl Future<Output = anyhow::Result<Recorded>> + Send;

    /// Gives back an approved payment: stores its new status (voided or refunded) with its
    /// event, if it is still APPROVED — else [`Written::LostRace`] (another void or refund got
    /// there first) or [`Written::AlreadyHandled`] (the event that asked, `handling`).
    fn give_back(
        &self,
        payment: &Payment,
        event: &PaymentCancelled,
        correlation: &CorrelationId,
        handling: Option<&Handling>,
    ) -> impl Future<Output = anyhow::Result<Written<()>>> + Send;
}

/// The card network behind the gateway.
pub trait CardNetwork: Send + Sync + 'static {
    /// Approves or declines the charge; `Err` when the network is down.
    fn authorize(
        &self,
        order: &PaymentOrder,
    ) -> impl Future<Output = Result<Authorization, NetworkUnavailable>> + Send;
}

#[derive(Debug, thiserror::Error)]
#[error("the card network is unavailable")]
pub struct NetworkUnavailable;
