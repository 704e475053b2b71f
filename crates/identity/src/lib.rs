//! # Identity context
//!
//! Owns users and their credentials: sign-up, password checks (argon2id) and access tokens
//! (signed JWTs that every other context verifies with `mybnb_platform::auth`).
//!
//! Publishes `UserRegistered` (through its outbox); consumes nothing.
//!
//! Layout: [`domain`] holds the rules and has no I/O; [`ports`] names what the service needs
//! from the outside; [`service`] runs the use cases; [`http`], [`store`] and [`passwords`] are
//! the adapters.

pub mod domain;
pub mod http;
pub mod passwords;
pub mod ports;
pub mod service;
pub mod store;

use mybnb_platform::db::Migrations;

/// Identity's tables use only types both backends share, so one folder serves both.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The identity database's migrations, outbox included.
pub fn migrations() -> Migrations {
    Migrations::portable(&MIGRATOR).and(mybnb_platform::outbox::migrations())
}
