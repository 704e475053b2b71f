//! The reconciler's schedule: decide undecided bookings on start — the process starts it once
//! booking's database is migrated — and then every `interval`, until the application stops. What a round
//! decides is [`BookingService::reconcile`].

use std::time::Duration;

use mybnb_events::CorrelationId;
use tokio_util::sync::CancellationToken;

use crate::ports::BookingRepository;
use crate::service::BookingService;

/// Runs rounds until `stop`; a round that fails is retried within a second.
pub async fn run<R: BookingRepository>(
    bookings: &BookingService<R>,
    interval: Duration,
    stop: &CancellationToken,
) {
    let mut wait = Duration::ZERO;
    loop {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = stop.cancelled() => return,
        }
        let correlation = CorrelationId::new(format!("reconcile-{}", uuid::Uuid::now_v7()));
        let reconciled = tokio::select! {
            reconciled = bookings.reconcile(&correlation) => reconciled,
            // Every step of a round is a compare-and-set or idempotent: stopping midway is safe.
            () = stop.cancelled() => return,
        };
        wait = match reconciled {
            Ok(_) => interval,
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "reconciliation failed; retrying"
                );
                interval.min(Duration::from_secs(1))
            }
        };
    }
}
