//! # My page context (CQRS read model)
//!
//! Each user's stays, as guest and as host — room, dates, total, booking status and payment
//! status — in the context's own database, built only from events: `BookingConfirmed`,
//! `BookingCancelled`, `PaymentApproved` and `PaymentCancelled`. Nothing here calls another
//! service, so my page answers even when booking and payment are down, and it can be thrown
//! away and rebuilt from the event history (`mybnb replay mypage`) to the same rows.
//!
//! Layout: [`domain`] holds the rules (what each event says about a stay, and which status
//! wins); [`service`] applies events and rebuilds; [`store`] and [`http`] are the adapters;
//! [`wiring`] is what a process runs of it.

pub mod domain;
pub mod http;
pub mod service;
pub mod store;
pub mod wiring;

use mybnb_platform::db::Migrations;

/// My page's tables use only types both backends share, so one folder serves both.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The my-page database's migrations, inbox included.
pub fn migrations() -> Migrations {
    Migrations::portable(&MIGRATOR).and(mybnb_platform::inbox::migrations())
}
