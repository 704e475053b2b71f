//! # Notification context
//!
//! Tells people what happened to their bookings and payments — the original system's `alarm`.
//! The guest is told `PAYMENT_APPROVED` after paying and `PAYMENT_CANCELLED` after a refund or
//! a void; the host is told `BOOKING_CONFIRMED` and `BOOKING_CANCELLED` for their rooms. Each
//! notification is kept in its recipient's history (`GET /notifications`), pushed to their open
//! live streams (`GET /notifications/stream`, server-sent events) and, when an SMTP server is
//! configured and the recipient gave an address, e-mailed.
//!
//! Consumes `UserRegistered` (whom to greet and where to write), `BookingConfirmed`,
//! `BookingCancelled`, `PaymentApproved` and `PaymentCancelled`, each exactly once (the inbox,
//! in the transaction of its effect). Publishes nothing.
//!
//! Layout: [`domain`] holds the rules and the wording and has no I/O; [`service`] runs the use
//! cases; [`live`] hands new notifications to open streams; [`http`], [`store`] and [`mail`]
//! (the queue and the SMTP mailer) are the adapters; [`wiring`] is what a process runs of it,
//! with its [`settings`]. The service calls the store directly, with
//! no repository trait between them: the store has one implementation, run on real SQLite and
//! PostgreSQL by the API suites (`crates/mybnb/tests/api` runs every scenario on both), and a
//! fake would re-implement the SQL's guarantees (each event applied once, with its effects)
//! without testing them.

pub mod domain;
pub mod http;
pub mod live;
pub mod mail;
pub mod service;
pub mod settings;
pub mod store;
pub mod wiring;

use mybnb_platform::db::Migrations;

pub use service::SUBSCRIBES_TO;

/// Notification's tables use only types both backends share, so one folder serves both.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The notification database's migrations, inbox included.
pub fn migrations() -> Migrations {
    Migrations::portable(&MIGRATOR).and(mybnb_platform::inbox::migrations())
}
