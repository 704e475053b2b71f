//! The API suite: each test starts mybnb in this process on a free port with fresh storage and
//! drives it over HTTP, as a user would. Every test in an `api_tests!` block runs twice: on
//! SQLite (`…::sqlite::name`) and on PostgreSQL (`…::postgres::name`).

/// Defines each test once per backend. `async fn name(app) { … }` gets a ready [`TestApp`] with
/// the test settings; `async fn name(app with configure) { … }` first passes the settings to
/// `configure: fn(&mut Settings)`.
///
/// [`TestApp`]: helpers::TestApp
macro_rules! api_tests {
    ($(
        $(#[$attribute:meta])*
        async fn $name:ident($app:ident $(with $configure:path)?) $body:block
    )*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $( api_tests!(@test Sqlite, [$(#[$attribute])*], $name, $app, [$($configure)?], $body); )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $( api_tests!(@test Postgres, [$(#[$attribute])*], $name, $app, [$($configure)?], $body); )*
        }
    };
    (@test $backend:ident, [$(#[$attribute:meta])*], $name:ident, $app:ident, [$($configure:path)?], $body:block) => {
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

mod database;
mod helpers;
mod tokens;

mod auth;
mod http_errors;
mod openapi;
mod operations;
mod rooms;
mod search;
mod services;
mod users;
