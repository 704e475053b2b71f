//! The API suite: each test starts mybnb in this process on a free port with fresh storage and
//! drives it over HTTP, as a user would — sometimes as two processes, or restarted on the same
//! storage, or as the `mybnb` binary itself when it must be killed. Every test in an
//! `api_tests!` block runs twice: on SQLite (`…::sqlite::name`) and on PostgreSQL
//! (`…::postgres::name`).

/// Defines each test once per backend. `async fn name(app) { … }` gets a ready [`TestApp`] with
/// the test settings; `async fn name(app with configure) { … }` first passes the settings to
/// `configure: fn(&mut Settings)`; `async fn name(backend: Backend) { … }` gets only the
/// [`Backend`], for tests that start their applications or processes themselves.
///
/// [`TestApp`]: helpers::TestApp
/// [`Backend`]: helpers::Backend
macro_rules! api_tests {
    ($(
        $(#[$attribute:meta])*
        async fn $name:ident($($arguments:tt)*) $body:block
    )*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $( api_tests!(@test Sqlite, [$(#[$attribute])*], $name, [$($arguments)*], $body); )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $( api_tests!(@test Postgres, [$(#[$attribute])*], $name, [$($arguments)*], $body); )*
        }
    };
    (@test $backend:ident, [$(#[$attribute:meta])*], $name:ident, [$given:ident: Backend], $body:block) => {
        $(#[$attribute])*
        #[tokio::test]
        async fn $name() {
            let $given = crate::helpers::Backend::$backend;
            $body
        }
    };
    (@test $backend:ident, [$(#[$attribute:meta])*], $name:ident, [$app:ident $(with $configure:path)?], $body:block) => {
        $(#[$attribute])*
        #[tokio::test]
        async fn $name() {
            let Some($app) = api_tests!(@spawn $backend $($configure)?).await else {
                return;
            };
            $body
        }
    };
    (@spawn $backend:ident) => {
        crate::helpers::spawn_app(crate::helpers::Backend::$backend)
    };
    (@spawn $backend:ident $configure:path) => {
        crate::helpers::spawn_app_with(crate::helpers::Backend::$backend, $configure)
    };
}

mod booking_client;
mod helpers;
mod ledger;
mod notification_client;
mod payment_settings;
mod process;
mod storage;
mod tokens;

mod at_rest;
mod auth;
mod availability;
mod booking_access;
mod bookings;
mod circuit_breaker;
mod concurrency;
mod connections;
mod crash_recovery;
mod event_faults;
mod http_errors;
mod idempotency;
mod mypage;
mod notifications;
mod openapi;
mod operations;
mod payment_faults;
mod payment_http;
mod payment_simulation;
mod refunds;
mod room_deletion;
mod room_link;
mod rooms;
mod search;
mod services;
mod users;
