//! What the payment service needs from the outside world: a card network.
//!
//! There is no repository trait: the service calls `store::SqlPaymentRepository` directly. It
//! has one implementation, run on real SQLite and PostgreSQL by the API suites
//! (`crates/mybnb/tests/api` runs every scenario on both), and a fake would re-implement the
//! SQL's guarantees (one payment per booking, a payment given back once) without testing them.

use std::future::Future;

use crate::domain::{Authorization, PaymentOrder};

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
