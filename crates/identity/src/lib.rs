//! # Identity context
//!
//! Owns users and their credentials: sign-up, password checks (argon2id) and access tokens
//! (signed JWTs that every other context verifies with `mybnb_platform::auth`).
//!
//! Publishes `UserRegistered` (through its outbox); consumes nothing.
//!
//! Layout: [`domain`] holds the rules and has no I/O; [`service`] runs the use cases; [`http`],
//! [`store`] and [`passwords`] are the adapters; [`wiring`] is what a process runs of
//! it, with its [`settings`]. The service calls the store directly, with no
//! repository trait between them: the store has one implementation, run on real SQLite and
//! PostgreSQL by the API suites (`crates/mybnb/tests/api` runs every scenario on both), and a
//! fake would re-implement the SQL's guarantee (one user per username) without testing it.

pub mod domain;
pub mod http;
pub mod passwords;
pub mod service;
pub mod settings;
pub mod store;
pub mod wiring;

use mybnb_platform::db::Migrations;

/// Identity's tables use only types both backends share, so one folder serves both.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The identity database's migrations, outbox included.
pub fn migrations() -> Migrations {
    Migrations::portable(&MIGRATOR).and(mybnb_platform::outbox::migrations())
}
