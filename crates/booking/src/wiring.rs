//! Booking as a process runs it: its service on its database, with room and payment called
//! in-process when they run here and over HTTP otherwise — the payment call guarded by the same
//! resilience either way — then its API, its consumer of `RoomDeleted` and the reconciler.

use std::sync::Arc;

use anyhow::Context;
use mybnb_bus::wired::{Wired, handler, job};
use mybnb_platform::auth::{ServiceToken, TokenVerifier};
use mybnb_platform::db::Database;
use mybnb_platform::health::Readiness;
use mybnb_platform::http::CLIENT_POOL_IDLE;
use mybnb_platform::metrics::Metrics;

use crate::http;
use crate::links::{HttpPayments, HttpRooms, ResilientPayments};
use crate::ports::{PaymentGateway, RoomCatalog};
use crate::reconciler;
use crate::service::{BookingPolicy, BookingService, CONSUMER, SUBSCRIBES_TO};
use crate::settings::BookingSettings;
use crate::store::SqlBookingRepository;

pub struct BookingContext {
    database: Database,
    settings: BookingSettings,
}

/// The contexts booking calls, when they run in this process; over HTTP otherwise.
#[derive(Clone)]
pub struct InProcess {
    pub rooms: Option<Arc<dyn RoomCatalog>>,
    pub payments: Option<Arc<dyn PaymentGateway>>,
}

/// What the process lends booking: token checks, the credential of payment's internal API, and
/// where the circuit breaker reports.
pub struct Shared<'a> {
    pub verifier: TokenVerifier,
    pub service_token: ServiceToken,
    pub metrics: &'a Metrics,
    pub readiness: &'a Readiness,
}

impl BookingContext {
    pub fn new(database: Database, settings: &BookingSettings) -> Self {
        BookingContext {
            database,
            settings: settings.clone(),
        }
    }

    pub fn wire(self, in_process: InProcess, shared: Shared<'_>) -> anyhow::Result<Wired> {
        let settings = self.settings;
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .pool_idle_timeout(CLIENT_POOL_IDLE)
            .build()
            .context("building the HTTP client")?;
        let rooms: Arc<dyn RoomCatalog> = match (in_process.rooms, &settings.room_service_url) {
            (Some(rooms), _) => rooms,
            (None, Some(url)) => Arc::new(HttpRooms::new(client.clone(), url)),
            (None, None) => {
                anyhow::bail!("booking needs room: run it here or set room_service_url")
            }
        };
        let payments: Arc<dyn PaymentGateway> =
            match (in_process.payments, &settings.payment_service_url) {
                (Some(payments), _) => payments,
                (None, Some(url)) => Arc::new(HttpPayments::new(client, url, shared.service_token)),
                (None, None) => {
                    anyhow::bail!("booking needs payment: run it here or set payment_service_url")
                }
            };
        let payments = Arc::new(ResilientPayments::new(
            payments,
            settings.payment_breaker,
            shared.metrics,
            shared.readiness,
        )?);
        let bookings = Arc::new(BookingService::new(
            SqlBookingRepository::new(self.database),
            rooms,
            payments,
            BookingPolicy {
                stale_after: settings.reconcile_stale_after,
                horizon_days: settings.horizon_days,
            },
        ));
        let handler = handler(bookings.clone(), |bookings, envelope| async move {
            bookings.on_room_deleted(&envelope).await
        });
        let (reconciling, interval) = (bookings.clone(), settings.reconcile_interval);
        Ok(Wired::serving(http::router(bookings, shared.verifier))
            .publishing()
            .consuming(CONSUMER, SUBSCRIBES_TO, handler)
            .running(job(move |stop| async move {
                reconciler::run(&reconciling, interval, &stop).await;
            })))
    }
}
