//! Payment as a process runs it: its service on its database and its simulated card network,
//! shared with booking when both run in one process, then its API (public and internal) and its
//! consumer of `BookingCancelled`, which refunds. It publishes `PaymentApproved` and
//! `PaymentCancelled`.

use std::sync::Arc;

use mybnb_bus::wired::{Wired, handler};
use mybnb_platform::auth::{ServiceToken, TokenVerifier};
use mybnb_platform::db::Database;

use crate::http;
use crate::service::{CONSUMER, PaymentService, SUBSCRIBES_TO};
use crate::settings::PaymentSettings;
use crate::store::SqlPaymentRepository;

pub struct PaymentContext {
    payments: Arc<PaymentService>,
}

impl PaymentContext {
    pub fn new(database: Database, settings: &PaymentSettings) -> Self {
        PaymentContext {
            payments: Arc::new(PaymentService::new(
                SqlPaymentRepository::new(database),
                settings.network.connect(),
            )),
        }
    }

    /// The service, for the contexts that call it in-process.
    pub fn service(&self) -> Arc<PaymentService> {
        self.payments.clone()
    }

    /// `service_token` admits the callers of the internal API.
    pub fn wire(self, verifier: TokenVerifier, service_token: ServiceToken) -> Wired {
        let handler = handler(self.payments.clone(), |payments, envelope| async move {
            payments.on_booking_cancelled(&envelope).await
        });
        Wired::serving(http::router(self.payments, verifier, service_token))
            .publishing()
            .consuming(CONSUMER, SUBSCRIBES_TO, handler)
    }
}
