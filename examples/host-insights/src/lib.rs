//! # host-insights: a new team joins by subscribing
//!
//! The original system's last chapter: a team that was not there when mybnb was built wants
//! something new — here, each room's bookings, cancellations and revenue for its host. It
//! needs no change to any mybnb context. It reads the published events (`BookingConfirmed`,
//! `BookingCancelled`; see `docs/asyncapi.json`) with a durable subscription of its own,
//! through the same bus port the contexts use — the embedded log when it runs beside an
//! all-in-one mybnb, NATS JetStream when it runs as its own process — and keeps its own
//! database. Stop it, and nothing else notices; start it again, and it catches up.
//!
//! [`insights`] applies the events (exactly once, through an inbox, in any order) and answers
//! queries; [`http`] serves them at `GET /insights/rooms`.

pub mod http;
pub mod insights;

use std::sync::Arc;

use mybnb_bus::{Consumer, ConsumerMetrics, EventBus};
use mybnb_platform::db::{Database, Migrations};
use mybnb_platform::metrics::Metrics;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::insights::Insights;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The service's own tables, inbox included.
pub fn migrations() -> Migrations {
    Migrations::portable(&MIGRATOR).and(mybnb_platform::inbox::migrations())
}

/// Subscribes to `bus` and serves `GET /insights/rooms` on `listener` until `stop`. The
/// database must be migrated.
pub async fn run(
    bus: Arc<dyn EventBus>,
    database: Database,
    listener: TcpListener,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let insights = Arc::new(Insights::new(database));
    let handling = insights.clone();
    let consumer = Consumer {
        name: insights::SUBSCRIBER,
        event_types: insights::SUBSCRIBES_TO,
        handler: Arc::new(move |envelope| {
            let insights = handling.clone();
            Box::pin(async move { insights.handle(&envelope).await })
        }),
    };
    let metrics = ConsumerMetrics::register(&Metrics::new());
    let consuming = tokio::spawn(consumer.run(bus, metrics, stop.clone()));
    let served = axum::serve(listener, http::router(insights))
        .with_graceful_shutdown(stop.cancelled_owned())
        .await;
    consuming.await?;
    Ok(served?)
}
