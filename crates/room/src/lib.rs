//! # Room context
//!
//! Owns the rooms hosts register: their listing (name, address, city, description, nightly
//! price, capacity), their deletion, and search over them.
//!
//! Publishes `RoomRegistered` and `RoomDeleted` (through its outbox). Consumes
//! `BookingConfirmed` and `BookingCancelled` into its own projection of booked stays, so that
//! search by dates asks no other service (and is, like every read model, eventually
//! consistent).
//!
//! Layout: [`domain`] holds the rules and has no I/O; [`service`] runs the use cases; [`http`] and
//! [`store`] are the adapters; [`wiring`] is what a process runs of it. The service calls the store
//! directly, with no repository trait between them: the store has one implementation, run on real
//! SQLite and PostgreSQL by the API suites (`crates/mybnb/tests/api` runs every scenario on both),
//! and a fake would re-implement the SQL's guarantees (a room deleted once, each event applied
//! once) without testing them.

pub mod domain;
pub mod http;
pub mod service;
pub mod store;
pub mod wiring;

use mybnb_platform::db::Migrations;

/// Room's tables use only types both backends share, so one folder serves both.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The room database's migrations, outbox and inbox included.
pub fn migrations() -> Migrations {
    Migrations::portable(&MIGRATOR)
        .and(mybnb_platform::outbox::migrations())
        .and(mybnb_platform::inbox::migrations())
}
