//! # Booking context
//!
//! Owns bookings and the nights each one holds. A guest books a room for dates and pays in the
//! same request: the nights are claimed (the database refuses a second claim of a room-night),
//! the payment context is called synchronously through a timeout, a circuit breaker and a
//! bulkhead, and the booking is confirmed — or the nights are released and the guest is told
//! why. A reconciler ([`reconciler`] runs it on a schedule) decides what a timeout or a crash
//! left undecided.
//!
//! Publishes `BookingConfirmed` and `BookingCancelled` (through its outbox). Calls the room
//! context (a snapshot of the room) and the payment context (charge, status, void). Consumes
//! `RoomDeleted`: a deleted room's upcoming bookings are cancelled, and so refunded.
//!
//! Layout: [`domain`] holds the rules and has no I/O; [`ports`] names what the service needs;
//! [`service`] runs the use cases; [`http`] and [`store`] are the inbound and storage
//! adapters; [`links`] are the outbound adapters to other contexts over HTTP and the
//! resilience that guards the payment call; [`wiring`] is what a process runs of it, with its
//! [`settings`].

pub mod domain;
pub mod http;
pub mod links;
pub mod ports;
pub mod reconciler;
pub mod service;
pub mod settings;
pub mod store;
pub mod wiring;

use mybnb_platform::db::Migrations;

/// Booking's tables use only types both backends share, so one folder serves both.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The booking database's migrations, outbox and inbox included.
pub fn migrations() -> Migrations {
    Migrations::portable(&MIGRATOR)
        .and(mybnb_platform::outbox::migrations())
        .and(mybnb_platform::inbox::migrations())
}
