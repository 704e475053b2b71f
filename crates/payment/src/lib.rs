//! # Payment context
//!
//! The stand-in for a third-party payment gateway. It charges a booking's guest exactly once
//! per booking (the booking id is the idempotency key), approves or declines, voids charges
//! whose booking never came to be, and refunds. Its card network is simulated with a
//! configurable latency, decline rate and failure rate, so that tests, demos and benchmarks can
//! reproduce a slow or failing provider.
//!
//! Publishes `PaymentApproved` and `PaymentCancelled` (through its outbox).
//!
//! Layout: [`domain`] holds the rules and has no I/O; [`service`] runs the use cases; [`http`],
//! [`store`] and [`simulation`] are the adapters; [`wiring`] is what a process runs of it, with
//! its [`settings`]. The service calls the store and the simulated
//! card network directly, with no trait between: each has one implementation. The store is run
//! on real SQLite and PostgreSQL by the API suites (`crates/mybnb/tests/api` runs every
//! scenario on both), and a fake would re-implement the SQL's guarantees (one payment per
//! booking, a payment given back once) without testing them.

pub mod domain;
pub mod http;
pub mod service;
pub mod settings;
pub mod simulation;
pub mod store;
pub mod wiring;

use mybnb_platform::db::Migrations;

/// Payment's tables use only types both backends share, so one folder serves both.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The payment database's migrations, outbox and inbox included.
pub fn migrations() -> Migrations {
    Migrations::portable(&MIGRATOR)
        .and(mybnb_platform::outbox::migrations())
        .and(mybnb_platform::inbox::migrations())
}
